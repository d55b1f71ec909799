"""100 orders at once on one SKU with stock for 40: no oversell, no lost event.

Each order runs in its own thread (each thread on its own engine) against one event store,
so the reservations race on the SKU's stock stream.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from stepsaga.domain import StreamId
from stepsaga.examples.orders.events import available_stock
from stepsaga.examples.orders.handlers import HANDLERS, seed_stock
from stepsaga.examples.orders.sagas import SAGAS
from stepsaga.infra.local.service import LocalService, ServiceRun
from stepsaga.tasks import InMemoryEventStore, InMemoryNotifier

ORDERS = 100
STOCK = 40
SKU = "HOT-1"
TENANT = "acme"


def _order(index: int) -> dict[str, object]:
    return {
        "orderId": f"o-{index:03d}",
        "customerEmail": f"buyer{index}@example.com",
        "items": [{"sku": SKU, "quantity": 1, "unitPrice": "10.00"}],
        "paymentToken": "tok_visa",
    }


def _place_all_at_once(service: LocalService) -> list[ServiceRun]:
    seed_stock(service.event_store, TENANT, SKU, STOCK)
    start = threading.Barrier(ORDERS)

    def place(index: int) -> ServiceRun:
        start.wait()
        return service.execute("PlaceOrder", _order(index))

    with ThreadPoolExecutor(max_workers=ORDERS) as pool:
        return list(pool.map(place, range(ORDERS)))


def _check(service: LocalService, runs: list[ServiceRun]) -> None:
    outcomes = Counter((run.status, run.execution.error) for run in runs)
    # THEN exactly the stock's worth succeeds and the rest fail cleanly, out of stock
    assert outcomes == {("SUCCEEDED", None): STOCK, ("FAILED", "OutOfStock"): ORDERS - STOCK}
    stock = service.event_store.read(StreamId.of(TENANT, "Stock", SKU))
    # ... no oversell: the level never drops below zero and ends at zero
    for upto in range(1, len(stock) + 1):
        assert available_stock(stock[:upto]) >= 0
    assert available_stock(stock) == 0
    # ... every reservation belongs to a succeeded order, each exactly once
    succeeded = {run.execution.arn for run in runs if run.status == "SUCCEEDED"}
    reserved = [r.event.correlation_id for r in stock if r.event.type == "StockReserved"]
    assert sorted(reserved) == sorted(succeeded)
    # ... no version gap, no lost or doubled event: what each run reports is in the store
    assert [r.version for r in stock] == list(range(1, len(stock) + 1))
    reported = [e.event.event_id for run in runs for e in run.events]
    assert len(reported) == len(set(reported))
    for run in runs:
        for recorded in run.events:
            stored = service.event_store.read(
                recorded.stream, from_version=recorded.version, limit=1
            )
            assert stored[0].event.event_id == recorded.event.event_id
        expected = ["OrderConfirmed"] if run.status == "SUCCEEDED" else ["OrderRejected"]
        order_id = run.execution.input["command"]["orderId"]
        order = service.event_store.read(StreamId.of(TENANT, "Order", order_id))
        assert [r.event.type for r in order] == expected
        # ... and one mail per order, the right one
        assert len(run.emails) == 1
        assert run.emails[0].subject.endswith(
            "confirmed" if run.status == "SUCCEEDED" else "could not be placed"
        )


@pytest.fixture
def on_dynamodb() -> Iterator[LocalService]:
    with LocalService.start("stepsaga.examples.orders") as service:
        yield service


def test_concurrent_orders_on_dynamodb_never_oversell(on_dynamodb: LocalService) -> None:
    runs = _place_all_at_once(on_dynamodb)
    _check(on_dynamodb, runs)


def test_concurrent_orders_in_memory_never_oversell() -> None:
    service = LocalService(
        SAGAS, HANDLERS, event_store=InMemoryEventStore(), notifier=InMemoryNotifier()
    )
    runs = _place_all_at_once(service)
    _check(service, runs)
