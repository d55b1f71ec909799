"""TestState through the boto3 client: the dispatcher serves `_test_state.test_state`.

TestState's own rules are tested beside it (`tests/engine/test_test_state.py`); these tests
hold the wire: the request reaches it as the API's body, its answer passes the service
model's output shape (the `engine` fixture checks every answer), and its refusals come back as
AWS's error codes.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import ROLE, error_code, error_message

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

    from stepsaga.infra.local.stepfunctions import LocalStepFunctions

TASK = {
    "Type": "Task",
    "Resource": "arn:aws:states:::lambda:invoke",
    "Parameters": {"FunctionName": "price", "Payload.$": "$"},
    "ResultSelector": {"total.$": "$.Payload.total"},
    "Retry": [{"ErrorEquals": ["Price.Unavailable"], "MaxAttempts": 2}],
    "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Fallback"}],
    "Next": "Done",
}


def test_a_state_is_run_with_its_input_and_answers_status_output_and_next_state(
    client: SFNClient,
) -> None:
    state = {"Type": "Pass", "Parameters": {"doubled.$": "States.MathAdd($.n, $.n)"}, "End": True}
    answer = client.test_state(definition=json.dumps(state), roleArn=ROLE, input='{"n": 21}')
    assert answer["status"] == "SUCCEEDED"
    assert json.loads(answer["output"]) == {"doubled": 42}
    assert "nextState" not in answer


def test_an_unmocked_task_calls_the_engine_s_function(
    engine: LocalStepFunctions, client: SFNClient
) -> None:
    engine.register_lambda("price", lambda event, context: {"total": event["qty"] * 3})
    answer = client.test_state(definition=json.dumps(TASK), roleArn=ROLE, input='{"qty": 4}')
    assert (answer["status"], json.loads(answer["output"]), answer["nextState"]) == (
        "SUCCEEDED",
        {"total": 12},
        "Done",
    )


def test_a_mocked_error_is_retriable_then_caught_and_inspection_shows_the_stages(
    client: SFNClient,
) -> None:
    mock: Any = {"errorOutput": {"error": "Price.Unavailable", "cause": "down"}}
    first = client.test_state(
        definition=json.dumps(TASK), roleArn=ROLE, input="{}", mock=mock, inspectionLevel="DEBUG"
    )
    assert first["status"] == "RETRIABLE"
    assert first["inspectionData"]["errorDetails"]["retryIndex"] == 0
    assert "input" in first["inspectionData"]
    last = client.test_state(
        definition=json.dumps(TASK),
        roleArn=ROLE,
        input="{}",
        mock=mock,
        stateConfiguration={"retrierRetryCount": 2},
    )
    assert (last["status"], last["nextState"], last["error"]) == (
        "CAUGHT_ERROR",
        "Fallback",
        "Price.Unavailable",
    )


def test_an_invalid_state_is_invalid_definition(client: SFNClient) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.test_state(definition=json.dumps({"Type": "Pass", "Next": 3}), roleArn=ROLE)
    assert error_code(excinfo) == "InvalidDefinition"
    assert error_message(excinfo).startswith("Invalid State Machine Definition: ")


def test_a_mock_on_a_pass_state_is_a_validation_exception(client: SFNClient) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.test_state(
            definition=json.dumps({"Type": "Pass", "End": True}),
            roleArn=ROLE,
            mock={"result": "{}"},
        )
    assert error_code(excinfo) == "ValidationException"


def test_input_that_is_not_json_is_invalid_execution_input(client: SFNClient) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.test_state(
            definition=json.dumps({"Type": "Pass", "End": True}), roleArn=ROLE, input="{nope"
        )
    assert error_code(excinfo) == "InvalidExecutionInput"


def test_a_role_that_is_no_role_is_invalid_arn(client: SFNClient) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.test_state(
            definition=json.dumps({"Type": "Pass", "End": True}),
            roleArn="arn:aws:states:us-east-1:123456789012:stateMachine:M",
        )
    assert error_code(excinfo) == "InvalidArn"
