"""The reference service's saga: `PlaceOrder`, from stock reservation to the customer's mail.

Steps, in order: `ReserveStock` (undone by `ReleaseStock`), `ChargePayment` (undone by
`RefundPayment`; a declined payment is the business failure `PaymentDeclined`), `ConfirmOrder`
(the pivot: once it succeeds the order stands, so it is retried until it succeeds),
`NotifyCustomer` (the confirmation mail, retried until it is sent). If a step before the pivot
fails for good, its own compensation runs (its work may have landed before it failed: a late
answer, a crash after the append), then those of the steps before it, latest first, and
`NotifyOrderFailed` records the rejection and mails the customer before the execution fails with
the original error. Every handler is idempotent, so timed-out attempts are retried.
"""

from __future__ import annotations

from stepsaga.examples.orders.commands import PlaceOrder
from stepsaga.workflows.saga import UNTIL_SUCCESS, Notification, RetryPolicy, Saga, Step

PLACE_ORDER = Saga(
    name="PlaceOrder",
    command=PlaceOrder,
    steps=(
        Step(
            "ReserveStock",
            action="ReserveStock",
            compensation="ReleaseStock",
            retry=RetryPolicy(interval=1, max_attempts=3, backoff_rate=2.0, jitter="FULL"),
            timeout=30,
        ),
        Step(
            "ChargePayment",
            action="ChargePayment",
            compensation="RefundPayment",
            retry=RetryPolicy(
                interval=2, max_attempts=4, backoff_rate=2.0, max_delay=20, jitter="FULL"
            ),
            timeout=30,
        ),
        # The pivot's default, spelled out: it may have committed, so it never gives up.
        Step("ConfirmOrder", action="ConfirmOrder", retry=UNTIL_SUCCESS, timeout=30),
        Notification("NotifyCustomer", action="NotifyCustomer", timeout=30),
    ),
    pivot="ConfirmOrder",
    on_failure=Notification("NotifyOrderFailed", action="NotifyOrderFailed", timeout=30),
    timeout=3600,
)

#: The service's sagas, as the command line finds them (`stepsaga render PlaceOrder`).
SAGAS: tuple[Saga, ...] = (PLACE_ORDER,)
