"""TestState offline: one state run as AWS's TestState API runs it, and what it shows.

The rules come from AWS's API reference (TestState, MockInput, TestStateConfiguration,
InspectionData, InspectionErrorDetails) and developer guide ("Testing state machines with
TestState API"), and from AWS's answers in tests/conformance/recordings/test_state.jsonl, which
tests/replay/test_conformance.py replays. The module is imported rather than the function, so
that pytest does not take ``test_state`` for a test.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from stepsaga.infra.local.stepfunctions import (
    InvalidArn,
    InvalidDefinition,
    InvalidExecutionInput,
    LocalStepFunctions,
    TaskFault,
    ValidationException,
)
from stepsaga.infra.local.stepfunctions import _test_state as api

ROLE = "arn:aws:iam::123456789012:role/stepsaga-test"
LAMBDA = "arn:aws:states:::lambda:invoke"
FAILING_TASK: dict[str, Any] = {
    "Type": "Task",
    "Resource": LAMBDA,
    "Parameters": {"FunctionName": "f", "Payload": {}},
    "Retry": [
        {
            "ErrorEquals": ["Boom"],
            "IntervalSeconds": 2,
            "BackoffRate": 3.0,
            "MaxAttempts": 3,
            "MaxDelaySeconds": 30,
        }
    ],
    "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Recover"}],
    "End": True,
}
DISTRIBUTED = {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
MAP_STATE: dict[str, Any] = {
    "Type": "Map",
    "ItemsPath": "$.items",
    "ItemProcessor": {"StartAt": "Work", "States": {"Work": {"Type": "Pass", "End": True}}},
    "End": True,
}


def run(definition: dict[str, Any], engine: LocalStepFunctions | None = None, **fields: Any):
    """Call TestState with ``definition`` as JSON text, the other request fields as given."""
    request = {"definition": json.dumps(definition), **fields}
    return api.test_state(engine or LocalStepFunctions(), request)


def mocked(result: Any) -> dict[str, Any]:
    return {"result": json.dumps(result)}


def error_mock(error: str, cause: str = "it broke") -> dict[str, Any]:
    return {"errorOutput": {"error": error, "cause": cause}}


def inspected(response: dict[str, Any]) -> dict[str, Any]:
    """The inspection data with its JSON text parsed."""
    return {
        key: json.loads(value) if isinstance(value, str) else value
        for key, value in response["inspectionData"].items()
    }


# -- the state and its data flow -------------------------------------------------------------------


def test_a_state_runs_on_its_own_and_info_shows_no_inspection_data() -> None:
    response = run({"Type": "Pass", "Result": {"a": 1}, "Next": "Later"}, input='{"x": 1}')
    assert response == {"status": "SUCCEEDED", "output": '{"a":1}', "nextState": "Later"}


def test_debug_shows_each_stage_of_a_jsonpath_task() -> None:
    # GIVEN a Task that uses every JSONPath field, its result mocked
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage",
        "InputPath": "$.order",
        "Parameters": {"MessageBody.$": "$.id", "QueueUrl": "q"},
        "ResultSelector": {"sent.$": "$.MessageId"},
        "ResultPath": "$.order.receipt",
        "OutputPath": "$.order",
        "End": True,
    }
    response = run(
        task,
        input=json.dumps({"order": {"id": "o-1"}, "other": 1}),
        mock=mocked({"MessageId": "m-1", "MD5OfMessageBody": "x"}),
        inspectionLevel="DEBUG",
    )
    # THEN each stage shows what that field made of the data
    assert inspected(response) == {
        "input": {"order": {"id": "o-1"}, "other": 1},
        "afterInputPath": {"id": "o-1"},
        "afterParameters": {"MessageBody": "o-1", "QueueUrl": "q"},
        "result": {"MessageId": "m-1", "MD5OfMessageBody": "x"},
        "afterResultSelector": {"sent": "m-1"},
        "afterResultPath": {"order": {"id": "o-1", "receipt": {"sent": "m-1"}}, "other": 1},
    }
    assert json.loads(response["output"]) == {"id": "o-1", "receipt": {"sent": "m-1"}}


def test_a_jsonata_task_shows_its_arguments_and_result() -> None:
    task = {
        "Type": "Task",
        "QueryLanguage": "JSONata",
        "Resource": "arn:aws:states:::sqs:sendMessage",
        "Arguments": {"MessageBody": "{% $states.input.id %}", "QueueUrl": "q"},
        "Output": "{% $states.result.MessageId %}",
        "End": True,
    }
    response = run(
        task, input='{"id": 7}', mock=mocked({"MessageId": "m"}), inspectionLevel="TRACE"
    )
    assert response["output"] == '"m"'
    assert inspected(response) == {
        "input": {"id": 7},
        "afterArguments": {"MessageBody": 7, "QueueUrl": "q"},
        "result": {"MessageId": "m"},
    }


def test_a_pass_state_beside_a_result_shows_the_result_and_not_the_input_stages() -> None:
    """As AWS shows a Pass state (recorded): with ``Result`` there is no afterInputPath."""
    with_result = run({"Type": "Pass", "Result": 1, "End": True}, inspectionLevel="DEBUG")
    assert set(inspected(with_result)) == {
        "input",
        "result",
        "afterResultSelector",
        "afterResultPath",
    }
    without = run({"Type": "Pass", "End": True}, inspectionLevel="DEBUG")
    assert set(inspected(without)) == {
        "input",
        "afterInputPath",
        "afterParameters",
        "afterResultSelector",
        "afterResultPath",
    }


def test_a_choice_state_answers_the_rule_that_matched_as_next_state() -> None:
    choice = {
        "Type": "Choice",
        "Choices": [{"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Big"}],
        "Default": "Small",
    }
    assert run(choice, input='{"n": 11}')["nextState"] == "Big"
    assert run(choice, input='{"n": 1}')["nextState"] == "Small"
    unmatched = run({**choice, "Default": None} | {"Choices": choice["Choices"]}, input="{}")
    assert unmatched["status"] == "FAILED"


def test_a_fail_state_answers_its_error_and_cause() -> None:
    response = run({"Type": "Fail", "Error": "Nope", "Cause": "because"})
    assert response == {"status": "FAILED", "error": "Nope", "cause": "because"}


def test_a_wait_state_is_read_but_does_not_wait() -> None:
    engine = LocalStepFunctions()
    before = engine.now()
    response = run({"Type": "Wait", "Seconds": 3600, "Next": "After"}, engine)
    assert (response["status"], response["nextState"]) == ("SUCCEEDED", "After")
    assert engine.now() == before
    bad = run({"Type": "Wait", "SecondsPath": "$.s", "End": True}, engine, input='{"s": "x"}')
    assert (bad["status"], bad["error"]) == ("FAILED", "States.Runtime")


def test_state_name_selects_a_state_anywhere_in_a_whole_definition() -> None:
    machine = {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemProcessor": {
                    "StartAt": "Inner",
                    "States": {"Inner": {"Type": "Pass", "Result": "in", "End": True}},
                },
                "End": True,
            }
        },
    }
    assert run(machine, stateName="Inner")["output"] == '"in"'
    with pytest.raises(ValidationException, match=r"^State not found in definition$"):
        run(machine, stateName="Elsewhere")


def test_a_state_uses_the_query_language_of_the_definition_around_it() -> None:
    machine = {
        "QueryLanguage": "JSONata",
        "StartAt": "S",
        "States": {"S": {"Type": "Pass", "Output": "{% $states.input.a + 1 %}", "End": True}},
    }
    assert run(machine, stateName="S", input='{"a": 1}')["output"] == "2"


def test_variables_are_visible_and_shown_with_the_states_own_assignments() -> None:
    """InspectionData.variables: "the set of workflow variables after execution of the state",
    the variables given and those the state assigns; none shown when there are none."""
    state = {
        "Type": "Pass",
        "QueryLanguage": "JSONata",
        "Assign": {"total": "{% $price * 2 %}"},
        "Output": "{% $price %}",
        "End": True,
    }
    response = run(state, variables='{"price": 5}', inspectionLevel="DEBUG")
    assert response["output"] == "5"
    assert inspected(response)["variables"] == {"price": 5, "total": 10}
    quiet = run({"Type": "Pass", "End": True}, variables="{}", inspectionLevel="DEBUG")
    assert "variables" not in quiet["inspectionData"]


# -- errors: RETRIABLE, CAUGHT_ERROR, FAILED -------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "status", "details"),
    [
        (0, "RETRIABLE", {"retryIndex": 0, "retryBackoffIntervalSeconds": 2}),
        (2, "RETRIABLE", {"retryIndex": 0, "retryBackoffIntervalSeconds": 18}),
        (3, "CAUGHT_ERROR", {"retryIndex": 0, "catchIndex": 0}),
    ],
)
def test_the_retry_count_decides_between_retriable_and_caught(
    count: int, status: str, details: dict[str, int]
) -> None:
    """stateConfiguration.retrierRetryCount is "the number of retry attempts that have occurred
    for the state's Retry that applies to the mocked error" (API_TestStateConfiguration): while
    it is under the matching Retrier's MaxAttempts the state is RETRIABLE, with the back-off it
    would wait (IntervalSeconds x BackoffRate^count, at most MaxDelaySeconds); past it the
    Catchers decide (InspectionErrorDetails: retryIndex, retryBackoffIntervalSeconds,
    catchIndex). https://docs.aws.amazon.com/step-functions/latest/dg/test-state-isolation.html
    """
    response = run(
        FAILING_TASK,
        input='{"a": 1}',
        mock=error_mock("Boom"),
        stateConfiguration={"retrierRetryCount": count},
        inspectionLevel="DEBUG",
    )
    assert (response["status"], response["error"], response["cause"]) == (
        status,
        "Boom",
        "it broke",
    )
    assert inspected(response)["errorDetails"] == details
    if status == "CAUGHT_ERROR":
        assert response["nextState"] == "Recover"
        assert json.loads(response["output"]) == {
            "a": 1,
            "error": {"Error": "Boom", "Cause": "it broke"},
        }
    else:
        assert "output" not in response and "nextState" not in response


def test_the_back_off_is_capped_by_max_delay_seconds() -> None:
    response = run(
        FAILING_TASK,
        mock=error_mock("Boom"),
        stateConfiguration={"retrierRetryCount": 2},
        inspectionLevel="DEBUG",
    )
    task = {**FAILING_TASK, "Retry": [{**FAILING_TASK["Retry"][0], "MaxDelaySeconds": 5}]}
    capped = run(
        task,
        mock=error_mock("Boom"),
        stateConfiguration={"retrierRetryCount": 2},
        inspectionLevel="DEBUG",
    )
    assert inspected(response)["errorDetails"]["retryBackoffIntervalSeconds"] == 18
    assert inspected(capped)["errorDetails"]["retryBackoffIntervalSeconds"] == 5


def test_only_the_first_retrier_that_matches_counts_even_when_it_is_exhausted() -> None:
    # Like an execution: a second Retrier for the same error is never reached.
    task = {
        **FAILING_TASK,
        "Retry": [
            {"ErrorEquals": ["Boom"], "MaxAttempts": 1},
            {"ErrorEquals": ["States.ALL"], "MaxAttempts": 5},
        ],
        "Catch": [],
    }
    response = run(
        task,
        mock=error_mock("Boom"),
        stateConfiguration={"retrierRetryCount": 1},
        inspectionLevel="DEBUG",
    )
    assert response["status"] == "FAILED"
    assert inspected(response)["errorDetails"] == {"retryIndex": 0}


def test_an_error_no_retrier_or_catcher_matches_fails_the_state() -> None:
    task = {**FAILING_TASK, "Catch": [{"ErrorEquals": ["Other"], "Next": "Recover"}]}
    response = run(task, mock=error_mock("Unknown"), inspectionLevel="DEBUG")
    assert (response["status"], response["error"]) == ("FAILED", "Unknown")
    assert "errorDetails" not in response["inspectionData"]


def test_states_runtime_is_neither_retried_nor_caught() -> None:
    # Not even by a Retrier or Catcher that names it, as in an execution.
    task = {
        **FAILING_TASK,
        "Parameters": {"FunctionName.$": "$.missing"},
        "Retry": [{"ErrorEquals": ["States.Runtime"]}],
        "Catch": [{"ErrorEquals": ["States.Runtime"], "Next": "Recover"}],
    }
    response = run(task, mock=mocked({}))
    assert (response["status"], response["error"]) == ("FAILED", "States.Runtime")


def test_a_jsonata_catcher_shows_states_error_output_in_its_output() -> None:
    task = {
        "Type": "Task",
        "QueryLanguage": "JSONata",
        "Resource": LAMBDA,
        "Arguments": {"FunctionName": "f"},
        "Catch": [
            {
                "ErrorEquals": ["States.TaskFailed"],
                "Output": "{% $states.errorOutput.Error & '/' & $states.input.id %}",
                "Assign": {"failed": True},
                "Next": "Handle",
            }
        ],
        "End": True,
    }
    response = run(task, input='{"id": "x"}', mock=error_mock("Boom"), inspectionLevel="DEBUG")
    assert (response["status"], response["output"]) == ("CAUGHT_ERROR", '"Boom/x"')
    assert inspected(response)["variables"] == {"failed": True}
    assert inspected(response)["errorDetails"] == {"catchIndex": 0}


# -- Map and Parallel ------------------------------------------------------------------------------


def test_map_and_parallel_states_are_tested_only_with_a_mock() -> None:
    """The API reference: TestState supports Map and Parallel states only "when a mock is
    specified"; AWS refuses them otherwise with InvalidDefinition (recorded).
    https://docs.aws.amazon.com/step-functions/latest/apireference/API_TestState.html
    """
    with pytest.raises(InvalidDefinition, match="does not support Map or Parallel states"):
        run(MAP_STATE, input='{"items": []}')


def test_a_map_states_result_is_the_mock_and_its_items_are_shown() -> None:
    map_state = {**MAP_STATE, "ItemSelector": {"v.$": "$$.Map.Item.Value"}, "MaxConcurrency": 2}
    response = run(
        map_state,
        input='{"items": [1, 2]}',
        mock=mocked(["a", "b"]),
        inspectionLevel="DEBUG",
    )
    assert response["output"] == '["a","b"]'
    shown = inspected(response)
    assert shown["afterItemsPath"] == [1, 2]
    assert shown["afterItemSelector"] == [{"v": 1}, {"v": 2}]
    assert shown["maxConcurrency"] == 2
    assert "toleratedFailureCount" not in shown


@pytest.mark.parametrize(
    ("tolerance", "failures", "status"),
    [
        ({"ToleratedFailureCount": 1}, 1, "SUCCEEDED"),
        ({"ToleratedFailureCount": 1}, 2, "FAILED"),
        ({"ToleratedFailurePercentage": 50}, 2, "SUCCEEDED"),
        ({"ToleratedFailurePercentage": 49}, 2, "FAILED"),
        ({}, 4, "SUCCEEDED"),
    ],
)
def test_map_iteration_failures_count_against_the_tolerated_threshold(
    tolerance: dict[str, Any], failures: int, status: str
) -> None:
    """mapIterationFailureCount is "the number of Map state iterations that failed"
    (API_TestStateConfiguration): past ToleratedFailureCount or ToleratedFailurePercentage the
    Map fails with States.ExceedToleratedFailureThreshold. A Map that sets no threshold answers
    with its mocked result whatever the count, as AWS does (recorded: BASE_MAP_STATE).
    https://docs.aws.amazon.com/step-functions/latest/apireference/API_TestStateConfiguration.html
    """
    response = run(
        {**MAP_STATE, **tolerance},
        input='{"items": [1, 2, 3, 4]}',
        mock=mocked([1, 1, 1, 1]),
        stateConfiguration={"mapIterationFailureCount": failures},
    )
    assert response["status"] == status
    if status == "FAILED":
        assert response["error"] == "States.ExceedToleratedFailureThreshold"
        assert response["cause"] == "The specified tolerated failure threshold was exceeded"


def test_a_map_past_its_threshold_meets_its_retry_and_catch() -> None:
    map_state = {
        **MAP_STATE,
        "ToleratedFailureCount": 0,
        "Retry": [{"ErrorEquals": ["States.ExceedToleratedFailureThreshold"], "MaxAttempts": 1}],
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Handle"}],
    }
    config = {"mapIterationFailureCount": 1}
    first = run(map_state, input='{"items": [1]}', mock=mocked([1]), stateConfiguration=config)
    assert first["status"] == "RETRIABLE"
    last = run(
        map_state,
        input='{"items": [1]}',
        mock=mocked([1]),
        stateConfiguration={**config, "retrierRetryCount": 1},
    )
    assert (last["status"], last["nextState"]) == ("CAUGHT_ERROR", "Handle")


def test_an_error_mocked_for_a_map_is_the_maps_error() -> None:
    """errorCausedByState: "the name of the state from which an error originates when an error
    is mocked for a Map or Parallel state"; the Map fails with the mocked error (recorded)."""
    map_state = {**MAP_STATE, "ToleratedFailureCount": 5}
    response = run(
        map_state,
        input='{"items": [1]}',
        mock=error_mock("Item.Broke"),
        stateConfiguration={"errorCausedByState": "Work"},
    )
    assert (response["status"], response["error"]) == ("FAILED", "Item.Broke")
    with pytest.raises(ValidationException, match="errorCausedByState names no state"):
        run(
            map_state,
            input='{"items": [1]}',
            mock=error_mock("Item.Broke"),
            stateConfiguration={"errorCausedByState": "Elsewhere"},
        )


def test_a_map_reads_its_items_from_map_item_reader_data() -> None:
    """mapItemReaderData: "the data read by ItemReader in Distributed Map states as found in its
    original source" (API_TestStateConfiguration): offline, it is where the items come from."""
    map_state = {
        "Type": "Map",
        "ItemReader": {
            "Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
            "Parameters": {"Bucket": "b", "Key": "k"},
        },
        "ItemSelector": {"name.$": "$$.Map.Item.Value.name"},
        "ItemProcessor": {
            "ProcessorConfig": DISTRIBUTED,
            "StartAt": "Work",
            "States": {"Work": {"Type": "Pass", "End": True}},
        },
        "ToleratedFailurePercentage": 50,
        "End": True,
    }
    data = "name,size\nx,1\ny,2\nz,3\n"
    response = run(
        map_state,
        mock=mocked([1, 2, 3]),
        stateConfiguration={"mapItemReaderData": data, "mapIterationFailureCount": 2},
        inspectionLevel="DEBUG",
    )
    assert response["status"] == "FAILED"  # 2 of 3 items is past 50 %
    assert inspected(response)["afterItemSelector"] == [
        {"name": "x"},
        {"name": "y"},
        {"name": "z"},
    ]
    with pytest.raises(ValidationException, match=r"needs stateConfiguration\.mapItemReaderData"):
        run(map_state, mock=mocked([]))


@pytest.mark.parametrize(
    ("state", "result", "message"),
    [
        (MAP_STATE, {"not": "a list"}, "Mocked result must be an array."),
        (
            {
                **MAP_STATE,
                "ItemProcessor": {**MAP_STATE["ItemProcessor"], "ProcessorConfig": DISTRIBUTED},
                "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject"},
            },
            ["a list"],
            "Mocked result must be a JSON object.",
        ),
        (
            {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
                    {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}},
                ],
                "End": True,
            },
            [1],
            "Mocked result must contain the same number of items as number of Parallel branches.",
        ),
    ],
)
def test_a_mocked_result_has_the_shape_of_the_states_result(
    state: dict[str, Any], result: Any, message: str
) -> None:
    with pytest.raises(ValidationException) as refused:
        run(state, input='{"items": []}', mock=mocked(result))
    assert refused.value.message == message


def test_a_parallel_states_mocked_result_passes_through_result_path() -> None:
    parallel = {
        "Type": "Parallel",
        "Branches": [{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}],
        "ResultPath": "$.branches",
        "End": True,
    }
    response = run(parallel, input='{"k": 1}', mock=mocked([{"a": 1}]), inspectionLevel="DEBUG")
    assert json.loads(response["output"]) == {"k": 1, "branches": [{"a": 1}]}
    assert set(inspected(response)) == {"input", "afterResultSelector", "afterResultPath"}


# -- mocks -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "mock", "message"),
    [
        (
            {"Type": "Pass", "End": True},
            mocked(1),
            "State type 'Pass' is not supported when a mock is specified",
        ),
        (
            FAILING_TASK,
            {"result": "{}", **error_mock("E")},
            "A test mock should have only one of the following fields: [result, errorOutput].",
        ),
        (FAILING_TASK, {"result": "not JSON"}, "Mocked result must be valid JSON"),
    ],
)
def test_a_mock_is_refused_where_aws_refuses_it(
    state: dict[str, Any], mock: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationException) as refused:
        run(state, mock=mock)
    assert refused.value.message == message


def test_reveal_secrets_cannot_go_with_a_mock() -> None:
    with pytest.raises(ValidationException, match="does not support RevealSecrets"):
        run(FAILING_TASK, mock=mocked({}), revealSecrets=True)


START = {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution", "End": True}


@pytest.mark.parametrize(
    ("mode", "result", "problem"),
    [
        ("STRICT", {}, "Field 'ExecutionArn' is required"),
        ("PRESENT", {}, None),
        ("PRESENT", {"StartDate": 12}, "Field 'StartDate' must be a string"),
        ("NONE", {"StartDate": 12}, None),
        ("STRICT", {"ExecutionArn": "a", "StartDate": "d", "Extra": [1]}, None),
        ("STRICT", {"ExecutionArn": "", "StartDate": "d"}, "is smaller than the minimum length"),
    ],
)
def test_field_validation_mode_decides_how_a_mocked_result_is_checked(
    mode: str, result: dict[str, Any], problem: str | None
) -> None:
    """MockInput.fieldValidationMode (API_MockInput): STRICT, the default, wants every required
    field and every present field to conform to the API's schema; PRESENT only the present
    ones; NONE checks nothing. Fields the API does not know pass in every mode (recorded).
    https://docs.aws.amazon.com/step-functions/latest/apireference/API_MockInput.html
    """
    mock = {**mocked(result), "fieldValidationMode": mode}
    if problem is None:
        assert run(START, mock=mock)["status"] == "SUCCEEDED"
        return
    with pytest.raises(ValidationException) as refused:
        run(START, mock=mock)
    assert refused.value.message.startswith("Mock result schema validation error: ")
    assert problem in refused.value.message


def test_a_lambda_invoke_mock_may_carry_its_payload_as_json() -> None:
    response = run(FAILING_TASK, mock=mocked({"StatusCode": 200, "Payload": {"ok": True}}))
    assert response["status"] == "SUCCEEDED"
    with pytest.raises(ValidationException, match="Field 'StatusCode' must be a number"):
        run(FAILING_TASK, mock=mocked({"StatusCode": "200"}))


# -- unmocked Tasks run on the engine --------------------------------------------------------------


def test_an_unmocked_lambda_task_calls_the_registered_handler() -> None:
    engine = LocalStepFunctions()
    engine.register_lambda("double", lambda event, context: {"n": event["n"] * 2})
    task = {
        "Type": "Task",
        "Resource": LAMBDA,
        "Parameters": {"FunctionName": "double", "Payload.$": "$"},
        "ResultSelector": {"n.$": "$.Payload.n"},
        "End": True,
    }
    response = run(task, engine, input='{"n": 21}', roleArn=ROLE, inspectionLevel="DEBUG")
    assert response["output"] == '{"n":42}'
    assert inspected(response)["result"]["StatusCode"] == 200
    assert engine.executions == []  # TestState starts no execution


def test_a_lambda_invoke_without_a_payload_hands_the_function_an_empty_object() -> None:
    """Lambda invoked with no payload gives the function ``{}``.

    AWS's recording ``test_base_lambda_service_task_state`` (an identity function called with
    ``"Payload": null``) answers ``"Payload": {}``, ``Content-Length: 2``.
    """
    engine = LocalStepFunctions()
    engine.register_lambda("echo", lambda event, context: event)
    task = {
        "Type": "Task",
        "Resource": LAMBDA,
        "Parameters": {"FunctionName": "echo", "Payload.$": "$.Payload"},
        "End": True,
    }
    response = run(task, engine, input='{"Payload": null}', roleArn=ROLE)
    result = json.loads(response["output"])
    assert result["Payload"] == {}
    assert result["SdkHttpMetadata"]["HttpHeaders"]["Content-Length"] == "2"


def test_a_handlers_exception_meets_the_states_retry() -> None:
    engine = LocalStepFunctions()

    def broken(event: Any, context: Any) -> Any:
        raise KeyError("missing")

    engine.register_lambda("f", broken)
    response = run(
        FAILING_TASK | {"Retry": [{"ErrorEquals": ["KeyError"]}], "Catch": []}, engine, roleArn=ROLE
    )
    assert (response["status"], response["error"]) == ("RETRIABLE", "KeyError")


def test_the_engines_task_mock_answers_an_unmocked_task_first() -> None:
    engine = LocalStepFunctions()
    engine.mock_tasks(TaskFault.failure(api.facts.TEST_STATE_NAME, "Injected", "by the test"))
    response = run(FAILING_TASK, engine, roleArn=ROLE)
    assert (response["status"], response["error"]) == ("CAUGHT_ERROR", "Injected")


def test_a_task_running_past_five_minutes_times_out() -> None:
    """The API reference: TestState "can run for up to five minutes", then States.Timeout."""
    engine = LocalStepFunctions()
    engine.register_lambda("f", lambda event, context: context.elapse(301))
    response = run(FAILING_TASK | {"Catch": []}, engine, roleArn=ROLE)
    assert (response["status"], response["error"]) == ("FAILED", "States.Timeout")


def test_an_unmocked_task_needs_a_role_and_a_service_reachable_offline() -> None:
    with pytest.raises(
        ValidationException, match=r"^RoleArn must be specified when testing a Task"
    ):
        run(FAILING_TASK)
    with pytest.raises(ValidationException, match="has no local integration"):
        run(START, roleArn=ROLE)
    callback = {**START, "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken"}
    with pytest.raises(ValidationException, match="only with a mock"):
        run(callback, roleArn=ROLE)


# -- the context object ----------------------------------------------------------------------------


def test_the_default_context_is_an_express_executions() -> None:
    engine = LocalStepFunctions(region="eu-west-1", account_id="111122223333")
    state = {
        "Type": "Task",
        "QueryLanguage": "JSONata",
        "Resource": LAMBDA,
        "Arguments": {},
        "Output": "{% $states.context %}",
        "End": True,
    }
    response = run(
        state,
        engine,
        input='{"a": 1}',
        roleArn=ROLE,
        mock=mocked({}),
        stateConfiguration={"retrierRetryCount": 2},
    )
    context = json.loads(response["output"])
    machine, name = context["StateMachine"]["Name"], context["Execution"]["Name"]
    assert context["Execution"] == {
        "Id": f"arn:aws:states:eu-west-1:111122223333:express:{machine}:{name}",
        "Input": {"a": 1},
        "Name": name,
        "RoleArn": ROLE,
        "StartTime": context["Execution"]["StartTime"],
    }
    assert context["State"] == {
        "EnteredTime": context["Execution"]["StartTime"],
        "Name": "StateName",
        "RetryCount": 2,
    }
    passed = run({"Type": "Pass", "Parameters": {"c.$": "$$.State"}, "End": True})
    assert "RetryCount" not in json.loads(passed["output"])["c"]  # only Task, Map, Parallel


def test_a_given_context_object_replaces_the_default() -> None:
    task = {**FAILING_TASK, "ResultSelector": {"who.$": "$$.Execution.Name"}}
    context = json.dumps({"Execution": {"Name": "mine"}})
    response = run(task, mock=mocked({}), context=context)
    assert response["output"] == '{"who":"mine"}'


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"Pokedex": {}}, "Invalid Context object provided: Field 'Pokedex' is not allowed"),
        (
            {"Execution": {"Id": 1}},
            "Invalid Context object provided: Execution.Id must be a string",
        ),
        (
            {"Task": {"Token": "t"}},
            "Invalid Context object provided: Context object contains 'Task' when state is not "
            "a Task state with a '.sync' or '.waitForTaskToken' service integration pattern",
        ),
    ],
)
def test_an_invalid_context_object_is_refused(context: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationException) as refused:
        run(FAILING_TASK, mock=mocked({}), context=json.dumps(context))
    assert refused.value.message == message


def test_a_context_object_goes_with_a_mock_only() -> None:
    """The API reference: context "may only be specified if a mock is specified"."""
    with pytest.raises(ValidationException, match="only be specified when a mock"):
        run({"Type": "Pass", "End": True}, context="{}")


# -- the request -----------------------------------------------------------------------------------


def test_an_invalid_definition_is_refused_with_pointers_under_state_name() -> None:
    with pytest.raises(InvalidDefinition) as refused:
        run({"Type": "Pass", "End": True, "Bogus": 1})
    assert refused.value.message.startswith("Invalid State Machine Definition: 'SCHEMA_VALIDATION")
    assert refused.value.message.endswith("at /States/StateName/Bogus'")


@pytest.mark.parametrize("state_name", [None, "A"])
def test_a_definition_that_is_not_json_is_refused_without_a_pointer(state_name: str | None) -> None:
    # GIVEN a definition cut short: it is no JSON, so no place in the machine is at fault
    request = {"definition": '{"Type": "Pass", "End": '}
    if state_name is not None:
        request["stateName"] = state_name
    # WHEN it is tested, THEN AWS's code comes with the parser's reason and no "at /..."
    with pytest.raises(InvalidDefinition) as refused:
        api.test_state(LocalStepFunctions(), request)
    message = refused.value.message
    assert message.startswith("Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: ")
    assert "line 1" in message
    assert " at /" not in message


@pytest.mark.parametrize(
    ("fields", "error", "naming"),
    [
        ({"input": "{not json"}, InvalidExecutionInput, "the input"),
        ({"inspectionLevel": "LOUD"}, ValidationException, "'inspectionLevel'"),
        (
            {"stateConfiguration": {"retrierRetryCount": -1}},
            ValidationException,
            "retrierRetryCount",
        ),
        ({"variables": "[1]"}, ValidationException, "variables must be a JSON object"),
        ({"roleArn": "not-an-arn"}, InvalidArn, "not-an-arn"),
        ({"definition": 7}, ValidationException, "'definition'"),
    ],
)
def test_a_bad_request_field_is_refused_naming_the_field(
    fields: dict[str, Any], error: type[Exception], naming: str
) -> None:
    request = {"definition": json.dumps({"Type": "Pass", "End": True}), **fields}
    with pytest.raises(error, match=naming):
        api.test_state(LocalStepFunctions(), request)


def test_map_iteration_failure_count_applies_to_map_states_only() -> None:
    with pytest.raises(ValidationException, match="applies to Map states only"):
        run(FAILING_TASK, mock=mocked({}), stateConfiguration={"mapIterationFailureCount": 1})
