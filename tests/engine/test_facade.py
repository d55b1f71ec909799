"""The facade: determinism, inputs, plan caching, retention."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from stepsaga.infra.local.stepfunctions import LocalStepFunctions, TaskOutcome


def _random_machine() -> dict[str, Any]:
    return {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Pass",
                "Parameters": {"id.$": "States.UUID()", "n.$": "States.MathRandom(1, 1000)"},
                "End": True,
            }
        },
    }


def test_same_seed_same_execution() -> None:
    runs = [LocalStepFunctions(seed=3).run(_random_machine(), {}) for _ in range(2)]
    assert runs[0].arn == runs[1].arn
    assert runs[0].output == runs[1].output
    assert runs[0].history == runs[1].history
    other = LocalStepFunctions(seed=4).run(_random_machine(), {})
    assert other.output != runs[0].output


def test_input_may_be_json_text_or_a_value() -> None:
    definition = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    sfn = LocalStepFunctions()
    assert sfn.run(definition, '{"a": 1}').output == {"a": 1}
    assert sfn.run(definition, [1]).output == [1]
    assert sfn.run(definition).output == {}


def test_definition_text_is_accepted_and_names_are_used_in_arns() -> None:
    text = '{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}'
    ex = LocalStepFunctions(region="eu-west-1").run(text, {}, name="run-1", state_machine_name="sm")
    assert ex.arn == "arn:aws:states:eu-west-1:123456789012:execution:sm:run-1"
    assert ex.state_machine_arn == "arn:aws:states:eu-west-1:123456789012:stateMachine:sm"


def test_a_definition_changed_in_place_is_recompiled() -> None:
    state: dict[str, Any] = {"Type": "Pass", "Result": 1, "End": True}
    definition = {"StartAt": "P", "States": {"P": state}}
    sfn = LocalStepFunctions()
    assert sfn.run(definition).output == 1
    state["Result"] = 2
    assert sfn.run(definition).output == 2


def test_only_the_newest_executions_are_retained() -> None:
    definition = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    sfn = LocalStepFunctions(max_retained_executions=5)
    names = [sfn.run(definition, {}, name=f"e{i}").name for i in range(12)]
    assert [ex.name for ex in sfn.executions] == names[-5:]


def test_mock_can_be_removed() -> None:
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "f"},
                "End": True,
            }
        },
    }
    sfn = LocalStepFunctions()
    sfn.register_lambda("f", lambda event, context: "real")
    sfn.mock_tasks(lambda call: TaskOutcome.success({"Payload": "mocked"}))
    assert sfn.run(copy.deepcopy(definition)).output == {"Payload": "mocked"}
    sfn.mock_tasks(None)
    assert sfn.run(definition).output["Payload"] == "real"


def test_equal_definitions_share_one_compiled_plan() -> None:
    definition = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    sfn = LocalStepFunctions()
    plan = sfn.compile(definition)
    # e.g. a saga's `to_dict()` called for every run: validated and compiled once
    assert sfn.compile(copy.deepcopy(definition)) is plan
    assert sfn.compile('{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}') is plan


def test_an_asl_model_runs_directly() -> None:
    from stepsaga.workflows.asl import parse_definition

    model = parse_definition({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    sfn = LocalStepFunctions()
    assert sfn.run(model, {"a": 1}).output == {"a": 1}
    assert sfn.compile(model) is sfn.compile(model)


def _ordered(*keys: str) -> dict[str, Any]:
    """A Pass whose Parameters build an object with ``keys`` in this order."""
    parameters = {key: key.upper() for key in keys}
    return {
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Parameters": parameters, "End": True}},
    }


def test_definitions_differing_only_in_key_order_keep_their_own_output_order() -> None:
    """Step Functions writes an object's keys in the order the definition gives them, so two
    definitions equal but for key order are two machines: neither may borrow the other's plan,
    whichever ran first."""
    for first, second in ((("a", "b"), ("b", "a")), (("b", "a"), ("a", "b"))):
        sfn = LocalStepFunctions()
        assert list(sfn.run(_ordered(*first)).output) == list(first)
        assert list(sfn.run(_ordered(*second)).output) == list(second)
        assert list(sfn.run(json.dumps(_ordered(*second))).output) == list(second)


def test_a_dict_that_reuses_a_freed_dicts_address_is_not_taken_for_it() -> None:
    # Temporary definitions are freed at once, and CPython often gives the next one the same
    # address (the same id): the cache must not answer the new dict with the old one's plan.
    sfn = LocalStepFunctions()
    for round_ in range(20):
        keys = ("a", "b") if round_ % 2 else ("b", "a")
        assert list(sfn.run(_ordered(*keys)).output) == list(keys)


def test_a_fresh_copy_of_a_known_definition_is_not_validated_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from stepsaga.infra.local.stepfunctions import _facade

    validated: list[object] = []
    original = _facade._validated

    def counting(spec: Any) -> Any:
        validated.append(spec)
        return original(spec)

    monkeypatch.setattr(_facade, "_validated", counting)
    sfn = LocalStepFunctions()
    definition = _ordered("a", "b")
    for _ in range(3):
        sfn.run(copy.deepcopy(definition))
        sfn.run(definition)
    assert len(validated) == 1
