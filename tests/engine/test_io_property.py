"""Property: InputPath, Parameters, ResultSelector, ResultPath, OutputPath as the spec reads."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from stepsaga.infra.local.stepfunctions import LocalStepFunctions, TaskCall, TaskOutcome

KEYS = st.sampled_from(["a", "b", "c", "d"])
SCALARS = st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=5)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=8,
)


@st.composite
def pipelines(draw: st.DrawFn) -> dict[str, Any]:
    document = draw(st.dictionaries(KEYS, JSON, min_size=1, max_size=4))
    input_path = draw(st.sampled_from(["$", *(f"$.{key}" for key in document)]))
    result_path = draw(st.sampled_from(["$", None, "$.out", "$.out.deep"]))
    output_paths = ["$"] + (["$.out"] if result_path in ("$.out", "$.out.deep") else [])
    return {
        "input": document,
        "InputPath": input_path,
        "Parameters": draw(st.sampled_from([None, {"wrapped.$": "$", "lit": 7}])),
        "result": draw(JSON),
        "ResultSelector": draw(st.sampled_from([None, {"sel.$": "$"}])),
        "ResultPath": result_path,
        "OutputPath": draw(st.sampled_from(output_paths)),
    }


def reference(case: dict[str, Any]) -> tuple[Any, Any]:
    """What the Amazon States Language spec says: (task input, state output)."""
    raw = case["input"]
    effective = raw if case["InputPath"] == "$" else raw[case["InputPath"][2:]]
    if case["Parameters"] is not None:
        effective = {"wrapped": effective, "lit": 7}
    result = case["result"]
    if case["ResultSelector"] is not None:
        result = {"sel": result}
    if case["ResultPath"] == "$":
        output = result
    elif case["ResultPath"] is None:
        output = raw
    elif case["ResultPath"] == "$.out":
        output = {**raw, "out": result}
    else:
        output = {**raw, "out": {"deep": result}}
    if case["OutputPath"] == "$.out":
        output = output["out"]
    return effective, output


@settings(max_examples=60, deadline=None)
@given(pipelines())
def test_task_io_processing_matches_the_spec(case: dict[str, Any]) -> None:
    state: dict[str, Any] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
        "InputPath": case["InputPath"],
        "ResultPath": case["ResultPath"],
        "OutputPath": case["OutputPath"],
        "End": True,
    }
    for key in ("Parameters", "ResultSelector"):
        if case[key] is not None:
            state[key] = case[key]
    received: list[Any] = []

    def mock(call: TaskCall) -> TaskOutcome:
        received.append(call.parameters)
        return TaskOutcome.success(case["result"])

    sfn = LocalStepFunctions()
    sfn.mock_tasks(mock)
    ex = sfn.run({"StartAt": "T", "States": {"T": state}}, case["input"])
    expected_input, expected_output = reference(case)
    assert ex.status == "SUCCEEDED", ex.cause
    assert received == [expected_input]
    assert ex.output == expected_output
    # the original input is never modified in place
    assert ex.input == case["input"]
