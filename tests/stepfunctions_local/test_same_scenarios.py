"""The same saga scenarios on each backend. Step Functions Local runs only where Docker answers;
elsewhere its cases skip, saying so."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from stepsaga.infra.local.stepfunctions import LocalStepFunctions
from stepsaga.infra.local.stepfunctions_local import (
    ExecutionRunner,
    LambdaEndpoint,
    StepFunctionsLocalBackend,
    docker_available,
)
from tests.stepfunctions_local.scenarios import (
    Outcome,
    Runner,
    World,
    check_a_declined_payment_compensates,
    check_an_order_that_succeeds,
)


def embedded(world: World) -> Iterator[Runner]:
    engine = LocalStepFunctions()
    for name, handler in world.handlers.items():
        engine.register_lambda(name, handler)

    def run(machine: str, definition: dict[str, Any], input: dict[str, Any]) -> Outcome:
        execution = engine.run(definition, input, state_machine_name=machine)
        return Outcome(execution.status, execution.error)

    yield run


def embedded_over_the_endpoint(world: World) -> Iterator[Runner]:
    with LambdaEndpoint(world.handlers) as endpoint:
        engine = LocalStepFunctions(lambda_endpoint=endpoint.url)

        def run(machine: str, definition: dict[str, Any], input: dict[str, Any]) -> Outcome:
            execution = engine.run(definition, input, state_machine_name=machine)
            return Outcome(execution.status, execution.error)

        yield run
        assert endpoint.invocations, "the engine did not call the endpoint"


def embedded_through_boto3(world: World) -> Iterator[Runner]:
    # The runner Step Functions Local uses, on the engine's in-process boto3 client.
    engine = LocalStepFunctions()
    for name, handler in world.handlers.items():
        engine.register_lambda(name, handler)
    runner = ExecutionRunner(engine.client())

    def run(machine: str, definition: dict[str, Any], input: dict[str, Any]) -> Outcome:
        execution = runner.run(machine, definition, input)
        assert execution.history[0]["type"] == "ExecutionStarted"
        return Outcome(execution.status, execution.error)

    yield run


def stepfunctions_local(world: World) -> Iterator[Runner]:
    reason = docker_available()
    if reason is not None:
        pytest.skip(f"Step Functions Local needs Docker: {reason}")
    with StepFunctionsLocalBackend(world.handlers) as backend:

        def run(machine: str, definition: dict[str, Any], input: dict[str, Any]) -> Outcome:
            execution = backend.run(machine, definition, input)
            return Outcome(execution.status, execution.error)

        yield run


BACKENDS: dict[str, Callable[[World], Iterator[Runner]]] = {
    "embedded": embedded,
    "embedded-over-lambda-endpoint": embedded_over_the_endpoint,
    "embedded-through-boto3": embedded_through_boto3,
    "stepfunctions-local": stepfunctions_local,
}


@pytest.fixture(params=list(BACKENDS))
def backend(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[World, Runner]]:
    # The engine's Lambda client signs its calls; the endpoint checks nothing.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    world = World()
    yield from ((world, run) for run in BACKENDS[request.param](world))


def test_an_order_that_succeeds(backend: tuple[World, Runner]) -> None:
    check_an_order_that_succeeds(*backend)


def test_a_declined_payment_compensates(backend: tuple[World, Runner]) -> None:
    check_a_declined_payment_compensates(*backend)


def test_the_plugins_fixture_runs_the_service_on_step_functions_local(
    stepfunctions_local: StepFunctionsLocalBackend,
) -> None:
    from tests.stepfunctions_local.scenarios import DEFINITION, order

    execution = stepfunctions_local.run("PlaceOrder", DEFINITION, order("o-9", "tok_decline"))
    assert (execution.status, execution.error) == ("FAILED", "PaymentDeclined")
