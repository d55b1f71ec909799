"""The DynamoDB event store: one item per event, one transaction per append.

Key layout (DESIGN.md): `pk = "{tenant}#{aggregate_type}#{aggregate_id}"` (String), `sk` =
version (Number, from 1). The stream head is the item at `sk = 0`; its `version` attribute
is the stream's version and the transaction's guard. Event items carry `event_id`,
`event_type`, `schema_version`, `payload` (compact JSON text, so that numbers round-trip
exactly), `occurred_at` (ISO 8601), `tenant`, `correlation_id` and `causation_id`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from stepsaga.domain import ConcurrencyError, RecordedEvent, StoredEvent, StreamId, TenantId
from stepsaga.infra.aws._transient import error_code, transient_as_retryable
from stepsaga.tasks import check_append, encode_payload

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import (
        AttributeValueTypeDef,
        QueryInputTypeDef,
        ScanInputTypeDef,
        TransactWriteItemTypeDef,
    )

__all__ = ("HEAD_SORT_KEY", "DynamoDBEventStore")

HEAD_SORT_KEY = 0
"""The sort key of a stream's head item; events start at 1."""


def _s(value: str) -> AttributeValueTypeDef:
    return {"S": value}


def _n(value: int) -> AttributeValueTypeDef:
    return {"N": str(value)}


class DynamoDBEventStore:
    """An `EventStore` on a DynamoDB table (see `create_event_store_table`).

    Args:
        client: A boto3 DynamoDB client (injected: real AWS, moto or DynamoDB Local).
        table_name: The event store table.
        page_size: Items per Query page when reading; reads follow `LastEvaluatedKey`.
    """

    def __init__(self, client: DynamoDBClient, table_name: str, *, page_size: int = 500) -> None:
        if page_size < 1:
            raise ValueError(f"page_size must be >= 1, got {page_size}")
        self._client = client
        self._table = table_name
        self._page_size = page_size

    @property
    def table_name(self) -> str:
        """The table this store reads and writes."""
        return self._table

    # -- writing --------------------------------------------------------------------------

    def event_item(
        self, stream: StreamId, version: int, event: StoredEvent
    ) -> dict[str, AttributeValueTypeDef]:
        """The item that stores `event` at `version` of `stream`."""
        return {
            "pk": _s(stream.key),
            "sk": _n(version),
            "event_id": _s(event.event_id),
            "event_type": _s(event.type),
            "schema_version": _n(event.schema_version),
            "payload": _s(encode_payload(event)),
            "occurred_at": _s(event.occurred_at.isoformat()),
            "tenant": _s(str(event.tenant)),
            "correlation_id": _s(event.correlation_id),
            "causation_id": _s(event.causation_id),
        }

    def append_request(
        self, stream: StreamId, events: Sequence[StoredEvent], expected_version: int
    ) -> list[TransactWriteItemTypeDef]:
        """The `TransactItems` of one append: the events, then the guarded stream head."""
        items: list[TransactWriteItemTypeDef] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": self.event_item(stream, expected_version + offset, event),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
            for offset, event in enumerate(events, start=1)
        ]
        new_version = expected_version + len(events)
        head_key = {"pk": _s(stream.key), "sk": _n(HEAD_SORT_KEY)}
        if expected_version == 0:
            guard = "attribute_not_exists(pk)"
            values = {":new": _n(new_version), ":tenant": _s(str(stream.tenant))}
        else:
            guard = "#version = :expected"
            values = {
                ":new": _n(new_version),
                ":tenant": _s(str(stream.tenant)),
                ":expected": _n(expected_version),
            }
        items.append(
            {
                "Update": {
                    "TableName": self._table,
                    "Key": head_key,
                    "UpdateExpression": "SET #version = :new, tenant = :tenant",
                    "ConditionExpression": guard,
                    "ExpressionAttributeNames": {"#version": "version"},
                    "ExpressionAttributeValues": values,
                }
            }
        )
        return items

    def append(
        self, stream: StreamId, events: Sequence[StoredEvent], expected_version: int
    ) -> list[RecordedEvent]:
        """See `stepsaga.tasks.EventStore.append`; one `TransactWriteItems` call per append."""
        check_append(stream, events, expected_version)
        if not events:
            return []
        cancelled = False
        with transient_as_retryable("TransactWriteItems", stream.key):
            try:
                self._client.transact_write_items(
                    TransactItems=self.append_request(stream, events, expected_version)
                )
            except ClientError as error:
                if error_code(error) != "TransactionCanceledException":
                    raise
                cancelled = True
        if cancelled:
            return self._resolve_conflict(stream, events, expected_version)
        return [
            RecordedEvent(stream=stream, version=expected_version + offset, event=event)
            for offset, event in enumerate(events, start=1)
        ]

    def _resolve_conflict(
        self, stream: StreamId, events: Sequence[StoredEvent], expected_version: int
    ) -> list[RecordedEvent]:
        # The transaction was cancelled, so nothing of ours was written by *this* call; but an
        # earlier attempt of the same task may have written these very events.
        stored = self.read(stream, from_version=expected_version + 1, limit=len(events))
        if [r.event.event_id for r in stored] == [e.event_id for e in events]:
            return stored
        raise ConcurrencyError(stream.key, expected_version, self.version(stream))

    # -- reading --------------------------------------------------------------------------

    def read(
        self, stream: StreamId, *, from_version: int = 1, limit: int | None = None
    ) -> list[RecordedEvent]:
        """See `stepsaga.tasks.EventStore.read`; consistent reads, following `LastEvaluatedKey`."""
        start = max(from_version, 1)
        found: list[RecordedEvent] = []
        request: QueryInputTypeDef = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND sk >= :from",
            "ExpressionAttributeValues": {":pk": _s(stream.key), ":from": _n(start)},
            "ConsistentRead": True,
        }
        while limit is None or len(found) < limit:
            wanted = self._page_size if limit is None else min(self._page_size, limit - len(found))
            request["Limit"] = wanted
            with transient_as_retryable("Query", stream.key):
                page = self._client.query(**request)
            found += [self._recorded(stream, item) for item in page.get("Items", [])]
            last = page.get("LastEvaluatedKey")
            if not last:
                break
            request["ExclusiveStartKey"] = last
        return found

    def version(self, stream: StreamId) -> int:
        """See `stepsaga.tasks.EventStore.version`; a consistent read of the stream head."""
        with transient_as_retryable("GetItem", stream.key):
            head = self._client.get_item(
                TableName=self._table,
                Key={"pk": _s(stream.key), "sk": _n(HEAD_SORT_KEY)},
                ConsistentRead=True,
                ProjectionExpression="#version",
                ExpressionAttributeNames={"#version": "version"},
            ).get("Item")
        return int(head["version"]["N"]) if head else 0

    def streams(self, tenant: str) -> list[StreamId]:
        """Every stream of one tenant, sorted by key (a Scan: for demos and operators).

        Raises:
            InvalidIdentifierError: `tenant` is not a valid tenant code.
        """
        prefix = f"{TenantId(tenant)}#"
        request: ScanInputTypeDef = {
            "TableName": self._table,
            "FilterExpression": "begins_with(pk, :prefix) AND sk = :head AND attribute_exists(#v)",
            "ExpressionAttributeNames": {"#v": "version"},
            "ExpressionAttributeValues": {":prefix": _s(prefix), ":head": _n(HEAD_SORT_KEY)},
            "ProjectionExpression": "pk",
        }
        keys: list[str] = []
        while True:
            with transient_as_retryable("Scan", prefix):
                page = self._client.scan(**request)
            keys += [item["pk"]["S"] for item in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return [StreamId.from_key(key) for key in sorted(keys)]

    @staticmethod
    def _recorded(stream: StreamId, item: dict[str, Any]) -> RecordedEvent:
        if item["pk"]["S"] != stream.key:
            # A defence in depth: the key condition makes this unreachable.
            raise RuntimeError(f"item of {item['pk']['S']} returned for {stream.key}")
        return RecordedEvent(
            stream=stream,
            version=int(item["sk"]["N"]),
            event=StoredEvent(
                event_id=item["event_id"]["S"],
                type=item["event_type"]["S"],
                schema_version=int(item["schema_version"]["N"]),
                payload=json.loads(item["payload"]["S"]),
                occurred_at=datetime.fromisoformat(item["occurred_at"]["S"]),
                tenant=item["tenant"]["S"],
                correlation_id=item["correlation_id"]["S"],
                causation_id=item["causation_id"]["S"],
            ),
        )
