"""Checks every event store runs before writing, so that a refused append writes nothing."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import NoReturn

from stepsaga.domain import EventTooLargeError, StoredEvent, StreamId, TenantMismatchError

__all__ = (
    "MAX_EVENTS_PER_APPEND",
    "MAX_ITEM_BYTES",
    "check_append",
    "encode_payload",
    "event_item_size",
    "raise_partially_stored",
)

# The event store's limits are DynamoDB's (Step Functions' own are in `stepsaga.workflows.facts`).

MAX_ITEM_BYTES = 400_000
"""DynamoDB's 400 KB item limit, read as 400,000 bytes to stay clear of the boundary (AWS
measures it at 409,600, moto rejects items over 405,000); an event is one item.
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html"""

# https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html
_MAX_TRANSACT_ACTIONS = 100

MAX_EVENTS_PER_APPEND = _MAX_TRANSACT_ACTIONS - 1
"""One TransactWriteItems per append: one of its actions is the stream head."""

# DynamoDB sizes a Number by its significant digits; 21 bytes is the documented ceiling.
_NUMBER_BYTES = 21


def encode_payload(event: StoredEvent) -> str:
    """The payload as stored: compact JSON, keys in insertion order."""
    return json.dumps(event.payload, separators=(",", ":"), ensure_ascii=False)


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


def check_append(stream: StreamId, events: Sequence[StoredEvent], expected_version: int) -> None:
    """Refuse an append that no store may write, before anything is written.

    Raises:
        ValueError: Negative `expected_version`, too many events, or an event id repeated in
            the batch (the message names `events[i].event_id`).
        TenantMismatchError: An event's tenant is not the stream's (`events[i].tenant`).
        EventTooLargeError: An event's item is over `MAX_ITEM_BYTES` (`events[i]`).
    """
    if expected_version < 0:
        raise ValueError(f"expected_version must be >= 0, got {expected_version}")
    if len(events) > MAX_EVENTS_PER_APPEND:
        raise ValueError(
            f"events: {len(events)} events in one append, at most {MAX_EVENTS_PER_APPEND}"
        )
    seen: set[str] = set()
    for index, event in enumerate(events):
        if event.tenant != stream.tenant:
            raise TenantMismatchError(stream.tenant, event.tenant, f"events[{index}].tenant")
        if event.event_id in seen:
            raise ValueError(f"events[{index}].event_id {event.event_id!r} repeats in this append")
        seen.add(event.event_id)
        size = event_item_size(stream, event)
        if size > MAX_ITEM_BYTES:
            raise EventTooLargeError(f"events[{index}] ({event.type})", size, MAX_ITEM_BYTES)
