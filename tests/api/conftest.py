"""Fixtures for the Step Functions API: an engine, its in-process client, and the model's eye.

Every answer the dispatcher gives in these tests is held to its operation's output shape in
botocore's service model (`check_response`): a test fails at teardown if any answer had a
member missing, of the wrong type or out of its range.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
from botocore.config import Config

from stepsaga.infra.local.stepfunctions import LocalStepFunctions
from stepsaga.infra.local.stepfunctions.api import check_response

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

ROLE = "arn:aws:iam::123456789012:role/stepsaga-test"
PASS = {"StartAt": "Hello", "States": {"Hello": {"Type": "Pass", "Result": {"hi": 1}, "End": True}}}
WAITING = {
    "StartAt": "Ask",
    "States": {
        "Ask": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": "ask", "Payload": {"token.$": "$$.Task.Token"}},
            "End": True,
        }
    },
}


@pytest.fixture
def engine() -> Iterator[LocalStepFunctions]:
    """A fresh engine whose every API answer is checked against the service model."""
    sfn = LocalStepFunctions(seed=7)
    api = sfn.api
    problems: list[str] = []
    call = api.call

    def checked(operation: str, request: dict[str, Any]) -> dict[str, Any]:
        answer = call(operation, request)
        if request.get("includedData") != "METADATA_ONLY":  # it leaves a required member out
            problems.extend(
                f"{operation}: {problem}" for problem in check_response(operation, answer)
            )
        return answer

    api.call = checked  # type: ignore[method-assign]
    yield sfn
    assert problems == []


@pytest.fixture
def client(engine: LocalStepFunctions) -> SFNClient:
    """The engine's in-process boto3 client."""
    return engine.client()


@pytest.fixture
def unchecked_client(engine: LocalStepFunctions) -> SFNClient:
    """The in-process client without botocore's own parameter checks: the engine's are seen."""
    return engine.client(Config(parameter_validation=False))


@pytest.fixture
def machine(client: SFNClient) -> Callable[..., str]:
    """Create a state machine (a Pass by default) and return its ARN."""

    def create(definition: dict[str, Any] = PASS, name: str = "Hello", **options: Any) -> str:
        arn: str = client.create_state_machine(
            name=name, definition=json.dumps(definition), roleArn=ROLE, **options
        )["stateMachineArn"]
        return arn

    return create


def error_code(excinfo: pytest.ExceptionInfo[Any]) -> str:
    """The AWS error code of a botocore ClientError."""
    code: str = excinfo.value.response["Error"]["Code"]
    return code


def error_message(excinfo: pytest.ExceptionInfo[Any]) -> str:
    """The message of a botocore ClientError."""
    message: str = excinfo.value.response["Error"]["Message"]
    return message
