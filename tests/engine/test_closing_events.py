"""How an execution that does not end by itself is closed: timed out, or stopped.

Measured on AWS (https://github.com/floci-io/floci/issues/2965 and #2733, a ``Wait`` of 25 s
under a machine ``TimeoutSeconds`` of 3, and ``StopExecution`` of a ``Wait``): the history is
three events, the closing one follows event 0 (not the state that was running, which gets no
aborted event of its own); ExecutionTimedOut carries ``States.Timeout`` and no cause, and
DescribeExecution of a TIMED_OUT execution has neither ``error`` nor ``cause``. A stopped
execution shows the error and cause given to StopExecution, and its event carries them (an
empty details object when none was given).
"""

from __future__ import annotations

from typing import Any

from stepsaga.infra.local.stepfunctions import LocalStepFunctions


def waiting(seconds: int, *, timeout: int | None = None) -> dict[str, Any]:
    definition: dict[str, Any] = {
        "StartAt": "W",
        "States": {"W": {"Type": "Wait", "Seconds": seconds, "End": True}},
    }
    if timeout is not None:
        definition["TimeoutSeconds"] = timeout
    return definition


def shape(history: list[dict[str, Any]]) -> list[tuple[int, int, str]]:
    return [(event["id"], event["previousEventId"], event["type"]) for event in history]


def test_a_timed_out_execution_records_one_closing_event_after_event_0() -> None:
    ex = LocalStepFunctions().run(waiting(25, timeout=3), {})
    assert ex.status == "TIMED_OUT"
    assert shape(ex.history) == [
        (1, 0, "ExecutionStarted"),
        (2, 0, "WaitStateEntered"),
        (3, 0, "ExecutionTimedOut"),
    ]
    assert ex.history[-1]["executionTimedOutEventDetails"] == {"error": "States.Timeout"}
    assert ex.stop_date is not None and (ex.stop_date - ex.start_date).total_seconds() == 3


def test_a_timed_out_execution_names_no_error_or_cause_when_described() -> None:
    sfn = LocalStepFunctions()
    ex = sfn.run(waiting(25, timeout=3), {})
    described = sfn.describe_execution(ex.arn)
    assert (described.status, described.error, described.cause) == ("TIMED_OUT", None, None)


def test_a_stopped_execution_records_one_closing_event_after_event_0() -> None:
    sfn = LocalStepFunctions()
    ex = sfn.start(waiting(30), {})
    sfn.stop_execution(ex.arn, error="Manual", cause="probe")
    assert (ex.status, ex.error, ex.cause) == ("ABORTED", "Manual", "probe")
    assert shape(ex.history) == [
        (1, 0, "ExecutionStarted"),
        (2, 0, "WaitStateEntered"),
        (3, 0, "ExecutionAborted"),
    ]
    assert ex.history[-1]["executionAbortedEventDetails"] == {"error": "Manual", "cause": "probe"}


def test_a_stop_without_a_reason_records_empty_details() -> None:
    sfn = LocalStepFunctions()
    ex = sfn.start(waiting(30), {})
    sfn.stop_execution(ex.arn)
    assert (ex.status, ex.error, ex.cause) == ("ABORTED", None, None)
    assert ex.history[-1]["executionAbortedEventDetails"] == {}


def test_branches_running_when_the_execution_times_out_get_no_aborted_events() -> None:
    branches = [
        {"StartAt": f"W{i}", "States": {f"W{i}": {"Type": "Wait", "Seconds": 60, "End": True}}}
        for i in range(2)
    ]
    definition = {
        "TimeoutSeconds": 5,
        "StartAt": "P",
        "States": {"P": {"Type": "Parallel", "Branches": branches, "End": True}},
    }
    ex = LocalStepFunctions().run(definition, {})
    assert ex.status == "TIMED_OUT"
    assert not [t for t in ex.event_types if t.endswith("Aborted")]
    assert (ex.history[-1]["type"], ex.history[-1]["previousEventId"]) == (
        "ExecutionTimedOut",
        0,
    )
