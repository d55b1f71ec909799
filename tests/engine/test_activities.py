"""Activity tasks: workers take them with get_activity_task and answer with the token.

Event shapes as AWS records them (tests/conformance/recordings/services.jsonl,
``test_activities.py::*``): ActivityScheduled (input, resource, timeouts), ActivityStarted
(workerName) when a worker takes the task, then ActivitySucceeded / ActivityFailed /
ActivityTimedOut.
"""

from __future__ import annotations

from typing import Any

import pytest

from stepsaga.infra.local.stepfunctions import (
    ActivityDoesNotExist,
    ExecutionStillWaiting,
    LocalStepFunctions,
)


def activity_machine(arn: str, **task: Any) -> dict[str, Any]:
    return {
        "StartAt": "Work",
        "States": {"Work": {"Type": "Task", "Resource": arn, "End": True, **task}},
    }


def test_a_worker_takes_an_activity_task_and_answers_it() -> None:
    # GIVEN an activity, and an execution whose task waits on it
    sfn = LocalStepFunctions()
    activity = sfn.create_activity("resize")
    assert activity.arn == "arn:aws:states:us-east-1:123456789012:activity:resize"
    ex = sfn.start(activity_machine(activity.arn, HeartbeatSeconds=10), {"image": "i-1"})
    assert ex.event_types == ["ExecutionStarted", "TaskStateEntered", "ActivityScheduled"]
    # WHEN a worker takes the task and answers it
    task = sfn.get_activity_task(activity.arn, worker_name="worker-1")
    assert task is not None and task.input == {"image": "i-1"}
    assert sfn.get_activity_task(activity.arn) is None  # one task, taken once
    sfn.send_task_success(task.token, {"resized": True})
    # THEN the history shows the worker, then the result
    assert (ex.status, ex.output) == ("SUCCEEDED", {"resized": True})
    assert ex.event_types == [
        "ExecutionStarted",
        "TaskStateEntered",
        "ActivityScheduled",
        "ActivityStarted",
        "ActivitySucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    history = ex.history
    assert history[2]["activityScheduledEventDetails"] == {
        "input": '{"image":"i-1"}',
        "inputDetails": {"truncated": False},
        "resource": activity.arn,
        "heartbeatInSeconds": 10,
    }
    assert history[3]["activityStartedEventDetails"] == {"workerName": "worker-1"}
    assert history[4]["activitySucceededEventDetails"]["output"] == '{"resized":true}'


def test_an_activity_task_a_worker_took_but_never_answered_times_out() -> None:
    # GIVEN an activity task with TimeoutSeconds 5, taken by a worker that goes silent
    sfn = LocalStepFunctions()
    arn = sfn.create_activity("resize").arn
    ex = sfn.start(activity_machine(arn, TimeoutSeconds=5), {})
    assert sfn.get_activity_task(arn, worker_name="w") is not None
    # WHEN time runs out
    sfn.advance()
    # THEN ActivityTimedOut with States.Timeout, 5 s after it was scheduled
    assert (ex.status, ex.error) == ("FAILED", "States.Timeout")
    assert ex.event_types[-2:] == ["ActivityTimedOut", "ExecutionFailed"]
    timed_out = ex.history[-2]
    assert timed_out["activityTimedOutEventDetails"] == {"error": "States.Timeout"}
    assert (timed_out["timestamp"] - ex.history[2]["timestamp"]).total_seconds() == 5


def test_a_worker_failure_fails_the_activity_task() -> None:
    sfn = LocalStepFunctions()
    arn = sfn.create_activity("resize").arn
    ex = sfn.start(activity_machine(arn), {})
    task = sfn.get_activity_task(arn)
    assert task is not None
    sfn.send_task_failure(task.token, error="Resize.Failed", cause="too big")
    assert (ex.status, ex.error, ex.cause) == ("FAILED", "Resize.Failed", "too big")
    failed = ex.history[-2]
    assert failed["activityFailedEventDetails"] == {"error": "Resize.Failed", "cause": "too big"}
    assert ex.history[3]["activityStartedEventDetails"] == {}


def test_a_task_on_an_activity_that_does_not_exist_fails_with_a_runtime_error() -> None:
    """Recorded on AWS (services.jsonl, test_activity_task_on_deleted): no ActivityScheduled,
    ExecutionFailed with States.Runtime naming the activity."""
    sfn = LocalStepFunctions()
    arn = sfn.create_activity("resize").arn
    sfn.delete_activity(arn)
    ex = sfn.run(activity_machine(arn), {})
    assert ex.event_types == ["ExecutionStarted", "TaskStateEntered", "ExecutionFailed"]
    assert ex.error == "States.Runtime"
    assert ex.cause == (
        "An error occurred while executing the state 'Work' (entered at the event id #2). "
        f"The activity {arn} does not exist."
    )
    with pytest.raises(ActivityDoesNotExist):
        sfn.get_activity_task(arn)


def test_run_says_when_no_worker_took_an_activity_task() -> None:
    sfn = LocalStepFunctions()
    arn = sfn.create_activity("resize").arn
    with pytest.raises(ExecutionStillWaiting) as raised:
        sfn.run(activity_machine(arn), {})
    assert f"waits for a worker of activity {arn}" in str(raised.value)


def test_creating_an_activity_twice_gives_the_same_one() -> None:
    sfn = LocalStepFunctions()
    first, again = sfn.create_activity("resize"), sfn.create_activity("resize")
    assert first == again and sfn.activities == [first]
