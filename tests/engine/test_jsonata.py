"""JSONata query language: Arguments, Output, Assign, Condition, Items over $states."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from stepsaga.infra.local.stepfunctions import LocalStepFunctions, TaskCall, TaskOutcome


def jsonata(**states: dict[str, Any]) -> dict[str, Any]:
    return {"QueryLanguage": "JSONata", "StartAt": next(iter(states)), "States": states}


def test_pass_output_and_assign_read_states_input_and_variables() -> None:
    definition = jsonata(
        A={"Type": "Pass", "Assign": {"n": "{% $states.input.n * 2 %}"}, "Next": "B"},
        B={"Type": "Pass", "Output": {"doubled": "{% $n %}", "literal": "x"}, "End": True},
    )
    ex = LocalStepFunctions().run(definition, {"n": 21})
    assert ex.output == {"doubled": 42, "literal": "x"}
    assert ex.history[2]["stateExitedEventDetails"]["assignedVariables"] == {"n": "42"}


def test_task_arguments_and_output_see_the_result() -> None:
    seen: list[Any] = []

    def mock(call: TaskCall) -> TaskOutcome:
        seen.append(call.parameters)
        return TaskOutcome.success({"Payload": {"total": 7}})

    sfn = LocalStepFunctions()
    sfn.mock_tasks(mock)
    definition = jsonata(
        T={
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Arguments": {"FunctionName": "f", "Payload": {"id": "{% $states.input.id %}"}},
            "Output": "{% $states.result.Payload.total %}",
            "End": True,
        }
    )
    ex = sfn.run(definition, {"id": "o-1"})
    assert seen == [{"FunctionName": "f", "Payload": {"id": "o-1"}}]
    assert ex.output == 7


def test_choice_condition_and_default() -> None:
    definition = jsonata(
        C={
            "Type": "Choice",
            "Choices": [{"Condition": "{% $states.input.n > 10 %}", "Next": "Big"}],
            "Default": "Small",
        },
        Big={"Type": "Pass", "Output": "big", "End": True},
        Small={"Type": "Pass", "Output": "small", "End": True},
    )
    sfn = LocalStepFunctions()
    assert [sfn.run(definition, {"n": n}).output for n in (11, 1)] == ["big", "small"]


def test_map_items_and_item_selector() -> None:
    definition = jsonata(
        M={
            "Type": "Map",
            "Items": "{% $states.input.values %}",
            "ItemSelector": {"v": "{% $states.context.Map.Item.Value %}"},
            "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}},
            "End": True,
        }
    )
    ex = LocalStepFunctions().run(definition, {"values": [1, 2]})
    assert ex.output == [{"v": 1}, {"v": 2}]


def test_catch_output_reads_the_error_output() -> None:
    sfn = LocalStepFunctions()
    sfn.mock_tasks(lambda call: TaskOutcome.failure("Boom", "bad"))
    definition = jsonata(
        T={
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Arguments": {"FunctionName": "f"},
            "Catch": [
                {
                    "ErrorEquals": ["States.ALL"],
                    "Output": {"why": "{% $states.errorOutput.Cause %}"},
                    "Next": "Done",
                }
            ],
            "End": True,
        },
        Done={"Type": "Succeed"},
    )
    assert sfn.run(definition, {}).output == {"why": "bad"}


def test_an_undefined_expression_fails_with_an_evaluation_failed_event() -> None:
    definition = jsonata(P={"Type": "Pass", "Output": "{% $nothing %}", "End": True})
    ex = LocalStepFunctions().run(definition, {})
    assert ex.error == "States.QueryEvaluationError"
    assert ex.event_types == [
        "ExecutionStarted",
        "PassStateEntered",
        "EvaluationFailed",
        "ExecutionFailed",
    ]
    details = ex.history[2]["evaluationFailedEventDetails"]
    assert details["state"] == "P"
    assert details["location"] == "Output"


def test_a_padded_expression_is_output_as_the_literal_aws_keeps() -> None:
    definition = jsonata(
        P={
            "Type": "Pass",
            "Output": {"kept": " {% $states.input %} ", "evaluated": "{% $states.input.n %}"},
            "End": True,
        }
    )
    ex = LocalStepFunctions().run(definition, {"n": 1})
    assert ex.output == {"kept": " {% $states.input %} ", "evaluated": 1}


def test_map_items_evaluating_to_null_fail_on_the_type_not_as_undefined() -> None:
    definition = jsonata(
        Start={"Type": "Pass", "Assign": {"items": None}, "Next": "M"},
        M={
            "Type": "Map",
            "Items": "{% $items %}",
            "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}},
            "End": True,
        },
    )
    ex = LocalStepFunctions().run(definition, {})
    assert ex.error == "States.QueryEvaluationError"
    assert ex.cause is not None
    assert ex.cause.endswith(
        "The JSONata expression '$items' specified for the field 'Items' returned an unexpected "
        "result type. Expected 'array', but was 'null' for value: null"
    )


def test_now_and_millis_follow_the_virtual_clock() -> None:
    """`$now()` and `$millis()` read the execution's clock, so an hour of Wait shows in them.

    https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html (JSONata
    functions: `$now()` is the current time as an ISO 8601 timestamp, `$millis()` in ms).
    """
    # GIVEN a machine that waits an hour, then reads the time
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Wait",
        "States": {
            "Wait": {"Type": "Wait", "Seconds": 3600, "Next": "Read"},
            "Read": {
                "Type": "Pass",
                "Output": {"now": "{% $now() %}", "millis": "{% $millis() %}"},
                "End": True,
            },
        },
    }
    # WHEN it runs on the virtual clock
    execution = LocalStepFunctions(seed=1).run(definition, {})
    # THEN the time it read is an hour after the start, to the millisecond
    started = execution.history[0]["timestamp"]
    one_hour_later = started + timedelta(hours=1)
    assert execution.output["now"] == one_hour_later.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert execution.output["millis"] == int(one_hour_later.timestamp() * 1000)
