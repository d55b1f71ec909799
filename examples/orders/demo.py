"""The reference service's demo (`stepsaga demo`): one order succeeds, one is compensated.

Both orders buy two units of `DEMO_SKU`, of which the demo first adds ten. The first pays with
a good card and runs every step; the second's payment (`tok_decline`) is declined, so the
payment's own compensation runs (it refunds nothing: nothing was charged), its stock
reservation is released and the customer told.
"""

from __future__ import annotations

from stepsaga.examples.orders.commands import DECLINED_PAYMENT_TOKEN
from stepsaga.examples.orders.handlers import seed_stock, stock_level
from stepsaga.infra.project import Demo, Scenario
from stepsaga.tasks import EventStore

__all__ = ("DEMO", "DEMO_SKU")

DEMO_SKU = "KEYBOARD-42"
"""The SKU both demo orders buy."""


def _order(order_id: str, payment_token: str) -> dict[str, object]:
    return {
        "orderId": order_id,
        "customerEmail": "ann@example.com",
        "items": [{"sku": DEMO_SKU, "quantity": 2, "unitPrice": "49.90"}],
        "paymentToken": payment_token,
    }


def _seed(store: EventStore, tenant: str) -> None:
    seed_stock(store, tenant, DEMO_SKU, 10)


def _stock_left(store: EventStore, tenant: str) -> str:
    return f"stock of {DEMO_SKU} now {stock_level(store, tenant, DEMO_SKU)}"


DEMO = Demo(
    scenarios=(
        Scenario("order-succeeds", "PlaceOrder", _order("o-1001", "tok_visa")),
        Scenario("payment-declined", "PlaceOrder", _order("o-1002", DECLINED_PAYMENT_TOKEN)),
    ),
    seed=_seed,
    summary=_stock_left,
)
"""The two orders, the stock they need, and the stock left after each."""
