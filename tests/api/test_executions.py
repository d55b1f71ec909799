"""Executions through the boto3 client: start, describe, list, stop, and time between polls."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from stepsaga.infra.local.stepfunctions import LocalStepFunctions, MockConfig
from tests.api.conftest import PASS, ROLE, WAITING, error_code, error_message

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

FAILING = {
    "StartAt": "Boom",
    "States": {"Boom": {"Type": "Fail", "Error": "Order.Invalid", "Cause": "no items"}},
}
WAIT_THEN_PASS = {
    "StartAt": "Pause",
    "States": {
        "Pause": {"Type": "Wait", "Seconds": 10, "Next": "Done"},
        "Done": {"Type": "Pass", "End": True},
    },
}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


@pytest.fixture
def waiting(engine: LocalStepFunctions, machine: Callable[..., str]) -> str:
    """A machine whose one Task waits for its token (the handler only acknowledges)."""
    engine.register_lambda("ask", lambda event, context: {})
    return machine(WAITING, name="Waiting")


def test_a_started_execution_is_described_with_its_input_and_output(
    client: SFNClient, machine: Callable[..., str]
) -> None:
    arn = machine(PASS, name="Greeter")
    started = client.start_execution(stateMachineArn=arn, name="first", input='{"who": "ann"}')
    assert started["executionArn"] == (
        "arn:aws:states:us-east-1:123456789012:execution:Greeter:first"
    )
    described = client.describe_execution(executionArn=started["executionArn"])
    assert described["status"] == "SUCCEEDED"
    assert described["name"] == "first"
    assert described["stateMachineArn"] == arn
    assert json.loads(described["input"]) == {"who": "ann"}
    assert json.loads(described["output"]) == {"hi": 1}
    assert described["startDate"] == started["startDate"]
    assert described["stopDate"] >= described["startDate"]


def test_an_execution_without_a_name_or_input_gets_a_uuid_and_an_empty_object(
    client: SFNClient, machine: Callable[..., str]
) -> None:
    arn = machine()
    execution = client.start_execution(stateMachineArn=arn)["executionArn"]
    described = client.describe_execution(executionArn=execution)
    assert UUID.fullmatch(described["name"])
    assert described["input"] == "{}"


def test_a_json_string_is_an_input_like_any_other(
    client: SFNClient, machine: Callable[..., str]
) -> None:
    arn = machine({"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": True}}})
    execution = client.start_execution(stateMachineArn=arn, input='"hello"')["executionArn"]
    assert client.describe_execution(executionArn=execution)["output"] == '"hello"'


def test_the_execution_runs_as_its_machine_s_role(
    client: SFNClient, machine: Callable[..., str]
) -> None:
    arn = machine()
    execution = client.start_execution(stateMachineArn=arn)["executionArn"]
    started = client.get_execution_history(executionArn=execution)["events"][0]
    assert started["executionStartedEventDetails"]["roleArn"] == ROLE


def test_the_same_name_and_input_of_a_running_execution_give_that_execution(
    client: SFNClient, waiting: str
) -> None:
    first = client.start_execution(stateMachineArn=waiting, name="once", input='{"a": 1}')
    again = client.start_execution(stateMachineArn=waiting, name="once", input='{"a":1}')
    assert again["executionArn"] == first["executionArn"]
    assert again["startDate"] == first["startDate"]


def test_the_same_name_with_another_input_is_execution_already_exists(
    client: SFNClient, waiting: str
) -> None:
    client.start_execution(stateMachineArn=waiting, name="once", input='{"a": 1}')
    with pytest.raises(ClientError) as excinfo:
        client.start_execution(stateMachineArn=waiting, name="once", input='{"a": 2}')
    assert error_code(excinfo) == "ExecutionAlreadyExists"


def test_the_name_of_a_closed_execution_is_taken_even_with_the_same_input(
    engine: LocalStepFunctions, client: SFNClient, machine: Callable[..., str]
) -> None:
    # AWS's rule for StartExecution; the facade's start(name=) stays idempotent on purpose.
    arn = machine(PASS, name="Once")
    client.start_execution(stateMachineArn=arn, name="done", input="{}")
    with pytest.raises(ClientError) as excinfo:
        client.start_execution(stateMachineArn=arn, name="done", input="{}")
    assert error_code(excinfo) == "ExecutionAlreadyExists"
    assert "it is SUCCEEDED" in error_message(excinfo)
    definition = engine.describe_execution(f"{arn.replace('stateMachine', 'execution')}:done")
    assert engine.start(definition.definition, {}, name="done", state_machine_name="Once").closed


def test_input_that_is_not_json_is_invalid_execution_input(
    client: SFNClient, machine: Callable[..., str]
) -> None:
    arn = machine()
    with pytest.raises(ClientError) as excinfo:
        client.start_execution(stateMachineArn=arn, input="{oops")
    assert error_code(excinfo) == "InvalidExecutionInput"


def test_an_execution_name_with_a_forbidden_character_is_invalid_name(
    client: SFNClient, machine: Callable[..., str]
) -> None:
    arn = machine()
    with pytest.raises(ClientError) as excinfo:
        client.start_execution(stateMachineArn=arn, name="no spaces")
    assert error_code(excinfo) == "InvalidName"


def test_starting_an_unknown_machine_is_state_machine_does_not_exist(client: SFNClient) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.start_execution(
            stateMachineArn="arn:aws:states:us-east-1:123456789012:stateMachine:Nobody"
        )
    assert error_code(excinfo) == "StateMachineDoesNotExist"


def test_starting_by_an_execution_arn_is_invalid_arn(client: SFNClient) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.start_execution(
            stateMachineArn="arn:aws:states:us-east-1:123456789012:execution:M:e"
        )
    assert error_code(excinfo) == "InvalidArn"


MOCKS = {
    "StateMachines": {
        "Greeter": {"TestCases": {"Mocked": {"Ask": "Answered"}}},
    },
    "MockedResponses": {"Answered": {"0": {"Return": {"answer": 42}}}},
}


def test_a_test_case_after_the_arn_answers_the_task_from_the_mock_config(
    engine: LocalStepFunctions, client: SFNClient, machine: Callable[..., str]
) -> None:
    engine.api.mock_config = MockConfig(MOCKS)
    arn = machine(WAITING, name="Greeter")
    execution = client.start_execution(stateMachineArn=arn + "#Mocked")["executionArn"]
    assert execution.endswith(":execution:Greeter:" + execution.rsplit(":", 1)[-1])
    described = client.describe_execution(executionArn=execution)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"answer": 42}


def test_an_unknown_test_case_is_invalid_name(
    engine: LocalStepFunctions, client: SFNClient, machine: Callable[..., str]
) -> None:
    engine.api.mock_config = MockConfig(MOCKS)
    arn = machine(WAITING, name="Greeter")
    with pytest.raises(ClientError) as excinfo:
        client.start_execution(stateMachineArn=arn + "#Nope")
    assert error_code(excinfo) == "InvalidName"
    assert "'Nope'" in error_message(excinfo)


def test_a_test_case_without_a_mock_config_is_invalid_name(
    client: SFNClient, machine: Callable[..., str]
) -> None:
    arn = machine()
    with pytest.raises(ClientError) as excinfo:
        client.start_execution(stateMachineArn=arn + "#HappyPath")
    assert error_code(excinfo) == "InvalidName"
    assert "no mock config" in error_message(excinfo)


def test_a_failed_execution_is_described_with_its_error_and_cause(
    client: SFNClient, machine: Callable[..., str]
) -> None:
    arn = machine(FAILING, name="Failing")
    execution = client.start_execution(stateMachineArn=arn)["executionArn"]
    described = client.describe_execution(executionArn=execution)
    assert described["status"] == "FAILED"
    assert described["error"] == "Order.Invalid"
    assert described["cause"] == "no items"
    assert "output" not in described


def test_metadata_only_leaves_the_input_and_output_out(
    client: SFNClient, machine: Callable[..., str]
) -> None:
    arn = machine()
    execution = client.start_execution(stateMachineArn=arn, input='{"secret": 1}')["executionArn"]
    described = client.describe_execution(executionArn=execution, includedData="METADATA_ONLY")
    assert "input" not in described and "output" not in described
    assert described["inputDetails"] == {"included": False}


def test_describing_an_unknown_execution_is_execution_does_not_exist(client: SFNClient) -> None:
    arn = "arn:aws:states:us-east-1:123456789012:execution:M:nobody"
    with pytest.raises(ClientError) as excinfo:
        client.describe_execution(executionArn=arn)
    assert error_code(excinfo) == "ExecutionDoesNotExist"
    assert error_message(excinfo) == f"Execution Does Not Exist: '{arn}'"


def test_describing_by_a_machine_arn_is_invalid_arn(
    client: SFNClient, machine: Callable[..., str]
) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.describe_execution(executionArn=machine())
    assert error_code(excinfo) == "InvalidArn"
    assert "not valid in this context: statemachine" in error_message(excinfo)


def test_executions_are_listed_newest_first_filtered_and_paged(
    client: SFNClient, engine: LocalStepFunctions, waiting: str, machine: Callable[..., str]
) -> None:
    names = ["e1", "e2", "e3"]
    for name in names:
        client.start_execution(stateMachineArn=waiting, name=name)
    client.stop_execution(executionArn=waiting.replace("stateMachine", "execution") + ":e2")
    machine(PASS, name="Other")  # its executions are not listed with this one's
    every = client.list_executions(stateMachineArn=waiting)["executions"]
    assert [item["name"] for item in every] == ["e3", "e2", "e1"]
    running = client.list_executions(stateMachineArn=waiting, statusFilter="RUNNING")
    assert [item["name"] for item in running["executions"]] == ["e3", "e1"]
    first = client.list_executions(stateMachineArn=waiting, maxResults=2)
    rest = client.list_executions(stateMachineArn=waiting, nextToken=first["nextToken"])
    assert [item["name"] for item in first["executions"] + rest["executions"]] == names[::-1]
    assert "stopDate" in every[1] and "stopDate" not in every[0]


def test_a_list_token_of_another_machine_is_invalid_token(
    client: SFNClient, waiting: str, machine: Callable[..., str]
) -> None:
    for name in ("a", "b"):
        client.start_execution(stateMachineArn=waiting, name=name)
    token = client.list_executions(stateMachineArn=waiting, maxResults=1)["nextToken"]
    other = machine(PASS, name="Other")
    with pytest.raises(ClientError) as excinfo:
        client.list_executions(stateMachineArn=other, nextToken=token)
    assert error_code(excinfo) == "InvalidToken"


def test_listing_the_executions_of_an_unknown_machine_is_state_machine_does_not_exist(
    client: SFNClient,
) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.list_executions(
            stateMachineArn="arn:aws:states:us-east-1:123456789012:stateMachine:Nobody"
        )
    assert error_code(excinfo) == "StateMachineDoesNotExist"


def test_listing_without_a_machine_or_map_run_is_a_validation_exception(
    client: SFNClient,
) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.list_executions()
    assert error_code(excinfo) == "ValidationException"
    assert "Must provide a StateMachine ARN or MapRun ARN" in error_message(excinfo)


def test_a_stopped_execution_is_aborted_with_the_error_and_cause_given(
    client: SFNClient, waiting: str
) -> None:
    execution = client.start_execution(stateMachineArn=waiting)["executionArn"]
    stopped = client.stop_execution(executionArn=execution, error="Ops.Cancel", cause="by hand")
    described = client.describe_execution(executionArn=execution)
    assert described["status"] == "ABORTED"
    assert described["stopDate"] == stopped["stopDate"]
    assert (described["error"], described["cause"]) == ("Ops.Cancel", "by hand")
    last = client.get_execution_history(executionArn=execution, reverseOrder=True)["events"][0]
    assert last["type"] == "ExecutionAborted"
    again = client.stop_execution(executionArn=execution)  # an ended execution stays ended
    assert again["stopDate"] == stopped["stopDate"]


def test_stopping_an_unknown_execution_is_execution_does_not_exist(client: SFNClient) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.stop_execution(executionArn="arn:aws:states:us-east-1:123456789012:execution:M:x")
    assert error_code(excinfo) == "ExecutionDoesNotExist"


def test_the_machine_of_an_execution_started_through_the_facade_is_its_definition(
    engine: LocalStepFunctions, client: SFNClient
) -> None:
    execution = engine.run(PASS, {}, state_machine_name="Direct")
    described = client.describe_state_machine_for_execution(executionArn=execution.arn)
    assert described["name"] == "Direct"
    assert json.loads(described["definition"]) == PASS


def test_the_machine_of_an_unknown_execution_is_execution_does_not_exist(
    client: SFNClient,
) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.describe_state_machine_for_execution(
            executionArn="arn:aws:states:us-east-1:123456789012:execution:M:x"
        )
    assert error_code(excinfo) == "ExecutionDoesNotExist"


# -- virtual time between polls -------------------------------------------------------------


def test_a_wait_passes_while_the_client_polls(
    client: SFNClient, machine: Callable[..., str]
) -> None:
    arn = machine(WAIT_THEN_PASS, name="Patient")
    started = client.start_execution(stateMachineArn=arn)
    polls = []
    while True:
        described = client.describe_execution(executionArn=started["executionArn"])
        polls.append(described["status"])
        if described["status"] != "RUNNING":
            break
    assert polls == ["SUCCEEDED"]  # the first poll let the Wait's 10 s pass
    assert (described["stopDate"] - started["startDate"]).total_seconds() == 10


def test_each_poll_lets_one_timer_fire_so_a_polling_machine_cannot_run_away(
    client: SFNClient, machine: Callable[..., str]
) -> None:
    loop: dict[str, Any] = {
        "StartAt": "Pause",
        "States": {
            "Pause": {"Type": "Wait", "Seconds": 1, "Next": "Count"},
            "Count": {
                "Type": "Pass",
                "Parameters": {"n.$": "States.MathAdd($.n, 1)"},
                "Next": "Again",
            },
            "Again": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.n", "NumericLessThan": 1000, "Next": "Pause"}],
                "Default": "Done",
            },
            "Done": {"Type": "Succeed"},
        },
    }
    arn = machine(loop, name="Poller")
    execution = client.start_execution(stateMachineArn=arn, input='{"n": 0}')["executionArn"]
    for _ in range(3):
        assert client.describe_execution(executionArn=execution)["status"] == "RUNNING"
    events = client.get_execution_history(executionArn=execution)["events"]
    assert [event["type"] for event in events].count("WaitStateExited") == 4


def test_polls_never_jump_to_a_waiting_task_s_timeout(
    engine: LocalStepFunctions, client: SFNClient, machine: Callable[..., str]
) -> None:
    engine.register_lambda("ask", lambda event, context: {})
    timed = json.loads(json.dumps(WAITING))
    timed["States"]["Ask"]["TimeoutSeconds"] = 5
    arn = machine(timed, name="Timed")
    execution = client.start_execution(stateMachineArn=arn)["executionArn"]
    for _ in range(5):
        assert client.describe_execution(executionArn=execution)["status"] == "RUNNING"
    engine.advance(5)  # only the test moves time past a timeout it could have answered
    described = client.describe_execution(executionArn=execution)
    assert (described["status"], described["error"]) == ("FAILED", "States.Timeout")
