"""Reading a stream's state in time independent of its length: projections and snapshots."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import JsonValue

from stepsaga.domain import RecordedEvent, StreamId
from stepsaga.tasks._ports import EventStore, Snapshot

__all__ = ("Folded", "Projection", "fold")

S = TypeVar("S")

#: How many events a fold may read past the stream's snapshot before it saves a newer one.
DEFAULT_SNAPSHOT_EVERY = 25


def _as_json(state: Any) -> JsonValue:
    result: JsonValue = state
    return result


def _as_state(value: JsonValue) -> Any:
    return value


@dataclass(frozen=True)
class Projection(Generic[S]):
    """A fold of a stream's events into a state, which the event store snapshots.

    Example:
        >>> LEVEL = Projection(name="stock-level/1", initial=0, apply=add_units, load=int)

    Attributes:
        name: The snapshot's name: what is folded, and how (`stock-level/1`). Change the
            part after `/` whenever `apply` changes, so that no old snapshot is read.
        initial: The state of an empty stream.
        apply: The state after one more event (it must not change the state it is given).
        dump: The state as JSON, to snapshot it (default: the state is JSON already).
        load: The state from its JSON (default: the JSON is the state).
        snapshot_every: A fold that read this many events past the stream's snapshot saves
            a newer one; a fold therefore reads at most about this many events.
    """

    name: str
    initial: S
    apply: Callable[[S, RecordedEvent], S]
    dump: Callable[[S], JsonValue] = _as_json
    load: Callable[[JsonValue], S] = _as_state
    snapshot_every: int = DEFAULT_SNAPSHOT_EVERY

    def __post_init__(self) -> None:
        if self.snapshot_every < 1:
            raise ValueError(f"snapshot_every must be >= 1, got {self.snapshot_every}")


@dataclass(frozen=True)
class Folded(Generic[S]):
    """A stream's state and the version it includes.

    Attributes:
        state: The folded state.
        version: The stream's version the state includes (0: the empty stream).
    """

    state: S
    version: int


def fold(store: EventStore, stream: StreamId, projection: Projection[S]) -> Folded[S]:
    """The stream's state: its newest snapshot, then the events after it.

    Reads one snapshot and at most about `projection.snapshot_every` events, however long the
    stream is: a fold that read that many saves a newer snapshot (keeping the newest, so that
    concurrent folds agree).

    Raises:
        PayloadTooLargeError: The state grew too large to snapshot.
    """
    snapshot = store.load_snapshot(stream, projection.name)
    if snapshot is None:
        state, version = copy.deepcopy(projection.initial), 0
    else:
        state, version = projection.load(copy.deepcopy(snapshot.state)), snapshot.version
    tail = store.read(stream, from_version=version + 1)
    for recorded in tail:
        state = projection.apply(state, recorded)
    if tail:
        version = tail[-1].version
    if len(tail) >= projection.snapshot_every:
        saved = Snapshot(name=projection.name, version=version, state=projection.dump(state))
        store.save_snapshot(stream, saved)
    return Folded(state, version)
