"""The dispatcher on the wire: the model's checks in AWS's words, and AWS's error shape.

botocore checks some parameters itself before it sends them; the `unchecked_client` turns that
off, so these requests reach the engine as a client that does not check (the AWS CLI, curl, a
hand-rolled SDK) would send them.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from stepsaga.infra.local.stepfunctions import LocalStepFunctions
from stepsaga.infra.local.stepfunctions.api import StepFunctionsApi, check_request
from tests.api.conftest import PASS, ROLE, error_code, error_message

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

TARGET = "AWSStepFunctions."


def _answer(engine: LocalStepFunctions, operation: str, body: bytes) -> tuple[int, dict[str, Any]]:
    answer = engine.api.handle(TARGET + operation, body)
    decoded: dict[str, Any] = json.loads(answer.body)
    return answer.status, decoded


def test_a_name_too_long_is_refused_in_aws_s_words(unchecked_client: SFNClient) -> None:
    name = "n" * 81
    with pytest.raises(ClientError) as excinfo:
        unchecked_client.create_state_machine(name=name, definition=json.dumps(PASS), roleArn=ROLE)
    assert error_code(excinfo) == "ValidationException"
    assert error_message(excinfo) == (
        f"1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: "
        "Member must have length less than or equal to 80"
    )


def test_every_violation_is_listed_in_one_validation_exception(
    unchecked_client: SFNClient,
) -> None:
    with pytest.raises(ClientError) as excinfo:
        unchecked_client.create_state_machine(name="", definition=json.dumps(PASS))  # type: ignore[call-arg]
    assert error_message(excinfo) == (
        "2 validation errors detected: Value null at 'roleArn' failed to satisfy constraint: "
        "Member must not be null; Value '' at 'name' failed to satisfy constraint: Member must "
        "have length greater than or equal to 1"
    )


def test_a_value_outside_its_enum_or_range_is_named(unchecked_client: SFNClient) -> None:
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:M"
    with pytest.raises(ClientError) as excinfo:
        unchecked_client.list_executions(
            stateMachineArn=arn,
            statusFilter="DONE",  # type: ignore[arg-type]
            maxResults=1001,
        )
    message = error_message(excinfo)
    assert message.startswith("2 validation errors detected: ")
    assert (
        "Value 'DONE' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum "
        "value set: [RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE]"
    ) in message
    assert (
        "Value '1001' at 'maxResults' failed to satisfy constraint: Member must have value less "
        "than or equal to 1000"
    ) in message


def test_a_nested_member_is_named_by_its_path(unchecked_client: SFNClient) -> None:
    with pytest.raises(ClientError) as excinfo:
        unchecked_client.create_activity(name="a", tags=[{"key": "k" * 129, "value": "v"}])
    assert "at 'tags.1.member.key' failed to satisfy constraint" in error_message(excinfo)


def test_a_sensitive_value_is_never_echoed(unchecked_client: SFNClient) -> None:
    with pytest.raises(ClientError) as excinfo:
        unchecked_client.send_task_heartbeat(taskToken="secret" * 400)
    message = error_message(excinfo)
    assert "secret" not in message
    assert "Value '*** Sensitive Data Redacted ***' at 'taskToken'" in message


def test_a_member_of_the_wrong_json_type_is_a_serialization_exception(
    engine: LocalStepFunctions,
) -> None:
    status, body = _answer(engine, "ListStateMachines", b'{"maxResults": "ten"}')
    assert status == 400
    assert body == {
        "__type": "SerializationException",
        "message": "the value at 'maxResults' must be an integer, not a string",
    }


def test_a_body_that_is_not_json_is_a_serialization_exception(
    engine: LocalStepFunctions,
) -> None:
    status, body = _answer(engine, "ListStateMachines", b"{nope")
    assert (status, body["__type"]) == (400, "SerializationException")


def test_an_empty_body_is_an_empty_request(engine: LocalStepFunctions) -> None:
    status, body = _answer(engine, "ListActivities", b"")
    assert (status, body) == (200, {"activities": []})


def test_members_the_model_does_not_know_are_ignored(engine: LocalStepFunctions) -> None:
    status, _ = _answer(engine, "ListActivities", b'{"futureOption": true}')
    assert status == 200


def test_a_target_without_the_service_prefix_is_unknown_operation(
    engine: LocalStepFunctions,
) -> None:
    answer = engine.api.handle("DynamoDB_20120810.ListTables", b"{}")
    assert answer.status == 400
    assert json.loads(answer.body)["__type"] == "UnknownOperationException"
    assert engine.api.handle(None, b"{}").status == 400


def test_an_operation_the_model_lacks_is_unknown_operation(engine: LocalStepFunctions) -> None:
    status, body = _answer(engine, "MakeCoffee", b"{}")
    assert (status, body["__type"]) == (400, "UnknownOperationException")


def test_an_operation_stepsaga_does_not_serve_says_so(client: SFNClient) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.list_state_machine_versions(
            stateMachineArn="arn:aws:states:us-east-1:123456789012:stateMachine:M"
        )
    assert error_code(excinfo) == "UnknownOperationException"
    assert error_message(excinfo) == (
        "stepsaga does not implement the ListStateMachineVersions operation yet"
    )


def test_a_failure_of_stepsaga_s_own_is_a_logged_500_internal_failure(
    engine: LocalStepFunctions, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(api: StepFunctionsApi, request: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("a bug")

    monkeypatch.setattr(StepFunctionsApi, "list_activities", broken)
    with caplog.at_level(logging.ERROR, logger="stepsaga.local"):
        status, body = _answer(engine, "ListActivities", b"{}")
    assert status == 500
    assert body["__type"] == "InternalFailure"
    assert "RuntimeError: a bug" in body["message"]
    assert "a bug" in caplog.text


def test_the_operations_served_are_these() -> None:
    # Adding an operation is adding its method (named as the operation, in snake case).
    assert sorted(StepFunctionsApi.operations()) == [
        "CreateActivity",
        "CreateStateMachine",
        "DeleteActivity",
        "DeleteStateMachine",
        "DescribeActivity",
        "DescribeExecution",
        "DescribeStateMachine",
        "DescribeStateMachineForExecution",
        "GetActivityTask",
        "GetExecutionHistory",
        "ListActivities",
        "ListExecutions",
        "ListStateMachines",
        "ListTagsForResource",
        "SendTaskFailure",
        "SendTaskHeartbeat",
        "SendTaskSuccess",
        "StartExecution",
        "StartSyncExecution",
        "StopExecution",
        "TagResource",
        "TestState",
        "UntagResource",
        "UpdateStateMachine",
        "ValidateStateMachineDefinition",
    ]


def test_check_request_accepts_what_the_model_accepts() -> None:
    check_request(
        "CreateStateMachine",
        {
            "name": "M",
            "definition": "{}",
            "roleArn": ROLE,
            "type": "EXPRESS",
            "loggingConfiguration": {"level": "OFF", "includeExecutionData": False},
            "tags": [{"key": "k", "value": ""}],
            "tracingConfiguration": {"enabled": True},
        },
    )
