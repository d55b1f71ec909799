"""Property: any valid saga compiles to ASL whose every catch path undoes all it may have done.

A step before the pivot that fails may still have done its work (a late answer, a crash after
the append), so its catch path runs its own compensation, then those of the completed steps.

The graph is walked statically: from each action's catcher, through `Next`, to a Fail state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from stepsaga.workflows.saga import (
    COMMIT_FAILED,
    COMPENSATION_FAILED,
    FunctionNames,
    Notification,
    RetryPolicy,
    Saga,
    Step,
    compensation_state,
    compile_saga,
)


class _Command(BaseModel):
    id: str


_ERRORS = ("Saga.Retryable", "Custom.Failure", "Lambda.ServiceException", "States.Timeout")

policies = st.builds(
    RetryPolicy,
    interval=st.integers(1, 600),
    max_attempts=st.integers(0, 20),
    backoff_rate=st.floats(1.0, 10.0, allow_nan=False),
    max_delay=st.none() | st.integers(1, 3600),
    jitter=st.sampled_from([None, "FULL", "NONE"]),
    errors=st.lists(st.sampled_from(_ERRORS), min_size=1, max_size=3, unique=True).map(tuple)
    | st.just(("States.ALL",)),
)


@dataclass(frozen=True)
class _Case:
    saga: Saga
    #: Index of the pivot (it and later steps commit), or the step count without a pivot.
    first_committed: int


@st.composite
def sagas(draw: st.DrawFn) -> _Case:
    count = draw(st.integers(1, 8))
    pivot = draw(st.none() | st.integers(0, count - 1))
    last = pivot if pivot is not None else count - 1
    first_committed = pivot if pivot is not None else count
    steps: list[Step | Notification] = []
    for index in range(count):
        name = f"S{index}"
        timeout = draw(st.none() | st.integers(1, 900))
        committed = index >= first_committed
        retry = draw(st.none() | policies)
        if committed and retry is not None:
            retry = RetryPolicy(
                retry.interval,
                retry.max_attempts,
                retry.backoff_rate,
                retry.max_delay,
                retry.jitter,
                ("States.ALL",),
            )
        # Notifications cannot be undone, so they may stand anywhere; steps before the last
        # compensating one must declare a compensation.
        if draw(st.integers(0, 4)) == 0:
            steps.append(Notification(name, action=f"Send{index}", retry=retry, timeout=timeout))
            continue
        needs = index < last
        has = needs or (pivot is None and draw(st.booleans()))
        steps.append(
            Step(
                name,
                action=f"Do{index}",
                compensation=f"Undo{index}" if has else None,
                retry=retry,
                compensation_retry=draw(st.none() | policies),
                timeout=timeout,
            )
        )
    on_failure = draw(st.none() | st.just(Notification("TellFailure", action="TellFailure")))
    saga = Saga(
        "Random",
        _Command,
        steps,
        pivot=f"S{pivot}" if pivot is not None else None,
        on_failure=on_failure,
        timeout=draw(st.none() | st.integers(1, 86400)),
    )
    return _Case(saga, first_committed)


def _catch_path(states: dict[str, Any], start: str) -> tuple[list[str], dict[str, Any]]:
    path, name = [], start
    while states[name]["Type"] != "Fail":
        path.append(name)
        assert len(path) <= len(states), "catch path loops"
        name = states[name]["Next"]
    return path, states[name]


@settings(max_examples=60, deadline=None)
@given(sagas())
def test_every_catch_path_compensates_the_failed_and_completed_steps_in_reverse_then_fails(
    case: _Case,
) -> None:
    saga = case.saga
    # WHEN the saga compiles (and the ASL model validates it)
    states = compile_saga(saga).to_dict()["States"]
    for index, step in enumerate(saga.steps):
        action = states[step.name]
        # THEN each action catches everything into $.error
        (catcher,) = action["Catch"]
        assert catcher["ErrorEquals"] == ["States.ALL"]
        assert catcher["ResultPath"] == "$.error"
        path, fail = _catch_path(states, catcher["Next"])
        if index < case.first_committed:
            tried = [s for s in saga.steps[: index + 1] if isinstance(s, Step) and s.compensation]
            expected = [compensation_state(s.name) for s in reversed(tried)]
            if saga.on_failure is not None:
                expected.append(saga.on_failure.name)
        else:
            expected = []  # committed: nothing is undone from the pivot on
        # ... runs the failed step's own compensation (if it has one), then the completed
        # steps' compensations, latest first ...
        assert path == expected
        # ... none of which overwrites the caught error ...
        for name in path:
            assert states[name]["ResultPath"] is None
            assert states[name]["Parameters"]["Payload"]["error.$"] == "$.error"
        # ... and ends in a Fail carrying it: its own error before the pivot, a commit failure
        # (the caught error as its cause) from the pivot on.
        if index < case.first_committed:
            assert fail["ErrorPath"] == "$.error.Error"
            assert fail["CausePath"] == "$.error.Cause"
        else:
            assert fail["Error"] == COMMIT_FAILED
            assert fail["CausePath"] == "States.JsonToString($.error)"


@settings(max_examples=40, deadline=None)
@given(sagas())
def test_compensations_invoke_their_handler_and_fail_distinctly(case: _Case) -> None:
    states = compile_saga(case.saga, FunctionNames.deployment()).to_dict()["States"]
    for step in case.saga.steps:
        name = compensation_state(step.name)
        if name not in states:
            continue
        assert isinstance(step, Step) and step.compensation is not None
        task = states[name]
        assert task["Parameters"]["FunctionName"] == "${" + step.compensation + "FunctionArn}"
        (catcher,) = task["Catch"]
        assert states[catcher["Next"]] == {
            "Type": "Fail",
            "Comment": states[catcher["Next"]]["Comment"],
            "Error": COMPENSATION_FAILED,
            "CausePath": "$.compensationError.Cause",
        }


@settings(max_examples=40, deadline=None)
@given(sagas())
def test_retry_follows_each_policy_after_the_transient_errors(case: _Case) -> None:
    states = compile_saga(case.saga).to_dict()["States"]
    for index, step in enumerate(case.saga.steps):
        retriers = states[step.name]["Retry"]
        committed = index >= case.first_committed
        if step.retry is None:
            # Steps are idempotent, so a timed-out attempt is retried too.
            expected_errors = ["States.ALL"] if committed else ["Saga.Retryable", "States.Timeout"]
        else:
            expected_errors = [e for e in step.retry.errors if not e.startswith("Lambda.")]
        policy_retrier = retriers[-1]
        if expected_errors:
            assert policy_retrier["ErrorEquals"] == expected_errors
        if step.retry is not None and expected_errors:
            assert policy_retrier["IntervalSeconds"] == step.retry.interval
            assert policy_retrier["MaxAttempts"] == step.retry.max_attempts
            assert policy_retrier["BackoffRate"] == step.retry.backoff_rate
            assert policy_retrier.get("MaxDelaySeconds") == step.retry.max_delay
            assert policy_retrier.get("JitterStrategy") == step.retry.jitter
        # Transient Lambda errors are retried by some retrier, whatever the policy.
        covered = {e for r in retriers for e in r["ErrorEquals"]}
        assert "States.ALL" in covered or "Lambda.TooManyRequestsException" in covered
    if case.saga.on_failure is not None and case.first_committed > 0:
        # The failure notification is idempotent: it retries every error, a timeout included.
        (retrier,) = states[case.saga.on_failure.name]["Retry"]
        assert retrier["ErrorEquals"] == ["States.ALL"]
