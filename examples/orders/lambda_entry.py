"""The reference service's deployed Lambda handlers: one per saga handler name, and its trigger.

Configure each task Lambda function with Handler
`stepsaga.examples.orders.lambda_entry.<HandlerName>` (`...lambda_entry.ReserveStock`, ...) and
the environment variables documented in `stepsaga.infra.aws.lambda_entry_points`; the API
Gateway trigger with Handler `stepsaga.examples.orders.lambda_entry.Trigger` and the variables
documented in `stepsaga.infra.aws.trigger`. Clients are built on the first invocation.
"""

from __future__ import annotations

from stepsaga.examples.orders.handlers import HANDLERS
from stepsaga.examples.orders.sagas import SAGAS
from stepsaga.infra.aws import lambda_entry_points
from stepsaga.infra.aws.trigger import trigger_entry_point

_ENTRY_POINTS = lambda_entry_points(HANDLERS, service="orders")

ReserveStock = _ENTRY_POINTS["ReserveStock"]
ReleaseStock = _ENTRY_POINTS["ReleaseStock"]
ChargePayment = _ENTRY_POINTS["ChargePayment"]
RefundPayment = _ENTRY_POINTS["RefundPayment"]
ConfirmOrder = _ENTRY_POINTS["ConfirmOrder"]
NotifyCustomer = _ENTRY_POINTS["NotifyCustomer"]
NotifyOrderFailed = _ENTRY_POINTS["NotifyOrderFailed"]
Trigger = trigger_entry_point(SAGAS, service="orders")

__all__ = (
    "ChargePayment",
    "ConfirmOrder",
    "NotifyCustomer",
    "NotifyOrderFailed",
    "RefundPayment",
    "ReleaseStock",
    "ReserveStock",
    "Trigger",
)
