"""Checks every event store runs before writing, so that a refused append writes nothing."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import NoReturn

from stepsaga.domain import (
    BatchTooLargeError,
    EventTooLargeError,
    PayloadTooLargeError,
    StoredEvent,
    StreamId,
    TenantMismatchError,
)

__all__ = (
    "MAX_EVENTS_PER_APPEND",
    "MAX_ITEM_BYTES",
    "MAX_TRANSACTION_BYTES",
    "append_items",
    "check_append",
    "check_snapshot",
    "encode_json",
    "encode_payload",
    "event_item_size",
    "guard_item_size",
    "raise_partially_stored",
    "snapshot_item_size",
)

# The event store's limits are DynamoDB's (Step Functions' own are in `stepsaga.workflows.facts`).

MAX_ITEM_BYTES = 400_000
"""DynamoDB's 400 KB item limit, read as 400,000 bytes to stay clear of the boundary (AWS
measures it at 409,600, moto rejects items over 405,000); an event is one item.
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html"""

# https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html
_MAX_TRANSACT_ACTIONS = 100

MAX_TRANSACTION_BYTES = 4_000_000
"""The 4 MB that the items of one TransactWriteItems may add up to, read as 4,000,000 bytes
like `MAX_ITEM_BYTES`. An append is one transaction.
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html"""

# Items of an append's transaction besides its events: the stream head and the command fence.
_FIXED_ITEMS = 2

MAX_EVENTS_PER_APPEND = (_MAX_TRANSACT_ACTIONS - _FIXED_ITEMS) // 2
"""One TransactWriteItems of at most 100 items per append: two per event (the event and its id
guard), the stream head and the command fence: 49 events."""

# DynamoDB sizes a Number by its significant digits; 21 bytes is the documented ceiling.
_NUMBER_BYTES = 21
# The aggregate type of the id guards' keys (`{tenant}#_event#{type}#{id}#{event_id}`).
_GUARD_TYPE = "_event"
# ... and of the snapshots' keys.
_SNAPSHOT_TYPE = "_snapshot"


def encode_payload(event: StoredEvent) -> str:
    """The payload as stored: compact JSON, keys in insertion order."""
    return encode_json(event.payload)


def encode_json(value: object) -> str:
    """JSON as the stores keep it: compact, keys in insertion order, non-ASCII as is."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _utf8(text: str) -> int:
    return len(text.encode("utf-8"))


def event_item_size(stream: StreamId, event: StoredEvent) -> int:
    """The size in bytes of the DynamoDB item that stores `event` (DESIGN.md's layout).

    Attribute names count, strings count their UTF-8 bytes, numbers their 21-byte ceiling.
    """
    strings = {
        "pk": stream.key,
        "event_id": event.event_id,
        "event_type": event.type,
        "payload": encode_payload(event),
        "occurred_at": event.occurred_at.isoformat(),
        "tenant": str(event.tenant),
        "correlation_id": event.correlation_id,
        "causation_id": event.causation_id,
    }
    numbers = ("sk", "schema_version")
    return sum(_utf8(name) + _utf8(value) for name, value in strings.items()) + sum(
        _utf8(name) + _NUMBER_BYTES for name in numbers
    )


def raise_partially_stored(
    stream: StreamId, events: Sequence[StoredEvent], index: int, version: int
) -> NoReturn:
    """Refuse a batch of which some events, but not all, are already in the stream.

    Event ids are unique within a stream: writing the batch would store `events[index]` twice,
    and writing only the new events would split a batch the caller meant to be atomic.

    Raises:
        ValueError: Always, naming `events[index].event_id` and where it is stored.
    """
    raise ValueError(
        f"events[{index}].event_id {events[index].event_id!r} is already stored at version "
        f"{version} of {stream.key}, but other events of this append are not: a batch is "
        "appended again whole, or not at all"
    )


def guard_item_size(stream: StreamId, event: StoredEvent) -> int:
    """The size in bytes of the item that makes `event`'s id unique in `stream`.

    Its key is `{tenant}#_event#{aggregate_type}#{aggregate_id}#{event_id}` (and `sk`); it
    holds `event_version` and `tenant`.
    """
    key = "#".join(
        (stream.tenant, _GUARD_TYPE, stream.aggregate_type, stream.aggregate_id, event.event_id)
    )
    strings = {"pk": key, "tenant": str(stream.tenant)}
    return sum(_utf8(name) + _utf8(value) for name, value in strings.items()) + sum(
        _utf8(name) + _NUMBER_BYTES for name in ("sk", "event_version")
    )


def snapshot_item_size(stream: StreamId, name: str, state_json: str) -> int:
    """The size in bytes of the item that keeps a stream's snapshot called `name`.

    Its key is `{tenant}#_snapshot#{aggregate_type}#{aggregate_id}#{name}` (and `sk`); it holds
    `snapshot_version`, `state` (compact JSON) and `tenant`.
    """
    key = "#".join(
        (stream.tenant, _SNAPSHOT_TYPE, stream.aggregate_type, stream.aggregate_id, name)
    )
    strings = {"pk": key, "state": state_json, "tenant": str(stream.tenant)}
    return sum(_utf8(name) + _utf8(value) for name, value in strings.items()) + sum(
        _utf8(name) + _NUMBER_BYTES for name in ("sk", "snapshot_version")
    )


def check_snapshot(stream: StreamId, name: str, state_json: str) -> None:
    """Refuse a snapshot that does not fit one item, before writing it.

    Raises:
        PayloadTooLargeError: Naming `snapshot <name>`.
    """
    size = snapshot_item_size(stream, name, state_json)
    if size > MAX_ITEM_BYTES:
        raise PayloadTooLargeError(f"snapshot {name}", size, MAX_ITEM_BYTES)


def _head_item_size(stream: StreamId) -> int:
    strings = {"pk": stream.key, "tenant": str(stream.tenant)}
    return sum(_utf8(name) + _utf8(value) for name, value in strings.items()) + sum(
        _utf8(name) + _NUMBER_BYTES for name in ("sk", "version")
    )


# The command fence's item (`{tenant}#_command#{key}`, its steps and committer): bounded by
# its key and three short attributes; counted at this ceiling.
_FENCE_ITEM_BYTES = 1_024


def append_items(count: int, *, fenced: bool) -> int:
    """How many items the transaction of an append of `count` events holds."""
    return 2 * count + 1 + (1 if fenced else 0)


def check_append(
    stream: StreamId,
    events: Sequence[StoredEvent],
    expected_version: int,
    *,
    fenced: bool = False,
) -> None:
    """Refuse an append that no store may write, before anything is written.

    The limits are those of the DynamoDB store's one transaction per append, so that every
    store refuses the same appends: at most 100 items (two per event, the stream head and,
    when `fenced`, the command fence) and 4 MB in all, and 400 KB per event.

    Raises:
        ValueError: Negative `expected_version`; more events than one transaction holds; an
            event id repeated in the batch (`events[i].event_id`); a payload that is not valid
            Unicode (`events[i].payload`, a lone surrogate).
        TenantMismatchError: An event's tenant is not the stream's (`events[i].tenant`).
        EventTooLargeError: An event's item is over `MAX_ITEM_BYTES` (`events[i]`).
        BatchTooLargeError: The transaction's items add up to over `MAX_TRANSACTION_BYTES`.
    """
    if expected_version < 0:
        raise ValueError(f"expected_version must be >= 0, got {expected_version}")
    items = append_items(len(events), fenced=fenced)
    if items > _MAX_TRANSACT_ACTIONS:
        raise ValueError(
            f"events: {len(events)} events in one append would be {items} items of one "
            f"transaction, over its {_MAX_TRANSACT_ACTIONS} (each event and its id guard, the "
            f"stream head, the command fence): at most {MAX_EVENTS_PER_APPEND} events"
        )
    seen: set[str] = set()
    total = _head_item_size(stream) + (_FENCE_ITEM_BYTES if fenced else 0)
    for index, event in enumerate(events):
        if event.tenant != stream.tenant:
            raise TenantMismatchError(stream.tenant, event.tenant, f"events[{index}].tenant")
        if event.event_id in seen:
            raise ValueError(f"events[{index}].event_id {event.event_id!r} repeats in this append")
        seen.add(event.event_id)
        try:
            size = event_item_size(stream, event)
        except UnicodeEncodeError as invalid:
            raise ValueError(
                f"events[{index}].payload holds {invalid.object[invalid.start : invalid.end]!r}, "
                "a lone surrogate, which is not valid Unicode text"
            ) from None
        if size > MAX_ITEM_BYTES:
            raise EventTooLargeError(f"events[{index}] ({event.type})", size, MAX_ITEM_BYTES)
        total += size + guard_item_size(stream, event)
    if total > MAX_TRANSACTION_BYTES:
        raise BatchTooLargeError("events", total, MAX_TRANSACTION_BYTES)
