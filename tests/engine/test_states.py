"""Each state type, run end to end on the facade."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from stepsaga.infra.local.stepfunctions import LocalStepFunctions


def machine(**states: dict[str, Any]) -> dict[str, Any]:
    """A definition whose first keyword argument is the start state."""
    return {"StartAt": next(iter(states)), "States": states}


def test_pass_applies_result_and_result_path() -> None:
    # GIVEN a Pass state with Result placed under $.added
    definition = machine(
        P={"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.added", "End": True}
    )
    # WHEN it runs
    ex = LocalStepFunctions().run(definition, {"keep": True})
    # THEN the input is kept and the result placed at the path
    assert ex.status == "SUCCEEDED"
    assert ex.output == {"keep": True, "added": {"x": 1}}


def test_pass_parameters_read_input_and_context() -> None:
    definition = machine(
        P={
            "Type": "Pass",
            "Parameters": {"v.$": "$.a", "state.$": "$$.State.Name", "literal": "x"},
            "End": True,
        }
    )
    ex = LocalStepFunctions().run(definition, {"a": 5})
    assert ex.output == {"v": 5, "state": "P", "literal": "x"}


def test_null_paths_discard_as_the_spec_says() -> None:
    definition = machine(
        A={"Type": "Pass", "InputPath": None, "Next": "B"},
        B={"Type": "Pass", "Result": 1, "ResultPath": None, "Next": "C"},
        C={"Type": "Pass", "OutputPath": None, "End": True},
    )
    ex = LocalStepFunctions().run(definition, {"a": 1})
    assert ex.output == {}
    exited = [e for e in ex.history if e["type"] == "PassStateExited"]
    assert [e["stateExitedEventDetails"]["output"] for e in exited] == ["{}", "{}", "{}"]


def test_choice_takes_first_matching_rule_else_default() -> None:
    definition = machine(
        C={
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Big"},
                {"Variable": "$.n", "NumericGreaterThan": 0, "Next": "Small"},
            ],
            "Default": "None",
        },
        Big={"Type": "Pass", "Result": "big", "End": True},
        Small={"Type": "Pass", "Result": "small", "End": True},
        None_={"Type": "Pass", "End": True},
    )
    definition["States"]["None"] = definition["States"].pop("None_")
    definition["States"]["None"]["Result"] = "none"
    sfn = LocalStepFunctions()
    assert [sfn.run(definition, {"n": n}).output for n in (11, 3, -1)] == ["big", "small", "none"]


def test_choice_without_match_or_default_fails_no_choice_matched() -> None:
    definition = machine(
        C={"Type": "Choice", "Choices": [{"Variable": "$.n", "IsNull": True, "Next": "E"}]},
        E={"Type": "Succeed"},
    )
    ex = LocalStepFunctions().run(definition, {"n": 1})
    assert (ex.status, ex.error) == ("FAILED", "States.NoChoiceMatched")


def test_wait_seconds_advances_virtual_time_only() -> None:
    sfn = LocalStepFunctions()
    definition = machine(W={"Type": "Wait", "Seconds": 3600, "End": True})
    ex = sfn.run(definition, {})
    entered, exited = ex.history[1], ex.history[2]
    assert exited["timestamp"] - entered["timestamp"] == timedelta(hours=1)
    assert ex.stop_date is not None and ex.stop_date - ex.start_date == timedelta(hours=1)


def test_wait_timestamp_path_waits_until_that_instant() -> None:
    sfn = LocalStepFunctions()
    definition = machine(W={"Type": "Wait", "TimestampPath": "$.at", "End": True})
    ex = sfn.run(definition, {"at": "2025-01-01T00:10:00Z"})
    assert ex.history[-1]["timestamp"].isoformat() == "2025-01-01T00:10:00+00:00"


@pytest.mark.parametrize(
    ("at", "ends"),
    [
        ("2025-01-01T02:10:00.1234567+02:00", "2025-01-01T00:10:00.123456+00:00"),
        ("2025-01-01T00:10:00.5Z", "2025-01-01T00:10:00.500000+00:00"),
    ],
)
def test_wait_timestamp_honours_offsets_and_fractions(at: str, ends: str) -> None:
    definition = machine(W={"Type": "Wait", "TimestampPath": "$.at", "End": True})
    ex = LocalStepFunctions().run(definition, {"at": at})
    assert ex.history[-1]["timestamp"].isoformat() == ends


@pytest.mark.parametrize("at", ["2025-01-01T00:10:00.1234567890Z", "2025-01-01T00:10:00"])
def test_wait_timestamp_outside_iso_offset_format_is_a_runtime_error(at: str) -> None:
    # ISO-8601 extended offset date-time: an offset is required, at most nine fraction digits.
    definition = machine(W={"Type": "Wait", "TimestampPath": "$.at", "End": True})
    ex = LocalStepFunctions().run(definition, {"at": at})
    assert ex.error == "States.Runtime"
    assert ex.cause is not None and ex.cause.endswith(f"$.at == {at}")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-1, "The SecondsPath parameter references a negative value: $.s == -1"),
        (1.5, "The SecondsPath parameter cannot be parsed as a long value: $.s == 1.5"),
    ],
)
def test_wait_seconds_path_rejects_what_aws_rejects(value: float, message: str) -> None:
    definition = machine(W={"Type": "Wait", "SecondsPath": "$.s", "End": True})
    ex = LocalStepFunctions().run(definition, {"s": value})
    assert ex.error == "States.Runtime"
    assert ex.cause is not None and ex.cause.endswith(message)
    assert "entered at the event id #2" in ex.cause


def test_succeed_ends_with_its_filtered_input() -> None:
    definition = machine(S={"Type": "Succeed", "InputPath": "$.a", "OutputPath": "$.b"})
    ex = LocalStepFunctions().run(definition, {"a": {"b": 7}})
    assert ex.output == 7
    assert ex.event_types[-2:] == ["SucceedStateExited", "ExecutionSucceeded"]


def test_fail_reports_error_and_cause_including_paths() -> None:
    sfn = LocalStepFunctions()
    plain = machine(F={"Type": "Fail", "Error": "Oops", "Cause": "because"})
    from_paths = machine(F={"Type": "Fail", "ErrorPath": "$.e", "CausePath": "$.c"})
    ex1 = sfn.run(plain, {})
    ex2 = sfn.run(from_paths, {"e": "E2", "c": "C2"})
    assert (ex1.status, ex1.error, ex1.cause) == ("FAILED", "Oops", "because")
    assert (ex2.error, ex2.cause) == ("E2", "C2")
    assert ex1.event_types == ["ExecutionStarted", "FailStateEntered", "ExecutionFailed"]


def test_parallel_collects_branch_outputs_in_branch_order() -> None:
    def branch(value: int) -> dict[str, Any]:
        name = f"B{value}"  # state names are unique across the whole machine
        return {"StartAt": name, "States": {name: {"Type": "Pass", "Result": value, "End": True}}}

    definition = machine(
        P={"Type": "Parallel", "Branches": [branch(1), branch(2), branch(3)], "End": True}
    )
    ex = LocalStepFunctions().run(definition, {})
    assert ex.output == [1, 2, 3]
    assert ex.event_types[:3] == [
        "ExecutionStarted",
        "ParallelStateEntered",
        "ParallelStateStarted",
    ]
    assert "ParallelStateSucceeded" in ex.event_types


def test_parallel_branches_start_at_the_same_virtual_instant() -> None:
    def wait(seconds: int) -> dict[str, Any]:
        name = f"W{seconds}"
        return {
            "StartAt": name,
            "States": {name: {"Type": "Wait", "Seconds": seconds, "End": True}},
        }

    definition = machine(P={"Type": "Parallel", "Branches": [wait(10), wait(30)], "End": True})
    ex = LocalStepFunctions().run(definition, {})
    # concurrent branches: the state lasts as long as its longest branch, not the sum
    assert ex.stop_date is not None and ex.stop_date - ex.start_date == timedelta(seconds=30)


def test_map_runs_each_item_with_item_selector_and_context() -> None:
    definition = machine(
        M={
            "Type": "Map",
            "ItemsPath": "$.items",
            "ItemSelector": {"value.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index"},
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "I",
                "States": {"I": {"Type": "Pass", "End": True}},
            },
            "End": True,
        }
    )
    ex = LocalStepFunctions().run(definition, {"items": ["a", "b"]})
    assert ex.output == [{"value": "a", "index": 0}, {"value": "b", "index": 1}]
    iterations = [
        (e["type"], e["mapIterationStartedEventDetails"]["index"])
        for e in ex.history
        if e["type"] == "MapIterationStarted"
    ]
    assert iterations == [("MapIterationStarted", 0), ("MapIterationStarted", 1)]


def test_map_legacy_iterator_and_parameters_still_run() -> None:
    definition = machine(
        M={
            "Type": "Map",
            "Parameters": {"v.$": "$$.Map.Item.Value"},
            "Iterator": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}},
            "End": True,
        }
    )
    assert LocalStepFunctions().run(definition, [1, 2]).output == [{"v": 1}, {"v": 2}]


def test_map_items_must_be_an_array() -> None:
    definition = machine(
        M={
            "Type": "Map",
            "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}},
            "End": True,
        }
    )
    ex = LocalStepFunctions().run(definition, {"not": "a list"})
    assert ex.error == "States.Runtime"


def test_distributed_map_records_a_map_run() -> None:
    definition = machine(
        M={
            "Type": "Map",
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "I",
                "States": {"I": {"Type": "Pass", "End": True}},
            },
            "End": True,
        }
    )
    ex = LocalStepFunctions().run(definition, [1, 2, 3])
    assert ex.output == [1, 2, 3]
    assert ex.event_types == [
        "ExecutionStarted",
        "MapStateEntered",
        "MapStateStarted",
        "MapRunStarted",
        "MapRunSucceeded",
        "MapStateSucceeded",
        "MapStateExited",
        "ExecutionSucceeded",
    ]
    arn = ex.history[3]["mapRunStartedEventDetails"]["mapRunArn"]
    assert ":mapRun:stepsaga-local/M:" in arn


def test_distributed_map_fails_past_tolerated_failures() -> None:
    def definition(tolerated: int) -> dict[str, Any]:
        return machine(
            M={
                "Type": "Map",
                "ToleratedFailureCount": tolerated,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "C",
                    "States": {
                        "C": {
                            "Type": "Choice",
                            "Choices": [{"Variable": "$", "NumericEquals": 0, "Next": "Bad"}],
                            "Default": "Good",
                        },
                        "Bad": {"Type": "Fail", "Error": "Bad"},
                        "Good": {"Type": "Succeed"},
                    },
                },
                "End": True,
            }
        )

    sfn = LocalStepFunctions()
    assert sfn.run(definition(1), [0, 1, 2]).status == "SUCCEEDED"
    failed = sfn.run(definition(0), [0, 1, 2])
    assert failed.error == "States.ExceedToleratedFailureThreshold"
    assert "MapRunFailed" in failed.event_types


def test_variables_assign_and_scope_rules() -> None:
    definition = machine(
        A={"Type": "Pass", "Assign": {"x": 1, "y.$": "$.in"}, "Next": "M"},
        M={
            "Type": "Map",
            "ItemsPath": "$.items",
            "ItemProcessor": {
                "StartAt": "Inner",
                "States": {"Inner": {"Type": "Pass", "Assign": {"inner.$": "$x"}, "End": True}},
            },
            "Next": "B",
        },
        B={"Type": "Pass", "Parameters": {"x.$": "$x", "y.$": "$y"}, "End": True},
    )
    ex = LocalStepFunctions().run(definition, {"in": "v", "items": [1]})
    assert ex.output == {"x": 1, "y": "v"}
    exited = ex.history[2]["stateExitedEventDetails"]
    assert exited["assignedVariables"] == {"x": "1", "y": '"v"'}
    assert exited["assignedVariablesDetails"] == {"truncated": False}


def test_inner_assignments_do_not_leak_out_of_a_map() -> None:
    definition = machine(
        M={
            "Type": "Map",
            "ItemProcessor": {
                "StartAt": "Inner",
                "States": {"Inner": {"Type": "Pass", "Assign": {"inner": 1}, "End": True}},
            },
            "Next": "B",
        },
        B={"Type": "Pass", "Parameters": {"v.$": "$inner"}, "End": True},
    )
    ex = LocalStepFunctions().run(definition, [1])
    assert ex.status == "FAILED"
    assert ex.error == "States.Runtime"


def test_map_item_reader_without_service_clients_fails_saying_so() -> None:
    definition = machine(
        M={
            "Type": "Map",
            "ItemReader": {
                "Resource": "arn:aws:states:::s3:getObject",
                "Parameters": {"Bucket": "b", "Key": "k"},
            },
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "I",
                "States": {"I": {"Type": "Pass", "End": True}},
            },
            "End": True,
        }
    )
    ex = LocalStepFunctions().run(definition, {})
    assert ex.status == "FAILED"
    assert ex.error == "States.ItemReaderFailed"
    assert ex.cause is not None and "ServiceClients()" in ex.cause
    assert ex.event_types[-3:] == ["MapRunFailed", "MapStateFailed", "ExecutionFailed"]
