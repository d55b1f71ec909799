"""Hypothesis over fault plans on the reference saga: it completes or compensates, cleanly.

A plan is a fault schedule for the command's first execution, plus, sometimes, a second
execution of the same command (after the first, or racing it from one of its steps) and
another command started under the first execution's name (refused), with late writers
(`stale` attempts that do their work after the execution ended) and every action appending
at a version it re-reads (the audited handlers). Run with `-s` to see how many plans
ran, their outcomes by kind, and the faults hit.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stepsaga.domain import StreamId
from stepsaga.examples.orders.handlers import HANDLERS as ORDER_HANDLERS
from stepsaga.examples.orders.sagas import SAGAS
from stepsaga.infra.local.service import LocalService, ServiceRun
from stepsaga.tasks import InMemoryEventStore, InMemoryNotifier, LambdaHandler
from tests.reliability.faults import (
    ACTIONS,
    EVERY,
    FINITE_RETRIES,
    UNTIL_SUCCESS_STEPS,
    Fault,
    Plan,
    PlanRun,
    audited,
    check_plan,
    check_streams,
    run_plan,
    run_schedule,
)

#: Schedules on the in-memory store (fast), and on DynamoDB and SES on moto (slower).
MEMORY_SCHEDULES = 500
MOTO_SCHEDULES = 40

_NONE = [Fault()] * 4  # weighs the draw towards runs that get far into the saga


def _bounded(times: int) -> st.SearchStrategy[Fault]:
    return st.integers(1, times).map(lambda n: Fault("retryable", n))


def _faults(handler: str) -> st.SearchStrategy[Fault]:
    if handler in FINITE_RETRIES:
        # Timeouts are retried (steps are idempotent); an exit, or a fault on every attempt,
        # fails the step for good, and its own compensation undoes whatever it did.
        kinds = [
            *_NONE,
            Fault("business"),
            Fault("retryable"),
            Fault("crash"),
            Fault("timeout"),
            Fault("late"),
            Fault("stale"),
            Fault("exit"),
            Fault("crash", EVERY),
            Fault("late", EVERY),
            Fault("stale", EVERY),
        ]
        return st.sampled_from(kinds)
    if handler in UNTIL_SUCCESS_STEPS:  # the pivot and after: every error until it succeeds
        kinds = [
            *_NONE,
            Fault("crash"),
            Fault("exit"),
            Fault("timeout"),
            Fault("late"),
            Fault("stale"),
        ]
        return st.sampled_from(kinds) | _bounded(5)
    if handler == "NotifyOrderFailed":  # retries every error ten times: it is idempotent
        kinds = [*_NONE, Fault("crash"), Fault("exit"), Fault("timeout"), Fault("late")]
        return st.sampled_from(kinds) | _bounded(5)
    # Compensations retry every error ten times, and have no TimeoutSeconds to overrun.
    return st.sampled_from([*_NONE, Fault("crash"), Fault("exit")]) | _bounded(5)


HANDLERS = (
    "ReserveStock",
    "ChargePayment",
    "ConfirmOrder",
    "NotifyCustomer",
    "ReleaseStock",
    "RefundPayment",
    "NotifyOrderFailed",
)
schedules = st.fixed_dictionaries({handler: _faults(handler) for handler in HANDLERS})
#: Most plans run one execution; the others execute the command again, after or during it.
plans = st.builds(
    Plan,
    faults=schedules,
    duplicate=st.sampled_from(["none", "none", "none", "again", "during"]),
    host=st.sampled_from(ACTIONS),
    clash=st.sampled_from([False, False, False, True]),
)

OUTCOMES: dict[str, Counter[str]] = {"memory": Counter(), "moto": Counter()}
#: Task failures and timeouts the engine recorded, by error name: the faults actually hit;
#: and what the late writers and second executions met.
HITS: dict[str, Counter[str]] = {"memory": Counter(), "moto": Counter()}


def _tally(backend: str, done: PlanRun | ServiceRun, outcome: str) -> None:
    OUTCOMES[backend][outcome] += 1
    runs = done.runs if isinstance(done, PlanRun) else [done]
    for run in runs:
        for event in run.execution.history:
            if event["type"] == "TaskFailed":
                HITS[backend][event["taskFailedEventDetails"]["error"]] += 1
            elif event["type"] == "TaskTimedOut":
                HITS[backend]["States.Timeout"] += 1
    if isinstance(done, PlanRun):
        for late in done.late:
            HITS[backend][f"late writer: {late}"] += 1
        if done.second is not None:
            HITS[backend][f"second execution: {done.second.status}"] += 1
        if done.clash is not None:
            HITS[backend][f"another command under a taken name: {done.clash}"] += 1


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    yield
    for backend, outcomes in OUTCOMES.items():
        if outcomes:
            total = sum(outcomes.values())
            print(f"\n{backend}: {total} fault plans")
            for kind, count in sorted(outcomes.items()):
                print(f"  {count:4d}  {kind}")
            print("  faults hit (task attempts that failed or timed out):")
            for error, count in sorted(HITS[backend].items()):
                print(f"  {count:4d}  {error}")


@pytest.fixture(scope="module")
def memory_service() -> tuple[LocalService, dict[str, LambdaHandler]]:
    service = LocalService(
        SAGAS,
        audited(ORDER_HANDLERS),
        event_store=InMemoryEventStore(),
        notifier=InMemoryNotifier(),
        seed=3,
    )
    return service, dict(service.handlers)


@pytest.fixture(scope="module")
def moto_service() -> Iterator[tuple[LocalService, dict[str, LambdaHandler]]]:
    with LocalService.start("stepsaga.examples.orders", seed=5) as started:
        # The same stores, with the audited handlers.
        service = LocalService(
            SAGAS,
            audited(ORDER_HANDLERS),
            event_store=started.event_store,
            notifier=started._recorder.notifier,
            seed=5,
        )
        yield service, dict(service.handlers)


_keys = itertools.count()


@settings(
    max_examples=MEMORY_SCHEDULES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=plans)
def test_every_plan_completes_or_compensates_once_in_memory(
    memory_service: tuple[LocalService, dict[str, LambdaHandler]], plan: Plan
) -> None:
    service, originals = memory_service
    key = f"m{next(_keys)}"
    done = run_plan(service, originals, plan, key)
    _tally("memory", done, check_plan(service, done, plan, key))


@settings(
    max_examples=MOTO_SCHEDULES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=plans)
def test_every_plan_completes_or_compensates_once_on_dynamodb(
    moto_service: tuple[LocalService, dict[str, LambdaHandler]], plan: Plan
) -> None:
    service, originals = moto_service
    key = f"d{next(_keys)}"
    done = run_plan(service, originals, plan, key)
    _tally("moto", done, check_plan(service, done, plan, key))


def test_the_whole_in_memory_store_has_no_gap_and_no_duplicate(
    memory_service: tuple[LocalService, dict[str, LambdaHandler]],
) -> None:
    # GIVEN the store after every schedule above (or a few runs when run alone)
    service, originals = memory_service
    for index, kind in enumerate(("crash", "timeout", "retryable")):
        schedule = {"ChargePayment": Fault("crash"), "ConfirmOrder": Fault(kind)}
        run_schedule(service, originals, schedule, f"whole{index}")
    store = service.event_store
    assert isinstance(store, InMemoryEventStore)
    # THEN across all streams, versions have no gaps and event ids are unique
    check_streams(store.read(stream) for stream in store.streams())


def test_a_confirmation_that_never_goes_out_times_the_saga_out_with_the_order_standing(
    memory_service: tuple[LocalService, dict[str, LambdaHandler]],
) -> None:
    # GIVEN a confirmation mail that fails on every attempt (its retries never run out)
    service, originals = memory_service
    run = run_schedule(service, originals, {"NotifyCustomer": Fault("retryable")}, "forever")

    # THEN the saga's one-hour timeout ends it, on the virtual clock, and nothing is undone
    assert run.status == "TIMED_OUT"
    assert run.execution.stop_date is not None
    assert (run.execution.stop_date - run.execution.start_date).total_seconds() == 3600
    assert [s for s in run.path if s.startswith("Compensate")] == []
    order = service.event_store.read(StreamId.of("acme", "Order", "o-forever"))
    assert [r.event.type for r in order] == ["OrderConfirmed"]
    assert run.emails == ()
