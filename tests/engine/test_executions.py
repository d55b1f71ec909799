"""Starting executions: names, idempotency, lookups; the clock modes; several threads at once."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Any

import pytest

from stepsaga.infra.local.stepfunctions import (
    ExecutionAlreadyExists,
    ExecutionDoesNotExist,
    InvalidExecutionInput,
    LambdaContext,
    LocalStepFunctions,
)

INVOKE = "arn:aws:states:::lambda:invoke"
PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


def callback_machine(**task: Any) -> dict[str, Any]:
    """Waits an hour, then waits for the token ``hold`` receives."""
    return {
        "StartAt": "Hour",
        "States": {
            "Hour": {"Type": "Wait", "Seconds": 3600, "Next": "Hold"},
            "Hold": {
                "Type": "Task",
                "Resource": f"{INVOKE}.waitForTaskToken",
                "Parameters": {"FunctionName": "hold", "Payload": {"token.$": "$$.Task.Token"}},
                "End": True,
                **task,
            },
        },
    }


def test_a_name_reused_with_the_same_input_gives_the_same_execution() -> None:
    sfn = LocalStepFunctions()
    first = sfn.run(PASS, {"a": 1}, name="order-1")
    assert sfn.run(PASS, {"a": 1}, name="order-1") is first
    assert sfn.start(PASS, '{"a": 1}', name="order-1") is first
    assert len(sfn.executions) == 1


def test_a_name_reused_with_another_input_is_refused_naming_the_execution() -> None:
    sfn = LocalStepFunctions()
    first = sfn.run(PASS, {"a": 1}, name="order-1")
    with pytest.raises(ExecutionAlreadyExists) as raised:
        sfn.run(PASS, {"a": True}, name="order-1")  # JSON's true is not 1
    assert (raised.value.name, raised.value.arn) == ("order-1", first.arn)
    assert raised.value.code == "ExecutionAlreadyExists"
    # the same name under another state machine is another execution
    assert sfn.run(PASS, {"a": 2}, name="order-1", state_machine_name="other").status == (
        "SUCCEEDED"
    )


def test_executions_are_found_by_arn_and_unknown_ones_are_refused() -> None:
    sfn = LocalStepFunctions()
    ex = sfn.run(PASS, {})
    assert sfn.describe_execution(ex.arn) is ex
    with pytest.raises(ExecutionDoesNotExist):
        sfn.describe_execution(ex.arn + "-not")
    with pytest.raises(ExecutionDoesNotExist):
        sfn.stop_execution(ex.arn + "-not")
    assert sfn.stop_execution(ex.arn).status == "SUCCEEDED"  # an ended one stays as it is


def test_input_text_that_is_not_json_is_refused() -> None:
    with pytest.raises(InvalidExecutionInput):
        LocalStepFunctions().run(PASS, "{oops")


def test_start_returns_an_execution_that_never_waits_already_ended() -> None:
    ex = LocalStepFunctions().start(PASS, {})
    assert ex.status == "SUCCEEDED" and ex.stop_date is not None


def test_start_stops_at_the_first_wait_and_virtual_time_moves_only_when_driven() -> None:
    # GIVEN a machine that waits a minute
    sfn = LocalStepFunctions()
    definition = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}}}
    # WHEN it starts
    ex = sfn.start(definition, {})
    # THEN it waits at the instant it started, until the test drives time on
    assert ex.status == "RUNNING" and sfn.now() == ex.start_date
    sfn.advance(59)
    assert ex.status == "RUNNING"
    sfn.advance(1)
    assert ex.status == "SUCCEEDED"
    assert ex.stop_date is not None and (ex.stop_date - ex.start_date).total_seconds() == 60


def hold_engine(**options: Any) -> tuple[LocalStepFunctions, list[str]]:
    tokens: list[str] = []
    sfn = LocalStepFunctions(**options)
    sfn.register_lambda("hold", lambda event, context: tokens.append(event["token"]))
    return sfn, tokens


def test_a_test_drives_past_a_wait_then_answers_the_callback_before_its_timeout() -> None:
    # GIVEN an hour's Wait, then a callback task with a 10 minutes timeout
    sfn, tokens = hold_engine()
    ex = sfn.start(callback_machine(TimeoutSeconds=600), {})
    # WHEN the test lets the hour pass
    sfn.advance(3600)
    # THEN the task waits for the test's answer, which ends the execution
    assert ex.status == "RUNNING" and len(tokens) == 1
    sfn.send_task_success(tokens[0], {"ok": True})
    assert (ex.status, ex.output) == ("SUCCEEDED", {"ok": True})


def until(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def test_the_server_clock_skips_waits_and_lets_a_waiting_tasks_timeout_pass_in_real_time() -> None:
    # GIVEN the server clock, a thousand times as fast as real time
    with LocalStepFunctions(clock="server", time_scale=1000) as sfn:
        sfn.register_lambda("hold", lambda event, context: None)
        began = time.monotonic()
        # WHEN an execution waits an hour, then 60 s for a callback nobody sends
        ex = sfn.start(callback_machine(TimeoutSeconds=60), {})
        # THEN the hour is skipped at once, and the timeout comes in 60 ms of real time
        assert ex.status == "RUNNING"
        until(lambda: ex.status != "RUNNING")
        assert (ex.status, ex.error) == ("FAILED", "States.Timeout")
        assert time.monotonic() - began >= 0.05
        timed_out = next(e for e in ex.history if e["type"] == "TaskTimedOut")
        scheduled = next(e for e in ex.history if e["type"] == "TaskScheduled")
        assert (timed_out["timestamp"] - scheduled["timestamp"]).total_seconds() >= 60


def test_on_the_server_clock_run_waits_for_a_callback_from_another_thread() -> None:
    with LocalStepFunctions(clock="server") as sfn:
        sfn.register_lambda(
            "hold",
            lambda event, context: threading.Timer(
                0.05, sfn.send_task_success, (event["token"], {"from": "worker"})
            ).start(),
        )
        ex = sfn.run(callback_machine(TimeoutSeconds=60), {})
        assert (ex.status, ex.output) == ("SUCCEEDED", {"from": "worker"})


def test_the_real_clock_waits_in_wall_clock_time() -> None:
    definition = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "End": True}}}
    with LocalStepFunctions(clock="real") as sfn:
        began = time.monotonic()
        ex = sfn.run(definition, {})
    assert ex.status == "SUCCEEDED"
    assert time.monotonic() - began >= 0.9


def test_eight_threads_sharing_one_engine_get_the_same_results_in_order() -> None:
    # GIVEN one engine, and a machine with a Wait, a Parallel and handlers that spend time,
    # under a TimeoutSeconds a run alone never reaches
    sfn = LocalStepFunctions()

    def slow(event: Any, context: LambdaContext) -> Any:
        context.elapse(5)
        return event

    sfn.register_lambda("slow", slow)
    task = {
        "Type": "Task",
        "Resource": INVOKE,
        "Parameters": {"FunctionName": "slow", "Payload.$": "$"},
        "ResultSelector": {"v.$": "$.Payload"},
        "End": True,
    }
    definition = {
        "TimeoutSeconds": 30,
        "StartAt": "W",
        "States": {
            "W": {"Type": "Wait", "Seconds": 10, "Next": "P"},
            "P": {
                "Type": "Parallel",
                "Branches": [{"StartAt": f"T{i}", "States": {f"T{i}": task}} for i in range(3)],
                "End": True,
            },
        },
    }
    results: list[tuple[str, Any, list[datetime]]] = []
    failures: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            for run in range(15):
                ex = sfn.run(definition, {"n": index * 100 + run})
                results.append((ex.status, ex.output, [e["timestamp"] for e in ex.history]))
        except BaseException as exc:  # reported below, not lost in the thread
            failures.append(exc)

    # WHEN eight threads run it at once
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # THEN every run succeeds with its own output, its timestamps in order
    assert failures == []
    assert len(results) == 120
    for status, output, stamps in results:
        assert status == "SUCCEEDED"
        assert output[0]["v"] == output[1]["v"] == output[2]["v"]
        assert stamps == sorted(stamps)
        assert (stamps[-1] - stamps[0]).total_seconds() == 15


def test_a_machine_polling_for_what_the_test_does_next_gives_the_test_its_turn() -> None:
    # GIVEN a machine that polls a flag every 10 s until the test sets it
    flag = {"set": False}
    sfn = LocalStepFunctions()
    sfn.register_lambda("check", lambda event, context: flag["set"])
    definition = {
        "StartAt": "Check",
        "States": {
            "Check": {
                "Type": "Task",
                "Resource": INVOKE,
                "Parameters": {"FunctionName": "check"},
                "OutputPath": "$.Payload",
                "Next": "Set?",
            },
            "Set?": {
                "Type": "Choice",
                "Choices": [{"Variable": "$", "BooleanEquals": True, "Next": "Done"}],
                "Default": "Pause",
            },
            "Pause": {"Type": "Wait", "Seconds": 10, "Next": "Check"},
            "Done": {"Type": "Succeed"},
        },
    }
    # WHEN it starts, then the test sets the flag and waits for the end
    ex = sfn.start(definition, {})
    assert ex.status == "RUNNING"
    flag["set"] = True
    sfn.wait(ex)
    # THEN the next poll sees it
    assert ex.status == "SUCCEEDED"
    assert ex.event_types.count("TaskStateEntered") == 2
