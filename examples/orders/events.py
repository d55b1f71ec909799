"""The reference service's events, and the stock level they add up to.

Streams: one `Stock` stream per SKU (its stock arrivals, reservations and releases), one
`Payment` stream and one `Order` stream per order.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from pydantic import Field, JsonValue

from stepsaga.domain import DomainEvent, RecordedEvent
from stepsaga.examples.orders.commands import OrderLine
from stepsaga.tasks import Projection

__all__ = (
    "ORDER",
    "PAYMENT",
    "STOCK",
    "STOCK_LEVEL",
    "ChargeDeclined",
    "OrderConfirmed",
    "OrderRejected",
    "PaymentCharged",
    "PaymentRefunded",
    "StockAdded",
    "StockReleased",
    "StockReserved",
    "available_stock",
    "held_by",
)

STOCK = "Stock"
PAYMENT = "Payment"
ORDER = "Order"


class StockAdded(DomainEvent):
    """Units of a SKU arrived (how the demo and tests seed stock)."""

    sku: str
    quantity: int = Field(gt=0)


class StockReserved(DomainEvent):
    """Units of a SKU were set aside for an order."""

    sku: str
    order_id: str
    quantity: int = Field(gt=0)


class StockReleased(DomainEvent):
    """An order's reserved units went back to stock (its saga failed)."""

    sku: str
    order_id: str
    quantity: int = Field(gt=0)
    reason: str


class PaymentCharged(DomainEvent):
    """The order's payment was taken."""

    order_id: str
    payment_id: str
    amount: Decimal


class ChargeDeclined(DomainEvent):
    """The payment provider declined the order's payment."""

    order_id: str
    amount: Decimal
    reason: str


class PaymentRefunded(DomainEvent):
    """A charge was given back (its saga failed after charging)."""

    order_id: str
    payment_id: str
    amount: Decimal


class OrderConfirmed(DomainEvent):
    """The order stands: stock reserved and payment taken."""

    order_id: str
    customer_email: str
    lines: tuple[OrderLine, ...]
    total: Decimal
    payment_id: str


class OrderRejected(DomainEvent):
    """The order failed; everything done for it was undone."""

    order_id: str
    error: str
    reason: str


def _quantity(recorded: RecordedEvent) -> int:
    quantity = recorded.event.payload.get("quantity")
    return quantity if isinstance(quantity, int) else 0


def _level_after(level: int, recorded: RecordedEvent) -> int:
    if recorded.event.type in (StockAdded.event_type, StockReleased.event_type):
        return level + _quantity(recorded)
    if recorded.event.type == StockReserved.event_type:
        return level - _quantity(recorded)
    return level


def _level(value: JsonValue) -> int:
    if not isinstance(value, int):
        raise ValueError(f"a stock-level snapshot holds an int, not {value!r}")
    return value


STOCK_LEVEL: Projection[int] = Projection(
    name="stock-level/1", initial=0, apply=_level_after, load=_level
)
"""Units of a SKU free to reserve, folded from its `Stock` stream and snapshotted: a hot SKU's
level is read from its snapshot and the few events after it."""


def available_stock(history: Iterable[RecordedEvent]) -> int:
    """Units of a SKU free to reserve, from its `Stock` stream's whole history."""
    level = 0
    for recorded in history:
        level = _level_after(level, recorded)
    return level


def held_by(history: Iterable[RecordedEvent], order_id: str) -> int:
    """Units of a SKU an order holds: reserved for it and not released."""
    held = 0
    for recorded in history:
        if recorded.event.payload.get("orderId") != order_id:
            continue
        if recorded.event.type == StockReserved.event_type:
            held += _quantity(recorded)
        elif recorded.event.type == StockReleased.event_type:
            held -= _quantity(recorded)
    return held
