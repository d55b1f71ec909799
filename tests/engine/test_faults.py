"""Fault injection: a Task state fails, times out or loses its heartbeat, as it would on AWS."""

from __future__ import annotations

from typing import Any

from stepsaga.infra.local.stepfunctions import LocalStepFunctions, TaskFault, combine_mocks

INVOKE = "arn:aws:states:::lambda:invoke"


def charge_machine(**task: Any) -> dict[str, Any]:
    return {
        "StartAt": "Charge",
        "States": {
            "Charge": {
                "Type": "Task",
                "Resource": INVOKE,
                "Parameters": {"FunctionName": "charge", "Payload.$": "$"},
                "End": True,
                **task,
            }
        },
    }


def engine() -> LocalStepFunctions:
    sfn = LocalStepFunctions()
    sfn.register_lambda("charge", lambda event, context: {"charged": True})
    return sfn


def offsets(ex: Any, event_type: str) -> list[float]:
    return [
        (e["timestamp"] - ex.start_date).total_seconds()
        for e in ex.history
        if e["type"] == event_type
    ]


def test_a_failure_on_given_attempts_is_retried_then_the_real_task_runs() -> None:
    # GIVEN Charge failing with Card.Declined on its first two attempts, and a retrier
    sfn = engine()
    sfn.mock_tasks(
        TaskFault.failure("Charge", "Card.Declined", "insufficient funds", attempts=[0, 1])
    )
    retry = [{"ErrorEquals": ["Card.Declined"], "IntervalSeconds": 1, "MaxAttempts": 3}]
    # WHEN it runs
    ex = sfn.run(charge_machine(Retry=retry), {})
    # THEN two TaskFailed with the error and cause, then the real handler's result
    failed = [e["taskFailedEventDetails"] for e in ex.history if e["type"] == "TaskFailed"]
    assert [(f["error"], f["cause"]) for f in failed] == [
        ("Card.Declined", "insufficient funds")
    ] * 2
    assert ex.output["Payload"] == {"charged": True}
    assert [t.via for t in ex.transitions] == ["Retry/0", "Retry/0", "End"]


def test_a_timeout_fault_times_the_task_out_at_its_timeout_seconds() -> None:
    sfn = engine()
    sfn.mock_tasks(TaskFault.timeout("Charge"))
    ex = sfn.run(charge_machine(TimeoutSeconds=30), {})
    assert (ex.status, ex.error) == ("FAILED", "States.Timeout")
    assert offsets(ex, "TaskTimedOut") == [30]
    timed_out = next(e for e in ex.history if e["type"] == "TaskTimedOut")
    assert timed_out["taskTimedOutEventDetails"]["error"] == "States.Timeout"


def test_a_heartbeat_fault_on_a_callback_task_submits_then_lapses() -> None:
    # GIVEN a callback task whose worker never heartbeats (the fault), HeartbeatSeconds 5
    sfn = engine()
    sfn.mock_tasks(TaskFault.heartbeat_lapse("Charge"))
    definition = {
        "StartAt": "Charge",
        "States": {
            "Charge": {
                "Type": "Task",
                "Resource": f"{INVOKE}.waitForTaskToken",
                "Parameters": {"FunctionName": "charge", "Payload": {"token.$": "$$.Task.Token"}},
                "HeartbeatSeconds": 5,
                "Catch": [{"ErrorEquals": ["States.HeartbeatTimeout"], "Next": "Lapsed"}],
                "Next": "Lapsed",
            },
            "Lapsed": {"Type": "Pass", "End": True},
        },
    }
    # WHEN it runs
    ex = sfn.run(definition, {})
    # THEN the Lambda is invoked (TaskSubmitted), and the task times out 5 s after it started
    assert ex.event_types[2:6] == ["TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskTimedOut"]
    assert offsets(ex, "TaskTimedOut") == [5]
    assert ex.output == {"Error": "States.Timeout", "Cause": ""}


def test_faults_combine_and_leave_other_states_alone() -> None:
    sfn = engine()
    sfn.mock_tasks(
        combine_mocks(TaskFault.failure("Other", "Nope"), TaskFault.failure("Charge", "Boom"))
    )
    assert sfn.run(charge_machine(), {}).error == "Boom"
    sfn.mock_tasks(TaskFault.failure("Other", "Nope"))
    assert sfn.run(charge_machine(), {}).status == "SUCCEEDED"
