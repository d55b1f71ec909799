"""The reference saga's scenarios, run the same way on every backend: the embedded engine with
its handlers in-process, the embedded engine calling them over the local Lambda endpoint, and
Step Functions Local in a container calling that endpoint."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stepsaga.examples.orders.handlers import HANDLERS, seed_stock, stock_level
from stepsaga.examples.orders.sagas import PLACE_ORDER
from stepsaga.infra.local.stepfunctions_local import FUNCTION_ARN_PREFIX
from stepsaga.tasks import InMemoryEventStore, InMemoryNotifier, TaskRuntime
from stepsaga.workflows.saga import FunctionNames, compile_saga

DEFINITION = compile_saga(PLACE_ORDER, FunctionNames.local(prefix=FUNCTION_ARN_PREFIX)).to_dict()


@dataclass
class Outcome:
    status: str
    error: str | None


# (machine name, definition, input) -> outcome
Runner = Callable[[str, dict[str, Any], dict[str, Any]], Outcome]


class World:
    """The handlers on in-memory stores, seeded with stock."""

    def __init__(self) -> None:
        self.store = InMemoryEventStore()
        self.notifier = InMemoryNotifier()
        seed_stock(self.store, "acme", "KEYBOARD-42", 10)
        runtime = TaskRuntime(event_store=self.store, notifier=self.notifier, service="orders")
        self.handlers = runtime.handlers(HANDLERS)

    def stock(self) -> int:
        return stock_level(self.store, "acme", "KEYBOARD-42")


def order(order_id: str, token: str) -> dict[str, Any]:
    return {
        "command": {
            "orderId": order_id,
            "customerEmail": "ann@example.com",
            "items": [{"sku": "KEYBOARD-42", "quantity": 3, "unitPrice": "49.90"}],
            "paymentToken": token,
        },
        "meta": {
            "tenant": "acme",
            "commandId": f"cmd-{order_id}",
            "commandType": "PlaceOrder",
            "requestedBy": "user-1",
            "idempotencyKey": f"idem-{order_id}",
        },
    }


def check_an_order_that_succeeds(world: World, run: Runner) -> None:
    outcome = run("PlaceOrder", DEFINITION, order("o-1", "tok_ok"))
    assert (outcome.status, outcome.error) == ("SUCCEEDED", None)
    assert world.stock() == 7
    assert len(world.notifier.sent) == 1


def check_a_declined_payment_compensates(world: World, run: Runner) -> None:
    outcome = run("PlaceOrder", DEFINITION, order("o-2", "tok_decline"))
    assert (outcome.status, outcome.error) == ("FAILED", "PaymentDeclined")
    assert world.stock() == 10  # the reservation was released
    assert len(world.notifier.sent) == 1  # the failure mail
