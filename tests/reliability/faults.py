"""Fault schedules for the reference saga, how to inject them, and the invariants to check.

A schedule gives each handler of `PlaceOrder` one fault. Faults are injected the way they
happen on AWS:

- `business`: the step refuses (a business failure, not retried) before doing anything;
- `retryable`: the step answers `Saga.Retryable` on every attempt (`times` 0), or on the
  first `times` attempts and then works;
- `crash`: the step does its work (appends, sends), then the function dies before answering;
  the Lambda service reports `Lambda.ServiceException` and Step Functions retries;
- `timeout`: the attempt overruns the Task's `TimeoutSeconds` on the virtual clock (a real
  `States.Timeout`) without having done its work; retried, since steps are idempotent;
- `late`: like `timeout`, but the function did its work before Step Functions gave up on it
  (a slow Lambda keeps running after its Task timed out);
- `exit`: the function does its work, then its runtime dies (`Runtime.ExitError`; retried
  from the pivot on and in compensations, caught before it);
- `stale`: the attempt is still running when Step Functions times it out (the first one, or
  the first `times`); the first does its work only after the execution has ended
  (`release_parked` runs it then): a late writer, which must leave the store as it found it
  if the command was compensated meanwhile.

`crash`, `timeout`, `late` and `exit` hit the first attempt only, or the first `times`
attempts (`EVERY` for all of them). A step before the pivot that fails for good after its
work landed is undone by its own compensation; the pivot and later steps never give up, so a
fault on every attempt there ends in the saga's timeout: see `test_failed_step_effects.py`.

`business` faults go through the engine's mock hook; the others wrap the real handler.

A `Plan` adds to a schedule a second execution of the same command (`again`: after the first
ended, under another execution name; `during`: while the first runs, started from the first's
attempt at its `host` step) and, last, another command under the first's execution name
(`clash`, which must be refused before it runs). Faults hit the first execution only. Every
action of the audited service (`audited`) also notes its state in an `Audit` stream at the
version it reads (`expected_version=ctx.version(...)`): a retry after a crash appends at a
version it read again, and the note must still be stored once.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from stepsaga.domain import DomainEvent, RecordedEvent, StreamId
from stepsaga.examples.orders.commands import PlaceOrder
from stepsaga.examples.orders.events import held_by
from stepsaga.examples.orders.handlers import seed_stock
from stepsaga.examples.orders.sagas import PLACE_ORDER
from stepsaga.infra.local.service import LocalService, ServiceRun
from stepsaga.infra.local.stepfunctions import ExecutionAlreadyExists, TaskCall, TaskOutcome
from stepsaga.tasks import LambdaHandler, StepContext, StepFunction, TaskFailed
from stepsaga.workflows.saga import DEFAULT_RETRY, FENCED_ERROR, RETRYABLE_ERROR, TRANSIENT_RETRY

ACTIONS = ("ReserveStock", "ChargePayment", "ConfirmOrder", "NotifyCustomer")
COMPENSABLE = {"ReserveStock": "CompensateReserveStock", "ChargePayment": "CompensateChargePayment"}
#: Steps whose retries run out (the ones before the pivot).
FINITE_RETRIES = ("ReserveStock", "ChargePayment")
#: Steps that retry every error until they succeed or the saga times out.
UNTIL_SUCCESS_STEPS = ("ConfirmOrder", "NotifyCustomer")
#: `Fault.times` for a fault on every attempt.
EVERY = 1000
#: The outcome of a saga whose pivot or later step never succeeds.
TIMED_OUT = "TIMED_OUT"
#: The Task state each handler runs in.
STATE_OF = {
    "ReserveStock": "ReserveStock",
    "ChargePayment": "ChargePayment",
    "ConfirmOrder": "ConfirmOrder",
    "NotifyCustomer": "NotifyCustomer",
    "ReleaseStock": "CompensateReserveStock",
    "RefundPayment": "CompensateChargePayment",
    "NotifyOrderFailed": "NotifyOrderFailed",
}
BUSINESS_ERROR = "OrderBlocked"
CRASH_ERROR = "Lambda.ServiceException"
EXIT_ERROR = "Runtime.ExitError"
TENANT = "acme"
QUANTITY = 2
STOCK = 10


@dataclass(frozen=True)
class Fault:
    """One handler's fault: its kind and how many attempts it hits (see the module docstring)."""

    kind: str = "none"
    times: int = 0


Schedule = dict[str, Fault]


def _error_class(name: str) -> type[Exception]:
    # The engine names a handler's error after the exception's class, as AWS does.
    return type(name, (Exception,), {})


_CRASH = _error_class(CRASH_ERROR)
_EXIT = _error_class(EXIT_ERROR)


def _wrap(
    handler: LambdaHandler,
    fault: Fault,
    primary: str | None = None,
    parked: list[tuple[LambdaHandler, Any, Any]] | None = None,
) -> LambdaHandler:
    def faulty(event: Any, context: Any) -> Any:
        if primary is not None and event["execution"]["name"] != primary:
            return handler(event, context)  # faults hit the first execution only
        attempt = event["state"]["retryCount"]
        hit = attempt < _hits(fault)
        if fault.kind == "stale" and hit:
            # Every hit attempt overran its timeout; the first one does its work late.
            if attempt == 0 and parked is not None:
                parked.append((handler, event, context))
            context.elapse(context.timeout_seconds + 1)
            return {"late": True}
        if fault.kind == "timeout" and hit:
            context.elapse(context.timeout_seconds + 1)
            return {"late": True}
        if fault.kind == "retryable" and hit:
            raise _error_class(RETRYABLE_ERROR)("injected: try again later")
        result = handler(event, context)
        if fault.kind == "crash" and hit:
            raise _CRASH("injected: the function died after doing its work")
        if fault.kind == "exit" and hit:
            raise _EXIT("injected: the runtime exited after doing its work")
        if fault.kind == "late" and hit:
            context.elapse(context.timeout_seconds + 1)
        return result

    return faulty


def install(
    service: LocalService,
    originals: dict[str, LambdaHandler],
    schedule: Schedule,
    *,
    primary: str | None = None,
    parked: list[tuple[LambdaHandler, Any, Any]] | None = None,
) -> None:
    """Put `schedule` in place on `service` (replacing the previous schedule).

    With `primary`, the faults hit that execution only; `stale` attempts are kept in `parked`.
    """
    business = {STATE_OF[h] for h, fault in schedule.items() if fault.kind == "business"}
    for name, handler in originals.items():
        fault = schedule.get(name, Fault())
        plain = fault.kind in ("none", "business")
        service.handlers[name] = handler if plain else _wrap(handler, fault, primary, parked)

    def mock(call: TaskCall) -> TaskOutcome | None:
        if primary is not None and not call.execution_arn.endswith(f":{primary}"):
            return None
        if call.state_name in business:
            cause = {"errorMessage": "injected: order blocked", "errorType": BUSINESS_ERROR}
            return TaskOutcome.failure(BUSINESS_ERROR, json.dumps(cause))
        return None

    service.task_mock = mock


def _hits(fault: Fault) -> int:
    """How many attempts, from the first, the fault hits."""
    if fault.kind in ("none", "business"):
        return 0
    if fault.kind == "retryable":
        return fault.times if fault.times > 0 else EVERY
    return max(fault.times, 1)


def _attempts(step: str, error: str) -> int:
    """How many attempts the compiled `PlaceOrder` gives a step before the pivot for `error`."""
    if error in TRANSIENT_RETRY.errors:
        return TRANSIENT_RETRY.max_attempts + 1
    (policy,) = [s.retry or DEFAULT_RETRY for s in PLACE_ORDER.steps if s.name == step]
    return policy.max_attempts + 1 if error in policy.errors else 1


_ERROR_OF = {
    "business": BUSINESS_ERROR,
    "retryable": RETRYABLE_ERROR,
    "crash": CRASH_ERROR,
    "timeout": "States.Timeout",
    "late": "States.Timeout",
    "stale": "States.Timeout",
    "exit": EXIT_ERROR,
}


def expected_failure(schedule: Schedule) -> tuple[str, str] | None:
    """The first action that fails for good and its error, or None if the saga succeeds.

    A step before the pivot fails for good when its fault outlasts its retries for that error;
    the pivot and later steps fail only by hitting every attempt, and then the saga times out
    (returned as `(step, TIMED_OUT)`).
    """
    for step in ACTIONS:
        fault = schedule.get(step, Fault())
        if fault.kind == "none":
            continue
        if step in UNTIL_SUCCESS_STEPS:
            if fault.kind == "business" or _hits(fault) >= EVERY:
                return step, TIMED_OUT
            continue
        error = _ERROR_OF[fault.kind]
        if fault.kind == "business" or _hits(fault) >= _attempts(step, error):
            return step, error
    return None


def order(order_id: str, sku: str) -> dict[str, Any]:
    """A `PlaceOrder` command for `QUANTITY` units of `sku`."""
    return {
        "orderId": order_id,
        "customerEmail": "ann@example.com",
        "items": [{"sku": sku, "quantity": QUANTITY, "unitPrice": "4.20"}],
        "paymentToken": "tok_visa",
    }


def run_schedule(
    service: LocalService, originals: dict[str, LambdaHandler], schedule: Schedule, key: str
) -> ServiceRun:
    """Seed a fresh SKU, install `schedule` and place one order (ids derived from `key`)."""
    seed_stock(service.event_store, TENANT, f"SKU-{key}", STOCK)
    install(service, originals, schedule)
    return service.execute("PlaceOrder", order(f"o-{key}", f"SKU-{key}"))


def _stream(service: LocalService, aggregate: str, aggregate_id: str) -> list[RecordedEvent]:
    return service.event_store.read(StreamId.of(TENANT, aggregate, aggregate_id))


def _open_charges(history: Iterable[RecordedEvent]) -> int:
    open_charges = 0
    for recorded in history:
        if recorded.event.type == "PaymentCharged":
            open_charges += 1
        elif recorded.event.type == "PaymentRefunded":
            open_charges -= 1
    return open_charges


def check_streams(histories: Iterable[list[RecordedEvent]]) -> None:
    """Versions run 1..n with no gap in every stream, and no event id appears twice."""
    seen: Counter[str] = Counter()
    for history in histories:
        assert [r.version for r in history] == list(range(1, len(history) + 1)), history
        seen.update(r.event.event_id for r in history)
    duplicates = [event_id for event_id, count in seen.items() if count > 1]
    assert not duplicates, duplicates


def check_outcome(service: LocalService, run: ServiceRun, schedule: Schedule, key: str) -> str:
    """Check the saga's promises for one run; return the outcome's kind.

    Success: stock held, one open charge, the order confirmed (never rejected), one mail.
    Failure: the expected error; the failed step's own compensation, then those of the
    completed steps, latest first; nothing held, nothing charged, the order rejected (never
    confirmed), one mail.
    Timed out (the pivot or a later step never succeeds): nothing compensated, the order never
    rejected, no failure mail; an operator takes it from there.
    """
    order_id, sku = f"o-{key}", f"SKU-{key}"
    stock = _stream(service, "Stock", sku)
    payment = _stream(service, "Payment", order_id)
    order_stream = _stream(service, "Order", order_id)
    check_streams([stock, payment, order_stream])
    held = held_by(stock, order_id)
    charges = _open_charges(payment)
    order_events = [r.event.type for r in order_stream]
    compensations = [s for s in run.path if s.startswith("Compensate")]
    failure = expected_failure(schedule)
    if failure is None:
        assert run.status == "SUCCEEDED", (run.execution.error, run.path)
        assert (held, charges, order_events) == (QUANTITY, 1, ["OrderConfirmed"])
        assert compensations == []
        assert [m.subject for m in run.emails] == [f"Order {order_id} confirmed"]
        return "succeeded"
    step, error = failure
    if error == TIMED_OUT:
        assert run.status == "TIMED_OUT", (run.status, run.path)
        assert compensations == []
        assert "OrderRejected" not in order_events
        assert order_events in ([], ["OrderConfirmed"])
        assert all("could not be placed" not in m.subject for m in run.emails)
        return f"timed out at {step}"
    assert run.status == "FAILED", (run.status, run.path)
    assert run.execution.error == error, (run.execution.error, run.execution.cause)
    tried = list(ACTIONS[: ACTIONS.index(step) + 1])
    undo = [COMPENSABLE[s] for s in reversed(tried) if s in COMPENSABLE]
    assert compensations == undo, (compensations, undo)
    assert (held, charges, order_events) == (0, 0, ["OrderRejected"])
    assert [m.subject for m in run.emails] == [f"Order {order_id} could not be placed"]
    return f"compensated after {step} {error}"


# -- plans: duplicates, late writers, audited handlers -------------------------------------------

AUDIT = "Audit"


class Noted(DomainEvent):
    """An action's note in its order's audit stream."""

    state: str


def audited(steps: Mapping[str, StepFunction]) -> dict[str, StepFunction]:
    """`steps`, each action first noting its state at the audit stream version it reads."""

    def noting(step: StepFunction) -> StepFunction:
        def step_with_note(command: PlaceOrder, ctx: StepContext) -> Any:
            stream = ctx.stream(AUDIT, command.order_id)
            ctx.append(stream, [Noted(state=ctx.state.name)], expected_version=ctx.version(stream))
            return step(command, ctx)

        return step_with_note

    return {name: noting(step) if name in ACTIONS else step for name, step in steps.items()}


@dataclass(frozen=True)
class Plan:
    """A schedule for the first execution, and what else happens to the same command.

    Attributes:
        faults: The first execution's faults.
        duplicate: `none`, `again` (the command executed again after the first ended) or
            `during` (again, from the first's first attempt at `host`).
        host: The action at which a `during` duplicate starts.
        clash: After that, another command (another order) is started under the first
            execution's name, and must be refused before it runs.
    """

    faults: Schedule
    duplicate: str = "none"
    host: str = "ReserveStock"
    clash: bool = False


@dataclass
class PlanRun:
    """What a plan did: the executions, what the late writers got, the mails sent."""

    first: ServiceRun
    second: ServiceRun | None = None
    late: list[str] = field(default_factory=list)
    clash: str | None = None  # what starting another command under the first's name raised

    @property
    def runs(self) -> list[ServiceRun]:
        return [run for run in (self.first, self.second) if run is not None]


def _spawning(
    handler: LambdaHandler, primary: str, start: Callable[[], ServiceRun], out: list[ServiceRun]
) -> LambdaHandler:
    """`handler`, except that the first execution's first attempt first runs `start` to its end,
    on its own thread (and engine), as a second execution racing the first would."""

    def spawn(event: Any, context: Any) -> Any:
        if event["execution"]["name"] == primary and event["state"]["retryCount"] == 0 and not out:
            thread = threading.Thread(target=lambda: out.append(start()))
            thread.start()
            thread.join(60)
            assert out, "the second execution did not finish"
        return handler(event, context)

    return spawn


def release_parked(parked: list[tuple[LambdaHandler, Any, Any]]) -> list[str]:
    """Run the attempts kept by `stale` faults, late; what each got (`done` or its error)."""
    outcomes: list[str] = []
    for handler, event, context in parked:
        try:
            handler(event, context)
        except TaskFailed as failed:
            outcomes.append(failed.error_name)
        else:
            outcomes.append("done")
    parked.clear()
    return outcomes


def run_plan(
    service: LocalService, originals: dict[str, LambdaHandler], plan: Plan, key: str
) -> PlanRun:
    """Seed a fresh SKU, then run `plan`'s command as it says (ids derived from `key`)."""
    seed_stock(service.event_store, TENANT, f"SKU-{key}", STOCK)
    command = order(f"o-{key}", f"SKU-{key}")
    meta = service.meta("PlaceOrder", command_id=f"c-{key}", idempotency_key=f"k-{key}")
    primary, other = f"first-{key}", f"second-{key}"
    parked: list[tuple[LambdaHandler, Any, Any]] = []
    install(service, originals, plan.faults, primary=primary, parked=parked)
    seconds: list[ServiceRun] = []
    if plan.duplicate == "during":
        host = service.handlers[plan.host]
        again = lambda: service.execute("PlaceOrder", command, meta, name=other)  # noqa: E731
        service.handlers[plan.host] = _spawning(host, primary, again, seconds)
    first = service.execute("PlaceOrder", command, meta, name=primary)
    if plan.duplicate == "again":
        seconds.append(service.execute("PlaceOrder", command, meta, name=other))
    late = release_parked(parked)
    done = PlanRun(first, seconds[0] if seconds else None, late)
    if plan.clash:
        other_order = order(f"o-{key}-clash", f"SKU-{key}")
        try:
            service.execute("PlaceOrder", other_order, name=primary)
        except ExecutionAlreadyExists as refused:
            done.clash = type(refused).__name__
        else:
            done.clash = "ran"
    return done


def check_plan(service: LocalService, done: PlanRun, plan: Plan, key: str) -> str:
    """Check a plan's promises; return the outcome's kind.

    With one execution, `check_outcome`'s. With two of one command: if either succeeded, the
    command is committed once (stock held once, one charge, confirmed, one confirmation mail
    in all); otherwise it is compensated once (nothing held or charged, rejected, one failure
    mail in all). The late writers ran before these checks (refused as fenced, or finding
    their work done), and the audit stream notes each state once.
    """
    order_id, sku = f"o-{key}", f"SKU-{key}"
    audit = _stream(service, AUDIT, order_id)
    check_streams([audit])
    states = [r.event.payload["state"] for r in audit]
    assert len(states) == len(set(states)), states
    if done.second is None:
        outcome = check_outcome(service, done.first, plan.faults, key)
    else:
        outcome = _check_duplicate(service, done, order_id, sku)
    # A late writer either found its work done by a retry (and wrote nothing) or was refused;
    # the store checks above ran after it, so it changed nothing they promise.
    assert all(late in ("done", FENCED_ERROR) for late in done.late), done.late
    if plan.clash:
        # Another command under a taken name was refused, and ran nothing.
        assert done.clash == "ExecutionAlreadyExists", done.clash
        for aggregate in ("Order", "Payment", AUDIT):
            assert _stream(service, aggregate, f"{order_id}-clash") == [], aggregate
        assert held_by(_stream(service, "Stock", f"SKU-{key}"), f"{order_id}-clash") == 0
    return outcome


def _check_duplicate(service: LocalService, done: PlanRun, order_id: str, sku: str) -> str:
    stock = _stream(service, "Stock", sku)
    payment = _stream(service, "Payment", order_id)
    order_stream = _stream(service, "Order", order_id)
    check_streams([stock, payment, order_stream])
    held, charges = held_by(stock, order_id), _open_charges(payment)
    order_events = [r.event.type for r in order_stream]
    mails = [mail.subject for run in done.runs for mail in run.emails]
    statuses = tuple(run.status for run in done.runs)
    where = (statuses, [run.path for run in done.runs])
    if "SUCCEEDED" in statuses:
        assert (held, charges, order_events) == (QUANTITY, 1, ["OrderConfirmed"]), where
        assert mails == [f"Order {order_id} confirmed"], (mails, where)
        return "duplicate: committed once"
    if "FAILED" in statuses:
        assert (held, charges, order_events) == (0, 0, ["OrderRejected"]), where
        assert mails == [f"Order {order_id} could not be placed"], (mails, where)
        return "duplicate: compensated once"
    assert "OrderRejected" not in order_events, where
    return "duplicate: timed out"
