"""A service's demo scenarios run locally, on moto's DynamoDB and SES v2, in-process."""

from __future__ import annotations

from dataclasses import dataclass

from stepsaga.infra.local.service._service import LocalService, ServiceRun
from stepsaga.infra.project import Service, ServiceError

__all__ = ("DemoRun", "run_demo")


@dataclass(frozen=True, slots=True)
class DemoRun:
    """One demo scenario and its execution.

    Attributes:
        scenario: The scenario's name (`order-succeeds`, `payment-declined`).
        run: The execution and what it did.
        summary: The line the service's `Demo.summary` gave once the execution finished
            (the reference service: the stock left), or None.
    """

    scenario: str
    run: ServiceRun
    summary: str | None


def run_demo(service: Service) -> tuple[DemoRun, ...]:
    """Run `service`'s demo scenarios, in order, on moto's DynamoDB and SES v2 in-process.

    The demo's `seed` runs first; each scenario is the command whose idempotency key (and
    command id) is `demo-<scenario>`, and its execution is named `demo-<scenario>`, so event
    ids are the same on every run.

    Raises:
        ServiceError: The service has no demo (no `demo` module with `DEMO`).
    """
    demo = service.demo
    if demo is None:
        raise ServiceError(
            f"service {service.module!r} has no demo scenarios: add {service.module}.demo "
            "with DEMO = stepsaga.infra.project.Demo(...)"
        )
    runs: list[DemoRun] = []
    with LocalService.start(service) as local:
        tenant = str(local.tenant)
        if demo.seed is not None:
            demo.seed(local.event_store, tenant)
        for scenario in demo.scenarios:
            key = f"demo-{scenario.name}"
            meta = local.meta(scenario.saga, command_id=key, idempotency_key=key)
            run = local.execute(scenario.saga, scenario.command, meta, name=key)
            summary = None if demo.summary is None else demo.summary(local.event_store, tenant)
            runs.append(DemoRun(scenario.name, run, summary))
    return tuple(runs)
