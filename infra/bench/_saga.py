"""The reference saga end to end, in executions per second.

`PlaceOrder` runs on the engine, its handlers on moto's DynamoDB and SES.

The orders are the reference service's demo scenarios (`stepsaga.examples.orders.demo`), found
through the service loader like any service.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stepsaga.infra.bench._machines import JSON
from stepsaga.infra.bench._report import Timing
from stepsaga.infra.local.service import moto_service
from stepsaga.infra.local.stepfunctions import LocalStepFunctions
from stepsaga.infra.project import REFERENCE_SERVICE, Scenario, load_service
from stepsaga.workflows.saga import Saga, compile_saga

_TABLE = "stepsaga-bench-saga"


@dataclass(frozen=True)
class SagaResult:
    """Reference `PlaceOrder` executions that succeeded one after another on one table.

    Each ran for a fresh tenant.

    Attributes:
        executions: Successful orders timed.
        timing: Wall time per execution (engine plus handlers on moto).
        handler_seconds: Total time spent inside the task handlers (their moto calls
            included); the rest is the engine's.
        problem: What went wrong (a failed order, wrong stock, a compensation that did not
            restore the stock), if anything.
    """

    executions: int
    timing: Timing | None
    handler_seconds: float = 0.0
    problem: str | None = None

    @property
    def per_second(self) -> float | None:
        """Executions per second, from the mean time per execution."""
        return None if self.timing is None else 1.0 / self.timing.mean

    @property
    def engine_share(self) -> float | None:
        """Share of the wall time spent outside the task handlers (the engine's)."""
        if self.timing is None:
            return None
        total = self.timing.mean * self.timing.runs
        return max(0.0, 1.0 - self.handler_seconds / total)

    def to_json(self) -> dict[str, JSON]:
        """The JSON form."""
        rate, share = self.per_second, self.engine_share
        return {
            "executions": self.executions,
            "executions_per_second": None if rate is None else round(rate, 2),
            "timing": None if self.timing is None else self.timing.to_json(),
            "engine_share": None if share is None else round(share, 4),
            "problem": self.problem,
        }


def _input(saga: Saga, scenario: Scenario, tenant: str, number: int) -> dict[str, JSON]:
    command = saga.command.model_validate(scenario.command)
    return {
        "command": command.model_dump(mode="json", by_alias=True),
        "meta": {
            "tenant": tenant,
            "commandId": f"c-{number}",
            "commandType": saga.command.__name__,
            "requestedBy": "bench",
            "idempotencyKey": f"k-{number}",
        },
    }


def _timed(handler: Callable[[Any, Any], Any], spent: list[float]) -> Callable[[Any, Any], Any]:
    def run(event: Any, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return handler(event, context)
        finally:
            spent[0] += time.perf_counter() - started

    return run


def measure_saga(count: int) -> SagaResult:
    """Time the reference service's first demo scenario `count` times, then run the others.

    Everything runs in process: the embedded engine, the service's handlers (found
    through `load_service`, like any service's) on moto's DynamoDB (event store) and SES v2.
    Each execution gets a fresh tenant, seeded by the demo's `seed`, so every run starts from
    the same state. The first scenario (the reference: an order that succeeds) must succeed
    and leave the same `summary` every time; a later one that fails (the declined payment)
    must leave the `summary` as it found it: its compensations undid everything.

    Args:
        count: Executions of the first scenario to time (at least 1).

    Returns:
        The timings, or the problem met.
    """
    service = load_service(REFERENCE_SERVICE)
    demo = service.demo
    if demo is None:
        return SagaResult(count, None, problem=f"{service.module} has no demo scenarios")
    timed, *others = demo.scenarios
    with moto_service(service, table=_TABLE) as local:
        spent = [0.0]
        sfn = LocalStepFunctions()
        for name, handler in local.handlers.items():
            sfn.register_lambda(name, _timed(handler, spent))
        definitions = {name: compile_saga(saga).to_dict() for name, saga in service.sagas.items()}

        def state(tenant: str) -> str | None:
            return None if demo.summary is None else demo.summary(local.event_store, tenant)

        def run(scenario: Scenario, number: int) -> tuple[Any, str | None, str | None, float]:
            """(execution, summary before, summary after, seconds) on a fresh tenant."""
            tenant = f"bench-{number}"
            if demo.seed is not None:
                demo.seed(local.event_store, tenant)
            before = state(tenant)
            saga = service.saga(scenario.saga)
            execution_input = _input(saga, scenario, tenant, number)
            started = time.perf_counter()
            execution = sfn.run(definitions[saga.name], execution_input)
            seconds = time.perf_counter() - started  # the execution alone, not the summary
            return execution, before, state(tenant), seconds

        samples: list[float] = []
        problem: str | None = None
        expected: str | None = None
        for number in range(count):
            execution, _, after, seconds = run(timed, number)
            samples.append(seconds)
            expected = after if number == 0 else expected
            if problem is None and execution.status != "SUCCEEDED":
                problem = f"{timed.name} {number}: {execution.status} {execution.error}"
            if problem is None and after != expected:
                problem = f"{timed.name} {number} left {after!r}, the first one {expected!r}"
        handler_seconds = spent[0]
        for number, scenario in enumerate(others, start=count):
            execution, before, after, _ = run(scenario, number)
            if problem is None and execution.status == "FAILED" and after != before:
                problem = f"{scenario.name} failed but left {after!r}, not {before!r}"
    return SagaResult(count, Timing.of(samples), handler_seconds, problem)


def run_saga(count: int) -> SagaResult:
    """`measure_saga`, reporting instead of raising when the reference service cannot run."""
    # TaskRuntime switches Powertools off outside Lambda through these variables; keep the
    # bench process as it was.
    saved = {name: os.environ.get(name) for name in _POWERTOOLS}
    try:
        return measure_saga(count)
    except Exception as exc:  # the reference service is built alongside: report, don't crash
        return SagaResult(count, None, problem=f"raised {type(exc).__name__}: {exc}")
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


_POWERTOOLS = ("POWERTOOLS_TRACE_DISABLED", "POWERTOOLS_METRICS_DISABLED")
