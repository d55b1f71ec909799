"""Whatever a user writes, parsing answers with a model or with problems, never with a crash."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stepsaga.workflows.asl import ASLValidationError, parse_definition
from stepsaga.workflows.render import render

BASE: dict[str, Any] = {
    "Comment": "every state type, both query languages",
    "StartAt": "Charge",
    "States": {
        "Charge": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"Payload.$": "$", "Token.$": "States.UUID()"},
            "ResultSelector": {"body.$": "$.Payload"},
            "ResultPath": "$.charge",
            "TimeoutSeconds": 30,
            "Retry": [{"ErrorEquals": ["States.TaskFailed"], "BackoffRate": 2.0}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}],
            "Next": "Route",
        },
        "Route": {
            "Type": "Choice",
            "Choices": [
                {
                    "And": [
                        {"Variable": "$.n", "NumericGreaterThan": 1},
                        {"Not": {"Variable": "$.s", "StringEquals": "x"}},
                    ],
                    "Next": "Later",
                }
            ],
            "Default": "Fan",
        },
        "Later": {"Type": "Wait", "SecondsPath": "$.delay", "Next": "Fan"},
        "Fan": {
            "Type": "Parallel",
            "Branches": [{"StartAt": "Left", "States": {"Left": {"Type": "Pass", "End": True}}}],
            "Next": "Each",
        },
        "Each": {
            "Type": "Map",
            "QueryLanguage": "JSONata",
            "Items": "{% $states.input.items %}",
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "One",
                "States": {
                    "One": {
                        "Type": "Pass",
                        "QueryLanguage": "JSONata",
                        "Output": "{% $states.input %}",
                        "End": True,
                    }
                },
            },
            "Assign": {"count": "{% $count + 1 %}"},
            "Next": "Done",
        },
        "Done": {"Type": "Succeed"},
        "Failed": {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"},
    },
}

ODD_VALUES: st.SearchStrategy[Any] = st.sampled_from(
    [None, True, 0, -1, 1.5, "", "$", "$.a[", "{% $x %}", "{% (", "States.Format(", [], {}, [1]]
)
KEYS = st.sampled_from(
    [
        "Next",
        "End",
        "Type",
        "Bogus",
        "ResultPath",
        "Parameters",
        "Catch",
        "Retry",
        "Default",
        "Choices",
        "Branches",
        "ItemProcessor",
        "QueryLanguage",
        "Output",
        "Arguments",
        "Assign",
        "StartAt",
        "States",
        "ErrorEquals",
        "Variable",
    ]
)


def _containers(node: Any) -> list[Any]:
    found = [node] if isinstance(node, dict | list) else []
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else []
    for child in children:
        found.extend(_containers(child))
    return found


def test_base_definition_is_valid() -> None:
    assert parse_definition(BASE).to_dict() == BASE


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_mutated_definitions_give_a_model_or_problems(data: st.DataObject) -> None:
    # GIVEN a valid definition with one to three random edits (set, replace or delete a field)
    definition = copy.deepcopy(BASE)
    for _ in range(data.draw(st.integers(1, 3))):
        target = data.draw(st.sampled_from(_containers(definition)))
        if isinstance(target, dict):
            key = data.draw(KEYS | st.sampled_from(sorted(target) or ["Next"]))
            if key in target and data.draw(st.booleans()):
                del target[key]
            else:
                target[key] = copy.deepcopy(data.draw(ODD_VALUES))
        elif target:
            target[data.draw(st.integers(0, len(target) - 1))] = copy.deepcopy(
                data.draw(ODD_VALUES)
            )
    # WHEN it is parsed THEN the result is a model or an ASLValidationError whose problems all
    # carry a JSON pointer and a rule, never another exception
    try:
        parse_definition(definition)
    except ASLValidationError as error:
        assert error.problems
        for problem in error.problems:
            assert problem.pointer == "" or problem.pointer.startswith("/")
            assert problem.code and problem.message


# --- bad input gets a problem, never a traceback ---------------------------------------------


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ([1], "A definition must be JSON text or a mapping (a JSON object), got an array"),
        (5, "got a number"),
        (None, "got null"),
        ("[1]", "A definition must be a JSON object, got an array"),
        (b"\xff\xfe\x00\x01", "not UTF-8 text (byte 0xff at offset 0)"),
        ('{"StartAt": NaN}', "NaN is not a JSON number"),
        ("[" * 50_000, "nests deeper than 1000"),
        ({"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": {1, 2}}}}, "a Python set"),
        ({"StartAt": "A", "States": {"A": [1]}}, "Expected an object, got an array"),
        ({"StartAt": "A", "States": {"A": "Pass"}}, "Expected an object, got a string"),
        ({"StartAt": "A", "States": [{"Type": "Pass"}]}, "Expected an object, got an array"),
    ],
)
def test_a_definition_that_is_not_a_json_object_is_a_problem(source: Any, message: str) -> None:
    with pytest.raises(ASLValidationError) as caught:
        parse_definition(source)
    assert any(message in problem.message for problem in caught.value.problems), caught.value


def test_a_problem_inside_a_mapping_names_its_pointer() -> None:
    definition = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": [float("inf")]}}}
    with pytest.raises(ASLValidationError) as caught:
        parse_definition(definition)
    assert caught.value.problems[0].pointer == "/States/A/Result/0"


def _parallel_tower(levels: int) -> dict[str, Any]:
    state: dict[str, Any] = {"Type": "Pass", "End": True}
    for level in range(levels):
        branch = {"StartAt": f"S{level}", "States": {f"S{level}": state}}
        state = {"Type": "Parallel", "Branches": [branch], "End": True}
    return {"StartAt": "Top", "States": {"Top": state}}


def test_deep_definitions_are_refused_with_a_problem_and_shallower_ones_render() -> None:
    # Five JSON levels per Parallel: 190 of them stay within the 1,000 levels a JSON value has.
    machine = parse_definition(json.dumps(_parallel_tower(190)))
    for output_format in ("asl", "mermaid", "dot"):
        assert render(machine, output_format)
    with pytest.raises(ASLValidationError, match="nests deeper than 1000"):
        parse_definition(_parallel_tower(400))
    with pytest.raises(ASLValidationError, match="nests deeper than 1000"):
        parse_definition(json.dumps(_parallel_tower(400)))


def _map_tower(levels: int) -> dict[str, Any]:
    state: dict[str, Any] = {"Type": "Pass", "End": True}
    for level in range(levels):
        body = {"StartAt": f"S{level}", "States": {f"S{level}": state}}
        state = {"Type": "Map", "ItemProcessor": body, "End": True}
    return {"StartAt": "Top", "States": {"Top": state}}


def test_nested_maps_parse_and_render_or_are_refused_with_a_problem() -> None:
    machine = parse_definition(_map_tower(100))
    for output_format in ("asl", "mermaid", "dot"):
        assert render(machine, output_format)
    with pytest.raises(ASLValidationError) as caught:
        parse_definition(_map_tower(200))
    assert "nests too deeply for stepsaga to read" in str(caught.value)
