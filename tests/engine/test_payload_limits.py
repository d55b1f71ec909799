"""Every payload is at most 256 KiB of UTF-8 JSON: the execution input, and each state's.

https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html ("Maximum input or
output size for a task, state, or execution: 256 KiB of data as a UTF-8 encoded string").
https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html: a state
fails with ``States.DataLimitExceeded`` when a connector's output, a state's output, or a
state's input after Parameters is over the quota; ``States.ALL`` does not catch it. The cause
names the state, as AWS's does ("The state/task 'ProcessAllItems' returned a result with a
size exceeding the maximum number of bytes service limit.", reported from AWS in
aws-samples/review-and-assessment-powered-by-intelligent-documentation#58); for a task's own
result it names the resource (the recordings' test_*_data_limit_exceeded_on_large_utf8_*).
StartExecution refuses an input over the quota before anything runs
(https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html,
``input``: "Length constraints apply to the payload size, and are expressed as bytes in UTF-8
encoding").
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from stepsaga.infra.local.stepfunctions import (
    InvalidExecutionInput,
    LocalStepFunctions,
    TaskOutcome,
)
from stepsaga.workflows import facts

LIMIT = facts.MAX_PAYLOAD_BYTES
INVOKE = "arn:aws:states:::lambda:invoke"


def cause(state: str) -> str:
    return (
        f"The state/task '{state}' returned a result with a size exceeding the maximum number "
        "of bytes service limit."
    )


def pass_result(result: Any) -> dict[str, Any]:
    return {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": result, "End": True}}}


def string_of_bytes(size: int, char: str = "x") -> str:
    """A string whose JSON text (quotes included) is ``size`` UTF-8 bytes."""
    width = len(char.encode())
    count, rest = divmod(size - 2, width)
    return char * count + "x" * rest


@pytest.mark.parametrize("char", ["x", "é", "€", "😀"])
def test_a_state_output_of_exactly_256_kib_passes_and_a_byte_more_fails(char: str) -> None:
    fits = LocalStepFunctions().run(pass_result(string_of_bytes(LIMIT, char)), {})
    assert fits.status == "SUCCEEDED"
    assert len(json.dumps(fits.output, ensure_ascii=False).encode()) == LIMIT
    over = LocalStepFunctions().run(pass_result(string_of_bytes(LIMIT + 1, char)), {})
    assert (over.status, over.error, over.cause) == (
        "FAILED",
        facts.STATES_DATA_LIMIT_EXCEEDED,
        cause("P"),
    )
    # The state never exits: its output is what fails.
    assert over.event_types == ["ExecutionStarted", "PassStateEntered", "ExecutionFailed"]


def test_the_size_is_of_utf8_bytes_not_characters() -> None:
    # 100,000 characters of 3 bytes each: far fewer characters than the limit, more bytes.
    ex = LocalStepFunctions().run(pass_result("€" * 100_000), {})
    assert ex.error == facts.STATES_DATA_LIMIT_EXCEEDED


def test_the_input_after_parameters_is_measured_before_the_task_is_scheduled() -> None:
    sfn = LocalStepFunctions()
    calls: list[Any] = []
    sfn.mock_tasks(lambda call: calls.append(call) or TaskOutcome.success({}))
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": INVOKE,
                "Parameters": {"FunctionName": "f", "a.$": "$.half", "b.$": "$.half"},
                "ResultPath": None,
                "End": True,
            }
        },
    }
    half = "y" * (LIMIT // 2)  # the input fits; twice it, after Parameters, does not
    ex = sfn.run(definition, {"half": half})
    assert (ex.error, ex.cause) == (facts.STATES_DATA_LIMIT_EXCEEDED, cause("T"))
    assert calls == []
    assert "TaskScheduled" not in ex.event_types


def test_a_map_whose_results_together_are_too_large_fails() -> None:
    # Each iteration's output is small; the Map's output, all of them, is not
    # (https://github.com/NASA-IMPACT/csdap-cumulus/issues/296 reports it on AWS).
    definition = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "ItemProcessor": {
                    "StartAt": "P",
                    "States": {"P": {"Type": "Pass", "Result": "z" * 1000, "End": True}},
                },
                "End": True,
            }
        },
    }
    ex = LocalStepFunctions().run(definition, list(range(300)))
    assert (ex.error, ex.cause) == (facts.STATES_DATA_LIMIT_EXCEEDED, cause("M"))
    assert ex.event_types[-2:] == ["MapStateSucceeded", "ExecutionFailed"]
    within = LocalStepFunctions().run(definition, list(range(200)))
    assert within.status == "SUCCEEDED"


def test_a_parallel_whose_branches_together_are_too_large_fails() -> None:
    branches = [
        {"StartAt": name, "States": {name: {"Type": "Pass", "Result": "w" * 100_000, "End": True}}}
        for name in ("B1", "B2", "B3")
    ]
    definition = {
        "StartAt": "Par",
        "States": {"Par": {"Type": "Parallel", "Branches": branches, "End": True}},
    }
    ex = LocalStepFunctions().run(definition, {})
    assert (ex.error, ex.cause) == (facts.STATES_DATA_LIMIT_EXCEEDED, cause("Par"))


def big_result_task(catch: list[str]) -> dict[str, Any]:
    """A task whose small result, kept beside a large input, makes too large an output."""
    return {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": INVOKE,
                "Parameters": {"FunctionName": "f"},
                "ResultPath": "$.result",
                "Catch": [{"ErrorEquals": catch, "ResultPath": "$.error", "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "Parameters": {"error.$": "$.error"}, "End": True},
        },
    }


def test_states_all_does_not_catch_a_data_limit_and_naming_it_does() -> None:
    near = {"data": "v" * (LIMIT - 100)}
    sfn = LocalStepFunctions()
    sfn.mock_tasks(lambda call: TaskOutcome.success({"filler": "r" * 200}))
    uncaught = sfn.run(big_result_task([facts.STATES_ALL]), near)
    assert (uncaught.status, uncaught.error) == ("FAILED", facts.STATES_DATA_LIMIT_EXCEEDED)
    caught = sfn.run(big_result_task([facts.STATES_DATA_LIMIT_EXCEEDED]), near)
    assert caught.status == "SUCCEEDED"
    # The Catcher's ResultPath on the state's input: the error output replaces nothing large.
    assert caught.output == {
        "error": {"Error": facts.STATES_DATA_LIMIT_EXCEEDED, "Cause": cause("T")}
    }


@pytest.mark.parametrize("as_text", [False, True])
def test_start_execution_refuses_an_input_over_256_kib_before_anything_runs(as_text: bool) -> None:
    sfn = LocalStepFunctions()
    definition = pass_result(None)
    fits = {"s": string_of_bytes(LIMIT - len('{"s":}'), "é")}
    over = {"s": string_of_bytes(LIMIT - len('{"s":}') + 1, "é")}

    def given(value: Any) -> Any:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")) if as_text else value

    assert sfn.run(definition, given(fits)).status == "SUCCEEDED"
    with pytest.raises(InvalidExecutionInput, match="262,145 bytes") as refused:
        sfn.start(definition, given(over))
    assert refused.value.pointer == ""
    assert len(sfn.executions) == 1  # only the one that fit


@pytest.mark.parametrize(
    ("text", "code", "says"),
    [
        # The API's shape: input is at most 262,144 long, "expressed as bytes in UTF-8".
        ('{"s": "' + "x" * (LIMIT - 8) + '"}', "ValidationException", "262144"),
        # 87,388 characters, 262,152 bytes: the limit counts bytes.
        ('{"s": "' + "€" * (LIMIT // 3) + '"}', "ValidationException", "262144"),
        ('{"n": NaN}', "InvalidExecutionInput", "NaN"),
        ('{"d": ' + "[" * 1001 + "]" * 1001 + "}", "InvalidExecutionInput", "deep"),
    ],
)
def test_start_execution_through_the_api_refuses_the_same_inputs(
    text: str, code: str, says: str
) -> None:
    sfn = LocalStepFunctions()
    client = sfn.client()
    arn = client.create_state_machine(
        name="Limits",
        definition=json.dumps(pass_result(None)),
        roleArn="arn:aws:iam::123456789012:role/r",
    )["stateMachineArn"]
    with pytest.raises(client.exceptions.ClientError, match=says) as refused:
        client.start_execution(stateMachineArn=arn, input=text)
    assert refused.value.response["Error"]["Code"] == code
    assert client.list_executions(stateMachineArn=arn)["executions"] == []
