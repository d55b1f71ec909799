"""Whatever a user writes, parsing answers with a model or with problems, never with a crash."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from stepsaga.workflows.asl import ASLValidationError, parse_definition

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
