"""Typed access the engine and the compiler rely on."""

from __future__ import annotations

import json
import subprocess
import sys

import pydantic
import pytest

from stepsaga.workflows.asl import (
    ChoiceState,
    MapState,
    ParallelState,
    PassState,
    Retrier,
    StateMachine,
    TaskState,
    parse_definition,
)
from stepsaga.workflows.facts import CHOICE_OPERATORS

DEFINITION = {
    "Comment": "typed access",
    "StartAt": "Charge",
    "States": {
        "Charge": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"Payload.$": "$", "FunctionName": "charge"},
            "ResultPath": None,
            "Retry": [{"ErrorEquals": ["Lambda.ServiceException"], "MaxDelaySeconds": 10}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}],
            "Next": "Route",
        },
        "Route": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.total", "NumericGreaterThanPath": "$.limit", "Next": "Each"},
                {"Or": [{"Variable": "$.vip", "BooleanEquals": True}], "Next": "Both"},
            ],
            "Default": "Done",
        },
        "Each": {
            "Type": "Map",
            "Iterator": {"StartAt": "One", "States": {"One": {"Type": "Pass", "End": True}}},
            "Next": "Done",
        },
        "Both": {
            "Type": "Parallel",
            "Branches": [{"StartAt": "Left", "States": {"Left": {"Type": "Succeed"}}}],
            "Next": "Done",
        },
        "Done": {"Type": "Pass", "Result": None, "End": True},
        "Failed": {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"},
    },
}


@pytest.fixture(scope="module")
def machine() -> StateMachine:
    return parse_definition(DEFINITION)


def test_states_are_typed_by_their_type(machine: StateMachine) -> None:
    assert machine.start_at == "Charge"
    assert machine.query_language == "JSONPath"  # the default when the definition sets none
    kinds = {name: type(state).__name__ for name, state in machine.states.items()}
    assert kinds == {
        "Charge": "TaskState",
        "Route": "ChoiceState",
        "Each": "MapState",
        "Both": "ParallelState",
        "Done": "PassState",
        "Failed": "FailState",
    }


def test_retriers_read_aws_defaults_for_unset_fields(machine: StateMachine) -> None:
    task = machine.states["Charge"]
    assert isinstance(task, TaskState)
    (retrier,) = task.retry
    assert isinstance(retrier, Retrier)
    assert (retrier.interval_seconds, retrier.max_attempts, retrier.backoff_rate) == (1, 3, 2.0)
    assert (retrier.max_delay_seconds, retrier.jitter_strategy) == (10, "NONE")
    # the defaults are not written back
    assert task.to_dict()["Retry"] == [
        {"ErrorEquals": ["Lambda.ServiceException"], "MaxDelaySeconds": 10}
    ]
    assert task.catch[0].next == "Failed" and task.catch[0].result_path == "$.error"


def test_absent_and_null_paths_are_told_apart(machine: StateMachine) -> None:
    task = machine.states["Charge"]
    assert isinstance(task, TaskState)
    # ResultPath null discards the result; an absent InputPath means the whole input
    assert task.result_path is None and task.has("result_path")
    assert task.input_path == "$" and not task.has("input_path")
    done = machine.states["Done"]
    assert isinstance(done, PassState)
    assert done.result is None and done.has("result")  # Result: null is a value
    assert not done.has("parameters")


def test_choice_rules_expose_operator_and_operand(machine: StateMachine) -> None:
    route = machine.states["Route"]
    assert isinstance(route, ChoiceState)
    first, second = route.choices
    assert (first.variable, first.operator, first.operand) == (
        "$.total",
        "NumericGreaterThanPath",
        "$.limit",
    )
    assert second.or_ is not None and second.or_[0].operator == "BooleanEquals"
    assert second.or_[0].operand is True
    assert route.default == "Done"


def test_map_and_parallel_bodies_are_nested_graphs(machine: StateMachine) -> None:
    each = machine.states["Each"]
    assert isinstance(each, MapState)
    assert each.item_processor is None and each.processor is not None
    assert each.processor.start_at == "One"
    assert isinstance(each.processor.states["One"], PassState)
    both = machine.states["Both"]
    assert isinstance(both, ParallelState)
    assert [branch.start_at for branch in both.branches] == ["Left"]


def test_models_are_immutable(machine: StateMachine) -> None:
    with pytest.raises(pydantic.ValidationError):
        machine.start_at = "Route"  # type: ignore[misc]  # the refused write is the point


def test_json_fields_stay_plain_json(machine: StateMachine) -> None:
    task = machine.states["Charge"]
    assert isinstance(task, TaskState)
    assert task.parameters == {"Payload.$": "$", "FunctionName": "charge"}
    assert machine.to_dict() == DEFINITION


def _operand_for(operator: str) -> object:
    if operator.endswith("Path"):
        return "$.other"
    if operator.startswith("Is") or operator == "BooleanEquals":
        return True
    if operator.startswith("Numeric"):
        return 2.5
    if operator.startswith("Timestamp"):
        return "2026-01-31T08:00:00Z"
    return "text*"


@pytest.mark.parametrize("operator", sorted(CHOICE_OPERATORS))
def test_every_choice_operator_is_typed_and_round_trips(operator: str) -> None:
    rule = {"Variable": "$.value", operator: _operand_for(operator), "Next": "Done"}
    definition = {
        "StartAt": "Route",
        "States": {
            "Route": {"Type": "Choice", "Choices": [rule], "Default": "Done"},
            "Done": {"Type": "Succeed"},
        },
    }
    machine = parse_definition(definition)
    route = machine.states["Route"]
    assert isinstance(route, ChoiceState)
    assert (route.choices[0].operator, route.choices[0].operand) == (operator, rule[operator])
    assert machine.to_dict() == definition


def test_json_text_as_bytes_is_accepted() -> None:
    text = json.dumps(DEFINITION).encode()
    assert parse_definition(text).to_dict() == DEFINITION


def test_core_does_not_import_the_sdk() -> None:
    code = "import sys, stepsaga.workflows.asl; print('stepfunctions' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
