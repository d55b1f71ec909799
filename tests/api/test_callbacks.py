"""SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat through the boto3 client."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from stepsaga.infra.local.stepfunctions import LocalStepFunctions
from tests.api.conftest import WAITING, error_code

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient


@pytest.fixture
def tokens(engine: LocalStepFunctions) -> list[str]:
    """The task tokens the `ask` function was sent, in order."""
    sent: list[str] = []

    def ask(event: dict[str, Any], context: object) -> dict[str, Any]:
        sent.append(event["token"])
        return {}

    engine.register_lambda("ask", ask)
    return sent


def _waiting(machine: Callable[..., str], **task: Any) -> str:
    definition = json.loads(json.dumps(WAITING))
    definition["States"]["Ask"].update(task)
    return machine(definition, name="Asker")


def test_send_task_success_completes_the_task_with_its_output(
    client: SFNClient, machine: Callable[..., str], tokens: list[str]
) -> None:
    execution = client.start_execution(stateMachineArn=_waiting(machine))["executionArn"]
    assert client.describe_execution(executionArn=execution)["status"] == "RUNNING"
    client.send_task_success(taskToken=tokens[0], output='{"approved": true}')
    described = client.describe_execution(executionArn=execution)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"approved": True}


def test_send_task_failure_fails_the_task_with_its_error_and_cause(
    client: SFNClient, machine: Callable[..., str], tokens: list[str]
) -> None:
    execution = client.start_execution(stateMachineArn=_waiting(machine))["executionArn"]
    client.send_task_failure(taskToken=tokens[0], error="Review.Rejected", cause="too big")
    described = client.describe_execution(executionArn=execution)
    assert (described["status"], described["error"], described["cause"]) == (
        "FAILED",
        "Review.Rejected",
        "too big",
    )


def test_a_heartbeat_keeps_a_task_alive_past_its_heartbeat_seconds(
    engine: LocalStepFunctions, client: SFNClient, machine: Callable[..., str], tokens: list[str]
) -> None:
    arn = _waiting(machine, HeartbeatSeconds=10)
    execution = client.start_execution(stateMachineArn=arn)["executionArn"]
    engine.advance(8)
    client.send_task_heartbeat(taskToken=tokens[0])
    engine.advance(8)
    assert client.describe_execution(executionArn=execution)["status"] == "RUNNING"
    engine.advance(3)
    described = client.describe_execution(executionArn=execution)
    assert (described["status"], described["error"]) == ("FAILED", "States.Timeout")


def test_a_token_that_is_no_token_is_invalid_token(client: SFNClient) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.send_task_success(taskToken="nonsense", output="{}")
    assert error_code(excinfo) == "InvalidToken"


def test_a_token_no_task_was_given_is_task_does_not_exist(client: SFNClient) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.send_task_heartbeat(taskToken="0" * 64)
    assert error_code(excinfo) == "TaskDoesNotExist"


def test_answering_a_task_twice_is_task_timed_out(
    client: SFNClient, machine: Callable[..., str], tokens: list[str]
) -> None:
    client.start_execution(stateMachineArn=_waiting(machine))
    client.send_task_success(taskToken=tokens[0], output="{}")
    with pytest.raises(ClientError) as excinfo:
        client.send_task_failure(taskToken=tokens[0])
    assert error_code(excinfo) == "TaskTimedOut"


def test_output_that_is_not_json_is_invalid_output(
    client: SFNClient, machine: Callable[..., str], tokens: list[str]
) -> None:
    client.start_execution(stateMachineArn=_waiting(machine))
    with pytest.raises(ClientError) as excinfo:
        client.send_task_success(taskToken=tokens[0], output="{nope")
    assert error_code(excinfo) == "InvalidOutput"


def test_a_token_longer_than_the_model_allows_is_a_validation_exception(
    client: SFNClient,
) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.send_task_heartbeat(taskToken="a" * 2049)
    assert error_code(excinfo) == "ValidationException"
