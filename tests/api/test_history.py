"""GetExecutionHistory through the boto3 client: the engine's history, paged and ordered."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from stepsaga.infra.local.stepfunctions import LocalStepFunctions
from tests.api.conftest import error_code

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

CHAIN = {
    "StartAt": "One",
    "States": {
        "One": {"Type": "Pass", "Result": {"n": 1}, "Next": "Two"},
        "Two": {"Type": "Pass", "Parameters": {"m.$": "$.n"}, "Next": "Three"},
        "Three": {"Type": "Succeed"},
    },
}


@pytest.fixture
def execution(client: SFNClient, machine: Callable[..., str]) -> str:
    arn = machine(CHAIN, name="Chain")
    started: str = client.start_execution(stateMachineArn=arn, input='{"x": 1}')["executionArn"]
    return started


def _strip(event: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in event.items() if key != "timestamp"}


def test_the_history_is_the_engine_s_event_for_event(
    engine: LocalStepFunctions, client: SFNClient, execution: str
) -> None:
    events = client.get_execution_history(executionArn=execution)["events"]
    expected = engine.describe_execution(execution).history
    assert [_strip(event) for event in events] == [_strip(event) for event in expected]
    assert [event["timestamp"] for event in events] == [event["timestamp"] for event in expected]
    assert events[0]["type"] == "ExecutionStarted"
    assert events[-1]["type"] == "ExecutionSucceeded"


def test_pages_of_the_history_add_up_to_the_whole_in_either_order(
    client: SFNClient, execution: str
) -> None:
    for reverse in (False, True):
        whole = client.get_execution_history(executionArn=execution, reverseOrder=reverse)
        ids = [event["id"] for event in whole["events"]]
        assert ids == sorted(ids, reverse=reverse)
        paged: list[int] = []
        token: str | None = None
        while True:
            options: dict[str, Any] = {"maxResults": 3, "reverseOrder": reverse}
            if token is not None:
                options["nextToken"] = token
            page = client.get_execution_history(executionArn=execution, **options)
            assert len(page["events"]) <= 3
            paged += [event["id"] for event in page["events"]]
            token = page.get("nextToken")
            if token is None:
                break
        assert paged == ids


def test_without_execution_data_the_history_leaves_inputs_and_outputs_out(
    client: SFNClient, execution: str
) -> None:
    events = client.get_execution_history(executionArn=execution, includeExecutionData=False)
    details: list[Any] = [
        value
        for event in events["events"]
        for key, value in event.items()
        if key.endswith("Details")
    ]
    assert details and all("input" not in d and "output" not in d for d in details)
    full = client.get_execution_history(executionArn=execution)["events"]
    assert json.loads(full[0]["executionStartedEventDetails"]["input"]) == {"x": 1}


def test_a_history_token_of_another_order_is_invalid_token(
    client: SFNClient, execution: str
) -> None:
    token = client.get_execution_history(executionArn=execution, maxResults=2)["nextToken"]
    with pytest.raises(ClientError) as excinfo:
        client.get_execution_history(executionArn=execution, reverseOrder=True, nextToken=token)
    assert error_code(excinfo) == "InvalidToken"


def test_the_history_of_an_unknown_execution_is_execution_does_not_exist(
    client: SFNClient,
) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.get_execution_history(
            executionArn="arn:aws:states:us-east-1:123456789012:execution:Chain:nobody"
        )
    assert error_code(excinfo) == "ExecutionDoesNotExist"
