"""The promises every event store and notifier keeps, as abstract pytest test classes.

A store of your own is held to the same promises as stepsaga's: subclass the contract, provide
the factory, and pytest runs every promise against it::

    from stepsaga.testing.contracts import EventStoreContract

    class TestMyStore(EventStoreContract):
        def make_store(self) -> EventStore:
            return MyStore(...)

The class name must start with `Test` for pytest to collect it. The in-memory adapters and the
DynamoDB store and SES notifier (on moto) are tested this way in stepsaga's own suite.

- `EventStoreContract`: versions, optimistic concurrency, event ids unique per stream
  (idempotent re-append) and lookups by id, all-or-nothing batches within one transaction's
  limits, command fences (a fenced command's appends are refused; the commit and the fence
  exclude each other), snapshots (the newest kept; a state folded from them is the state of
  the whole stream), pagination, tenant isolation, item sizes;
- `NotifierContract`: one mail per idempotency key, a key reused for another message refused,
  keys scoped per tenant, and a send that failed before sending releases its claim.

This module imports pytest and hypothesis: it is for test suites only, and nothing in the
runtime imports it.
"""

from __future__ import annotations

import abc
import itertools
from datetime import UTC, datetime
from typing import ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import JsonValue

from stepsaga.domain import (
    BatchTooLargeError,
    ConcurrencyError,
    EventTooLargeError,
    FencedError,
    PayloadTooLargeError,
    RecordedEvent,
    RetryableError,
    StoredEvent,
    StreamId,
    TenantId,
    TenantMismatchError,
)
from stepsaga.tasks import (
    MAX_EVENTS_PER_APPEND,
    MAX_ITEM_BYTES,
    MAX_TRANSACTION_BYTES,
    EmailMessage,
    EventStore,
    Fence,
    IdempotencyConflictError,
    Notifier,
    Projection,
    Snapshot,
    fold,
)

__all__ = ("EventStoreContract", "NotifierContract")

_ORDER = StreamId.of("acme", "Order", "o-1")
_STREAMS = (
    _ORDER,
    StreamId.of("acme", "Order", "o-2"),
    StreamId.of("globex", "Order", "o-1"),
)
# How an operation's expected version relates to the stream's actual version.
_OFFSETS = {"current": 0, "stale": -1, "ahead": 1}
_WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _event(event_id: str, tenant: str = "acme", **payload: object) -> StoredEvent:
    return StoredEvent(
        event_id=event_id,
        type="Happened",
        payload={"n": event_id, **payload},
        occurred_at=_WHEN,
        tenant=tenant,
        correlation_id="arn:aws:states:us-east-1:123456789012:execution:sm:run-1",
        causation_id="cmd-1",
    )


_COMMAND = "5f0e2a9b7c3d4e1f8a6b2c9d0e7f1a3b5c8d2e4f6a9b0c1d3e5f7a8b9c0d1e2f"


def _fence(
    step: str = "Reserve",
    *,
    tenant: str = "acme",
    command: str = _COMMAND,
    commits: bool = False,
) -> Fence:
    return Fence(tenant=tenant, command=command, step=step, commits=commits)


def _amount(recorded: RecordedEvent) -> int:
    amount = recorded.event.payload.get("amount", 0)
    return amount if isinstance(amount, int) else 0


def _as_int(value: JsonValue) -> int:
    assert isinstance(value, int), value
    return value


def _add(total: int, recorded: RecordedEvent) -> int:
    return total + _amount(recorded)


def _ids(store: EventStore, stream: StreamId = _ORDER) -> list[str]:
    return [r.event.event_id for r in store.read(stream)]


class EventStoreContract(abc.ABC):
    """Promises every `EventStore` keeps (see `stepsaga.tasks.EventStore`).

    Subclass it with a `make_store()` that returns a fresh, empty store.

    Attributes:
        ORDER: The stream most promises write (`acme#Order#o-1`).
    """

    ORDER: ClassVar[StreamId] = _ORDER

    @staticmethod
    def event(event_id: str, tenant: str = "acme", **payload: object) -> StoredEvent:
        """A stored event `event_id` of `tenant`, its payload `{"n": event_id, **payload}`."""
        return _event(event_id, tenant, **payload)

    @abc.abstractmethod
    def make_store(self) -> EventStore:
        """A fresh, empty store."""

    @pytest.fixture
    def store(self) -> EventStore:
        """A fresh store for each promise."""
        return self.make_store()

    # -- append and read ------------------------------------------------------------------

    def test_versions_start_at_one_and_follow_the_append_order(self, store: EventStore) -> None:
        recorded = store.append(_ORDER, [_event("a"), _event("b")], expected_version=0)
        recorded += store.append(_ORDER, [_event("c")], expected_version=2)

        assert [(r.version, r.event.event_id) for r in recorded] == [(1, "a"), (2, "b"), (3, "c")]
        assert store.read(_ORDER) == recorded
        assert store.version(_ORDER) == 3

    def test_read_round_trips_every_field(self, store: EventStore) -> None:
        original = _event("a", nested={"list": [1, 2.5, None, True], "text": "ünïcode"})
        store.append(_ORDER, [original], expected_version=0)

        (recorded,) = store.read(_ORDER)

        assert recorded.event == original
        assert recorded.stream == _ORDER

    def test_a_missing_stream_reads_empty_at_version_zero(self, store: EventStore) -> None:
        assert store.read(_ORDER) == []
        assert store.version(_ORDER) == 0

    # -- optimistic concurrency -----------------------------------------------------------

    def test_stale_expected_version_raises_with_expected_and_actual(
        self, store: EventStore
    ) -> None:
        store.append(_ORDER, [_event("a"), _event("b")], expected_version=0)

        with pytest.raises(ConcurrencyError) as raised:
            store.append(_ORDER, [_event("c")], expected_version=1)

        assert (raised.value.expected, raised.value.actual) == (1, 2)
        assert raised.value.stream == _ORDER.key
        assert _ids(store) == ["a", "b"]

    def test_expecting_a_version_the_stream_has_not_reached_raises(self, store: EventStore) -> None:
        with pytest.raises(ConcurrencyError) as raised:
            store.append(_ORDER, [_event("a")], expected_version=3)

        assert (raised.value.expected, raised.value.actual) == (3, 0)
        assert store.read(_ORDER) == []

    def test_second_writer_at_the_same_version_loses(self, store: EventStore) -> None:
        # GIVEN two writers that both saw the stream at version 1
        store.append(_ORDER, [_event("a")], expected_version=0)
        store.append(_ORDER, [_event("first")], expected_version=1)

        # WHEN the slower one appends
        with pytest.raises(ConcurrencyError) as raised:
            store.append(_ORDER, [_event("second-1"), _event("second-2")], expected_version=1)

        # THEN none of its events is written
        assert (raised.value.expected, raised.value.actual) == (1, 2)
        assert _ids(store) == ["a", "first"]

    def test_a_batch_with_one_conflicting_event_writes_nothing(self, store: EventStore) -> None:
        # GIVEN a stream at version 2
        store.append(_ORDER, [_event("a"), _event("b")], expected_version=0)

        # WHEN a batch of three starts at version 2: its first slot is taken, the others free
        with pytest.raises(ConcurrencyError):
            store.append(_ORDER, [_event("x"), _event("y"), _event("z")], expected_version=1)

        # THEN none of the three is written
        assert _ids(store) == ["a", "b"]
        assert store.version(_ORDER) == 2

    # -- idempotent retries ---------------------------------------------------------------

    def test_a_retried_append_with_the_same_event_ids_succeeds_once(
        self, store: EventStore
    ) -> None:
        first = store.append(_ORDER, [_event("a"), _event("b")], expected_version=0)

        again = store.append(_ORDER, [_event("a"), _event("b")], expected_version=0)

        assert [(r.version, r.event.event_id) for r in again] == [(1, "a"), (2, "b")]
        assert again == first
        assert _ids(store) == ["a", "b"]

    def test_a_retry_after_later_appends_still_recognises_its_events(
        self, store: EventStore
    ) -> None:
        store.append(_ORDER, [_event("a")], expected_version=0)
        store.append(_ORDER, [_event("b")], expected_version=1)

        again = store.append(_ORDER, [_event("a")], expected_version=0)

        assert [(r.version, r.event.event_id) for r in again] == [(1, "a")]
        assert _ids(store) == ["a", "b"]

    def test_a_conflict_with_other_event_ids_is_not_a_retry(self, store: EventStore) -> None:
        store.append(_ORDER, [_event("a"), _event("b")], expected_version=0)

        with pytest.raises(ConcurrencyError) as raised:
            store.append(_ORDER, [_event("a"), _event("other")], expected_version=0)

        assert (raised.value.expected, raised.value.actual) == (0, 2)
        assert _ids(store) == ["a", "b"]

    def test_an_event_id_is_stored_once_per_stream_whatever_the_expected_version(
        self, store: EventStore
    ) -> None:
        # GIVEN a step appended `a` and crashed; another writer appended `b`
        store.append(_ORDER, [_event("a")], expected_version=0)
        store.append(_ORDER, [_event("b")], expected_version=1)

        # WHEN the retried step appends `a` again at the version it re-reads
        again = store.append(_ORDER, [_event("a")], expected_version=store.version(_ORDER))

        # THEN the stored event comes back and `a` is in the stream once
        assert [(r.version, r.event.event_id) for r in again] == [(1, "a")]
        assert _ids(store) == ["a", "b"]
        assert store.version(_ORDER) == 2

    @pytest.mark.parametrize("expected", [0, 1, 2, 3, 7])
    def test_a_re_appended_batch_returns_its_stored_versions_at_any_expected_version(
        self, store: EventStore, expected: int
    ) -> None:
        first = store.append(_ORDER, [_event("a"), _event("b")], expected_version=0)
        store.append(_ORDER, [_event("c")], expected_version=2)

        again = store.append(_ORDER, [_event("a"), _event("b")], expected_version=expected)

        assert again == first
        assert _ids(store) == ["a", "b", "c"]

    def test_a_batch_mixing_stored_and_new_ids_is_refused_at_the_head(
        self, store: EventStore
    ) -> None:
        store.append(_ORDER, [_event("a")], expected_version=0)

        with pytest.raises(ValueError, match=r"events\[0\]\.event_id 'a' is already stored"):
            store.append(_ORDER, [_event("a"), _event("new")], expected_version=1)

        assert _ids(store) == ["a"]

    def test_an_event_id_is_unique_within_its_stream_only(self, store: EventStore) -> None:
        other = StreamId.of("acme", "Order", "o-2")
        store.append(_ORDER, [_event("a")], expected_version=0)

        recorded = store.append(other, [_event("a")], expected_version=0)

        assert [(r.stream, r.version) for r in recorded] == [(other, 1)]
        assert _ids(store) == ["a"]

    # -- lookups by event id -------------------------------------------------------------

    def test_find_returns_the_stored_events_with_the_ids_asked_in_that_order(
        self, store: EventStore
    ) -> None:
        store.append(_ORDER, [_event("a"), _event("b")], expected_version=0)
        store.append(_ORDER, [_event("c")], expected_version=2)

        found = store.find(_ORDER, ["c", "missing", "a"])

        assert [(r.version, r.event.event_id) for r in found] == [(3, "c"), (1, "a")]
        assert found[1] == store.read(_ORDER)[0]
        assert store.find(_ORDER, []) == []
        assert store.find(_ORDER, ["missing"]) == []

    def test_find_looks_in_the_one_stream_and_tenant_asked(self, store: EventStore) -> None:
        store.append(_ORDER, [_event("a")], expected_version=0)

        assert store.find(StreamId.of("acme", "Order", "o-2"), ["a"]) == []
        assert store.find(StreamId.of("globex", "Order", "o-1"), ["a"]) == []

    def test_an_event_id_repeated_inside_one_batch_is_refused(self, store: EventStore) -> None:
        with pytest.raises(ValueError, match=r"events\[1\]\.event_id"):
            store.append(_ORDER, [_event("a"), _event("a")], expected_version=0)

        assert store.read(_ORDER) == []

    # -- command fences -------------------------------------------------------------------

    def test_an_append_behind_an_open_fence_is_written(self, store: EventStore) -> None:
        recorded = store.append(_ORDER, [_event("a")], expected_version=0, fence=_fence())

        assert [r.event.event_id for r in recorded] == ["a"]
        assert _ids(store) == ["a"]

    def test_once_a_command_is_fenced_its_appends_are_refused_and_write_nothing(
        self, store: EventStore
    ) -> None:
        # GIVEN a compensation fenced the command
        assert store.fence_command(_fence(step="CompensateReserve")) is True

        # WHEN a late attempt of the command's action appends behind the fence
        with pytest.raises(FencedError) as raised:
            store.append(_ORDER, [_event("late")], expected_version=0, fence=_fence())

        # THEN it is refused, names who fenced, and nothing of it was stored
        assert raised.value.fenced_by == ("CompensateReserve",)
        assert (raised.value.tenant, raised.value.command) == ("acme", _COMMAND)
        assert store.read(_ORDER) == []
        assert store.find(_ORDER, ["late"]) == []
        assert store.version(_ORDER) == 0

    def test_events_stored_before_the_fence_still_come_back_on_a_retry(
        self, store: EventStore
    ) -> None:
        first = store.append(_ORDER, [_event("a")], expected_version=0, fence=_fence())
        store.fence_command(_fence(step="CompensateReserve"))

        again = store.append(_ORDER, [_event("a")], expected_version=0, fence=_fence())

        assert again == first

    def test_a_fence_is_per_command_and_per_tenant(self, store: EventStore) -> None:
        store.fence_command(_fence(step="CompensateReserve"))
        globex = StreamId.of("globex", "Order", "o-1")

        store.append(_ORDER, [_event("a")], 0, fence=_fence(command="another-command"))
        store.append(globex, [_event("b", "globex")], 0, fence=_fence(tenant="globex"))
        store.append(_ORDER, [_event("c")], 1)

        assert _ids(store) == ["a", "c"]
        assert _ids(store, globex) == ["b"]

    def test_fencing_is_idempotent_and_records_every_fencing_step(self, store: EventStore) -> None:
        assert store.fence_command(_fence(step="CompensatePay")) is True
        assert store.fence_command(_fence(step="CompensateReserve")) is True
        assert store.fence_command(_fence(step="CompensatePay")) is True

        with pytest.raises(FencedError) as raised:
            store.append(_ORDER, [_event("a")], expected_version=0, fence=_fence())
        assert raised.value.fenced_by == ("CompensatePay", "CompensateReserve")

    def test_who_fenced_a_command_can_be_read_back(self, store: EventStore) -> None:
        assert store.fenced_by(_fence()) == ()
        store.fence_command(_fence(step="CompensatePay"))
        store.fence_command(_fence(step="CompensateReserve"))

        assert store.fenced_by(_fence()) == ("CompensatePay", "CompensateReserve")
        assert store.fenced_by(_fence(command="another-command")) == ()
        assert store.fenced_by(_fence(tenant="globex")) == ()

    def test_the_commit_and_the_fence_exclude_each_other(self, store: EventStore) -> None:
        # GIVEN the pivot's append committed the command
        store.append(_ORDER, [_event("a")], 0, fence=_fence(step="Confirm", commits=True))

        # THEN no compensation may fence it now, and later steps still append
        assert store.fence_command(_fence(step="CompensateReserve")) is False
        assert store.fenced_by(_fence()) == ()
        store.append(_ORDER, [_event("b")], 1, fence=_fence(step="Notify"))
        store.commit_command(_fence(step="Confirm", commits=True))  # idempotent
        assert _ids(store) == ["a", "b"]

    def test_a_fenced_command_cannot_commit(self, store: EventStore) -> None:
        store.fence_command(_fence(step="CompensateReserve"))

        with pytest.raises(FencedError):
            store.append(_ORDER, [_event("a")], 0, fence=_fence(step="Confirm", commits=True))
        with pytest.raises(FencedError):
            store.commit_command(_fence(step="Confirm", commits=True))
        assert store.read(_ORDER) == []

    def test_a_command_committed_without_an_append_cannot_be_fenced(
        self, store: EventStore
    ) -> None:
        store.commit_command(_fence(step="Confirm", commits=True))

        assert store.fence_command(_fence(step="CompensateReserve")) is False

    def test_a_fence_of_another_tenant_is_refused_before_writing(self, store: EventStore) -> None:
        with pytest.raises(TenantMismatchError) as raised:
            store.append(_ORDER, [_event("a")], 0, fence=_fence(tenant="globex"))

        assert raised.value.field == "fence.tenant"
        assert store.read(_ORDER) == []

    # -- snapshots ------------------------------------------------------------------------

    def test_a_stream_without_a_snapshot_has_none(self, store: EventStore) -> None:
        store.append(_ORDER, [_event("a")], expected_version=0)

        assert store.load_snapshot(_ORDER, "total/1") is None

    def test_a_saved_snapshot_reads_back_whole(self, store: EventStore) -> None:
        snapshot = Snapshot(
            name="total/1", version=2, state={"total": 7, "seen": [1, 2.5, None, "ünïcode"]}
        )

        assert store.save_snapshot(_ORDER, snapshot) is True

        assert store.load_snapshot(_ORDER, "total/1") == snapshot

    def test_only_a_newer_snapshot_replaces_the_stored_one(self, store: EventStore) -> None:
        def at(version: int) -> Snapshot:
            return Snapshot(name="total/1", version=version, state={"at": version})

        assert store.save_snapshot(_ORDER, at(5)) is True
        assert store.save_snapshot(_ORDER, at(3)) is False  # a slower folder, behind
        assert store.save_snapshot(_ORDER, at(5)) is False
        assert store.load_snapshot(_ORDER, "total/1") == at(5)
        assert store.save_snapshot(_ORDER, at(8)) is True
        assert store.load_snapshot(_ORDER, "total/1") == at(8)

    def test_snapshots_are_per_stream_per_name_and_per_tenant(self, store: EventStore) -> None:
        store.save_snapshot(_ORDER, Snapshot(name="total/1", version=1, state=1))

        assert store.load_snapshot(_ORDER, "total/2") is None
        assert store.load_snapshot(StreamId.of("acme", "Order", "o-2"), "total/1") is None
        assert store.load_snapshot(StreamId.of("globex", "Order", "o-1"), "total/1") is None

    def test_a_snapshot_leaves_the_stream_as_it_was(self, store: EventStore) -> None:
        store.append(_ORDER, [_event("a")], expected_version=0)

        store.save_snapshot(_ORDER, Snapshot(name="total/1", version=1, state={"n": 1}))

        assert _ids(store) == ["a"]
        assert store.version(_ORDER) == 1
        store.append(_ORDER, [_event("b")], expected_version=1)
        assert _ids(store) == ["a", "b"]

    def test_a_snapshot_over_the_item_limit_is_refused(self, store: EventStore) -> None:
        huge = Snapshot(name="total/1", version=1, state={"blob": "x" * MAX_ITEM_BYTES})

        with pytest.raises(PayloadTooLargeError) as raised:
            store.save_snapshot(_ORDER, huge)

        assert raised.value.field == "snapshot total/1"
        assert store.load_snapshot(_ORDER, "total/1") is None

    @settings(
        max_examples=10,
        deadline=None,
        suppress_health_check=[HealthCheck.differing_executors, HealthCheck.too_slow],
    )
    @given(
        steps=st.lists(
            st.one_of(st.integers(min_value=1, max_value=5), st.just("fold")),
            min_size=1,
            max_size=12,
        )
    )
    def test_a_state_folded_from_snapshots_is_the_state_of_the_whole_stream(
        self, steps: list[int | str]
    ) -> None:
        # GIVEN a projection that snapshots often, and appends interleaved with folds
        store = self.make_store()
        total: Projection[int] = Projection(
            name="total/1", initial=0, apply=_add, load=_as_int, snapshot_every=2
        )
        names = itertools.count()
        for step in steps:
            if step == "fold":
                folded = fold(store, _ORDER, total)
                # THEN each fold, from whatever snapshot, is the fold of every event
                history = store.read(_ORDER)
                assert folded.state == sum(_amount(r) for r in history)
                assert folded.version == len(history)
            else:
                assert isinstance(step, int)
                batch = [_event(f"e{next(names)}", amount=step)]
                store.append(_ORDER, batch, expected_version=store.version(_ORDER))
        history = store.read(_ORDER)
        assert fold(store, _ORDER, total).state == sum(_amount(r) for r in history)

    # -- pagination -----------------------------------------------------------------------

    def test_reads_page_through_long_streams_in_order(self, store: EventStore) -> None:
        names = [f"e{n:02d}" for n in range(1, 26)]
        for start in range(0, 25, 5):
            store.append(_ORDER, [_event(n) for n in names[start : start + 5]], start)

        assert _ids(store) == names
        window = store.read(_ORDER, from_version=11, limit=5)
        assert [r.version for r in window] == [11, 12, 13, 14, 15]
        assert [r.version for r in store.read(_ORDER, from_version=21)] == [21, 22, 23, 24, 25]
        assert store.read(_ORDER, from_version=26) == []

        paged: list[str] = []
        cursor = 1
        while page := store.read(_ORDER, from_version=cursor, limit=7):
            paged += [r.event.event_id for r in page]
            cursor = page[-1].version + 1
        assert paged == names

    # -- tenants --------------------------------------------------------------------------

    def test_tenants_with_the_same_aggregate_never_see_each_other(self, store: EventStore) -> None:
        other = StreamId.of("globex", _ORDER.aggregate_type, _ORDER.aggregate_id)
        store.append(_ORDER, [_event("acme-1")], expected_version=0)

        assert store.read(other) == []
        assert store.version(other) == 0

        store.append(other, [_event("globex-1", tenant="globex")], expected_version=0)
        assert _ids(store) == ["acme-1"]
        assert _ids(store, other) == ["globex-1"]

    def test_an_event_of_another_tenant_is_refused_before_writing(self, store: EventStore) -> None:
        with pytest.raises(TenantMismatchError) as raised:
            store.append(_ORDER, [_event("a"), _event("b", tenant="globex")], expected_version=0)

        assert raised.value.field == "events[1].tenant"
        assert (raised.value.tenant, raised.value.other) == ("acme", "globex")
        assert store.read(_ORDER) == []

    # -- size -----------------------------------------------------------------------------

    def test_an_event_over_the_item_limit_is_refused_before_writing(
        self, store: EventStore
    ) -> None:
        huge = _event("b", blob="x" * MAX_ITEM_BYTES)

        with pytest.raises(EventTooLargeError) as raised:
            store.append(_ORDER, [_event("a"), huge], expected_version=0)

        assert raised.value.field.startswith("events[1]")
        assert raised.value.size > raised.value.limit == MAX_ITEM_BYTES
        assert store.read(_ORDER) == []

    def test_an_event_just_under_the_limit_is_stored_whole(self, store: EventStore) -> None:
        big = _event("a", blob="x" * (MAX_ITEM_BYTES - 2048))

        store.append(_ORDER, [big], expected_version=0)

        assert store.read(_ORDER)[0].event == big

    def test_an_append_over_the_transaction_size_limit_is_refused_before_writing(
        self, store: EventStore
    ) -> None:
        # Each event fits its item, but one transaction holds at most 4 MB of items.
        count = MAX_TRANSACTION_BYTES // (MAX_ITEM_BYTES // 2) + 1
        events = [_event(f"e{n}", blob="x" * (MAX_ITEM_BYTES // 2)) for n in range(count)]
        assert count <= MAX_EVENTS_PER_APPEND

        with pytest.raises(BatchTooLargeError) as raised:
            store.append(_ORDER, events, expected_version=0)

        assert raised.value.field == "events"
        assert raised.value.size > raised.value.limit == MAX_TRANSACTION_BYTES
        assert store.read(_ORDER) == []

    def test_an_append_of_more_events_than_one_transaction_holds_is_refused(
        self, store: EventStore
    ) -> None:
        # Each event takes two of a transaction's 100 items (itself and its id guard), and
        # the stream head and the command fence one each.
        too_many = [_event(f"e{n}") for n in range(MAX_EVENTS_PER_APPEND + 1)]

        with pytest.raises(ValueError, match=rf"at most {MAX_EVENTS_PER_APPEND}"):
            store.append(_ORDER, too_many, expected_version=0)

        assert store.read(_ORDER) == []
        assert len(store.append(_ORDER, too_many[:-1], expected_version=0)) == 49

    def test_a_payload_that_is_not_valid_unicode_is_refused_naming_the_event(
        self, store: EventStore
    ) -> None:
        with pytest.raises(ValueError, match=r"events\[1\]\.payload") as raised:
            store.append(_ORDER, [_event("a"), _event("b", text="\ud800")], expected_version=0)

        assert "surrogate" in str(raised.value)
        assert store.read(_ORDER) == []

    def test_an_empty_append_writes_nothing(self, store: EventStore) -> None:
        assert store.append(_ORDER, [], expected_version=0) == []
        assert store.version(_ORDER) == 0

    # -- any interleaving -----------------------------------------------------------------

    @settings(
        max_examples=10,
        deadline=None,
        # Each subclass runs this with its own store: differing executors are intended.
        suppress_health_check=[HealthCheck.differing_executors, HealthCheck.too_slow],
    )
    @given(
        operations=st.lists(
            st.tuples(
                st.sampled_from(_STREAMS),
                st.integers(min_value=1, max_value=3),
                st.sampled_from([*_OFFSETS, "retry", "reread"]),
            ),
            max_size=10,
        )
    )
    def test_any_sequence_of_appends_keeps_streams_gapless_and_unique(
        self, operations: list[tuple[StreamId, int, str]]
    ) -> None:
        store = self.make_store()
        model: dict[StreamId, list[str]] = {stream: [] for stream in _STREAMS}
        last: dict[StreamId, tuple[int, list[StoredEvent]]] = {}
        names = itertools.count()

        for stream, size, mode in operations:
            stored = model[stream]
            if mode in ("retry", "reread") and stream in last:
                # A retry with the expected version it had, or with one it read again.
                expected, batch = last[stream]
                expected = len(stored) if mode == "reread" else expected
            else:
                batch = [_event(f"e{next(names)}", tenant=stream.tenant) for _ in range(size)]
                expected = max(0, len(stored) + _OFFSETS.get(mode, 0))
            ids = [e.event_id for e in batch]

            if all(i in stored for i in ids):
                again = store.append(stream, batch, expected)
                assert [r.version for r in again] == [stored.index(i) + 1 for i in ids]
            elif expected == len(stored):
                store.append(stream, batch, expected)
                stored.extend(ids)
                last[stream] = (expected, batch)
            else:
                with pytest.raises(ConcurrencyError) as raised:
                    store.append(stream, batch, expected)
                assert (raised.value.expected, raised.value.actual) == (expected, len(stored))

        for stream, ids in model.items():
            recorded = store.read(stream)
            assert [r.event.event_id for r in recorded] == ids
            assert [r.version for r in recorded] == list(range(1, len(ids) + 1))
            assert store.version(stream) == len(ids)


def _mail(name: str = "Ann") -> EmailMessage:
    return EmailMessage(
        to=("ann@example.com",),
        subject="Order o-1 confirmed",
        text=f"Hello {name}, order o-1 is confirmed.",
        html=f"<p>Hello {name}, order <b>o-1</b> is confirmed.</p>",
        tags={"mail": "confirmation"},
    )


class NotifierContract(abc.ABC):
    """Promises every `Notifier` keeps (see `stepsaga.tasks.Notifier`).

    Subclass it with `make_notifier()` (a fresh notifier), `delivered()` (how many mails its
    provider has accepted so far) and `fail_next_send()` (make the provider's next send fail
    transiently, before it sends anything: a connection that could not be opened).
    """

    ACME: ClassVar[TenantId] = TenantId("acme")

    @abc.abstractmethod
    def make_notifier(self) -> Notifier:
        """A fresh notifier, with no key claimed."""

    @abc.abstractmethod
    def delivered(self, notifier: Notifier) -> int:
        """How many mails `notifier`'s provider has accepted."""

    @abc.abstractmethod
    def fail_next_send(self, notifier: Notifier) -> None:
        """Make the provider refuse the next send transiently, having sent nothing."""

    @pytest.fixture
    def notifier(self) -> Notifier:
        """A fresh notifier for each promise."""
        return self.make_notifier()

    @staticmethod
    def mail(name: str = "Ann") -> EmailMessage:
        """A confirmation mail addressed to Ann; `name` changes its text."""
        return _mail(name)

    def test_a_mail_is_sent_once_per_idempotency_key(self, notifier: Notifier) -> None:
        first = notifier.send(self.ACME, _mail(), idempotency_key="cmd-1/Notify/mail-0")

        again = notifier.send(self.ACME, _mail(), idempotency_key="cmd-1/Notify/mail-0")

        assert self.delivered(notifier) == 1
        assert (first.replayed, again.replayed) == (False, True)
        assert again.message_id == first.message_id
        assert again.idempotency_key == "cmd-1/Notify/mail-0"

    def test_another_key_sends_another_mail(self, notifier: Notifier) -> None:
        first = notifier.send(self.ACME, _mail(), idempotency_key="k-1")
        second = notifier.send(self.ACME, _mail(), idempotency_key="k-2")

        assert self.delivered(notifier) == 2
        assert first.message_id != second.message_id

    def test_reusing_a_key_for_another_message_is_refused(self, notifier: Notifier) -> None:
        sent = notifier.send(self.ACME, _mail("Ann"), idempotency_key="k")

        with pytest.raises(IdempotencyConflictError) as raised:
            notifier.send(self.ACME, _mail("Bob"), idempotency_key="k")

        assert raised.value.idempotency_key == "k"
        assert raised.value.message_id == sent.message_id
        assert self.delivered(notifier) == 1

    def test_keys_are_scoped_to_their_tenant(self, notifier: Notifier) -> None:
        acme = notifier.send(self.ACME, _mail(), idempotency_key="k")
        globex = notifier.send(TenantId("globex"), _mail(), idempotency_key="k")

        assert self.delivered(notifier) == 2
        assert not globex.replayed
        assert acme.message_id != globex.message_id

    def test_a_failed_send_releases_its_claim_so_a_retry_sends_at_once(
        self, notifier: Notifier
    ) -> None:
        # GIVEN the provider cannot be reached: nothing is sent
        self.fail_next_send(notifier)
        with pytest.raises(RetryableError):
            notifier.send(self.ACME, _mail(), idempotency_key="k")
        assert self.delivered(notifier) == 0

        # WHEN the step is retried straight away  THEN the mail goes out, once
        sent = notifier.send(self.ACME, _mail(), idempotency_key="k")
        assert not sent.replayed
        assert self.delivered(notifier) == 1
        assert notifier.send(self.ACME, _mail(), idempotency_key="k").replayed
