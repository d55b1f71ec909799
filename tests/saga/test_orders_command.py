"""The reference `PlaceOrder` command accepts well-formed orders and names what is wrong."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from stepsaga.examples.orders.commands import PaymentDeclined, PlaceOrder


def _order(**changes: Any) -> dict[str, Any]:
    order: dict[str, Any] = {
        "orderId": "o-1",
        "customerEmail": "ada@example.com",
        "items": [{"sku": "BOOK-1", "quantity": 2, "unitPrice": "12.50"}],
        "paymentToken": "tok_visa",
    }
    return {**order, **changes}


def test_camel_case_json_round_trips_with_exact_decimal_prices() -> None:
    command = PlaceOrder.model_validate(_order())
    assert command.items[0].unit_price == Decimal("12.50")
    assert command.total() == Decimal("25.00")
    assert command.model_dump(mode="json") == _order(
        items=[{"sku": "BOOK-1", "quantity": 2, "unitPrice": "12.50"}]
    )


@pytest.mark.parametrize(
    ("changes", "where"),
    [
        ({"items": [{"sku": "B", "quantity": 0, "unitPrice": "1"}]}, "items.0.quantity"),
        ({"items": [{"sku": "B", "quantity": 1, "unitPrice": "-1"}]}, "items.0.unitPrice"),
        ({"items": []}, "items"),
        ({"customerEmail": "not-an-email"}, "customerEmail"),
        ({"paymentToken": ""}, "paymentToken"),
    ],
)
def test_invalid_orders_name_the_offending_field(changes: dict[str, Any], where: str) -> None:
    with pytest.raises(ValidationError) as caught:
        PlaceOrder.model_validate(_order(**changes))
    locations = {".".join(str(p) for p in e["loc"]) for e in caught.value.errors()}
    assert where in locations


def test_payment_declined_is_a_business_failure_named_for_step_functions() -> None:
    assert PaymentDeclined("card refused").name == "PaymentDeclined"
