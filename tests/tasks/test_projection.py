"""A hot stream's state is read in time independent of its length: snapshots, then the tail."""

from __future__ import annotations

from typing import Any

import pytest

from stepsaga.domain import RecordedEvent, StoredEvent, StreamId
from stepsaga.examples.orders.events import STOCK_LEVEL, available_stock
from stepsaga.examples.orders.handlers import HANDLERS, seed_stock, stock_level
from stepsaga.tasks import InMemoryEventStore, Projection, Snapshot, TaskRuntime, fold
from tests.tasks.envelopes import envelope

SKU = "HOT"
STREAM = StreamId.of("acme", "Stock", SKU)


class CountingStore(InMemoryEventStore):
    """Counts the events every read returns."""

    def __init__(self) -> None:
        super().__init__()
        self.events_read = 0

    def read(
        self, stream: StreamId, *, from_version: int = 1, limit: int | None = None
    ) -> list[RecordedEvent]:
        events = super().read(stream, from_version=from_version, limit=limit)
        self.events_read += len(events)
        return events


def _order(order_id: str) -> dict[str, Any]:
    return {
        "orderId": order_id,
        "customerEmail": "ann@example.com",
        "items": [{"sku": SKU, "quantity": 1, "unitPrice": "1.00"}],
        "paymentToken": "tok_visa",
    }


def _reserve(runtime: TaskRuntime, n: int) -> None:
    runtime.handlers(HANDLERS)["ReserveStock"](
        envelope(_order(f"o-{n}"), state="ReserveStock", execution=f"e-{n}"), None
    )


def test_reserving_stock_reads_a_bounded_tail_however_long_the_stream_is() -> None:
    # GIVEN a stock stream that 600 orders have already reserved from
    store = CountingStore()
    seed_stock(store, "acme", SKU, 1_000)
    runtime = TaskRuntime(event_store=store, service="orders")
    for n in range(600):
        _reserve(runtime, n)

    # WHEN one more order reserves
    store.events_read = 0
    _reserve(runtime, 600)

    # THEN it read the snapshot and at most one snapshot interval of events, not 600
    assert store.events_read <= STOCK_LEVEL.snapshot_every
    assert stock_level(store, "acme", SKU) == 1_000 - 601
    assert stock_level(store, "acme", SKU) == available_stock(store.read(STREAM))


def _unit(total: int, recorded: RecordedEvent) -> int:
    return total + 1


COUNT: Projection[int] = Projection(name="count/1", initial=0, apply=_unit, snapshot_every=10)


def _events(store: InMemoryEventStore, count: int) -> None:
    for _ in range(count):
        event = StoredEvent(
            event_id=f"e{store.version(STREAM)}", type="Hit", payload={}, tenant="acme"
        )
        store.append(STREAM, [event], store.version(STREAM))


def test_a_fold_saves_a_snapshot_once_it_read_a_snapshot_interval() -> None:
    store = CountingStore()
    _events(store, 9)
    assert fold(store, STREAM, COUNT).state == 9
    assert store.load_snapshot(STREAM, "count/1") is None  # 9 < 10: not worth a write

    _events(store, 1)
    assert fold(store, STREAM, COUNT).state == 10
    assert store.load_snapshot(STREAM, "count/1") == Snapshot(name="count/1", version=10, state=10)

    _events(store, 3)
    store.events_read = 0
    assert fold(store, STREAM, COUNT).state == 13
    assert store.events_read == 3  # only what follows the snapshot


def test_a_snapshot_of_another_fold_version_is_not_read() -> None:
    store = InMemoryEventStore()
    _events(store, 4)
    store.save_snapshot(STREAM, Snapshot(name="count/0", version=4, state=1_000))

    assert fold(store, STREAM, COUNT).state == 4


@pytest.mark.parametrize("every", [0, -1])
def test_a_projection_must_snapshot_at_some_interval(every: int) -> None:
    with pytest.raises(ValueError, match="snapshot_every"):
        Projection(name="x/1", initial=0, apply=_unit, snapshot_every=every)
