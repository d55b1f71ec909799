"""A Lambda still running after its Task timed out cannot write once its step is compensated.

Step Functions gives up on an attempt at its `TimeoutSeconds`, but the function may run on and
append later. Once a compensation of the command has run, the command is fenced: the late
append is refused (`Saga.Fenced`, not retried) and leaves nothing written.
"""

from __future__ import annotations

from typing import Any

import pytest

from stepsaga.domain import StreamId
from stepsaga.examples.orders.events import held_by
from stepsaga.examples.orders.handlers import HANDLERS, seed_stock, stock_level
from stepsaga.examples.orders.sagas import SAGAS
from stepsaga.infra.local.service import LocalService
from stepsaga.tasks import InMemoryEventStore, InMemoryNotifier, LambdaHandler, TaskFailed
from tests.reliability.faults import STOCK, TENANT, order


class _Late:
    """A handler whose every attempt overruns its timeout; the first one's work is kept to run
    later, as a function still running after Step Functions gave up on it would."""

    def __init__(self, handler: LambdaHandler) -> None:
        self.handler = handler
        self.parked: list[tuple[Any, Any]] = []

    def __call__(self, event: Any, context: Any) -> Any:
        if not self.parked:
            self.parked.append((event, context))
        context.elapse(context.timeout_seconds + 1)
        return {"late": True}

    def run_parked(self) -> Any:
        ((event, context),) = self.parked
        return self.handler(event, context)


@pytest.mark.parametrize("step", ["ReserveStock", "ChargePayment"])
def test_a_late_append_after_its_compensation_is_refused_and_writes_nothing(step: str) -> None:
    # GIVEN a step whose attempts all time out, the first one still running
    service = LocalService(
        SAGAS, HANDLERS, event_store=InMemoryEventStore(), notifier=InMemoryNotifier()
    )
    sku, order_id = f"SKU-late-{step}", f"o-late-{step}"
    seed_stock(service.event_store, TENANT, sku, STOCK)
    late = _Late(service.handlers[step])
    service.handlers[step] = late
    run = service.execute("PlaceOrder", order(order_id, sku))
    assert run.status == "FAILED"
    assert run.path[run.path.index(step) + 1] == f"Compensate{step}"

    # WHEN the first attempt finally does its work, after the compensation ran
    with pytest.raises(TaskFailed) as raised:
        late.run_parked()

    # THEN it is refused as fenced, and nothing of it is in the store
    assert type(raised.value).__name__ == "Saga.Fenced"
    stock = service.event_store.read(StreamId.of(TENANT, "Stock", sku))
    payment = service.event_store.read(StreamId.of(TENANT, "Payment", order_id))
    assert held_by(stock, order_id) == 0
    assert stock_level(service.event_store, TENANT, sku) == STOCK
    assert [r.event.type for r in payment if r.event.type == "PaymentCharged"] == []
