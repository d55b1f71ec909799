"""Histories shaped like GetExecutionHistory: ids, previousEventIds, details, ordering."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from stepsaga.infra.local.stepfunctions import LocalStepFunctions


def chain(history: list[dict[str, Any]]) -> list[tuple[int, int, str]]:
    return [(e["id"], e["previousEventId"], e["type"]) for e in history]


def test_events_are_plain_dicts_with_aware_datetimes_and_json_text() -> None:
    definition = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    ex = LocalStepFunctions(role_arn="arn:aws:iam::1:role/r").run(definition, '{"a": [1, 2]}')
    started = ex.history[0]
    assert isinstance(started["timestamp"], datetime) and started["timestamp"].tzinfo is not None
    assert started["executionStartedEventDetails"] == {
        "input": '{"a":[1,2]}',
        "inputDetails": {"truncated": False},
        "roleArn": "arn:aws:iam::1:role/r",
    }
    assert chain(ex.history) == [
        (1, 0, "ExecutionStarted"),
        (2, 0, "PassStateEntered"),
        (3, 2, "PassStateExited"),
        (4, 3, "ExecutionSucceeded"),
    ]


def test_map_events_chain_as_aws_records_them() -> None:
    definition = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "MaxConcurrency": 1,
                "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}},
                "End": True,
            }
        },
    }
    ex = LocalStepFunctions().run(definition, [1, 2])
    # iteration k+1 starts from iteration k's last state event; the state closes from the
    # last MapIterationSucceeded (as in AWS's recordings)
    assert chain(ex.history) == [
        (1, 0, "ExecutionStarted"),
        (2, 0, "MapStateEntered"),
        (3, 2, "MapStateStarted"),
        (4, 3, "MapIterationStarted"),
        (5, 4, "PassStateEntered"),
        (6, 5, "PassStateExited"),
        (7, 6, "MapIterationSucceeded"),
        (8, 6, "MapIterationStarted"),
        (9, 8, "PassStateEntered"),
        (10, 9, "PassStateExited"),
        (11, 10, "MapIterationSucceeded"),
        (12, 11, "MapStateSucceeded"),
        (13, 11, "MapStateExited"),
        (14, 13, "ExecutionSucceeded"),
    ]
    assert ex.history[3]["mapIterationStartedEventDetails"] == {"index": 0, "name": "M"}


def test_parallel_branches_run_in_declaration_order() -> None:
    def branch(name: str) -> dict[str, Any]:
        return {"StartAt": name, "States": {name: {"Type": "Pass", "End": True}}}

    definition = {
        "StartAt": "P",
        "States": {"P": {"Type": "Parallel", "Branches": [branch("X"), branch("Y")], "End": True}},
    }
    ex = LocalStepFunctions().run(definition, {})
    names = [
        e["stateEnteredEventDetails"]["name"] for e in ex.history if e["type"] == "PassStateEntered"
    ]
    assert names == ["X", "Y"]
    succeeded = next(e for e in ex.history if e["type"] == "ParallelStateSucceeded")
    exited = next(e for e in ex.history if e["type"] == "ParallelStateExited")
    assert succeeded["previousEventId"] == exited["previousEventId"] == succeeded["id"] - 1


def test_context_times_follow_the_virtual_clock() -> None:
    definition = {
        "StartAt": "W",
        "States": {
            "W": {"Type": "Wait", "Seconds": 90, "Next": "P"},
            "P": {
                "Type": "Pass",
                "Parameters": {
                    "start.$": "$$.Execution.StartTime",
                    "entered.$": "$$.State.EnteredTime",
                },
                "End": True,
            },
        },
    }
    ex = LocalStepFunctions().run(definition, {})
    assert ex.output == {"start": "2025-01-01T00:00:00.000Z", "entered": "2025-01-01T00:01:30.000Z"}


def test_a_rendered_history_holds_one_text_per_value_it_passes_on() -> None:
    """A state's input is the previous state's output: its JSON text is rendered once.

    A loop of 25,000 events over a 160 KB payload rendered 4 GB of text before (one copy per
    event), about 0.7 GB since.
    """
    big = {f"k{i}": "x" * 100 for i in range(100)}
    definition = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Result": big, "Next": "B"},
            "B": {"Type": "Pass", "End": True},
        },
    }
    events = LocalStepFunctions().run(definition, {}).history
    exited_a = next(e for e in events if e["type"] == "PassStateExited")
    entered_b = [e for e in events if e["type"] == "PassStateEntered"][1]
    output = exited_a["stateExitedEventDetails"]["output"]
    assert output is entered_b["stateEnteredEventDetails"]["input"]
    assert json.loads(output) == big
