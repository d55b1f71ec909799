"""An execution name is one execution: a second command under it is refused before it runs.

AWS refuses a StartExecution whose name is taken by an execution with another input
(`ExecutionAlreadyExists`); with the same input it is the same execution. Before this, a second
order started as `checkout-42` succeeded too, its appends taken for retries of the first's.
"""

from __future__ import annotations

import threading

import pytest

from stepsaga.domain import StreamId
from stepsaga.examples.orders.handlers import HANDLERS, seed_stock, stock_level
from stepsaga.examples.orders.sagas import SAGAS
from stepsaga.infra.local.service import LocalService, ServiceRun
from stepsaga.infra.local.stepfunctions import ExecutionAlreadyExists, LocalStepFunctions
from stepsaga.tasks import InMemoryEventStore, InMemoryNotifier
from tests.reliability.faults import QUANTITY, STOCK, TENANT, order

SKU = "SKU-names"


def _service() -> tuple[LocalService, InMemoryNotifier]:
    notifier = InMemoryNotifier()
    service = LocalService(SAGAS, HANDLERS, event_store=InMemoryEventStore(), notifier=notifier)
    seed_stock(service.event_store, TENANT, SKU, STOCK)
    return service, notifier


def test_a_second_order_under_a_taken_execution_name_is_refused_before_it_runs() -> None:
    service, notifier = _service()
    first = service.execute("PlaceOrder", order("o-42", SKU), name="checkout-42")
    assert first.status == "SUCCEEDED"

    with pytest.raises(ExecutionAlreadyExists) as raised:
        service.execute("PlaceOrder", order("o-43", SKU), name="checkout-42")

    assert raised.value.name == "checkout-42"
    assert raised.value.arn == first.execution.arn
    # ... and nothing of the second order ran: no events, no mail, no stock taken
    assert service.event_store.read(StreamId.of(TENANT, "Order", "o-43")) == []
    assert service.event_store.read(StreamId.of(TENANT, "Payment", "o-43")) == []
    assert stock_level(service.event_store, TENANT, SKU) == STOCK - QUANTITY
    assert len(notifier.sent) == 1


def test_the_same_name_and_input_is_the_same_execution() -> None:
    service, notifier = _service()
    meta = service.meta("PlaceOrder", command_id="c-1", idempotency_key="k-1")
    first = service.execute("PlaceOrder", order("o-1", SKU), meta, name="checkout-1")

    again = service.execute("PlaceOrder", order("o-1", SKU), meta, name="checkout-1")

    assert again is first
    assert len(notifier.sent) == 1
    assert stock_level(service.event_store, TENANT, SKU) == STOCK - QUANTITY


def test_a_command_submitted_twice_under_its_own_name_runs_once() -> None:
    # The default name derives from the idempotency key: a resubmission is the same execution.
    service, notifier = _service()
    meta = service.meta("PlaceOrder", command_id="c-2", idempotency_key="k-2")

    runs = [service.execute("PlaceOrder", order("o-2", SKU), meta) for _ in range(2)]

    assert runs[0] is runs[1]
    assert len(notifier.sent) == 1


def test_executions_started_at_once_under_one_name_and_input_run_once() -> None:
    service, notifier = _service()
    meta = service.meta("PlaceOrder", command_id="c-3", idempotency_key="k-3")
    start = threading.Barrier(4)
    runs: list[ServiceRun] = []

    def place() -> None:
        start.wait()
        runs.append(service.execute("PlaceOrder", order("o-3", SKU), meta, name="checkout-3"))

    threads = [threading.Thread(target=place) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert len(runs) == 4
    assert all(run is runs[0] for run in runs)
    assert len(notifier.sent) == 1


def test_the_engine_refuses_a_taken_name_with_another_input() -> None:
    sfn = LocalStepFunctions()
    definition = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
    first = sfn.run(definition, {"n": 1}, name="once")

    assert sfn.run(definition, {"n": 1}, name="once") is first
    with pytest.raises(ExecutionAlreadyExists) as raised:
        sfn.run(definition, {"n": 2}, name="once")
    assert (raised.value.name, raised.value.arn) == ("once", first.arn)
    assert len(sfn.executions) == 1
