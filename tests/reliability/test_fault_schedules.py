"""Hypothesis over fault schedules on the reference saga: it completes or compensates, cleanly.

Run with `-s` to see how many schedules ran and their outcomes by kind.
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
    EVERY,
    FINITE_RETRIES,
    UNTIL_SUCCESS_STEPS,
    Fault,
    Schedule,
    check_outcome,
    check_streams,
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
            Fault("exit"),
            Fault("crash", EVERY),
            Fault("late", EVERY),
        ]
        return st.sampled_from(kinds)
    if handler in UNTIL_SUCCESS_STEPS:  # the pivot and after: every error until it succeeds
        kinds = [*_NONE, Fault("crash"), Fault("exit"), Fault("timeout"), Fault("late")]
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

OUTCOMES: dict[str, Counter[str]] = {"memory": Counter(), "moto": Counter()}
#: Task failures and timeouts the engine recorded, by error name: the faults actually hit.
HITS: dict[str, Counter[str]] = {"memory": Counter(), "moto": Counter()}


def _tally(backend: str, run: ServiceRun, outcome: str) -> None:
    OUTCOMES[backend][outcome] += 1
    for event in run.execution.history:
        if event["type"] == "TaskFailed":
            HITS[backend][event["taskFailedEventDetails"]["error"]] += 1
        elif event["type"] == "TaskTimedOut":
            HITS[backend]["States.Timeout"] += 1


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    yield
    for backend, outcomes in OUTCOMES.items():
        if outcomes:
            total = sum(outcomes.values())
            print(f"\n{backend}: {total} fault schedules")
            for kind, count in sorted(outcomes.items()):
                print(f"  {count:4d}  {kind}")
            print("  faults hit (task attempts that failed or timed out):")
            for error, count in sorted(HITS[backend].items()):
                print(f"  {count:4d}  {error}")


@pytest.fixture(scope="module")
def memory_service() -> tuple[LocalService, dict[str, LambdaHandler]]:
    service = LocalService(
        SAGAS, ORDER_HANDLERS, event_store=InMemoryEventStore(), notifier=InMemoryNotifier(), seed=3
    )
    return service, dict(service.handlers)


@pytest.fixture(scope="module")
def moto_service() -> Iterator[tuple[LocalService, dict[str, LambdaHandler]]]:
    with LocalService.start("stepsaga.examples.orders", seed=5) as service:
        yield service, dict(service.handlers)


_keys = itertools.count()


@settings(
    max_examples=MEMORY_SCHEDULES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(schedule=schedules)
def test_every_schedule_completes_or_compensates_in_memory(
    memory_service: tuple[LocalService, dict[str, LambdaHandler]], schedule: Schedule
) -> None:
    service, originals = memory_service
    key = f"m{next(_keys)}"
    run = run_schedule(service, originals, schedule, key)
    _tally("memory", run, check_outcome(service, run, schedule, key))


@settings(
    max_examples=MOTO_SCHEDULES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(schedule=schedules)
def test_every_schedule_completes_or_compensates_on_dynamodb(
    moto_service: tuple[LocalService, dict[str, LambdaHandler]], schedule: Schedule
) -> None:
    service, originals = moto_service
    key = f"d{next(_keys)}"
    run = run_schedule(service, originals, schedule, key)
    _tally("moto", run, check_outcome(service, run, schedule, key))


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
