"""A stand-in for the engine's coverage interface, so the plugin is tested on exact transitions.

The engine reports, per closed execution, its definition and the transitions it took
(`Execution.transitions`, `observe_executions`). The plugin's tests copy this module into
pytester's folder; a conftest there calls `install()` so the plugin subscribes here, and a test
`close()`s executions with exactly the transitions it wants counted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import stepsaga.infra.local.stepfunctions as engine
from stepsaga.workflows.asl import StateMachine, parse_definition

ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:{}"
_MISSING = object()
_observers: list[Callable[[Any], None]] = []
_saved: object = _MISSING


@dataclass(frozen=True)
class FakeTransition:
    scope: str
    source: str
    target: str | None
    via: str


@dataclass(frozen=True)
class FakeExecution:
    definition: StateMachine
    transitions: tuple[FakeTransition, ...]
    state_machine_arn: str = ARN.format("stepsaga-local")


def observe_executions(callback: Callable[[Any], None]) -> Callable[[], None]:
    _observers.append(callback)

    def unsubscribe() -> None:
        if callback in _observers:
            _observers.remove(callback)

    return unsubscribe


def install() -> None:
    global _saved
    _saved = engine.__dict__.get("observe_executions", _MISSING)
    engine.observe_executions = observe_executions  # type: ignore[attr-defined]


def uninstall() -> None:
    if _saved is _MISSING:
        engine.__dict__.pop("observe_executions", None)
    else:
        engine.observe_executions = _saved  # type: ignore[attr-defined]


def close(execution: FakeExecution) -> None:
    for callback in list(_observers):
        callback(execution)


def machine(definition: dict[str, Any]) -> StateMachine:
    return parse_definition(definition)


def run(
    definition: StateMachine,
    *transitions: tuple[str, str, str | None, str],
    name: str | None = None,
) -> None:
    """Close one execution of `definition` that took `transitions` (scope, source, target, via)."""
    arn = ARN.format(name or "stepsaga-local")
    close(FakeExecution(definition, tuple(FakeTransition(*t) for t in transitions), arn))
