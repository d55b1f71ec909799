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


def guard_put(version: int, event_id: str) -> dict[str, Any]:
    return {
        "Put": {
            "TableName": TABLE,
            "Item": {
                "pk": {"S": f"acme#_event#Order#o-1#{event_id}"},
                "sk": {"N": "0"},
                "event_version": {"N": str(version)},
                "tenant": {"S": "acme"},
            },
            "ConditionExpression": "attribute_not_exists(pk)",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


def head_update(new: int, expected: int) -> dict[str, Any]:
    values = {":new": {"N": str(new)}, ":tenant": {"S": "acme"}}
    if expected:
        values[":expected"] = {"N": str(expected)}
    return {
        "Update": {
            "TableName": TABLE,
            "Key": {"pk": {"S": KEY}, "sk": {"N": "0"}},
            "UpdateExpression": "SET #version = :new, tenant = :tenant",
            "ConditionExpression": "#version = :expected"
            if expected
            else "attribute_not_exists(pk)",
            "ExpressionAttributeNames": {"#version": "version"},
            "ExpressionAttributeValues": values,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
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
                guard_put(1, "a"),
                guard_put(2, "b"),
                head_update(2, 0),
            ]
        },
    )

    recorded = DynamoDBEventStore(client, TABLE).append(ORDER, [event("a"), event("b")], 0)

    assert [r.version for r in recorded] == [1, 2]


def test_later_appends_guard_the_head_on_the_expected_version(client: Any, stub: Stubber) -> None:
    stub.add_response(
        "transact_write_items",
        {},
        {"TransactItems": [event_put(8, "h"), guard_put(8, "h"), head_update(8, 7)]},
    )

    DynamoDBEventStore(client, TABLE).append(ORDER, [event("h")], expected_version=7)


def cancel(stub: Stubber, *reasons: dict[str, Any]) -> None:
    """Queue a cancelled transaction with the reasons DynamoDB sends along."""
    stub.add_client_error(
        "transact_write_items",
        service_error_code="TransactionCanceledException",
        service_message="Transaction cancelled",
        modeled_fields={"CancellationReasons": list(reasons)},
    )


def test_a_moved_head_is_a_conflict_naming_the_version_it_returned(
    client: Any, stub: Stubber
) -> None:
    # GIVEN the transaction is cancelled because the head moved on to version 9
    cancel(
        stub,
        {"Code": "None"},
        {"Code": "None"},
        {"Code": "ConditionalCheckFailed", "Item": {"version": {"N": "9"}}},
    )

    # THEN the store reads nothing more: the failed condition returned the head
    with pytest.raises(ConcurrencyError) as raised:
        DynamoDBEventStore(client, TABLE).append(ORDER, [event("h")], expected_version=7)

    assert (raised.value.expected, raised.value.actual) == (7, 9)


def test_a_retried_append_reads_its_stored_events_back_by_the_versions_its_guards_returned(
    client: Any, stub: Stubber
) -> None:
    # GIVEN an earlier attempt stored `h` at version 8; this one expected version 9
    cancel(
        stub,
        {"Code": "ConditionalCheckFailed"},
        {"Code": "ConditionalCheckFailed", "Item": {"event_version": {"N": "8"}}},
        {"Code": "ConditionalCheckFailed", "Item": {"version": {"N": "12"}}},
    )
    # THEN it reads the stored event at version 8, consistently, and returns it
    stub.add_response(
        "batch_get_item",
        {"Responses": {TABLE: [event_put(8, "h")["Put"]["Item"]]}},
        {
            "RequestItems": {
                TABLE: {"Keys": [{"pk": {"S": KEY}, "sk": {"N": "8"}}], "ConsistentRead": True}
            }
        },
    )

    (recorded,) = DynamoDBEventStore(client, TABLE).append(ORDER, [event("h")], 9)

    assert (recorded.version, recorded.event.event_id) == (8, "h")


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
