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

from infra.local.service import LocalService, load_service
from tasks import InMemoryEventStore, InMemoryNotifier, LambdaHandler
from tests.reliability.faults import (
    FINITE_RETRIES,
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
        kinds = [*_NONE, Fault("business"), Fault("retryable"), Fault("crash"), Fault("timeout")]
        return st.sampled_from(kinds)
    if handler == "NotifyCustomer":  # retried until it succeeds
        return st.sampled_from([*_NONE, Fault("crash"), Fault("timeout")]) | _bounded(5)
    if handler == "NotifyOrderFailed":  # three Saga.Retryable retries
        return st.sampled_from([*_NONE, Fault("crash")]) | _bounded(3)
    # Compensations retry everything ten times and have no TimeoutSeconds.
    return st.sampled_from([*_NONE, Fault("crash")]) | _bounded(5)


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


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    yield
    for backend, outcomes in OUTCOMES.items():
        if outcomes:
            total = sum(outcomes.values())
            print(f"\n{backend}: {total} fault schedules")
            for kind, count in sorted(outcomes.items()):
                print(f"  {count:4d}  {kind}")


@pytest.fixture(scope="module")
def memory_service() -> tuple[LocalService, dict[str, LambdaHandler]]:
    sagas, steps = load_service("examples.orders")
    service = LocalService(
        sagas, steps, event_store=InMemoryEventStore(), notifier=InMemoryNotifier(), seed=3
    )
    return service, dict(service.handlers)


@pytest.fixture(scope="module")
def moto_service() -> Iterator[tuple[LocalService, dict[str, LambdaHandler]]]:
    with LocalService.start("examples.orders", seed=5) as service:
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
    OUTCOMES["memory"][check_outcome(service, run, schedule, key)] += 1


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
    OUTCOMES["moto"][check_outcome(service, run, schedule, key)] += 1


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
