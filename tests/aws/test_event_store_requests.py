"""The exact DynamoDB requests behind an append, pinned with botocore's Stubber."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from stepsaga.domain import ConcurrencyError, RetryableError
from stepsaga.infra.aws import DynamoDBEventStore
from stepsaga.testing.contracts import EventStoreContract

ORDER, event = EventStoreContract.ORDER, EventStoreContract.event

TABLE = "events"
KEY = "acme#Order#o-1"


@pytest.fixture
def client() -> Any:
    return boto3.client(
        "dynamodb",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )


@pytest.fixture
def stub(client: Any) -> Iterator[Stubber]:
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def event_put(version: int, event_id: str) -> dict[str, Any]:
    return {
        "Put": {
            "TableName": TABLE,
            "Item": {
                "pk": {"S": KEY},
                "sk": {"N": str(version)},
                "event_id": {"S": event_id},
                "event_type": {"S": "Happened"},
                "schema_version": {"N": "1"},
                "payload": {"S": json.dumps({"n": event_id}, separators=(",", ":"))},
                "occurred_at": {"S": "2026-01-02T03:04:05+00:00"},
                "tenant": {"S": "acme"},
                "correlation_id": {"S": "arn:aws:states:us-east-1:123456789012:execution:sm:run-1"},
                "causation_id": {"S": "cmd-1"},
            },
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def test_first_append_creates_the_head_only_if_the_stream_does_not_exist(
    client: Any, stub: Stubber
) -> None:
    stub.add_response(
        "transact_write_items",
        {},
        {
            "TransactItems": [
                event_put(1, "a"),
                event_put(2, "b"),
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": {"pk": {"S": KEY}, "sk": {"N": "0"}},
                        "UpdateExpression": "SET #version = :new, tenant = :tenant",
                        "ConditionExpression": "attribute_not_exists(pk)",
                        "ExpressionAttributeNames": {"#version": "version"},
                        "ExpressionAttributeValues": {":new": {"N": "2"}, ":tenant": {"S": "acme"}},
                    }
                },
            ]
        },
    )

    recorded = DynamoDBEventStore(client, TABLE).append(ORDER, [event("a"), event("b")], 0)

    assert [r.version for r in recorded] == [1, 2]


def test_later_appends_guard_the_head_on_the_expected_version(client: Any, stub: Stubber) -> None:
    stub.add_response(
        "transact_write_items",
        {},
        {
            "TransactItems": [
                event_put(8, "h"),
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": {"pk": {"S": KEY}, "sk": {"N": "0"}},
                        "UpdateExpression": "SET #version = :new, tenant = :tenant",
                        "ConditionExpression": "#version = :expected",
                        "ExpressionAttributeNames": {"#version": "version"},
                        "ExpressionAttributeValues": {
                            ":new": {"N": "8"},
                            ":tenant": {"S": "acme"},
                            ":expected": {"N": "7"},
                        },
                    }
                },
            ]
        },
    )

    DynamoDBEventStore(client, TABLE).append(ORDER, [event("h")], expected_version=7)


def test_a_cancelled_transaction_reads_back_consistently_before_deciding(
    client: Any, stub: Stubber
) -> None:
    # GIVEN the transaction is cancelled because the head moved on
    stub.add_client_error(
        "transact_write_items",
        service_error_code="TransactionCanceledException",
        service_message="Transaction cancelled",
    )
    # THEN the store reads the slots it wanted, consistently, limited to the batch
    stub.add_response(
        "query",
        {"Items": [event_put(8, "someone-else")["Put"]["Item"]]},
        {
            "TableName": TABLE,
            "KeyConditionExpression": "pk = :pk AND sk >= :from",
            "ExpressionAttributeValues": {":pk": {"S": KEY}, ":from": {"N": "8"}},
            "ConsistentRead": True,
            "Limit": 1,
        },
    )
    # AND the head, consistently, to report the actual version
    stub.add_response(
        "get_item",
        {"Item": {"version": {"N": "9"}}},
        {
            "TableName": TABLE,
            "Key": {"pk": {"S": KEY}, "sk": {"N": "0"}},
            "ConsistentRead": True,
            "ProjectionExpression": "#version",
            "ExpressionAttributeNames": {"#version": "version"},
        },
    )

    with pytest.raises(ConcurrencyError) as raised:
        DynamoDBEventStore(client, TABLE).append(ORDER, [event("h")], expected_version=7)

    assert (raised.value.expected, raised.value.actual) == (7, 9)


def test_throttling_is_reported_as_retryable(client: Any, stub: Stubber) -> None:
    stub.add_client_error(
        "transact_write_items", service_error_code="ProvisionedThroughputExceededException"
    )

    with pytest.raises(RetryableError) as raised:
        DynamoDBEventStore(client, TABLE).append(ORDER, [event("h")], expected_version=7)

    assert raised.value.retry_hint == KEY
    assert isinstance(raised.value.__cause__, ClientError)


def test_other_client_errors_are_neither_conflicts_nor_retryable(
    client: Any, stub: Stubber
) -> None:
    stub.add_client_error("transact_write_items", service_error_code="AccessDeniedException")

    with pytest.raises(ClientError, match="AccessDenied"):
        DynamoDBEventStore(client, TABLE).append(ORDER, [event("h")], expected_version=7)
