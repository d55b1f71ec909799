"""Error names, Retry back-off on the virtual clock, Catch, and timeouts."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta
from typing import Any

import pytest

from stepsaga.infra.local.stepfunctions import (
    LambdaContext,
    LocalStepFunctions,
    TaskCall,
    TaskOutcome,
)

INVOKE = "arn:aws:states:::lambda:invoke"


def task_machine(**task: Any) -> dict[str, Any]:
    """A Task on lambda:invoke of function ``f``, then End (or whatever ``task`` overrides)."""
    state = {
        "Type": "Task",
        "Resource": INVOKE,
        "Parameters": {"FunctionName": "f", "Payload.$": "$"},
        "End": True,
        **task,
    }
    states: dict[str, Any] = {"T": state}
    for catcher in task.get("Catch", ()):
        states.setdefault(catcher["Next"], {"Type": "Pass", "End": True})
    return {"StartAt": "T", "States": states}


def failing_times(times: int, error: type[Exception] = RuntimeError) -> Any:
    calls = {"n": 0}

    def handler(event: Any, context: Any) -> Any:
        calls["n"] += 1
        if calls["n"] <= times:
            raise error(f"attempt {calls['n']}")
        return {"ok": calls["n"]}

    return handler


def scheduled_times(history: list[dict[str, Any]]) -> list[float]:
    start = history[0]["timestamp"]
    return [
        (e["timestamp"] - start).total_seconds() for e in history if e["type"] == "TaskScheduled"
    ]


def test_retry_backs_off_exponentially_on_the_virtual_clock() -> None:
    # GIVEN a function failing 3 times and a retrier of 2s, rate 3
    sfn = LocalStepFunctions()
    sfn.register_lambda("f", failing_times(3))
    retry = [
        {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 2, "BackoffRate": 3, "MaxAttempts": 3}
    ]
    # WHEN it runs
    ex = sfn.run(task_machine(Retry=retry), {})
    # THEN the attempts are 2, 6 and 18 seconds apart, in virtual time
    assert ex.status == "SUCCEEDED"
    assert ex.output["Payload"] == {"ok": 4}
    assert scheduled_times(ex.history) == [0, 2, 8, 26]


def test_max_delay_caps_the_back_off() -> None:
    sfn = LocalStepFunctions()
    sfn.register_lambda("f", failing_times(3))
    retry = [
        {
            "ErrorEquals": ["States.ALL"],
            "IntervalSeconds": 10,
            "MaxAttempts": 3,
            "MaxDelaySeconds": 15,
        }
    ]
    ex = sfn.run(task_machine(Retry=retry), {})
    assert scheduled_times(ex.history) == [0, 10, 25, 40]


def test_full_jitter_is_reproducible_under_a_seed_and_within_bounds() -> None:
    def delays(seed: int) -> list[float]:
        sfn = LocalStepFunctions(seed=seed)
        sfn.register_lambda("f", failing_times(3))
        retry = [
            {
                "ErrorEquals": ["States.ALL"],
                "IntervalSeconds": 4,
                "MaxAttempts": 3,
                "JitterStrategy": "FULL",
            }
        ]
        times = scheduled_times(sfn.run(task_machine(Retry=retry), {}).history)
        return [later - earlier for earlier, later in itertools.pairwise(times)]

    first = delays(7)
    assert first == delays(7)
    assert first != delays(8)
    for delay, bound in zip(first, [4, 8, 16], strict=True):
        assert 0 <= delay <= bound


def test_an_hour_of_wait_and_back_off_completes_instantly_with_virtual_timestamps() -> None:
    sfn = LocalStepFunctions()
    sfn.register_lambda("f", failing_times(2))
    definition = {
        "StartAt": "W",
        "States": {
            "W": {"Type": "Wait", "Seconds": 3600, "Next": "T"},
            "T": {
                "Type": "Task",
                "Resource": INVOKE,
                "Parameters": {"FunctionName": "f"},
                "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 600}],
                "End": True,
            },
        },
    }
    ex = sfn.run(definition, {})
    assert ex.status == "SUCCEEDED"
    assert ex.stop_date is not None
    assert ex.stop_date - ex.start_date == timedelta(seconds=3600 + 600 + 1200)
    assert ex.history[-1]["timestamp"] == ex.stop_date


def test_retry_count_is_visible_in_the_context_object() -> None:
    seen: list[int] = []
    sfn = LocalStepFunctions()

    def handler(event: Any, context: Any) -> Any:
        seen.append(event)
        if len(seen) < 3:
            raise ValueError("again")
        return None

    sfn.register_lambda("f", handler)
    definition = task_machine(
        Parameters={"FunctionName": "f", "Payload.$": "$$.State.RetryCount"},
        Retry=[{"ErrorEquals": ["ValueError"], "IntervalSeconds": 1}],
    )
    assert sfn.run(definition, {}).status == "SUCCEEDED"
    assert seen == [0, 1, 2]


def test_exhausted_retries_fall_through_to_the_catcher() -> None:
    sfn = LocalStepFunctions()
    sfn.register_lambda("f", failing_times(10, KeyError))
    definition = task_machine(
        Retry=[{"ErrorEquals": ["KeyError"], "MaxAttempts": 2, "IntervalSeconds": 1}],
        Catch=[{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Handled"}],
    )
    ex = sfn.run(definition, {"in": 1})
    assert ex.status == "SUCCEEDED"
    assert ex.output["in"] == 1
    assert ex.output["error"]["Error"] == "KeyError"
    cause = json.loads(ex.output["error"]["Cause"])
    assert cause["errorType"] == "KeyError"
    assert ex.event_types.count("TaskFailed") == 3


def test_catcher_assign_sees_the_error_output() -> None:
    sfn = LocalStepFunctions()
    sfn.mock_tasks(lambda call: TaskOutcome.failure("Boom", "why"))
    definition = task_machine(
        Catch=[{"ErrorEquals": ["Boom"], "Assign": {"err.$": "$.Error"}, "Next": "After"}]
    )
    definition["States"]["After"] = {"Type": "Pass", "Parameters": {"e.$": "$err"}, "End": True}
    assert sfn.run(definition, {}).output == {"e": "Boom"}


def test_task_failed_matches_everything_but_timeouts() -> None:
    sfn = LocalStepFunctions()
    catch = [{"ErrorEquals": ["States.TaskFailed"], "Next": "Caught"}]
    sfn.mock_tasks(lambda call: TaskOutcome.failure("Custom.Error"))
    assert sfn.run(task_machine(Catch=catch), {}).status == "SUCCEEDED"
    sfn.mock_tasks(lambda call: TaskOutcome.timeout())
    ex = sfn.run(task_machine(Catch=catch), {})
    assert (ex.status, ex.error) == ("FAILED", "States.Timeout")


def test_handler_reported_time_past_timeout_seconds_times_out() -> None:
    # GIVEN a handler that says it took 90 virtual seconds, in a task allowing 60
    sfn = LocalStepFunctions()

    def slow(event: Any, context: LambdaContext) -> Any:
        context.elapse(90)
        return "late"

    sfn.register_lambda("f", slow)
    # WHEN it runs
    ex = sfn.run(task_machine(TimeoutSeconds=60), {})
    # THEN States.Timeout, at exactly 60 virtual seconds
    assert (ex.status, ex.error) == ("FAILED", "States.Timeout")
    timed_out = next(e for e in ex.history if e["type"] == "TaskTimedOut")
    assert timed_out["taskTimedOutEventDetails"]["error"] == "States.Timeout"
    assert (timed_out["timestamp"] - ex.start_date).total_seconds() == 60


def test_timeout_seconds_path_and_caught_timeout_output() -> None:
    sfn = LocalStepFunctions()
    sfn.mock_tasks(lambda call: TaskOutcome.success("x", seconds=20))
    definition = task_machine(
        TimeoutSecondsPath="$.limit",
        Catch=[{"ErrorEquals": ["States.Timeout"], "Next": "Caught"}],
    )
    ex = sfn.run(definition, {"limit": 10})
    assert ex.output == {"Error": "States.Timeout", "Cause": ""}
    scheduled = next(e for e in ex.history if e["type"] == "TaskScheduled")
    assert scheduled["taskScheduledEventDetails"]["timeoutInSeconds"] == 10


def test_a_lapsed_heartbeat_is_a_timeout_that_heartbeat_timeout_catchers_match() -> None:
    """AWS records a lapsed heartbeat as ``States.Timeout`` (TaskTimedOut, ExecutionFailed:
    tests/conformance/recordings/services.jsonl, test_heartbeat_no_timeout and
    test_heartbeat_path_timeout); ``States.HeartbeatTimeout`` names it in Retry and Catch.
    """
    # GIVEN a task whose handler takes 30 s, with a heartbeat every 10 s and a 100 s timeout
    sfn = LocalStepFunctions()
    sfn.mock_tasks(lambda call: TaskOutcome.success("x", seconds=30))
    # WHEN it runs uncaught, and caught on States.HeartbeatTimeout
    ex = sfn.run(task_machine(HeartbeatSeconds=10, TimeoutSeconds=100), {})
    caught = sfn.run(
        task_machine(
            HeartbeatSeconds=10,
            TimeoutSeconds=100,
            Catch=[{"ErrorEquals": ["States.HeartbeatTimeout"], "Next": "Caught"}],
        ),
        {},
    )
    # THEN it times out at 10 s with States.Timeout, and the HeartbeatTimeout catcher takes it
    assert (ex.status, ex.error) == ("FAILED", "States.Timeout")
    timed_out = next(e for e in ex.history if e["type"] == "TaskTimedOut")
    assert timed_out["taskTimedOutEventDetails"]["error"] == "States.Timeout"
    assert (timed_out["timestamp"] - ex.start_date).total_seconds() == 10
    assert caught.status == "SUCCEEDED"
    assert caught.output == {"Error": "States.Timeout", "Cause": ""}


@pytest.mark.parametrize(
    ("outcome", "catches", "taken"),
    [
        (TaskOutcome.heartbeat_timeout(), "States.Timeout", True),
        (TaskOutcome.heartbeat_timeout(), "States.HeartbeatTimeout", True),
        (TaskOutcome.timeout(), "States.Timeout", True),
        (TaskOutcome.timeout(), "States.HeartbeatTimeout", False),
        (TaskOutcome.heartbeat_timeout(), "States.TaskFailed", False),
    ],
)
def test_which_error_names_take_a_timeout_and_a_lapsed_heartbeat(
    outcome: TaskOutcome, catches: str, taken: bool
) -> None:
    """https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html:
    ``States.Timeout`` is a Task that "ran longer than the TimeoutSeconds value, or failed to
    send a heartbeat for a period longer than the HeartbeatSeconds value";
    ``States.HeartbeatTimeout`` names the second case only, in Catch and Retry; and
    ``States.TaskFailed`` matches any error but ``States.Timeout``. Either way the history
    records ``States.Timeout`` (see the test above)."""
    sfn = LocalStepFunctions()
    sfn.mock_tasks(lambda call: outcome)
    definition = task_machine(
        HeartbeatSeconds=10,
        TimeoutSeconds=100,
        Catch=[{"ErrorEquals": [catches], "Next": "Caught"}],
    )
    ex = sfn.run(definition, {})
    assert (ex.status == "SUCCEEDED") is taken
    if not taken:
        assert ex.error == "States.Timeout"


def test_machine_timeout_seconds_times_the_execution_out() -> None:
    definition = {
        "TimeoutSeconds": 5,
        "StartAt": "W",
        "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}},
    }
    ex = LocalStepFunctions().run(definition, {})
    assert ex.status == "TIMED_OUT"
    assert ex.history[-1]["executionTimedOutEventDetails"] == {"error": "States.Timeout"}
    assert ex.stop_date is not None and (ex.stop_date - ex.start_date).total_seconds() == 5


def test_data_limit_exceeded_for_results_over_256_kib() -> None:
    sfn = LocalStepFunctions()
    sfn.register_lambda("f", lambda event, context: "x" * (257 * 1024))
    ex = sfn.run(task_machine(), {})
    assert ex.error == "States.DataLimitExceeded"
    assert ex.cause is not None and "exceeding the maximum number of bytes" in ex.cause
    # States.ALL does not catch it (AWS: a terminal error); naming it does.
    all_catch = task_machine(Catch=[{"ErrorEquals": ["States.ALL"], "Next": "C"}])
    assert sfn.run(all_catch, {}).status == "FAILED"
    named = task_machine(Catch=[{"ErrorEquals": ["States.DataLimitExceeded"], "Next": "C"}])
    assert sfn.run(named, {}).status == "SUCCEEDED"


def test_runtime_errors_are_neither_retried_nor_caught() -> None:
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Task",
                "Resource": INVOKE,
                "InputPath": "$.missing",
                "Parameters": {"FunctionName": "f"},
                "Retry": [{"ErrorEquals": ["States.ALL"]}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "C"}],
                "End": True,
            },
            "C": {"Type": "Pass", "End": True},
        },
    }
    ex = LocalStepFunctions().run(definition, {})
    assert ex.error == "States.Runtime"
    assert ex.cause == (
        "An error occurred while executing the state 'P' (entered at the event id #2). "
        "Invalid path '$.missing' : No results for path: $['missing']"
    )


def test_result_path_onto_a_non_object_is_a_reference_path_conflict() -> None:
    # AWS reports States.ReferencePathConflict here (ResultPathMatchFailure is reserved only).
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Pass",
                "Result": 1,
                "ResultPath": "$.a.b",
                "End": True,
            }
        },
    }
    ex = LocalStepFunctions().run(definition, {"a": "not an object"})
    assert ex.status == "FAILED"
    assert ex.error == "States.ReferencePathConflict"


def test_intrinsic_function_failure_is_a_runtime_error_naming_the_function() -> None:
    # AWS reports failing intrinsic functions as States.Runtime (IntrinsicFailure is reserved).
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Pass",
                "Parameters": {"v.$": "States.StringToJson($.text)"},
                "End": True,
            }
        },
    }
    ex = LocalStepFunctions().run(definition, {"text": "{not json"})
    assert ex.error == "States.Runtime"
    assert ex.cause is not None and "States.StringToJson" in ex.cause


def test_map_failure_propagates_the_iteration_error() -> None:
    definition = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "ItemProcessor": {
                    "StartAt": "F",
                    "States": {"F": {"Type": "Fail", "Error": "ItemBad", "Cause": "c"}},
                },
                "End": True,
            }
        },
    }
    ex = LocalStepFunctions().run(definition, [1, 2])
    assert (ex.error, ex.cause) == ("ItemBad", "c")
    assert ex.event_types[-3:] == ["MapIterationFailed", "MapStateFailed", "ExecutionFailed"]


@pytest.mark.parametrize("error", ["States.ALL", "Branch.Error"])
def test_parallel_failure_is_caught_on_the_parallel_state(error: str) -> None:
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Branch.Error"}}}
                ],
                "Catch": [{"ErrorEquals": [error], "Next": "C"}],
                "End": True,
            },
            "C": {"Type": "Pass", "End": True},
        },
    }
    ex = LocalStepFunctions().run(definition, {})
    assert ex.output == {"Error": "Branch.Error"}
    assert "ParallelStateFailed" in ex.event_types


def test_mock_sees_the_call_and_can_let_it_through() -> None:
    calls: list[TaskCall] = []
    sfn = LocalStepFunctions()
    sfn.register_lambda("f", lambda event, context: "real")

    def mock(call: TaskCall) -> TaskOutcome | None:
        calls.append(call)
        return None

    sfn.mock_tasks(mock)
    ex = sfn.run(task_machine(), {"x": 1})
    assert ex.output["Payload"] == "real"
    assert calls[0].state_name == "T"
    assert calls[0].parameters == {"FunctionName": "f", "Payload": {"x": 1}}
    assert calls[0].retry_count == 0


def test_wait_for_task_token_tasks_get_a_token_and_record_the_submission() -> None:
    # GIVEN a callback task answered by a mock: submitted, then the callback's result
    tokens: list[str | None] = []

    def mock(call: TaskCall) -> TaskOutcome:
        tokens.append(call.task_token)
        assert call.parameters["MessageBody"]["token"] == call.task_token
        return TaskOutcome.success({"done": True}, submitted={"MessageId": "m-1"})

    sfn = LocalStepFunctions()
    sfn.mock_tasks(mock)
    definition = {
        "StartAt": "Send",
        "States": {
            "Send": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token"}},
                "End": True,
            }
        },
    }
    # WHEN it runs
    ex = sfn.run(definition, {})
    # THEN the token reached the mock, and the history shows the submission then the result
    assert ex.output == {"done": True}
    assert tokens[0] is not None and len(tokens[0]) == 64
    assert ex.event_types[2:6] == ["TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded"]
    submitted = ex.history[4]["taskSubmittedEventDetails"]
    assert submitted["resource"] == "sendMessage.waitForTaskToken"
    assert submitted["resourceType"] == "sqs"
    assert submitted["output"] == '{"MessageId":"m-1"}'


def test_service_tasks_without_a_mock_fail_clearly() -> None:
    definition = {
        "StartAt": "Put",
        "States": {
            "Put": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:putItem",
                "Parameters": {"TableName": "t"},
                "End": True,
            }
        },
    }
    ex = LocalStepFunctions().run(definition, {})
    assert ex.status == "FAILED"
    assert ex.cause is not None and "mock_tasks" in ex.cause
