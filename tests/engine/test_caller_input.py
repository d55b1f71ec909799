"""What a caller hands the engine that is not JSON gets a sentence naming where, never a traceback.

StartExecution takes JSON text (https://docs.aws.amazon.com/step-functions/latest/apireference/
API_StartExecution.html: ``InvalidExecutionInput``, "The provided JSON input data is not
valid"). A Python caller can hand over what JSON has no room for: sets, bytes, NaN, strings
with lone surrogates, integers thousands of digits long. Each is refused before anything runs,
with :class:`InvalidExecutionInput` naming the JSON pointer of the offending value.

A Lambda handler's result is marshalled to JSON by its runtime: a value JSON cannot carry
fails the task with ``Runtime.MarshalError`` ("Unable to marshal response: ..."), as Python's
Lambda runtime fails it (https://docs.aws.amazon.com/lambda/latest/dg/python-handler.html,
"the response must be JSON serializable").
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from stepsaga.infra.local.stepfunctions import (
    InvalidExecutionInput,
    LocalStepFunctions,
    TaskOutcome,
)
from stepsaga.workflows import facts
from stepsaga.workflows._expressions import JsonValueError

PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


@pytest.mark.parametrize(
    ("given", "pointer", "says"),
    [
        ("{x", "", "line 1, column 2"),
        ("", "", "line 1, column 1"),
        ('{"a": NaN}', "", "NaN"),
        ('{"a": Infinity}', "", "Infinity"),
        ('"\\ud800"', "", "lone surrogate"),
        ("1" * 5000, "", "5000 digits"),
        ({"a": {1, 2}}, "/a", "set"),
        ({"a": [b"raw"]}, "/a/0", "bytes"),
        ({"a": (1, 2)}, "/a", "tuple"),
        ({"n": float("nan")}, "/n", "NaN"),
        ({"n": float("-inf")}, "/n", "Infinity"),
        ({"s": "ok\udc80"}, "/s", "lone surrogate"),
        pytest.param({"n": 10**5000}, "/n", "digits", id="5000-digit-int"),
        ({1: "x"}, "", "key must be a string"),
        ({"a/b": {"~": object()}}, "/a~1b/~0", "object"),
        (b"{}", "", "bytes"),
    ],
)
def test_input_that_is_not_json_is_refused_naming_where(
    given: Any, pointer: str, says: str
) -> None:
    sfn = LocalStepFunctions()
    with pytest.raises(InvalidExecutionInput) as refused:
        sfn.run(PASS, given)
    assert refused.value.pointer == pointer
    assert says in str(refused.value)
    assert str(refused.value).startswith("Invalid Execution Input: the execution input")
    assert sfn.executions == []


def test_nesting_deeper_than_json_allows_is_refused_not_a_recursion_error() -> None:
    deep: Any = 0
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(InvalidExecutionInput, match="deep"):
        LocalStepFunctions().run(PASS, deep)
    with pytest.raises(InvalidExecutionInput, match="deep"):
        LocalStepFunctions().run(PASS, "[" * 100_000 + "]" * 100_000)


def test_json_text_and_values_that_are_json_run() -> None:
    sfn = LocalStepFunctions()
    assert sfn.run(PASS, '{"a": [1, 2.5, "é", null, true]}').output == {
        "a": [1, 2.5, "é", None, True]
    }
    assert sfn.run(PASS, None).output == {}
    assert sfn.run(PASS, "null").output is None


INVOKE = "arn:aws:states:::lambda:invoke"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:f"


@pytest.mark.parametrize("resource", [INVOKE, FUNCTION_ARN])
@pytest.mark.parametrize(
    ("returned", "says"),
    [
        ({1, 2}, "Object of type set is not JSON serializable"),
        (b"bytes", "Object of type bytes is not JSON serializable"),
        (float("nan"), "NaN"),
        ({"x": float("inf")}, "Infinity"),
        ("\ud800", "lone surrogate"),
        pytest.param(10**5000, "digits", id="5000-digit-int"),
    ],
)
def test_a_handler_returning_what_json_cannot_carry_fails_its_task(
    resource: str, returned: Any, says: str
) -> None:
    sfn = LocalStepFunctions()
    sfn.register_lambda("f", lambda event, context: returned)
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": resource,
                "Parameters": {"FunctionName": "f"},
                "Catch": [{"ErrorEquals": ["Runtime.MarshalError"], "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    ex = sfn.run(definition, {})
    assert ex.status == "SUCCEEDED"  # the failure is the task's: its Catcher takes it
    assert ex.output["Error"] == "Runtime.MarshalError"
    body = json.loads(ex.output["Cause"])
    assert body["errorType"] == "Runtime.MarshalError"
    assert body["errorMessage"].startswith("Unable to marshal response: ")
    assert says in body["errorMessage"]


def test_an_input_nested_as_deep_as_json_allows_runs_and_its_history_renders() -> None:
    # MAX_JSON_DEPTH levels are JSON the engine takes: measuring the payload and writing the
    # history must not run out of Python's recursion limit on the way (RecursionError).
    deep: Any = "leaf"
    for _ in range(facts.MAX_JSON_DEPTH - 1):
        deep = [deep]
    definition = {
        "StartAt": "P",
        "States": {
            "P": {"Type": "Pass", "Result": 1, "ResultPath": "$.x", "Next": "Q"},
            "Q": {"Type": "Pass", "Parameters": {"a.$": "$.deep"}, "End": True},
        },
    }
    ex = LocalStepFunctions().run(definition, {"deep": deep})
    assert ex.status == "SUCCEEDED"
    assert ex.history[-1]["type"] == "ExecutionSucceeded"


@pytest.mark.parametrize(
    ("returned", "says"), [({1}, "set"), (float("nan"), "NaN"), ((1,), "tuple")]
)
def test_a_mock_returning_what_json_cannot_carry_is_named_as_the_tests_mistake(
    returned: Any, says: str
) -> None:
    # A mock stands in for the service: its result is the test's own, and a non-JSON one is
    # a mistake to name (state, place in the value), not a TypeError from the history.
    sfn = LocalStepFunctions()
    sfn.mock_tasks(lambda call: TaskOutcome.success({"v": [returned]}))
    definition = {
        "StartAt": "T",
        "States": {"T": {"Type": "Task", "Resource": INVOKE, "Parameters": {}, "End": True}},
    }
    with pytest.raises(JsonValueError, match=says) as raised:
        sfn.run(definition, {})
    assert raised.value.pointer == "/v/0"
    assert "the task of state 'T'" in str(raised.value)
    assert sfn.executions[-1].status == "FAILED"
