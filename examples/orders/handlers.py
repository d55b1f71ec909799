"""The step handlers of the `PlaceOrder` saga, one per Lambda function.

Each handler is a plain function `(command: PlaceOrder, ctx: StepContext) -> result`.
`HANDLERS` maps the saga's handler names to them; `TaskRuntime(...).handlers(HANDLERS)` turns
them into Lambda handlers.

Every handler is safe to run again after a crash or a timeout at any point, and in a second
execution of the same command: events get ids derived from the command and read-modify-write
goes through `ctx.decide`, mails go through an idempotent notifier. Compensations also run
after their own step failed (its work may have landed before the failure), so they undo what
the event store shows *this command's* action did (found by its event ids,
`ctx.appended_by`; its charge has a payment id derived from the command), not what a step
reported, and are no-ops when there is nothing to undo.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, ValidationError

from stepsaga.domain import (
    WIRE_MODEL_CONFIG,
    BusinessFailure,
    DomainEvent,
    RecordedEvent,
    StoredEvent,
    StreamId,
)
from stepsaga.examples.orders.commands import DECLINED_PAYMENT_TOKEN, PaymentDeclined, PlaceOrder
from stepsaga.examples.orders.events import (
    ORDER,
    PAYMENT,
    STOCK,
    STOCK_LEVEL,
    ChargeDeclined,
    OrderConfirmed,
    OrderRejected,
    PaymentCharged,
    PaymentRefunded,
    StockAdded,
    StockReleased,
    StockReserved,
    held_by,
)
from stepsaga.tasks import (
    EmailTemplate,
    EventStore,
    InvalidStepInput,
    StepContext,
    StepFunction,
    fold,
)

__all__ = (
    "CONFIRMATION_MAIL",
    "FAILURE_MAIL",
    "HANDLERS",
    "MailResult",
    "OrderConfirmation",
    "OutOfStock",
    "PaymentResult",
    "Refund",
    "Release",
    "ReservedLine",
    "StockReservation",
    "charge_payment",
    "confirm_order",
    "notify_customer",
    "notify_order_failed",
    "refund_payment",
    "release_stock",
    "reserve_stock",
    "seed_stock",
    "stock_level",
)


class OutOfStock(BusinessFailure):
    """Not enough stock for an order line: nothing stays reserved, the customer is told.

    Its Step Functions error name is `OutOfStock`.
    """


class _Result(BaseModel):
    # The commands' wire format, except that a field this version does not know is ignored:
    # a result may come from a newer version of the step, during a deployment.
    model_config = WIRE_MODEL_CONFIG | ConfigDict(extra="ignore")


class ReservedLine(_Result):
    """Units of one SKU held for the order, and the stock stream's version after the hold."""

    sku: str
    quantity: int
    version: int


class StockReservation(_Result):
    """`ReserveStock`'s result."""

    order_id: str
    lines: tuple[ReservedLine, ...]


class Release(_Result):
    """`ReleaseStock`'s result: what went back to stock, per SKU (empty if nothing was held)."""

    released: dict[str, int]


class PaymentResult(_Result):
    """`ChargePayment`'s result."""

    payment_id: str
    amount: Decimal


class Refund(_Result):
    """`RefundPayment`'s result: the refunded amount, or None if nothing was charged."""

    payment_id: str | None
    amount: Decimal | None


class OrderConfirmation(_Result):
    """`ConfirmOrder`'s result."""

    order_id: str
    total: Decimal
    payment_id: str
    version: int


class MailResult(_Result):
    """A notification's result."""

    message_id: str
    replayed: bool


CONFIRMATION_MAIL = EmailTemplate(
    subject="Order $order_id confirmed",
    text="Thank you! Your order $order_id is confirmed.\n\n$lines\nTotal: $total\n",
    html="<p>Thank you! Your order <b>$order_id</b> is confirmed.</p>"
    "<pre>$lines</pre><p>Total: <b>$total</b></p>",
)
FAILURE_MAIL = EmailTemplate(
    subject="Order $order_id could not be placed",
    text="We are sorry: your order $order_id could not be placed ($reason).\n"
    "Nothing was charged and no stock is held for it.\n",
    html="<p>We are sorry: your order <b>$order_id</b> could not be placed ($reason).</p>"
    "<p>Nothing was charged and no stock is held for it.</p>",
)


def _wanted(command: PlaceOrder) -> dict[str, int]:
    wanted: dict[str, int] = {}
    for line in command.items:
        wanted[line.sku] = wanted.get(line.sku, 0) + line.quantity
    return dict(sorted(wanted.items()))


def _stock_streams(command: PlaceOrder, ctx: StepContext) -> dict[str, StreamId]:
    # Every stream id is validated before anything is written, so a bad SKU in the third
    # line cannot leave the first two reserved.
    streams: dict[str, StreamId] = {}
    problems: list[tuple[str, str]] = []
    for index, line in enumerate(command.items):
        try:
            streams[line.sku] = ctx.stream(STOCK, line.sku)
        except ValidationError as invalid:
            problems.append((f"command.items.{index}.sku", invalid.errors()[0]["msg"]))
    if problems:
        raise InvalidStepInput(problems)
    return streams


def _release(
    ctx: StepContext, step: str, stream: StreamId, sku: str, order_id: str, reason: str
) -> list[RecordedEvent]:
    """Release what this command's reservation `step` holds in `stream` (nothing if nothing).

    What the step holds is read from its own events, found by id; the release is appended at
    the stream's head, from its snapshot: a hot SKU's stream is never read whole.
    """
    held = held_by(ctx.appended_by(step, stream), order_id)

    def decide(level: int) -> Sequence[DomainEvent]:
        if held <= 0:
            return []
        return [StockReleased(sku=sku, order_id=order_id, quantity=held, reason=reason)]

    return ctx.decide_from(stream, STOCK_LEVEL, decide)


def reserve_stock(command: PlaceOrder, ctx: StepContext) -> StockReservation:
    """Hold every line's units, SKU by SKU; all or nothing.

    Raises:
        OutOfStock: A SKU has fewer units free than the order needs (holds already taken by
            this step are released first).
        InvalidStepInput: A SKU cannot be a stream id (names `command.items.<i>.sku`).
    """
    streams = _stock_streams(command, ctx)
    lines: list[ReservedLine] = []
    for sku, quantity in _wanted(command).items():

        def decide(free: int, sku: str = sku, quantity: int = quantity) -> Sequence[DomainEvent]:
            # A retry, in this execution or another of the command, never gets here:
            # `decide_from` finds the reservation it made by its event id.
            if free < quantity:
                raise OutOfStock(
                    f"{sku}: {quantity} wanted, {free} available",
                    details={"sku": sku, "wanted": quantity, "available": free},
                )
            return [StockReserved(sku=sku, order_id=command.order_id, quantity=quantity)]

        try:
            recorded = ctx.decide_from(streams[sku], STOCK_LEVEL, decide)
        except OutOfStock:
            for line in lines:
                stream = streams[line.sku]
                _release(ctx, ctx.state.name, stream, line.sku, command.order_id, "OutOfStock")
            raise
        version = recorded[-1].version if recorded else ctx.version(streams[sku])
        lines.append(ReservedLine(sku=sku, quantity=quantity, version=version))
    return StockReservation(order_id=command.order_id, lines=tuple(lines))


def release_stock(command: PlaceOrder, ctx: StepContext) -> Release:
    """Compensation of `ReserveStock`: give back what this command reserved and still holds."""
    reason = ctx.error.name if ctx.error else "Compensation"
    step = ctx.compensated_step or ctx.state.name
    released: dict[str, int] = {}
    for sku, stream in sorted(_stock_streams(command, ctx).items()):
        for recorded in _release(ctx, step, stream, sku, command.order_id, reason):
            released[sku] = StockReleased.from_event(recorded.event).quantity
    return Release(released=released)


def _payment_id(ctx: StepContext, order_id: str) -> str:
    """The charge's id: one per command, the same in every attempt and execution of it."""
    return "pay_" + uuid.uuid5(uuid.NAMESPACE_URL, f"{ctx.command_key}/{order_id}").hex[:24]


def _charges(history: list[RecordedEvent]) -> dict[str, PaymentCharged]:
    """Charges not refunded, by payment id."""
    open_charges: dict[str, PaymentCharged] = {}
    for recorded in history:
        if recorded.event.type == PaymentCharged.event_type:
            charge = PaymentCharged.from_event(recorded.event)
            open_charges[charge.payment_id] = charge
        elif recorded.event.type == PaymentRefunded.event_type:
            open_charges.pop(str(recorded.event.payload["paymentId"]), None)
    return open_charges


def charge_payment(command: PlaceOrder, ctx: StepContext) -> PaymentResult:
    """Take the order's payment (simulated: the token `tok_decline` is declined).

    Raises:
        PaymentDeclined: The token was declined; a `ChargeDeclined` event records it.
    """
    stream = ctx.stream(PAYMENT, command.order_id)
    amount = command.total()
    declined = command.payment_token == DECLINED_PAYMENT_TOKEN

    mine = _payment_id(ctx, command.order_id)

    def decide(history: list[RecordedEvent]) -> Sequence[DomainEvent]:
        if mine in _charges(history):
            return []  # this command already charged it
        if declined:
            reason = "card declined"
            return [ChargeDeclined(order_id=command.order_id, amount=amount, reason=reason)]
        return [PaymentCharged(order_id=command.order_id, payment_id=mine, amount=amount)]

    ctx.decide(stream, decide)
    charge = _charges(ctx.read(stream)).get(mine)
    if charge is None:
        raise PaymentDeclined(
            "card declined",
            details={"orderId": command.order_id, "amount": str(amount)},
        )
    return PaymentResult(payment_id=charge.payment_id, amount=charge.amount)


def refund_payment(command: PlaceOrder, ctx: StepContext) -> Refund:
    """Compensation of `ChargePayment`: refund this command's open charge, if there is one.

    Nothing is recorded when nothing was charged (a declined card, a failure before the charge).
    """
    stream = ctx.stream(PAYMENT, command.order_id)
    mine = _payment_id(ctx, command.order_id)

    def decide(history: list[RecordedEvent]) -> Sequence[DomainEvent]:
        return [
            PaymentRefunded(order_id=c.order_id, payment_id=c.payment_id, amount=c.amount)
            for c in _charges(history).values()
            if c.payment_id == mine
        ]

    refunds = [PaymentRefunded.from_event(r.event) for r in ctx.decide(stream, decide)]
    if not refunds:
        return Refund(payment_id=None, amount=None)
    return Refund(payment_id=refunds[0].payment_id, amount=refunds[0].amount)


def confirm_order(command: PlaceOrder, ctx: StepContext) -> OrderConfirmation:
    """The pivot: record the order as confirmed."""
    payment = ctx.result("ChargePayment", PaymentResult)
    stream = ctx.stream(ORDER, command.order_id)

    def decide(history: list[RecordedEvent]) -> Sequence[DomainEvent]:
        if any(r.event.type == OrderConfirmed.event_type for r in history):
            return []
        return [
            OrderConfirmed(
                order_id=command.order_id,
                customer_email=command.customer_email,
                lines=command.items,
                total=command.total(),
                payment_id=payment.payment_id,
            )
        ]

    ctx.decide(stream, decide)
    return OrderConfirmation(
        order_id=command.order_id,
        total=command.total(),
        payment_id=payment.payment_id,
        version=ctx.version(stream),
    )


def _tags(ctx: StepContext, mail: str) -> dict[str, str]:
    return {"saga": ctx.meta.command_type, "mail": mail, "tenant": str(ctx.tenant)}


def notify_customer(command: PlaceOrder, ctx: StepContext) -> MailResult:
    """Mail the confirmation (once per command, however often it is retried or executed)."""
    lines = "\n".join(
        f"{line.quantity} x {line.sku} at {line.unit_price}" for line in command.items
    )
    message = CONFIRMATION_MAIL.render(
        command.customer_email,
        {"order_id": command.order_id, "lines": lines, "total": command.total()},
        tags=_tags(ctx, "confirmation"),
    )
    sent = ctx.send_email(message)
    return MailResult(message_id=sent.message_id, replayed=sent.replayed)


def _reason(ctx: StepContext) -> tuple[str, str]:
    """The failure's error name and a readable reason, from the caught error."""
    if ctx.error is None:
        return "Unknown", "unknown error"
    return ctx.error.name, ctx.error.message or ctx.error.name


def notify_order_failed(command: PlaceOrder, ctx: StepContext) -> MailResult:
    """After the compensations: record the rejection and mail the customer why.

    The mail gives the reason recorded with the rejection, so that every execution of the
    command sends the same mail (the notifier refuses one key for two different mails).
    """
    error, reason = _reason(ctx)
    stream = ctx.stream(ORDER, command.order_id)

    def decide(history: list[RecordedEvent]) -> Sequence[DomainEvent]:
        if any(r.event.type == OrderRejected.event_type for r in history):
            return []
        return [OrderRejected(order_id=command.order_id, error=error, reason=reason)]

    ctx.decide(stream, decide)
    rejections = [r for r in ctx.read(stream) if r.event.type == OrderRejected.event_type]
    if rejections:
        reason = OrderRejected.from_event(rejections[0].event).reason
    message = FAILURE_MAIL.render(
        command.customer_email,
        {"order_id": command.order_id, "reason": reason},
        tags=_tags(ctx, "failure"),
    )
    sent = ctx.send_email(message)
    return MailResult(message_id=sent.message_id, replayed=sent.replayed)


HANDLERS: dict[str, StepFunction] = {
    "ReserveStock": reserve_stock,
    "ReleaseStock": release_stock,
    "ChargePayment": charge_payment,
    "RefundPayment": refund_payment,
    "ConfirmOrder": confirm_order,
    "NotifyCustomer": notify_customer,
    "NotifyOrderFailed": notify_order_failed,
}
"""The saga's handler names (as `PLACE_ORDER.handlers()` lists them) to their functions."""


def seed_stock(store: EventStore, tenant: str, sku: str, quantity: int) -> RecordedEvent:
    """Add `quantity` units of `sku` to a tenant's stock (demo and test set-up).

    Raises:
        pydantic.ValidationError: The tenant or SKU cannot be a stream id.
    """
    stream = StreamId.of(tenant, STOCK, sku)
    added = StockAdded(sku=sku, quantity=quantity)
    event = StoredEvent(
        event_id=str(uuid.uuid4()),
        type=added.event_type,
        payload=added.model_dump(mode="json"),
        tenant=tenant,
        causation_id="seed",
    )
    (recorded,) = store.append(stream, [event], store.version(stream))
    return recorded


def stock_level(store: EventStore, tenant: str, sku: str) -> int:
    """Units of `sku` free to reserve in a tenant's stock (from its snapshot and the tail)."""
    return fold(store, StreamId.of(tenant, STOCK, sku), STOCK_LEVEL).state
