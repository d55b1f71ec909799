"""The plan is built from the validated ASL model, which the engine does not validate again."""

from __future__ import annotations

from typing import Any, NoReturn

import pytest

from stepsaga.examples.orders.sagas import PLACE_ORDER
from stepsaga.infra.local.stepfunctions import DefinitionError, LocalStepFunctions
from stepsaga.workflows import asl
from stepsaga.workflows.saga import compile_saga

DEFINITION: dict[str, Any] = {
    "StartAt": "P",
    "States": {"P": {"Type": "Pass", "Result": {"ok": True}, "End": True}},
}


def refuse_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    def validated_again(*args: Any, **kwargs: Any) -> NoReturn:
        raise AssertionError("the definition was validated again")

    monkeypatch.setattr(asl, "parse_definition", validated_again)


def test_a_state_machine_model_runs_without_being_validated_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a validated model (and a validator that would fail if called)
    machine = asl.parse_definition(DEFINITION)
    refuse_validation(monkeypatch)
    # WHEN the engine runs it
    ex = LocalStepFunctions().run(machine, {})
    # THEN it runs, and the execution names the model it ran
    assert ex.output == {"ok": True}
    assert ex.definition is machine


def test_a_compiled_saga_is_validated_once_by_the_compiler(monkeypatch: pytest.MonkeyPatch) -> None:
    machine = compile_saga(PLACE_ORDER)
    refuse_validation(monkeypatch)
    sfn = LocalStepFunctions()
    plan = sfn.compile(machine)
    assert plan.machine is machine
    assert sfn.compile(machine) is plan


def test_a_dict_is_validated_into_the_model_the_execution_names() -> None:
    ex = LocalStepFunctions().run(DEFINITION, {})
    assert isinstance(ex.definition, asl.StateMachine)
    assert ex.definition.to_dict() == DEFINITION


def test_a_model_built_without_validation_still_names_a_broken_transition() -> None:
    broken = asl.parse_definition(
        {"StartAt": "P", "States": {"P": {"Type": "Pass", "Next": "Nowhere"}}}, validate=False
    )
    with pytest.raises(DefinitionError) as raised:
        LocalStepFunctions().run(broken, {})
    assert raised.value.pointer == "/States/P/Next"
