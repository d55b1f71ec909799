"""One command is one command end to end, however often it is submitted or executed.

A command's identity is its idempotency key (`meta.idempotencyKey`, scoped to its tenant and
command type): the execution name, the event ids and the mail keys all derive from it, so a
repeated submission reserves, charges, confirms and mails once. A second execution of the same
command never acts on what the first one undid.
"""

from __future__ import annotations

import threading
from typing import Any

from stepsaga.domain import StreamId
from stepsaga.examples.orders.handlers import HANDLERS, seed_stock, stock_level
from stepsaga.examples.orders.sagas import SAGAS
from stepsaga.infra.local.service import LocalService, ServiceRun
from stepsaga.tasks import InMemoryEventStore, InMemoryNotifier, LambdaHandler
from stepsaga.workflows.saga import FENCED_ERROR, CommandMeta, execution_name_for
from tests.reliability.faults import QUANTITY, STOCK, TENANT, order

SKU = "SKU-dup"


def _service(stock: int = STOCK) -> tuple[LocalService, InMemoryNotifier]:
    notifier = InMemoryNotifier()
    service = LocalService(SAGAS, HANDLERS, event_store=InMemoryEventStore(), notifier=notifier)
    seed_stock(service.event_store, TENANT, SKU, stock)
    return service, notifier


def _meta(service: LocalService, key: str) -> CommandMeta:
    return service.meta("PlaceOrder", command_id=f"cmd-{key}", idempotency_key=key)


def _types(service: LocalService, aggregate: str, aggregate_id: str) -> list[str]:
    stream = StreamId.of(TENANT, aggregate, aggregate_id)
    return [r.event.type for r in service.event_store.read(stream)]


def test_the_execution_name_derives_from_the_commands_idempotency_key() -> None:
    service, _ = _service()

    run = service.execute("PlaceOrder", order("o-name", SKU), _meta(service, "key-1"))

    assert run.execution.name == execution_name_for(TENANT, "key-1")


def test_the_same_command_executed_twice_reserves_charges_confirms_and_mails_once() -> None:
    # GIVEN one command, executed twice (a client retried, and the trigger started it again)
    service, notifier = _service()
    meta = _meta(service, "key-twice")
    command = order("o-twice", SKU)

    first = service.execute("PlaceOrder", command, meta, name="submit-1")
    second = service.execute("PlaceOrder", command, meta, name="submit-2")

    # THEN both succeed, but everything happened once
    assert (first.status, second.status) == ("SUCCEEDED", "SUCCEEDED")
    assert second.events == ()
    assert stock_level(service.event_store, TENANT, SKU) == STOCK - QUANTITY
    assert _types(service, "Payment", "o-twice") == ["PaymentCharged"]
    assert _types(service, "Order", "o-twice") == ["OrderConfirmed"]
    assert [message.subject for _, message, _ in notifier.sent] == ["Order o-twice confirmed"]


class _Blocked(Exception):
    """An injected business failure: the first execution's payment is refused."""


def _interleaved(handler: LambdaHandler) -> tuple[LambdaHandler, dict[str, threading.Event]]:
    """ChargePayment for two executions: `first` waits for `second` to get there, then fails;
    `second` waits there until `first` has finished (compensated)."""
    events = {name: threading.Event() for name in ("first", "second", "first-done")}

    def charge(event: Any, context: Any) -> Any:
        name = event["execution"]["name"]
        if name == "first":
            events["first"].set()
            assert events["second"].wait(30)
            raise _Blocked("injected: the first execution's payment is refused")
        if name == "second":
            events["second"].set()
            assert events["first-done"].wait(30)
        return handler(event, context)

    return charge, events


def _race(second_key: str) -> tuple[LocalService, ServiceRun, ServiceRun, int]:
    """One order's command executed as `first` and, at once, under `second_key` as `second`.

    `first` reserves the only stock, then `second` gets as far as its payment, then `first`
    fails at its payment and compensates, then `second` goes on.
    """
    service, _ = _service(stock=QUANTITY)
    command = order("o-race", SKU)
    charge, events = _interleaved(service.handlers["ChargePayment"])
    service.handlers["ChargePayment"] = charge
    runs: dict[str, ServiceRun] = {}

    def run(name: str, key: str) -> None:
        try:
            runs[name] = service.execute("PlaceOrder", command, _meta(service, key), name=name)
        finally:
            events[name].set()  # a second that never got to its payment lets the first go on

    first = threading.Thread(target=run, args=("first", "key-race"))
    first.start()
    assert events["first"].wait(30)
    second = threading.Thread(target=run, args=("second", second_key))
    second.start()
    first.join(30)
    events["first-done"].set()
    second.join(30)
    return service, runs["first"], runs["second"], stock_level(service.event_store, TENANT, SKU)


def test_another_command_for_the_same_order_reserves_its_own_stock() -> None:
    # GIVEN a second command (another idempotency key) placing the same order at once
    service, first, second, level = _race(second_key="key-other")

    # THEN it found no stock of its own to reserve: nothing is confirmed on released stock
    assert (first.status, first.execution.error) == ("FAILED", "_Blocked")
    assert (second.status, second.execution.error) == ("FAILED", "OutOfStock")
    assert "OrderConfirmed" not in _types(service, "Order", "o-race")
    assert level == QUANTITY


def test_a_second_execution_of_the_command_never_acts_on_what_the_first_one_undid() -> None:
    # GIVEN the same command executed twice at once; the first fails after the second saw its
    # reservation
    service, first, second, level = _race(second_key="key-race")

    # THEN the second neither charges nor confirms on the stock the first released
    assert (first.status, first.execution.error) == ("FAILED", "_Blocked")
    assert second.status == "FAILED"
    assert "OrderConfirmed" not in _types(service, "Order", "o-race")
    assert _types(service, "Payment", "o-race") == []
    assert level == QUANTITY
    # ... so another order gets the stock, and the units are sold once
    other = service.execute("PlaceOrder", order("o-other", SKU))
    assert other.status == "SUCCEEDED"
    assert stock_level(service.event_store, TENANT, SKU) == 0


def test_a_command_executed_again_after_it_was_compensated_stops_at_its_first_step() -> None:
    # GIVEN a command whose first execution was compensated (its payment was declined)
    service, notifier = _service()
    meta = _meta(service, "key-again")
    command = order("o-again", SKU)
    command["paymentToken"] = "tok_decline"
    first = service.execute("PlaceOrder", command, meta, name="first")
    assert first.execution.error == "PaymentDeclined"

    # WHEN it is executed again
    again = service.execute("PlaceOrder", command, meta, name="again")

    # THEN the second execution does not take the undone reservation for its own: it stops,
    # fenced, at its first step, and nothing more happens to the command
    assert (again.status, again.execution.error) == ("FAILED", FENCED_ERROR)
    assert again.path[:3] == ("Begin", "ReserveStock", "CompensateReserveStock")
    assert again.events == ()
    assert stock_level(service.event_store, TENANT, SKU) == STOCK
    assert [m.subject for _, m, _ in notifier.sent] == ["Order o-again could not be placed"]
