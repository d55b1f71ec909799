"""The DynamoDB event store: one item per event, one transaction per append.

Key layout (DESIGN.md): `pk = "{tenant}#{aggregate_type}#{aggregate_id}"` (String), `sk` =
version (Number, from 1). The stream head is the item at `sk = 0`; its `version` attribute
is the stream's version and the transaction's guard. Event items carry `event_id`,
`event_type`, `schema_version`, `payload` (compact JSON text, so that numbers round-trip
exactly), `occurred_at` (ISO 8601), `tenant`, `correlation_id` and `causation_id`.

An event id is unique within its stream: each event has a guard item, written with it in the
same transaction on condition that it is new, at `pk =
"{tenant}#_event#{aggregate_type}#{aggregate_id}#{event_id}"`, `sk = 0`, holding the event's
version (`event_version`). Aggregate types start with a letter, so the `_event` part keeps
guards out of every stream's key space, while the tenant prefix keeps them under the tenant's
IAM `dynamodb:LeadingKeys` condition. A transaction therefore holds two items per event plus
the stream head: at most `MAX_EVENTS_PER_APPEND` events.

A command's fence and commit live in one item, `pk = "{tenant}#_command#{command key}"`,
`sk = 0`: `fenced_by` (a string set of the states that fenced it) and `committed_by`. An
append behind a fence adds a `ConditionCheck` that `fenced_by` is absent to its transaction
(the pivot's, an `Update` setting `committed_by`); `fence_command` adds to `fenced_by` on
condition that `committed_by` is absent. So one item decides, atomically, whether a command
committed or was compensated.

A stream's snapshot called `name` is the item `pk =
"{tenant}#_snapshot#{aggregate_type}#{aggregate_id}#{name}"`, `sk = 0`: `snapshot_version` and
`state` (compact JSON); a conditional put keeps the newest.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from stepsaga.domain import (
    ConcurrencyError,
    FencedError,
    RecordedEvent,
    RetryableError,
    StoredEvent,
    StreamId,
    TenantId,
    TenantMismatchError,
)
from stepsaga.infra.aws._transient import error_code, transient_as_retryable
from stepsaga.tasks import (
    Fence,
    Snapshot,
    check_append,
    check_snapshot,
    encode_json,
    encode_payload,
    raise_partially_stored,
)

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

_GUARD_TYPE = "_event"
_COMMAND_TYPE = "_command"
_SNAPSHOT_TYPE = "_snapshot"
_CANCELLED = "TransactionCanceledException"
_CONDITION_FAILED = "ConditionalCheckFailed"
_TRANSACTION_CONFLICT = "TransactionConflict"
# BatchGetItem takes at most 100 keys per call.
_BATCH_GET_KEYS = 100


def _s(value: str) -> AttributeValueTypeDef:
    return {"S": value}


def _n(value: int) -> AttributeValueTypeDef:
    return {"N": str(value)}


def _steps(item: Any) -> tuple[str, ...]:
    """The states a command item records as having fenced it."""
    return tuple(sorted(item.get("fenced_by", {}).get("SS", [])))


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

    @property
    def client(self) -> DynamoDBClient:
        """The DynamoDB client it calls (to register botocore event hooks, say)."""
        return self._client

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

    @staticmethod
    def guard_key(stream: StreamId, event_id: str) -> dict[str, AttributeValueTypeDef]:
        """The key of the item that holds `event_id`'s place in `stream`."""
        parts = (stream.tenant, _GUARD_TYPE, stream.aggregate_type, stream.aggregate_id, event_id)
        return {"pk": _s("#".join(parts)), "sk": _n(HEAD_SORT_KEY)}

    def guard_item(
        self, stream: StreamId, version: int, event: StoredEvent
    ) -> dict[str, AttributeValueTypeDef]:
        """The guard item that makes `event`'s id unique in `stream`, at `version`."""
        return {
            **self.guard_key(stream, event.event_id),
            "event_version": _n(version),
            "tenant": _s(str(stream.tenant)),
        }

    @staticmethod
    def command_key(fence: Fence) -> dict[str, AttributeValueTypeDef]:
        """The key of the item that holds a command's fence and commit."""
        return {
            "pk": _s(f"{fence.tenant}#{_COMMAND_TYPE}#{fence.command}"),
            "sk": _n(HEAD_SORT_KEY),
        }

    def _fence_item(self, fence: Fence) -> TransactWriteItemTypeDef:
        """The transaction item that checks the command is not fenced (and commits it)."""
        if not fence.commits:
            return {
                "ConditionCheck": {
                    "TableName": self._table,
                    "Key": self.command_key(fence),
                    "ConditionExpression": "attribute_not_exists(fenced_by)",
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            }
        return {
            "Update": {
                "TableName": self._table,
                "Key": self.command_key(fence),
                "UpdateExpression": "SET committed_by = if_not_exists(committed_by, :step), "
                "tenant = :tenant",
                "ConditionExpression": "attribute_not_exists(fenced_by)",
                "ExpressionAttributeValues": {
                    ":step": _s(fence.step),
                    ":tenant": _s(str(fence.tenant)),
                },
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }

    def append_request(
        self,
        stream: StreamId,
        events: Sequence[StoredEvent],
        expected_version: int,
        fence: Fence | None = None,
    ) -> list[TransactWriteItemTypeDef]:
        """The `TransactItems` of one append: events, id guards, stream head, command fence.

        The command's fence is there when the append has one. Every condition returns the item
        it found when it fails, so that a cancelled append learns the stored versions, the
        head's version and the fence without reading again.
        """
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
        items += [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": self.guard_item(stream, expected_version + offset, event),
                    "ConditionExpression": "attribute_not_exists(pk)",
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
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
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            }
        )
        if fence is not None:
            items.append(self._fence_item(fence))
        return items

    def append(
        self,
        stream: StreamId,
        events: Sequence[StoredEvent],
        expected_version: int,
        *,
        fence: Fence | None = None,
    ) -> list[RecordedEvent]:
        """See `stepsaga.tasks.EventStore.append`; one `TransactWriteItems` call per append."""
        check_append(stream, events, expected_version, fenced=fence is not None)
        if fence is not None and fence.tenant != stream.tenant:
            raise TenantMismatchError(stream.tenant, fence.tenant, "fence.tenant")
        if not events:
            return []
        reasons: list[dict[str, Any]] | None = None
        with transient_as_retryable("TransactWriteItems", stream.key):
            try:
                self._client.transact_write_items(
                    TransactItems=self.append_request(stream, events, expected_version, fence)
                )
            except ClientError as error:
                if error_code(error) != _CANCELLED:
                    raise
                found: Any = error.response.get("CancellationReasons", [])
                reasons = [dict(reason) for reason in found]
        if reasons is not None:
            return self._resolve_cancelled(stream, events, expected_version, fence, reasons)
        return [
            RecordedEvent(stream=stream, version=expected_version + offset, event=event)
            for offset, event in enumerate(events, start=1)
        ]

    def _resolve_cancelled(
        self,
        stream: StreamId,
        events: Sequence[StoredEvent],
        expected_version: int,
        fence: Fence | None,
        reasons: list[dict[str, Any]],
    ) -> list[RecordedEvent]:
        """Why an append's transaction was cancelled, and what that means for the caller.

        Nothing of this call was written. Stored ids mean a retry (success, if all are
        stored), a fenced command a refusal, a moved head a conflict, a conflicting
        transaction a retryable error.
        """
        count = len(events)
        codes = [str(reason.get("Code", "None")) for reason in reasons]
        if _TRANSACTION_CONFLICT in codes:
            raise RetryableError("TransactWriteItems TransactionConflict", retry_hint=stream.key)
        fenced_by: tuple[str, ...] | None = None
        if fence is not None and len(reasons) == 2 * count + 2:
            if codes[-1] == _CONDITION_FAILED:
                fenced_by = _steps(reasons[-1].get("Item", {}))
            reasons = reasons[:-1]
            codes = codes[:-1]
        elif fence is not None:
            fenced_by = self._fenced_by(fence)
        if len(reasons) == 2 * count + 1:
            versions = {
                index: int(reasons[count + index]["Item"]["event_version"]["N"])
                for index in range(count)
                if codes[count + index] == _CONDITION_FAILED and "Item" in reasons[count + index]
            }
            head = reasons[2 * count]
            head_moved = codes[2 * count] == _CONDITION_FAILED
            actual = int(head["Item"]["version"]["N"]) if "Item" in head else None
        else:  # no reasons to read (an older endpoint): ask the table instead
            versions = self._stored_versions(stream, events)
            actual = self.version(stream)
            head_moved = actual != expected_version
        if len(versions) == count:
            return self._recorded_at(stream, [versions[index] for index in range(count)])
        if fence is not None and fenced_by:
            raise FencedError(fence.tenant, fence.command, fence.step, fenced_by)
        if head_moved:
            found = self.version(stream) if actual is None else actual
            raise ConcurrencyError(stream.key, expected_version, found)
        for index, version in sorted(versions.items()):
            raise_partially_stored(stream, events, index, version)
        # Every condition held, yet the transaction was cancelled: nothing to decide on.
        raise RetryableError(
            f"TransactWriteItems cancelled ({', '.join(codes) or 'no reasons'})",
            retry_hint=stream.key,
        )

    def _stored_versions(self, stream: StreamId, events: Sequence[StoredEvent]) -> dict[int, int]:
        """For each event whose id is already in `stream`, its index to its stored version."""
        keys = [self.guard_key(stream, event.event_id) for event in events]
        found = {item["pk"]["S"]: int(item["event_version"]["N"]) for item in self._get(keys)}
        return {
            index: found[key["pk"]["S"]]
            for index, key in enumerate(keys)
            if key["pk"]["S"] in found
        }

    def _recorded_at(self, stream: StreamId, versions: list[int]) -> list[RecordedEvent]:
        """The events of `stream` at `versions`, in that order (consistent reads)."""
        keys = [{"pk": _s(stream.key), "sk": _n(version)} for version in dict.fromkeys(versions)]
        by_version = {
            recorded.version: recorded
            for recorded in (self._recorded(stream, item) for item in self._get(keys))
        }
        missing = [version for version in versions if version not in by_version]
        if missing:
            # A guard names a version whose event is not there: the table was changed by hand.
            raise RuntimeError(f"{stream.key}: guards name versions {missing} that hold no event")
        return [by_version[version] for version in versions]

    def _get(self, keys: list[dict[str, AttributeValueTypeDef]]) -> list[dict[str, Any]]:
        """BatchGetItem of `keys` (consistent), following UnprocessedKeys."""
        items: list[dict[str, Any]] = []
        for start in range(0, len(keys), _BATCH_GET_KEYS):
            pending: Any = {
                self._table: {"Keys": keys[start : start + _BATCH_GET_KEYS], "ConsistentRead": True}
            }
            while pending:
                with transient_as_retryable("BatchGetItem", self._table):
                    page = self._client.batch_get_item(RequestItems=pending)
                items += page.get("Responses", {}).get(self._table, [])
                pending = page.get("UnprocessedKeys") or None
        return items

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

    def find(self, stream: StreamId, event_ids: Sequence[str]) -> list[RecordedEvent]:
        """See `stepsaga.tasks.EventStore.find`: the id guards, then the events they place.

        Two consistent `BatchGetItem` calls (one when none of the ids is stored).
        """
        if not event_ids:
            return []
        keys = [self.guard_key(stream, event_id) for event_id in event_ids]
        versions = {item["pk"]["S"]: int(item["event_version"]["N"]) for item in self._get(keys)}
        placed = [versions[key["pk"]["S"]] for key in keys if key["pk"]["S"] in versions]
        return self._recorded_at(stream, placed) if placed else []

    # -- snapshots ------------------------------------------------------------------------

    @staticmethod
    def snapshot_key(stream: StreamId, name: str) -> dict[str, AttributeValueTypeDef]:
        """The key of the item that keeps `stream`'s snapshot called `name`."""
        parts = (stream.tenant, _SNAPSHOT_TYPE, stream.aggregate_type, stream.aggregate_id, name)
        return {"pk": _s("#".join(parts)), "sk": _n(HEAD_SORT_KEY)}

    def load_snapshot(self, stream: StreamId, name: str) -> Snapshot | None:
        """See `stepsaga.tasks.EventStore.load_snapshot`: one consistent `GetItem`."""
        with transient_as_retryable("GetItem", stream.key):
            item = self._client.get_item(
                TableName=self._table, Key=self.snapshot_key(stream, name), ConsistentRead=True
            ).get("Item")
        if item is None:
            return None
        return Snapshot(
            name=name,
            version=int(item["snapshot_version"]["N"]),
            state=json.loads(item["state"]["S"]),
        )

    def save_snapshot(self, stream: StreamId, snapshot: Snapshot) -> bool:
        """See `stepsaga.tasks.EventStore.save_snapshot`: one conditional `PutItem`."""
        state = encode_json(snapshot.state)
        check_snapshot(stream, snapshot.name, state)
        try:
            with transient_as_retryable("PutItem", stream.key):
                self._client.put_item(
                    TableName=self._table,
                    Item={
                        **self.snapshot_key(stream, snapshot.name),
                        "snapshot_version": _n(snapshot.version),
                        "state": _s(state),
                        "tenant": _s(str(stream.tenant)),
                    },
                    ConditionExpression="attribute_not_exists(pk) OR snapshot_version < :v",
                    ExpressionAttributeValues={":v": _n(snapshot.version)},
                )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            return False
        return True

    # -- command fences -------------------------------------------------------------------

    def fence_command(self, fence: Fence) -> bool:
        """See `stepsaga.tasks.EventStore.fence_command`: one conditional `UpdateItem`."""
        try:
            with transient_as_retryable("UpdateItem", fence.command):
                self._client.update_item(
                    TableName=self._table,
                    Key=self.command_key(fence),
                    UpdateExpression="ADD fenced_by :step SET tenant = :tenant",
                    ConditionExpression="attribute_not_exists(committed_by)",
                    ExpressionAttributeValues={
                        ":step": {"SS": [fence.step]},
                        ":tenant": _s(str(fence.tenant)),
                    },
                )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def commit_command(self, fence: Fence) -> None:
        """See `stepsaga.tasks.EventStore.commit_command`: one conditional `UpdateItem`."""
        try:
            with transient_as_retryable("UpdateItem", fence.command):
                self._client.update_item(
                    TableName=self._table,
                    Key=self.command_key(fence),
                    UpdateExpression="SET committed_by = if_not_exists(committed_by, :step), "
                    "tenant = :tenant",
                    ConditionExpression="attribute_not_exists(fenced_by)",
                    ExpressionAttributeValues={
                        ":step": _s(fence.step),
                        ":tenant": _s(str(fence.tenant)),
                    },
                )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            raise FencedError(
                fence.tenant, fence.command, fence.step, self._fenced_by(fence)
            ) from None

    def fenced_by(self, fence: Fence) -> tuple[str, ...]:
        """See `stepsaga.tasks.EventStore.fenced_by`: one consistent `GetItem`."""
        return self._fenced_by(fence)

    def _fenced_by(self, fence: Fence) -> tuple[str, ...]:
        with transient_as_retryable("GetItem", fence.command):
            item = self._client.get_item(
                TableName=self._table, Key=self.command_key(fence), ConsistentRead=True
            ).get("Item", {})
        return _steps(item)

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
