"""The reference PlaceOrder handlers, driven with the envelopes the compiled saga sends."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from stepsaga.domain import StreamId
from stepsaga.examples.orders.handlers import HANDLERS, seed_stock, stock_level
from stepsaga.examples.orders.sagas import PLACE_ORDER
from stepsaga.tasks import (
    InMemoryEventStore,
    InMemoryNotifier,
    InvalidStepInput,
    LambdaHandler,
    TaskFailed,
    TaskRuntime,
)
from tests.tasks.envelopes import EXECUTION, envelope

TENANT = "acme"


def order(order_id: str = "o-1", token: str = "tok_visa", **quantities: int) -> dict[str, Any]:
    lines = quantities or {"SKU-1": 2}
    return {
        "orderId": order_id,
        "customerEmail": "ann@example.com",
        "items": [
            {"sku": sku.replace("_", "-"), "quantity": q, "unitPrice": "9.50"}
            for sku, q in lines.items()
        ],
        "paymentToken": token,
    }


@pytest.fixture
def store() -> InMemoryEventStore:
    store = InMemoryEventStore()
    seed_stock(store, TENANT, "SKU-1", 10)
    seed_stock(store, TENANT, "SKU-2", 1)
    return store


@pytest.fixture
def notifier() -> InMemoryNotifier:
    return InMemoryNotifier()


@pytest.fixture
def handlers(store: InMemoryEventStore, notifier: InMemoryNotifier) -> dict[str, LambdaHandler]:
    return TaskRuntime(event_store=store, notifier=notifier, service="orders").handlers(HANDLERS)


def types(store: InMemoryEventStore, aggregate: str, aggregate_id: str) -> list[str]:
    return [r.event.type for r in store.read(StreamId.of(TENANT, aggregate, aggregate_id))]


def test_every_handler_the_saga_names_exists() -> None:
    assert set(PLACE_ORDER.handlers()) == set(HANDLERS)


def test_an_order_that_succeeds_reserves_charges_confirms_and_mails(
    handlers: dict[str, LambdaHandler], store: InMemoryEventStore, notifier: InMemoryNotifier
) -> None:
    command = order()
    results: dict[str, Any] = {}
    for state in ("ReserveStock", "ChargePayment", "ConfirmOrder", "NotifyCustomer"):
        results[state] = handlers[state](envelope(command, state=state, results=results), None)

    assert stock_level(store, TENANT, "SKU-1") == 8
    assert results["ReserveStock"]["lines"] == [{"sku": "SKU-1", "quantity": 2, "version": 2}]
    assert results["ChargePayment"]["amount"] == "19.00"
    assert types(store, "Payment", "o-1") == ["PaymentCharged"]
    assert types(store, "Order", "o-1") == ["OrderConfirmed"]
    ((tenant, mail, sent),) = notifier.sent
    assert tenant == TENANT
    assert mail.to == ("ann@example.com",)
    assert mail.subject == "Order o-1 confirmed"
    assert "Total: 19.00" in mail.text
    assert mail.tags == {"saga": "PlaceOrder", "mail": "confirmation", "tenant": TENANT}
    assert results["NotifyCustomer"] == {"messageId": sent.message_id, "replayed": False}


def test_a_declined_payment_fails_with_its_name_and_is_compensated(
    handlers: dict[str, LambdaHandler], store: InMemoryEventStore, notifier: InMemoryNotifier
) -> None:
    command = order(token="tok_decline")
    reserved = handlers["ReserveStock"](envelope(command, state="ReserveStock"), None)

    with pytest.raises(TaskFailed) as raised:
        handlers["ChargePayment"](
            envelope(command, state="ChargePayment", results={"ReserveStock": reserved}), None
        )
    assert type(raised.value).__name__ == "PaymentDeclined"

    error = {
        "Error": "PaymentDeclined",
        "Cause": json.dumps({"errorMessage": str(raised.value), "errorType": "PaymentDeclined"}),
    }
    handlers["ReleaseStock"](envelope(command, state="CompensateReserveStock", error=error), None)
    handlers["NotifyOrderFailed"](envelope(command, state="NotifyOrderFailed", error=error), None)

    assert stock_level(store, TENANT, "SKU-1") == 10
    assert types(store, "Stock", "SKU-1") == ["StockAdded", "StockReserved", "StockReleased"]
    assert types(store, "Payment", "o-1") == ["ChargeDeclined"]
    assert types(store, "Order", "o-1") == ["OrderRejected"]
    ((_, mail, _),) = notifier.sent
    assert mail.subject == "Order o-1 could not be placed"
    assert "card declined" in mail.text


def test_out_of_stock_on_one_line_leaves_nothing_reserved(
    handlers: dict[str, LambdaHandler], store: InMemoryEventStore
) -> None:
    command = order(SKU_1=3, SKU_2=2)  # only 1 of SKU-2

    with pytest.raises(TaskFailed) as raised:
        handlers["ReserveStock"](envelope(command, state="ReserveStock"), None)

    assert type(raised.value).__name__ == "OutOfStock"
    assert raised.value.details == {"sku": "SKU-2", "wanted": 2, "available": 1}
    assert stock_level(store, TENANT, "SKU-1") == 10
    assert stock_level(store, TENANT, "SKU-2") == 1


def test_a_retried_reservation_holds_stock_once(
    handlers: dict[str, LambdaHandler], store: InMemoryEventStore
) -> None:
    command = order(SKU_1=3, SKU_2=1)
    first = handlers["ReserveStock"](envelope(command, state="ReserveStock"), None)

    again = handlers["ReserveStock"](envelope(command, state="ReserveStock", retry_count=1), None)

    assert again == first
    assert stock_level(store, TENANT, "SKU-1") == 7
    assert stock_level(store, TENANT, "SKU-2") == 0


def test_compensations_undo_once_and_are_no_ops_when_nothing_happened(
    handlers: dict[str, LambdaHandler], store: InMemoryEventStore
) -> None:
    command = order()
    error = {"Error": "States.Timeout", "Cause": "timed out"}
    # A command whose reservation never happened: its compensation releases nothing
    nothing = envelope(command, state="CompensateReserveStock", error=error, execution="e-none")
    assert handlers["ReleaseStock"](nothing, None) == {"released": {}}
    # A command that reserved: its compensation releases it, once however often it runs
    handlers["ReserveStock"](envelope(command, state="ReserveStock"), None)
    compensate = envelope(command, state="CompensateReserveStock", error=error)
    assert handlers["ReleaseStock"](compensate, None) == {"released": {"SKU-1": 2}}
    retried = envelope(command, state="CompensateReserveStock", error=error, retry_count=1)
    assert handlers["ReleaseStock"](retried, None) == {"released": {"SKU-1": 2}}

    assert stock_level(store, TENANT, "SKU-1") == 10
    assert types(store, "Stock", "SKU-1").count("StockReleased") == 1


def test_a_refund_gives_back_the_charge_once(
    handlers: dict[str, LambdaHandler], store: InMemoryEventStore
) -> None:
    command = order()
    refund = envelope(command, state="CompensateChargePayment")
    assert handlers["RefundPayment"](refund, None) == {"paymentId": None, "amount": None}

    charged = handlers["ChargePayment"](envelope(command, state="ChargePayment"), None)
    refunded = handlers["RefundPayment"](refund, None)
    handlers["RefundPayment"](refund, None)

    assert refunded == {"paymentId": charged["paymentId"], "amount": "19.00"}
    assert types(store, "Payment", "o-1") == ["PaymentCharged", "PaymentRefunded"]


def test_a_retried_notification_mails_once(
    handlers: dict[str, LambdaHandler], notifier: InMemoryNotifier
) -> None:
    command = order()
    first = handlers["NotifyCustomer"](envelope(command, state="NotifyCustomer"), None)
    again = handlers["NotifyCustomer"](
        envelope(command, state="NotifyCustomer", retry_count=3), None
    )

    assert len(notifier.sent) == 1
    assert again == {"messageId": first["messageId"], "replayed": True}


def test_the_customer_cannot_inject_html_into_the_mail(
    handlers: dict[str, LambdaHandler], notifier: InMemoryNotifier
) -> None:
    command = order()
    error = {"Error": "OutOfStock", "Cause": "<script>alert(1)</script>"}

    handlers["NotifyOrderFailed"](envelope(command, state="NotifyOrderFailed", error=error), None)

    ((_, mail, _),) = notifier.sent
    assert mail.html is not None
    assert "<script>" not in mail.html
    assert "&lt;script&gt;" in mail.html


def test_a_sku_that_cannot_be_a_stream_is_refused_before_anything_is_written(
    handlers: dict[str, LambdaHandler], store: InMemoryEventStore
) -> None:
    command = order()
    command["items"].append({"sku": "bad#sku", "quantity": 1, "unitPrice": "1.00"})

    with pytest.raises(InvalidStepInput) as raised:
        handlers["ReserveStock"](envelope(command, state="ReserveStock"), None)

    assert raised.value.field == "command.items.1.sku"
    assert stock_level(store, TENANT, "SKU-1") == 10


def test_concurrent_orders_never_oversell(store: InMemoryEventStore) -> None:
    # GIVEN 4 units of a SKU and 12 orders for one unit each, reserved concurrently
    seed_stock(store, TENANT, "HOT", 4)
    runtime = TaskRuntime(event_store=store, service="orders")
    reserve = runtime.handler(HANDLERS["ReserveStock"], name="ReserveStock")

    def attempt(n: int) -> str:
        command = order(f"o-{n}", HOT=1)
        run = envelope(command, state="ReserveStock", execution=f"{EXECUTION}-{n}")
        for retry in range(20):  # what the ASL Retry would do for Saga.Retryable
            run["state"]["retryCount"] = retry
            try:
                reserve(run, None)
                return "reserved"
            except TaskFailed as failed:
                if failed.error_name != "Saga.Retryable":
                    return failed.error_name
        return "gave up"

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(attempt, range(12)))

    # THEN exactly 4 are reserved and the others are out of stock
    assert outcomes.count("reserved") == 4
    assert outcomes.count("OutOfStock") == 8
    assert stock_level(store, TENANT, "HOT") == 0
    versions = [r.version for r in store.read(StreamId.of(TENANT, "Stock", "HOT"))]
    assert versions == list(range(1, 6))
