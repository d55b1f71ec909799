"""The public surface of stepsaga.workflows.asl is pinned: changing it is a visible, reviewed
change."""

from __future__ import annotations

import stepsaga.workflows.asl

EXPECTED = {
    "ASLValidationError",
    "AslModel",
    "Branch",
    "Catcher",
    "ChoiceRule",
    "ChoiceState",
    "FailState",
    "StateGraph",
    "ItemBatcher",
    "ItemProcessor",
    "ItemReader",
    "MapState",
    "ParallelState",
    "PassState",
    "Problem",
    "ProcessorConfig",
    "QueryLanguage",
    "ReaderConfig",
    "ResultWriter",
    "Retrier",
    "STATE_TYPES",
    "State",
    "StateMachine",
    "SucceedState",
    "TaskState",
    "WaitState",
    "from_sdk_graph",
    "parse_definition",
    "parse_state",
    "validate",
    "validate_state",
}


def test_public_names_are_pinned() -> None:
    assert isinstance(stepsaga.workflows.asl.__all__, tuple)
    assert set(stepsaga.workflows.asl.__all__) == EXPECTED
    assert len(stepsaga.workflows.asl.__all__) == len(EXPECTED)


def test_every_public_name_resolves() -> None:
    for name in stepsaga.workflows.asl.__all__:
        assert getattr(stepsaga.workflows.asl, name) is not None, name


def test_core_does_not_import_the_sdk() -> None:
    import subprocess
    import sys

    code = "import sys, stepsaga.workflows.asl; print('stepfunctions' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
