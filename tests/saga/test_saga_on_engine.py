"""Compiled sagas run on the embedded engine: happy path, compensation, and committed steps."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from stepsaga.examples.orders.sagas import PLACE_ORDER
from stepsaga.infra.local.stepfunctions import LocalStepFunctions
from stepsaga.workflows.saga import (
    COMMIT_FAILED,
    COMPENSATION_FAILED,
    FENCED_ERROR,
    RetryPolicy,
    Saga,
    Step,
    StepEnvelope,
    compile_saga,
)
from tests.saga.test_saga_property import _Case, sagas

INPUT = {
    "command": {"orderId": "o-1"},
    "meta": {
        "tenant": "acme",
        "commandId": "c-1",
        "commandType": "PlaceOrder",
        "requestedBy": "u-1",
        "idempotencyKey": "k-1",
    },
}


class Boom(Exception):
    """A business failure; the engine names the error after the exception class."""


class Throttled(Exception):
    """A failure the post-pivot retry absorbs."""


@dataclass
class _Handlers:
    """Records every invocation as (state name, caught error) and fails where told."""

    failing: dict[str, Callable[[int], Exception | None]] = field(default_factory=dict)
    calls: list[tuple[str, str | None]] = field(default_factory=list)

    def install(self, sfn: LocalStepFunctions, saga: Saga) -> None:
        for handler in saga.handlers():
            sfn.register_lambda(handler, self._handler(handler))

    def _handler(self, name: str) -> Callable[[Any, Any], Any]:
        def handle(event: Any, context: Any) -> Any:
            envelope = StepEnvelope.model_validate(event)
            error = envelope.error.error if envelope.error is not None else None
            self.calls.append((envelope.state.name, error))
            fail = self.failing.get(name)
            problem = fail(envelope.state.retry_count) if fail else None
            if problem is not None:
                raise problem
            return {"handledBy": name}

        return handle

    def states(self) -> list[str]:
        # Retries call the same state again; the path is the states in order, once each.
        path: list[str] = []
        for state, _ in self.calls:
            if not path or path[-1] != state:
                path.append(state)
        return path


def _run(saga: Saga, handlers: _Handlers) -> Any:
    sfn = LocalStepFunctions(seed=7)
    handlers.install(sfn, saga)
    return sfn.run(compile_saga(saga).to_dict(), INPUT)


def test_place_order_succeeds_through_every_step_keeping_results() -> None:
    handlers = _Handlers()
    execution = _run(PLACE_ORDER, handlers)
    assert execution.status == "SUCCEEDED"
    assert handlers.states() == ["ReserveStock", "ChargePayment", "ConfirmOrder", "NotifyCustomer"]
    assert execution.output["results"]["ChargePayment"] == {
        "Payload": {"handledBy": "ChargePayment"}
    }


def test_declined_payment_refunds_releases_stock_notifies_and_fails_with_the_error() -> None:
    handlers = _Handlers(failing={"ChargePayment": lambda _: Boom("card refused")})
    execution = _run(PLACE_ORDER, handlers)
    assert execution.status == "FAILED"
    assert execution.error == "Boom"
    assert "card refused" in execution.cause
    # The failed step's own compensation runs first (a no-op when it did nothing).
    assert handlers.states() == [
        "ReserveStock",
        "ChargePayment",
        "CompensateChargePayment",
        "CompensateReserveStock",
        "NotifyOrderFailed",
    ]
    assert handlers.calls[-3:] == [
        ("CompensateChargePayment", "Boom"),
        ("CompensateReserveStock", "Boom"),
        ("NotifyOrderFailed", "Boom"),
    ]


def test_failing_compensation_ends_in_compensation_failed() -> None:
    handlers = _Handlers(
        failing={
            "ChargePayment": lambda _: Boom("no"),
            "ReleaseStock": lambda _: Boom("warehouse down"),
        }
    )
    execution = _run(PLACE_ORDER, handlers)
    assert execution.status == "FAILED"
    assert execution.error == COMPENSATION_FAILED
    assert "warehouse down" in execution.cause
    # Refund ran first; the release was retried before giving up.
    assert handlers.states()[-2:] == ["CompensateChargePayment", "CompensateReserveStock"]
    assert sum(1 for s, _ in handlers.calls if s == "CompensateReserveStock") > 1


def test_step_past_the_pivot_is_retried_until_it_succeeds() -> None:
    handlers = _Handlers(
        failing={"NotifyCustomer": lambda attempt: Throttled("slow") if attempt < 4 else None}
    )
    execution = _run(PLACE_ORDER, handlers)
    assert execution.status == "SUCCEEDED"
    assert [s for s, _ in handlers.calls].count("NotifyCustomer") == 5
    assert not any(s.startswith("Compensate") for s, _ in handlers.calls)


def test_the_pivot_is_retried_until_it_succeeds_since_it_may_have_committed() -> None:
    handlers = _Handlers(
        failing={"ConfirmOrder": lambda attempt: Boom("unsure") if attempt < 3 else None}
    )
    execution = _run(PLACE_ORDER, handlers)
    assert execution.status == "SUCCEEDED"
    assert [s for s, _ in handlers.calls].count("ConfirmOrder") == 4
    assert not any(s.startswith("Compensate") for s, _ in handlers.calls)


def _bounded(saga: Saga) -> Saga:
    # Virtual time is free but finite: cap back-off so 20 retries at rate 10 stay in range, and
    # drop the saga timeout, which that back-off may legitimately outlast.
    def cap(policy: RetryPolicy | None) -> RetryPolicy | None:
        return None if policy is None else replace(policy, max_delay=policy.max_delay or 3600)

    steps = [
        replace(s, retry=cap(s.retry), compensation_retry=cap(s.compensation_retry))
        if isinstance(s, Step)
        else replace(s, retry=cap(s.retry))
        for s in saga.steps
    ]
    return replace(saga, steps=steps, timeout=None)


@settings(max_examples=25, deadline=None)
@given(case=sagas(), data=st.data())
def test_random_saga_failing_anywhere_before_commit_compensates_in_reverse(
    case: _Case, data: st.DataObject
) -> None:
    saga = _bounded(case.saga)
    # GIVEN a step before the pivot that fails for a business reason
    assume(case.first_committed > 0)
    failing = data.draw(st.integers(0, case.first_committed - 1))
    culprit = saga.steps[failing]
    handlers = _Handlers(failing={culprit.action: lambda _: Boom("no")})
    # WHEN the saga runs
    execution = _run(saga, handlers)
    # THEN the failed step and the completed ones are undone, latest first, then the failure
    # notification runs
    done = [s.name for s in saga.steps[:failing]]
    undo = [
        f"Compensate{s.name}"
        for s in reversed(saga.steps[: failing + 1])
        if isinstance(s, Step) and s.compensation
    ]
    tail = [saga.on_failure.name] if saga.on_failure else []
    assert handlers.states() == [*done, culprit.name, *undo, *tail]
    assert all(error == "Boom" for state, error in handlers.calls if state in undo)
    # ... and the execution fails with the original error
    assert execution.status == "FAILED"
    assert execution.error == "Boom"


def test_step_past_the_pivot_that_never_succeeds_runs_until_the_saga_times_out() -> None:
    handlers = _Handlers(failing={"NotifyCustomer": lambda _: Throttled("smtp down")})
    execution = _run(PLACE_ORDER, handlers)
    assert execution.status == "TIMED_OUT"
    assert PLACE_ORDER.timeout is not None
    assert (execution.stop_date - execution.start_date).total_seconds() == PLACE_ORDER.timeout
    # The order stands: nothing is compensated and no failure mail goes out.
    assert handlers.states() == ["ReserveStock", "ChargePayment", "ConfirmOrder", "NotifyCustomer"]


class Fenced(Exception):
    """Named as the runtime names a refused append of a fenced command."""


Fenced.__name__ = FENCED_ERROR


def _with_pivot_retry(policy: RetryPolicy) -> Saga:
    steps = tuple(
        replace(step, retry=policy) if step.name == "ConfirmOrder" else step
        for step in PLACE_ORDER.steps
    )
    return replace(PLACE_ORDER, steps=steps)


def test_a_pivot_that_fails_for_good_ends_in_its_own_commit_failed_state() -> None:
    # GIVEN a pivot whose retries run out (a policy with few attempts)
    saga = _with_pivot_retry(RetryPolicy(interval=1, max_attempts=2, errors=("States.ALL",)))
    handlers = _Handlers(failing={"ConfirmOrder": lambda _: Boom("ledger unreachable")})

    execution = _run(saga, handlers)

    # THEN the execution fails as a commit failure, not as a clean compensation: nothing was
    # compensated or notified, and the cause keeps the original error
    assert execution.status == "FAILED"
    assert (execution.error, execution.history[-2]["type"]) == (COMMIT_FAILED, "FailStateEntered")
    assert execution.history[-2]["stateEnteredEventDetails"]["name"] == "CommitFailed"
    cause = json.loads(execution.cause)
    assert cause["Error"] == "Boom"
    assert "ledger unreachable" in cause["Cause"]
    assert not any(s.startswith(("Compensate", "Notify")) for s, _ in handlers.calls)


def test_a_fenced_pivot_is_not_retried_and_ends_in_commit_failed() -> None:
    handlers = _Handlers(failing={"ConfirmOrder": lambda _: Fenced("fenced by Compensate...")})

    execution = _run(PLACE_ORDER, handlers)

    assert execution.error == COMMIT_FAILED
    assert json.loads(execution.cause)["Error"] == FENCED_ERROR
    assert [s for s, _ in handlers.calls].count("ConfirmOrder") == 1


def test_a_step_past_the_pivot_that_fails_for_good_ends_in_commit_failed_too() -> None:
    steps = tuple(
        replace(step, retry=RetryPolicy(max_attempts=1, errors=("States.ALL",)))
        if step.name == "NotifyCustomer"
        else step
        for step in PLACE_ORDER.steps
    )
    handlers = _Handlers(failing={"NotifyCustomer": lambda _: Boom("mail down")})

    execution = _run(replace(PLACE_ORDER, steps=steps), handlers)

    assert execution.error == COMMIT_FAILED
    assert json.loads(execution.cause)["Error"] == "Boom"
