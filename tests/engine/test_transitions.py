"""The coverage hook: each execution's transitions, and observers of closed executions."""

from __future__ import annotations

from typing import Any

from stepsaga.infra.local.stepfunctions import (
    Execution,
    LocalStepFunctions,
    TaskOutcome,
    Transition,
    observe_executions,
)

INVOKE = "arn:aws:states:::lambda:invoke"


def test_transitions_name_every_edge_taken_in_its_scope() -> None:
    # GIVEN a machine with every kind of edge: Choice rules and Default, Retry and Catch,
    # a Parallel branch that fails uncaught inside it, a Map body, Next and End
    definition: dict[str, Any] = {
        "StartAt": "Route",
        "States": {
            "Route": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.n", "NumericEquals": 0, "Next": "Zero"}],
                "Default": "Work",
            },
            "Zero": {"Type": "Succeed"},
            "Work": {
                "Type": "Task",
                "Resource": INVOKE,
                "Parameters": {"FunctionName": "work"},
                "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "Both"}],
                "Next": "Both",
            },
            "Both": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "Boom"}}}
                ],
                "Catch": [{"ErrorEquals": ["Boom"], "ResultPath": "$.e", "Next": "Each"}],
                "Next": "Each",
            },
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": {
                    "StartAt": "Item",
                    "States": {"Item": {"Type": "Pass", "End": True}},
                },
                "End": True,
            },
        },
    }
    outcomes = iter([TaskOutcome.failure("Flaky"), TaskOutcome.failure("Fatal")])
    sfn = LocalStepFunctions()
    sfn.mock_tasks(lambda call: next(outcomes))
    # WHEN it runs, and again down the other Choice rule
    ex = sfn.run(definition, {"n": 1, "items": [1]})
    zero = sfn.run(definition, {"n": 0})
    # THEN the transitions, in order, say where each edge was taken from and to, and by what
    parallel = "/States/Both/Branches/0"
    assert ex.transitions == (
        Transition("", "Route", "Work", "Default"),
        Transition("", "Work", "Work", "Retry/0"),
        Transition("", "Work", "Both", "Catch/0"),
        Transition(parallel, "Boom", None, "Fail"),
        Transition("", "Both", "Each", "Catch/0"),
        Transition("/States/Each/ItemProcessor", "Item", None, "End"),
        Transition("", "Each", None, "End"),
    )
    assert zero.transitions == (
        Transition("", "Route", "Zero", "Choices/0"),
        Transition("", "Zero", None, "End"),
    )


def test_a_state_failing_uncaught_ends_the_transitions_with_fail() -> None:
    definition = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E"}}}
    ex = LocalStepFunctions().run(definition, {})
    assert ex.transitions == (Transition("", "F", None, "Fail"),)


def test_observers_see_every_execution_of_every_engine_once_it_closes() -> None:
    # GIVEN an observer, and two engines built without it
    seen: list[tuple[str, str]] = []

    def observer(execution: Execution) -> None:
        seen.append((execution.name, execution.status))

    unsubscribe = observe_executions(observer)
    try:
        first, second = LocalStepFunctions(), LocalStepFunctions()
        passing = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
        failing = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E"}}}
        waiting = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 9, "End": True}}}
        # WHEN executions close on each, however they close
        first.run(passing, {}, name="ok")
        second.run(failing, {}, name="failed")
        timing_out = second.run({**waiting, "TimeoutSeconds": 1}, {}, name="late")
        assert timing_out.status == "TIMED_OUT"
        first.register_lambda("hold", lambda event, context: None)
        holding = {
            "StartAt": "T",
            "States": {
                "T": {
                    "Type": "Task",
                    "Resource": f"{INVOKE}.waitForTaskToken",
                    "Parameters": {"FunctionName": "hold"},
                    "End": True,
                }
            },
        }
        stopped = first.start(holding, {}, name="stopped")
        assert seen[-1] == ("late", "TIMED_OUT")  # not closed: not seen
        first.stop_execution(stopped.arn)
    finally:
        unsubscribe()
    # THEN the observer saw each once, as it closed
    assert seen == [
        ("ok", "SUCCEEDED"),
        ("failed", "FAILED"),
        ("late", "TIMED_OUT"),
        ("stopped", "ABORTED"),
    ]
    # and nothing after it unsubscribed
    LocalStepFunctions().run({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    assert len(seen) == 4
    unsubscribe()  # a second call does nothing
