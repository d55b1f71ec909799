"""The starter's Step Functions requests, pinned with botocore's Stubber.

Its behaviour end to end is tested on the engine's in-process client; these pin the exact
requests it sends, as AWS receives them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import ANY, Stubber

from stepsaga.examples.orders.sagas import SAGAS
from stepsaga.infra.aws import Starter, StepFunctionsUnavailableError
from stepsaga.workflows.saga import execution_name_for

MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:orders-PlaceOrder"
EXECUTION = "arn:aws:states:eu-west-1:123456789012:execution:orders-PlaceOrder"
WHEN = datetime(2026, 12, 2, tzinfo=UTC)
ORDER = {
    "orderId": "o-1",
    "customerEmail": "ann@example.com",
    "items": [{"sku": "SKU-1", "quantity": 2, "unitPrice": "9.50"}],
    "paymentToken": "tok_ok",
}


@pytest.fixture
def stubbed() -> Iterator[tuple[Starter, Stubber]]:
    client = boto3.client(
        "stepfunctions",
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with Stubber(client) as stub:
        yield Starter(client, SAGAS, {"PlaceOrder": MACHINE}), stub
        stub.assert_no_pending_responses()


def described(name: str, status: str) -> dict[str, object]:
    return {
        "executionArn": f"{EXECUTION}:{name}",
        "stateMachineArn": MACHINE,
        "name": name,
        "status": status,
        "startDate": WHEN,
        "input": "{}",
    }


def test_wait_polls_describe_execution_until_it_stops(stubbed: tuple[Starter, Stubber]) -> None:
    starter, stub = stubbed
    name = execution_name_for("acme", "k")
    stub.add_response(
        "start_execution",
        {"executionArn": f"{EXECUTION}:{name}", "startDate": WHEN},
        {"stateMachineArn": MACHINE, "name": name, "input": ANY},
    )
    for status in ("RUNNING", "RUNNING", "SUCCEEDED"):
        stub.add_response(
            "describe_execution",
            {**described(name, status), "output": '{"done": true}'},
            {"executionArn": f"{EXECUTION}:{name}"},
        )
    started = starter.start(
        ORDER, saga="PlaceOrder", tenant="acme", requested_by="a", idempotency_key="k"
    )
    done = started.wait(interval=0)
    assert (done.status, done.output) == ("SUCCEEDED", {"done": True})


def test_history_reads_every_page(stubbed: tuple[Starter, Stubber]) -> None:
    starter, stub = stubbed
    stub.add_response("start_execution", {"executionArn": f"{EXECUTION}:n", "startDate": WHEN})
    event = {"timestamp": WHEN, "type": "ExecutionStarted", "id": 1}
    stub.add_response(
        "get_execution_history",
        {"events": [event], "nextToken": "page-2"},
        {"executionArn": f"{EXECUTION}:n"},
    )
    stub.add_response(
        "get_execution_history",
        {"events": [{**event, "id": 2, "type": "ExecutionSucceeded"}]},
        {"executionArn": f"{EXECUTION}:n", "nextToken": "page-2"},
    )
    started = starter.start(ORDER, saga="PlaceOrder", tenant="acme", requested_by="a")
    assert [e["id"] for e in started.history()] == [1, 2]


def test_a_throttled_read_says_when_to_retry(stubbed: tuple[Starter, Stubber]) -> None:
    starter, stub = stubbed
    stub.add_client_error("describe_execution", "ThrottlingException", "slow down", 400)
    with pytest.raises(StepFunctionsUnavailableError) as refused:
        starter.find("acme-0123456789abcdef", tenant="acme")
    assert (refused.value.throttled, refused.value.retry_after) == (True, 1)


def test_a_malformed_state_machine_arn_is_refused_when_the_starter_is_built() -> None:
    client = boto3.client("stepfunctions", region_name="eu-west-1")
    with pytest.raises(ValueError, match="not a state machine ARN"):
        Starter(client, SAGAS, {"PlaceOrder": "arn:aws:lambda:eu-west-1:1:function:x"})
