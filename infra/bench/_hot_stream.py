"""A hot stream: many orders of the reference saga on one SKU, first orders against last.

Every order reserves from the same stock stream, which grows by an event per order. A step that
read the whole stream to decide would slow down as orders accumulate; reading the stream's
snapshot and the few events after it keeps each order's cost flat. The measurement runs the
orders one after another on the in-memory store and on moto's DynamoDB, and compares the
first window of orders with the last: time per order (the process's CPU time, which other
processes on a shared machine do not inflate, and wall time) and, on DynamoDB, read requests
and items read per order (counted by a botocore event hook on the store's client).

The orders are the reference service's first demo scenario (found through the service loader),
each under its own order id; the demo's seed runs once per five orders, so that stock lasts.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from stepsaga.infra.bench._machines import JSON
from stepsaga.infra.bench._report import Timing
from stepsaga.infra.local.service import LocalService
from stepsaga.infra.project import REFERENCE_SERVICE, Service, load_service
from stepsaga.tasks import InMemoryEventStore, InMemoryNotifier

__all__ = ("HotStreamResult", "HotWindow", "measure_hot_stream", "run_hot_stream")

#: The DynamoDB operations that read.
_READS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan"})
#: Orders of the demo scenario one run of the demo's seed has stock for.
_ORDERS_PER_SEED = 5
_TABLE = "stepsaga-bench-hot"


@dataclass(frozen=True)
class HotWindow:
    """Orders at one end of the run.

    Attributes:
        orders: How many orders the window holds.
        cpu: The process's CPU time per order (the execution, its handlers, their store
            calls and moto, all in this process).
        timing: Wall time per order.
        reads: DynamoDB read requests per order (mean), or None off DynamoDB.
        items: Items those requests returned per order (mean), or None off DynamoDB.
    """

    orders: int
    cpu: Timing
    timing: Timing
    reads: float | None
    items: float | None

    def to_json(self) -> dict[str, JSON]:
        """The JSON form."""
        return {
            "orders": self.orders,
            "cpu": self.cpu.to_json(),
            "timing": self.timing.to_json(),
            "reads_per_order": None if self.reads is None else round(self.reads, 2),
            "items_read_per_order": None if self.items is None else round(self.items, 2),
        }


@dataclass(frozen=True)
class HotStreamResult:
    """`orders` orders on one SKU, on one store.

    Attributes:
        store: `memory` or `dynamodb` (moto).
        orders: Orders placed, one after another.
        first: The first window of orders.
        last: The last window of orders.
        problem: What went wrong (an order that did not succeed), if anything.
    """

    store: str
    orders: int
    first: HotWindow | None = None
    last: HotWindow | None = None
    problem: str | None = None

    @property
    def growth(self) -> float | None:
        """The last window's median CPU time per order over the first's (1.0: flat)."""
        if self.first is None or self.last is None:
            return None
        return self.last.cpu.median / self.first.cpu.median

    def to_json(self) -> dict[str, JSON]:
        """The JSON form."""
        growth = self.growth
        return {
            "store": self.store,
            "orders": self.orders,
            "first": None if self.first is None else self.first.to_json(),
            "last": None if self.last is None else self.last.to_json(),
            "growth_last_over_first": None if growth is None else round(growth, 3),
            "problem": self.problem,
        }


class _ReadCounter:
    """Counts DynamoDB read requests and the items they return (a botocore event hook)."""

    def __init__(self) -> None:
        self.requests = 0
        self.items = 0

    def __call__(self, model: Any, parsed: Any, **_: Any) -> None:
        if model.name not in _READS or not isinstance(parsed, dict):
            return
        self.requests += 1
        if "Items" in parsed:
            self.items += len(parsed["Items"])
        elif "Item" in parsed:
            self.items += 1
        elif "Responses" in parsed:
            self.items += sum(len(found) for found in parsed["Responses"].values())


def _window(samples: list[tuple[float, float, int, int]], counted: bool) -> HotWindow:
    count = len(samples)
    return HotWindow(
        orders=count,
        cpu=Timing.of([cpu for cpu, _, _, _ in samples]),
        timing=Timing.of([wall for _, wall, _, _ in samples]),
        reads=sum(reads for _, _, reads, _ in samples) / count if counted else None,
        items=sum(items for _, _, _, items in samples) / count if counted else None,
    )


def _place(
    service: Service, local: LocalService, orders: int, counter: _ReadCounter | None, store: str
) -> HotStreamResult:
    demo = service.demo
    if demo is None or demo.seed is None:
        return HotStreamResult(store, orders, problem=f"{service.module} has no demo to seed")
    scenario = demo.scenarios[0]
    if "orderId" not in scenario.command:
        return HotStreamResult(store, orders, problem=f"{scenario.name} has no orderId to vary")
    tenant = str(local.tenant)
    for _ in range(orders // _ORDERS_PER_SEED + 1):
        demo.seed(local.event_store, tenant)
    samples: list[tuple[float, float, int, int]] = []
    for number in range(orders):
        command = {**scenario.command, "orderId": f"{scenario.command['orderId']}-hot-{number}"}
        reads, items = (counter.requests, counter.items) if counter else (0, 0)
        cpu, started = time.process_time(), time.perf_counter()
        run = local.execute(scenario.saga, command)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        if run.status != "SUCCEEDED":
            problem = f"order {number}: {run.status} {run.execution.error}"
            return HotStreamResult(store, orders, problem=problem)
        if counter is not None:
            reads, items = counter.requests - reads, counter.items - items
        samples.append((cpu, seconds, reads, items))
    window = max(1, min(100, orders // 2))
    counted = counter is not None
    return HotStreamResult(
        store, orders, _window(samples[:window], counted), _window(samples[-window:], counted)
    )


@contextmanager
def _kept_environment() -> Iterator[None]:
    # TaskRuntime switches Powertools off outside Lambda through these variables; keep the
    # bench process as it was.
    names = ("POWERTOOLS_TRACE_DISABLED", "POWERTOOLS_METRICS_DISABLED")
    saved = {name: os.environ.get(name) for name in names}
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def measure_hot_stream(orders: int, store: str) -> HotStreamResult:
    """Place `orders` orders of the reference service on one SKU, on `store`.

    Args:
        orders: How many orders (at least 2: a first and a last window).
        store: `memory` (the in-memory store) or `dynamodb` (moto's, in process).

    Returns:
        The first and last windows (up to 100 orders each), or the problem met.
    """
    service = load_service(REFERENCE_SERVICE)
    with _kept_environment():
        if store == "memory":
            local = LocalService(
                tuple(service.sagas.values()),
                service.handlers,
                event_store=InMemoryEventStore(),
                notifier=InMemoryNotifier(),
                service=service.name,
            )
            return _place(service, local, orders, None, store)
        with LocalService.start(service, table=_TABLE) as local:
            counter = _ReadCounter()
            client: Any = getattr(local.event_store, "client", None)
            if client is None:
                return HotStreamResult(store, orders, problem="the store has no DynamoDB client")
            client.meta.events.register("after-call.dynamodb", counter)
            return _place(service, local, orders, counter, store)


def run_hot_stream(orders: int) -> tuple[HotStreamResult, ...]:
    """`measure_hot_stream` on both stores; a store that cannot run is reported, not raised."""
    results: list[HotStreamResult] = []
    for store in ("memory", "dynamodb"):
        try:
            results.append(measure_hot_stream(orders, store))
        except Exception as exc:  # built alongside the bench: report, don't crash
            results.append(
                HotStreamResult(store, orders, problem=f"raised {type(exc).__name__}: {exc}")
            )
    return tuple(results)
