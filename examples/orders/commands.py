"""The reference service's command: `PlaceOrder`, and the business failure its saga may meet."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, WithJsonSchema

from stepsaga.domain import WIRE_MODEL_CONFIG, BusinessFailure, Command

#: The payment token the reference payment handler declines, to show a compensating saga.
DECLINED_PAYMENT_TOKEN = "tok_decline"


class OrderLine(BaseModel):
    """One line of an order.

    Attributes:
        sku: The stock-keeping unit ordered.
        quantity: How many (at least one).
        unit_price: Price of one unit, a decimal amount (JSON `unitPrice`).
    """

    model_config = WIRE_MODEL_CONFIG

    # A SKU names its own stock stream, so it obeys the stream-id rules (no `#`, no spaces).
    sku: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    quantity: int = Field(gt=0)
    # The schema says what the model accepts: pydantic's own says only "a number or a string",
    # and API clients (and schemathesis) take it at its word. A decimal string, or a number.
    unit_price: Annotated[
        Decimal,
        Field(ge=0, max_digits=12, decimal_places=2),
        WithJsonSchema({"type": "string", "pattern": r"^\d{1,10}(\.\d{1,2})?$"}),
    ]


class PlaceOrder(Command):
    """Place an order: reserve its stock, charge its payment, confirm it and tell the customer.

    Attributes:
        order_id: The order's id, chosen by the client (JSON `orderId`).
        customer_email: Where the confirmation or failure mail goes (JSON `customerEmail`).
        items: The order lines; at least one.
        payment_token: The payment method's token (JSON `paymentToken`); `tok_decline` is declined.
    """

    order_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    # U+0085 is whitespace to pydantic's regex engine and not to JavaScript's (the OpenAPI
    # schema's dialect): named, so that both read the pattern alike.
    customer_email: str = Field(
        max_length=254, pattern=r"^[^@\s\u0085]+@[^@\s\u0085]+\.[^@\s\u0085]+$"
    )
    items: tuple[OrderLine, ...] = Field(min_length=1)
    payment_token: str = Field(min_length=1, max_length=256)

    def total(self) -> Decimal:
        """The order's total: the sum of quantity times unit price over its lines."""
        return sum((line.unit_price * line.quantity for line in self.items), Decimal("0"))


class PaymentDeclined(BusinessFailure):
    """The payment was declined: the saga releases the stock and tells the customer.

    Its Step Functions error name is `PaymentDeclined`.
    """
