"""The causes an execution records when a path selects nothing, prefix included.

AWS prefixes a ``States.Runtime`` (and ``States.QueryEvaluationError``) cause with the state
and the id of its entered event: "An error occurred while executing the state '<name>'
(entered at the event id #<n>). "; a ``States.ReferencePathConflict`` cause, a
``States.DataLimitExceeded`` cause and a task's own failure are written as they are. The
field's own text comes from the expressions (``tests/expressions/test_causes.py``).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from stepsaga.infra.local.stepfunctions import LocalStepFunctions
from tests.conformance import records

PREFIX = re.compile(
    r"^An error occurred while executing the state '(.+?)' \(entered at the event id #(\d+)\)\. "
)


def machine(**states: Any) -> dict[str, Any]:
    return {"StartAt": next(iter(states)), "States": states}


def test_the_recorded_prefix_names_the_state_and_its_entered_event() -> None:
    """In every recorded failure whose cause carries the prefix, the event it names is the
    named state's entered event, and only Runtime and QueryEvaluation errors carry it."""
    checked = 0
    for file in ("jsonpath.jsonl", "jsonata.jsonl", "services.jsonl"):
        for record in records(file):
            history = record.get("history") or []
            if not all(isinstance(event["id"], int) for event in history):
                continue  # Parallel branches re-ordered by the recorder: ids are placeholders
            by_id = {event["id"]: event for event in history}
            for event in history:
                details = event.get("executionFailedEventDetails")
                if not details or not isinstance(details.get("cause"), str):
                    continue
                found = PREFIX.match(details["cause"])
                if found is None:
                    assert details.get("error") != "States.Runtime", record["id"]
                    continue
                assert details["error"] in ("States.Runtime", "States.QueryEvaluationError")
                entered = by_id[int(found.group(2))]
                assert entered["type"].endswith("StateEntered")
                assert entered["stateEnteredEventDetails"]["name"] == found.group(1)
                checked += 1
    assert checked >= 20  # the recordings hold that many; fewer means they were not read


@pytest.mark.parametrize("field", ["ErrorPath", "CausePath"])
def test_a_fail_path_that_selects_nothing_names_its_field(field: str) -> None:
    definition = machine(
        P={"Type": "Pass", "Next": "F"},
        F={"Type": "Fail", field: "$.nope"},
    )
    ex = LocalStepFunctions().run(definition, {"e": "E"})
    assert (ex.status, ex.error) == ("FAILED", "States.Runtime")
    assert ex.cause == (
        "An error occurred while executing the state 'F' (entered at the event id #4). "
        f"The JSONPath '$.nope' specified for the field '{field}' could not be found in the "
        'input \'{"e":"E"}\''
    )


def test_fail_paths_take_the_value_itself_and_intrinsics() -> None:
    definition = machine(
        F={"Type": "Fail", "ErrorPath": "$.e", "CausePath": "States.Format('at {}', $.n)"}
    )
    ex = LocalStepFunctions().run(definition, {"e": "Boom", "n": 3})
    assert (ex.error, ex.cause) == ("Boom", "at 3")


def test_inside_a_map_iteration_the_prefix_names_the_iterations_own_event() -> None:
    definition = machine(
        M={
            "Type": "Map",
            "ItemProcessor": {
                "StartAt": "Inner",
                "States": {"Inner": {"Type": "Pass", "InputPath": "$.nope", "End": True}},
            },
            "End": True,
        }
    )
    ex = LocalStepFunctions().run(definition, [{"a": 1}])
    entered = next(e for e in ex.history if e["type"] == "PassStateEntered")
    assert ex.cause is not None
    assert ex.cause.startswith(
        f"An error occurred while executing the state 'Inner' (entered at the event id "
        f"#{entered['id']}). "
    )


def test_an_items_path_that_selects_nothing_is_a_reference_path_conflict() -> None:
    """ItemsPath is a reference path (https://states-language.net/spec.html#ref-paths); AWS
    names the first step it could not apply, without the state prefix."""
    definition = machine(
        M={
            "Type": "Map",
            "ItemsPath": "$.order.items",
            "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}},
            "End": True,
        }
    )
    ex = LocalStepFunctions().run(definition, {"order": {"id": 1}})
    assert (ex.error, ex.cause) == (
        "States.ReferencePathConflict",
        'Unable to apply step "items" to input {"order":{"id":1}}',
    )


def test_a_catcher_whose_result_path_cannot_apply_fails_the_state() -> None:
    # The Catcher's own ResultPath is not caught by the Catcher: the state fails with it,
    # recorded like any failure, rather than stopping the engine.
    definition = machine(
        T={
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "missing"},
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.a.b", "Next": "C"}],
            "End": True,
        },
        C={"Type": "Succeed"},
    )
    ex = LocalStepFunctions().run(definition, {"a": 1})
    assert (ex.status, ex.error) == ("FAILED", "States.ReferencePathConflict")
    assert ex.cause == 'Unable to apply step "b" to input {"a":1}'
    assert ex.event_types[-2:] == ["TaskFailed", "ExecutionFailed"]
