"""Every package states its public names in `__all__`, and each of those names resolves.

Each package's own test folder pins its exact list (a change to the public surface is a visible,
reviewed change); this test holds every package to the same shape, so a new package cannot
forget it, and pins the lists no other test does.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = sorted(
    ".".join(("stepsaga", *init.parent.relative_to(ROOT).parts))
    for top in ("domain", "workflows", "tasks", "infra", "examples")
    for init in (ROOT / top).rglob("__init__.py")
    if "__pycache__" not in init.parts
)

PINNED: dict[str, tuple[str, ...]] = {
    "stepsaga": (
        "BusinessFailure",
        "Command",
        "DomainEvent",
        "InMemoryEventStore",
        "InMemoryNotifier",
        "LocalService",
        "LocalStepFunctions",
        "Notification",
        "RetryPolicy",
        "RetryableError",
        "Saga",
        "Step",
        "StepContext",
        "TaskRuntime",
        "compile_saga",
    ),
    "stepsaga.workflows": (),
    "stepsaga.infra": (),
    "stepsaga.workflows.facts": (
        "CHOICE_OPERATORS",
        "JITTER_STRATEGIES",
        "LAMBDA_INVOKE",
        "MAX_DELAY_SECONDS",
        "MAX_LABEL_LENGTH",
        "MAX_LAMBDA_FUNCTION_NAME_LENGTH",
        "MAX_NAME_LENGTH",
        "MAX_PAYLOAD_BYTES",
        "MAX_SECONDS_OR_ATTEMPTS",
        "MAX_STATE_NAME_LENGTH",
        "MAX_VARIABLE_NAME_LENGTH",
        "STATES_ALL",
        "STATES_DATA_LIMIT_EXCEEDED",
        "STATES_EXCEED_TOLERATED_FAILURE_THRESHOLD",
        "STATES_HEARTBEAT_TIMEOUT",
        "STATES_NO_CHOICE_MATCHED",
        "STATES_QUERY_EVALUATION_ERROR",
        "STATES_REFERENCE_PATH_CONFLICT",
        "STATES_RUNTIME",
        "STATES_TASK_FAILED",
        "STATES_TIMEOUT",
        "TRANSIENT_LAMBDA_ERRORS",
        "WAIT_FOR_TASK_TOKEN",
        "JitterStrategy",
    ),
    "stepsaga.examples": (),
    "stepsaga.examples.orders": (),
    "stepsaga.infra.cli": ("cli", "main"),
    "stepsaga.infra.local": (),
    "stepsaga.infra.local.stepfunctions": (
        "DefinitionError",
        "Execution",
        "LambdaContext",
        "LocalStepFunctions",
        "MockConfig",
        "RealClock",
        "StatesError",
        "TaskCall",
        "TaskMock",
        "TaskOutcome",
        "VirtualClock",
    ),
    "stepsaga.infra.local.replay": (
        "LEVELS",
        "CaseResult",
        "Record",
        "ReplayReport",
        "load_records",
        "recorded_outcomes",
        "replay",
        "replay_record",
    ),
}


def test_every_package_is_found() -> None:
    expected = {"domain", "workflows.asl", "tasks", "infra.local.stepfunctions"}
    assert {f"stepsaga.{name}" for name in expected} <= set(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_package_exports_a_tuple_of_public_names_that_resolve(package: str) -> None:
    module = importlib.import_module(package)
    exported = module.__dict__.get("__all__")
    assert isinstance(exported, tuple), f"{package}.__all__ must be a tuple"
    assert len(set(exported)) == len(exported), f"{package}.__all__ repeats a name"
    for name in exported:
        assert not name.startswith("_"), f"{package} exports private {name}"
        assert hasattr(module, name), f"{package}.__all__ names {name}, which it lacks"


@pytest.mark.parametrize("package", sorted(PINNED))
def test_public_names_are_pinned(package: str) -> None:
    assert importlib.import_module(package).__all__ == PINNED[package]
