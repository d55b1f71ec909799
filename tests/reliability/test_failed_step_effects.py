"""A step that fails *after* its effect landed, timeouts, and a pivot that never succeeds.

The fault-schedule property (`test_fault_schedules.py`) draws faults at random; the cases here
pin the promises a user relies on when a step's work landed but its answer did not:

- a timed-out attempt (even one whose work landed: a late answer) is retried, since steps are
  idempotent, and the saga goes on as if nothing happened;
- a step before the pivot that fails for good after its work landed (a runtime exit, a crash
  or a late answer on every attempt) is undone by its own compensation, then the completed
  steps' compensations run, latest first: nothing stays held or charged;
- the pivot may have committed when it fails, so it is retried until it succeeds; if it never
  does, the saga times out without compensating, and the order is never both confirmed and
  rejected;
- the failure notification retries every error, `States.Timeout` included, so the failure mail
  goes out once;
- a compensation undoes only what its own execution did, once however often it runs.
"""

from __future__ import annotations

import pytest

from stepsaga.domain import StreamId
from stepsaga.examples.orders.handlers import HANDLERS, seed_stock, stock_level
from stepsaga.examples.orders.sagas import PLACE_ORDER, SAGAS
from stepsaga.infra.local.service import LocalService
from stepsaga.tasks import InMemoryEventStore, InMemoryNotifier, TaskRuntime
from tests.reliability.faults import (
    EVERY,
    QUANTITY,
    STOCK,
    TENANT,
    TIMED_OUT,
    Fault,
    check_outcome,
    expected_failure,
    order,
    run_schedule,
)
from tests.tasks.envelopes import EXECUTION, envelope


def _service() -> LocalService:
    return LocalService(
        SAGAS, HANDLERS, event_store=InMemoryEventStore(), notifier=InMemoryNotifier()
    )


def test_a_timeout_is_a_real_states_timeout_on_the_virtual_clock() -> None:
    # GIVEN a payment whose every attempt overruns its TimeoutSeconds
    service = _service()
    schedule = {"ChargePayment": Fault("timeout", EVERY)}
    run = run_schedule(service, dict(service.handlers), schedule, "t")

    # THEN Step Functions timed each attempt out on the virtual clock, and the saga failed
    assert run.execution.error == "States.Timeout"
    types = [event["type"] for event in run.execution.history]
    assert types.count("TaskTimedOut") > 1  # timeouts are retried
    assert run.execution.stop_date is not None
    assert (run.execution.stop_date - run.execution.start_date).total_seconds() >= 30
    outcome = check_outcome(service, run, schedule, "t")
    assert outcome == "compensated after ChargePayment States.Timeout"
    # The first attempt and every retry the step's policy allows overran TimeoutSeconds
    (charge,) = [s for s in PLACE_ORDER.steps if s.name == "ChargePayment"]
    assert charge.retry is not None
    assert types.count("TaskTimedOut") == charge.retry.max_attempts + 1


@pytest.mark.parametrize("step", ["ReserveStock", "ChargePayment", "ConfirmOrder"])
def test_a_step_that_answered_too_late_is_retried_and_the_saga_succeeds(step: str) -> None:
    service = _service()
    schedule = {step: Fault("late")}
    run = run_schedule(service, dict(service.handlers), schedule, f"late-{step}")

    assert "TaskTimedOut" in [event["type"] for event in run.execution.history]
    assert check_outcome(service, run, schedule, f"late-{step}") == "succeeded"


@pytest.mark.parametrize(
    "fault", [Fault("exit"), Fault("crash", EVERY), Fault("late", EVERY)], ids=str
)
@pytest.mark.parametrize("step", ["ReserveStock", "ChargePayment"])
def test_a_step_that_failed_after_its_effect_is_undone(step: str, fault: Fault) -> None:
    # GIVEN a step before the pivot whose work lands but which fails for good
    service = _service()
    schedule = {step: fault}
    key = f"x-{step}-{fault.kind}"
    run = run_schedule(service, dict(service.handlers), schedule, key)

    # THEN its own compensation and the earlier ones ran: nothing held, nothing charged
    failure = expected_failure(schedule)
    assert failure is not None and failure[0] == step
    assert run.path[run.path.index(step) + 1] == f"Compensate{step}"
    assert check_outcome(service, run, schedule, key).startswith(f"compensated after {step}")


@pytest.mark.parametrize("kind", ["late", "exit", "crash"])
def test_a_pivot_that_failed_after_committing_is_retried_and_the_saga_succeeds(kind: str) -> None:
    service = _service()
    schedule = {"ConfirmOrder": Fault(kind)}
    run = run_schedule(service, dict(service.handlers), schedule, f"p-{kind}")

    assert check_outcome(service, run, schedule, f"p-{kind}") == "succeeded"


@pytest.mark.parametrize("fault", [Fault("crash", EVERY), Fault("business")], ids=str)
def test_a_pivot_that_never_succeeds_times_out_without_rejecting_the_order(fault: Fault) -> None:
    # GIVEN a pivot that fails on every attempt, after committing (crash) or before (business)
    service = _service()
    schedule = {"ConfirmOrder": fault}
    key = f"never-{fault.kind}"
    run = run_schedule(service, dict(service.handlers), schedule, key)

    # THEN the saga times out: nothing is compensated and the order is never rejected
    assert expected_failure(schedule) == ("ConfirmOrder", TIMED_OUT)
    assert check_outcome(service, run, schedule, key) == "timed out at ConfirmOrder"
    order = service.event_store.read(StreamId.of(TENANT, "Order", f"o-{key}"))
    committed = ["OrderConfirmed"] if fault.kind == "crash" else []
    assert [r.event.type for r in order] == committed


def test_a_timed_out_failure_mail_is_retried() -> None:
    service = _service()
    schedule = {"ChargePayment": Fault("business"), "NotifyOrderFailed": Fault("timeout")}
    run = run_schedule(service, dict(service.handlers), schedule, "n")

    assert check_outcome(service, run, schedule, "n").startswith("compensated after")


def test_a_compensation_undoes_only_what_its_own_command_did() -> None:
    # GIVEN command A reserved and charged for an order, and command B (another idempotency
    # key) for the same order reserved and charged its own
    store = InMemoryEventStore()
    seed_stock(store, TENANT, "SKU-own", 10)
    run = TaskRuntime(event_store=store, service="orders").handlers(HANDLERS)
    command = order("o-own", "SKU-own")
    first, second = f"{EXECUTION}-a", f"{EXECUTION}-b"
    for execution in (first, second):
        run["ReserveStock"](envelope(command, state="ReserveStock", execution=execution), None)
        run["ChargePayment"](envelope(command, state="ChargePayment", execution=execution), None)
    error = {"Error": "Runtime.ExitError", "Cause": "{}"}

    # WHEN B's compensations run, nothing of A's is undone
    for handler, state in (("RefundPayment", "ChargePayment"), ("ReleaseStock", "ReserveStock")):
        compensate = envelope(command, state=f"Compensate{state}", execution=second, error=error)
        run[handler](compensate, None)
    assert stock_level(store, TENANT, "SKU-own") == STOCK - QUANTITY
    payment = store.read(StreamId.of(TENANT, "Payment", "o-own"))
    assert [r.event.type for r in payment] == [
        "PaymentCharged",
        "PaymentCharged",
        "PaymentRefunded",
    ]

    # ... and A's compensations undo A's work, once however often they run
    for _ in range(2):
        for handler, state in (
            ("RefundPayment", "ChargePayment"),
            ("ReleaseStock", "ReserveStock"),
        ):
            compensate = envelope(command, state=f"Compensate{state}", execution=first, error=error)
            run[handler](compensate, None)
    assert stock_level(store, TENANT, "SKU-own") == STOCK
    payment = store.read(StreamId.of(TENANT, "Payment", "o-own"))
    assert [r.event.type for r in payment] == [
        "PaymentCharged",
        "PaymentCharged",
        "PaymentRefunded",
        "PaymentRefunded",
    ]
