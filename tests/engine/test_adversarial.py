"""Adversarial definitions and inputs: every run ends, soon, small, in a status AWS would give.

Hypothesis builds small state machines from every state type, wired so that each state is
reachable and any of them may jump back (loops), with Retriers whose back-off overflows any
clock, Waits up to the validator's bounds and past year 9999, payloads near and over 256 KiB,
deep nesting and callbacks nobody answers; inputs that are JSON and inputs that are not.

What AWS guarantees, and the engine must too
(https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html,
https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeExecution.html):
an execution ends SUCCEEDED, FAILED or TIMED_OUT within 25,000 events and one year; a
TIMED_OUT one carries no error or cause; StartExecution refuses what is not valid JSON
(``InvalidExecutionInput``) and CreateStateMachine what is not a valid definition
(``DefinitionError`` here). ``ExecutionStillWaiting`` is the embedded engine's own: a virtual
clock with a callback nobody can answer. Nothing else may escape.

The time limit per example is a hang detector only (a generous alarm), not a benchmark;
memory is the ``tracemalloc`` peak of the run.
"""

from __future__ import annotations

import signal
import threading
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import cycle
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stepsaga.infra.local.stepfunctions import (
    DefinitionError,
    ExecutionStillWaiting,
    InvalidExecutionInput,
    LocalStepFunctions,
    TaskOutcome,
)
from stepsaga.workflows import facts

INVOKE = "arn:aws:states:::lambda:invoke"
CALLBACK = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
HANG_SECONDS = 120  # far above any run's real cost: only a hang trips it
PEAK_BYTES = 256 * 1024 * 1024
DOCUMENTED = (DefinitionError, InvalidExecutionInput, ExecutionStillWaiting)
# The error names a closed execution may carry: AWS's own, and those the mocks raise.
STATES_ERRORS = {
    facts.STATES_TIMEOUT,
    facts.STATES_HEARTBEAT_TIMEOUT,
    facts.STATES_TASK_FAILED,
    facts.STATES_DATA_LIMIT_EXCEEDED,
    facts.STATES_NO_CHOICE_MATCHED,
    facts.STATES_RUNTIME,
    facts.STATES_REFERENCE_PATH_CONFLICT,
    facts.STATES_EXCEED_TOLERATED_FAILURE_THRESHOLD,
    "States.IntrinsicFailure",
}
MOCK_ERRORS = {"Flaky", "Broken", "Custom.Error"}


class Hang(Exception):
    """The run took longer than any run could: the engine hangs."""


@contextmanager
def hang_guard(seconds: int) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # signals only reach the main thread; xdist workers run tests there
        return

    def alarm(signum: int, frame: Any) -> None:
        raise Hang(f"no end after {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# -- inputs ---------------------------------------------------------------------------------

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
TIMESTAMPS = st.sampled_from(
    [
        "2025-01-01T00:00:10Z",
        "2024-12-31T23:59:59Z",
        "9999-12-31T23:59:59Z",
        "9999-12-31T23:30:00-01:00",
        "0001-01-01T00:00:00+01:00",
        "2025-02-30T00:00:00Z",
        "not a time",
    ]
)


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for level in range(depth):
        value = [value] if level % 2 else {"d": value}
    return value


JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=12,
)
INPUTS = st.fixed_dictionaries(
    {},
    optional={
        "n": st.integers(-(10**19), 10**19)
        | st.integers(-3, 30)
        | st.floats()
        | st.text(max_size=3),
        "t": TIMESTAMPS,
        "items": st.lists(JSON, max_size=30) | JSON,
        "e": st.text(max_size=10) | JSON,
        "big": st.integers(0, 300_000).map(lambda size: "b" * size),
        "deep": st.integers(0, 1100).map(nested),
        "done": st.booleans(),
        "other": JSON,
    },
)
# A few inputs JSON has no room for: refused before anything runs.
NOT_JSON = st.sampled_from(
    [
        {"n": {1, 2}},
        {"n": float("nan")},
        {"s": "\ud800"},
        {"n": 10**5000},
        "{not json",
        {"d": nested(5000)},
        b"{}",
    ]
)

# -- definitions ----------------------------------------------------------------------------

KINDS = ["Pass", "Choice", "Wait", "Task", "Callback", "Map", "Parallel"]
ERROR_NAMES = st.sampled_from(
    [
        facts.STATES_ALL,
        facts.STATES_TIMEOUT,
        facts.STATES_HEARTBEAT_TIMEOUT,
        facts.STATES_TASK_FAILED,
        facts.STATES_DATA_LIMIT_EXCEEDED,
        facts.STATES_RUNTIME,
        "Flaky",
        "Broken",
    ]
)


@st.composite
def retriers(draw: st.DrawFn) -> dict[str, Any]:
    retrier: dict[str, Any] = {
        "ErrorEquals": [draw(ERROR_NAMES)],
        "IntervalSeconds": draw(st.integers(1, facts.MAX_SECONDS_OR_ATTEMPTS)),
        "MaxAttempts": draw(st.integers(0, facts.MAX_SECONDS_OR_ATTEMPTS)),
        "BackoffRate": draw(st.sampled_from([1.0, 1.5, 2.0, 10.0, 1000.0])),
    }
    if draw(st.booleans()):
        retrier["MaxDelaySeconds"] = draw(st.integers(1, facts.MAX_DELAY_SECONDS))
    if draw(st.booleans()):
        retrier["JitterStrategy"] = "FULL"
    if retrier["ErrorEquals"] == [facts.STATES_ALL] or draw(st.booleans()):
        return retrier
    retrier["ErrorEquals"].append(draw(ERROR_NAMES.filter(lambda e: e != facts.STATES_ALL)))
    retrier["ErrorEquals"] = list(dict.fromkeys(retrier["ErrorEquals"]))
    return retrier


def catchers(target: str, draw: st.DrawFn) -> list[dict[str, Any]]:
    if not draw(st.booleans()):
        return []
    return [
        {
            "ErrorEquals": [draw(ERROR_NAMES)],
            "ResultPath": draw(st.sampled_from(["$.error", "$", None])),
            "Next": target,
        }
    ]


def inner_machine(name: str, draw: st.DrawFn) -> dict[str, Any]:
    """A one-state machine for a Map's processor or a Parallel's branch."""
    kind = draw(st.sampled_from(["Pass", "Wait", "Fail", "Loop"]))
    if kind == "Pass":
        state: dict[str, Any] = {"Type": "Pass", "End": True}
        if draw(st.booleans()):
            state["Result"] = "r" * draw(st.sampled_from([0, 10, 2000, 100_000]))
        return {"StartAt": name, "States": {name: state}}
    if kind == "Wait":
        seconds = draw(st.integers(0, facts.MAX_SECONDS_OR_ATTEMPTS))
        return {
            "StartAt": name,
            "States": {name: {"Type": "Wait", "Seconds": seconds, "End": True}},
        }
    if kind == "Fail":
        return {"StartAt": name, "States": {name: {"Type": "Fail", "Error": "Broken"}}}
    again = f"{name}Again"
    return {
        "StartAt": name,
        "States": {
            name: {
                "Type": "Choice",
                "Choices": [{"Variable": "$.done", "BooleanEquals": True, "Next": f"{name}End"}],
                "Default": again,
            },
            again: {"Type": "Pass", "Next": name},
            f"{name}End": {"Type": "Succeed"},
        },
    }


@st.composite
def definitions(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(1, 6))
    names = [f"S{index}" for index in range(count)]
    targets = st.sampled_from(names)
    states: dict[str, Any] = {}
    for index, name in enumerate(names):
        last = index == count - 1
        # Each state leads to the next (all are reachable); any may also jump anywhere.
        follow: dict[str, Any] = {"End": True} if last else {"Next": names[index + 1]}
        kind = draw(st.sampled_from([*KINDS, "Succeed", "Fail"] if last else KINDS))
        state: dict[str, Any]
        if kind == "Pass":
            state = {"Type": "Pass", **follow}
            shape = draw(st.sampled_from(["plain", "result", "count", "double", "intrinsic"]))
            if shape == "result":
                state["Result"] = "p" * draw(st.sampled_from([1, 100_000, 262_142, 262_143]))
            elif shape == "count":
                state["Parameters"] = {"n.$": "States.MathAdd($.n, 1)", "done.$": "$.done"}
            elif shape == "double":
                state["Parameters"] = {"a.$": "$", "b.$": "$"}
            elif shape == "intrinsic":
                state["Parameters"] = {
                    "r.$": "States.ArrayRange(0, 999, 1)",
                    "j.$": "States.JsonToString($)",
                }
            if draw(st.booleans()):
                state["ResultPath"] = draw(st.sampled_from(["$.out", "$.n", "$.deep.x"]))
        elif kind == "Choice":
            rule = draw(
                st.sampled_from(
                    [
                        {"Variable": "$.n", "NumericLessThan": draw(st.integers(-5, 40))},
                        {"Variable": "$.done", "BooleanEquals": True},
                        {"Variable": "$.t", "TimestampGreaterThanPath": "$$.State.EnteredTime"},
                        {"Variable": "$.missing", "IsPresent": True},
                    ]
                )
            )
            state = {"Type": "Choice", "Choices": [{**rule, "Next": draw(targets)}]}
            if last or draw(st.integers(0, 3)):
                state["Default"] = names[index + 1] if not last else draw(targets)
            else:  # no Default: States.NoChoiceMatched when nothing matches
                state["Choices"].append(
                    {"Variable": "$.n", "IsPresent": False, "Next": names[index + 1]}
                )
        elif kind == "Wait":
            field = draw(st.sampled_from(["Seconds", "SecondsPath", "TimestampPath", "Timestamp"]))
            value: Any = {
                "Seconds": draw(st.integers(0, facts.MAX_SECONDS_OR_ATTEMPTS)),
                "SecondsPath": "$.n",
                "TimestampPath": "$.t",
                "Timestamp": "9999-12-31T23:59:59Z",
            }[field]
            state = {"Type": "Wait", field: value, **follow}
        elif kind in ("Task", "Callback"):
            state = {
                "Type": "Task",
                "Resource": INVOKE if kind == "Task" else CALLBACK,
                "Parameters": (
                    {"FunctionName": "f", "Payload.$": "$"}
                    if kind == "Task"
                    else {"QueueUrl": "q", "MessageBody.$": "$$.Task.Token"}
                ),
                **follow,
            }
            if draw(st.booleans()):
                state["Retry"] = draw(st.lists(retriers(), min_size=1, max_size=2))
            if draw(st.booleans()):
                state["TimeoutSeconds"] = draw(st.integers(1, facts.MAX_SECONDS_OR_ATTEMPTS))
            if draw(st.booleans()):
                state["HeartbeatSeconds"] = draw(st.integers(1, facts.MAX_SECONDS_OR_ATTEMPTS))
                if state["HeartbeatSeconds"] >= state.get("TimeoutSeconds", 99_999_999 + 1):
                    del state["HeartbeatSeconds"]
            state["ResultPath"] = draw(st.sampled_from(["$.result", "$", None]))
            if catch := catchers(draw(targets), draw):
                state["Catch"] = catch
        elif kind == "Map":
            state = {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": inner_machine(f"{name}M", draw),
                **follow,
            }
            if draw(st.booleans()):
                state["MaxConcurrency"] = draw(st.integers(0, 3))
            if catch := catchers(draw(targets), draw):
                state["Catch"] = catch
        elif kind == "Parallel":
            state = {
                "Type": "Parallel",
                "Branches": [
                    inner_machine(f"{name}P{b}", draw) for b in range(draw(st.integers(1, 3)))
                ],
                **follow,
            }
            if catch := catchers(draw(targets), draw):
                state["Catch"] = catch
        elif kind == "Succeed":
            state = {"Type": "Succeed"}
        else:
            state = {"Type": "Fail", "ErrorPath": "$.e", "CausePath": "$.e"}
            if draw(st.booleans()):
                state = {"Type": "Fail", "Error": "Custom.Error", "Cause": "by design"}
        states[name] = state
    definition: dict[str, Any] = {"StartAt": names[0], "States": states}
    if draw(st.booleans()):
        definition["TimeoutSeconds"] = draw(st.integers(1, facts.MAX_SECONDS_OR_ATTEMPTS))
    return definition


OUTCOMES = st.lists(
    st.sampled_from(
        [
            TaskOutcome.success({"ok": True}),
            TaskOutcome.success("s" * 262_000),
            TaskOutcome.success({"slow": 1}, seconds=10**9),
            TaskOutcome.failure("Flaky", "try again"),
            TaskOutcome.failure("Broken"),
            TaskOutcome.timeout(),
            TaskOutcome.heartbeat_timeout(),
            TaskOutcome.awaiting_callback({"MessageId": "m"}),
        ]
    ),
    min_size=1,
    max_size=4,
)


def run_guarded(definition: Any, execution_input: Any, outcomes: list[TaskOutcome]) -> Any:
    """Run to the end: the execution, or a documented exception; with its time and peak."""
    sfn = LocalStepFunctions(seed=1)
    answers = cycle(outcomes)
    sfn.mock_tasks(lambda call: next(answers))
    tracemalloc.start()
    began = time.perf_counter()
    try:
        with hang_guard(HANG_SECONDS):
            try:
                result: Any = sfn.run(definition, execution_input)
            except DOCUMENTED as documented:
                result = documented
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, time.perf_counter() - began, peak


def assert_as_aws_would(result: Any, definition: dict[str, Any]) -> None:
    if isinstance(result, DOCUMENTED):
        assert str(result)  # a sentence, not an empty error
        return
    assert result.status in ("SUCCEEDED", "FAILED", "TIMED_OUT"), result.status
    # event_types, not history: rendering 25,000 events of ~256 KiB each as JSON text is
    # gigabytes (the run itself stays within PEAK_BYTES); it killed a CI worker once.
    assert len(result.event_types) <= facts.MAX_HISTORY_EVENTS
    assert result.stop_date is not None
    assert (result.stop_date - result.start_date).total_seconds() <= facts.MAX_EXECUTION_SECONDS
    if result.status == "TIMED_OUT":
        assert (result.error, result.cause) == (None, None)
    if result.status == "FAILED":
        fail_errors = {
            s.get("Error") for s in definition["States"].values() if s.get("Type") == "Fail"
        }
        error = result.error
        # ErrorPath "$.e" may name any string the input held.
        if error is not None and not any(s.get("ErrorPath") for s in definition["States"].values()):
            assert error in STATES_ERRORS | MOCK_ERRORS | fail_errors, error


@settings(
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(definition=definitions(), execution_input=INPUTS, outcomes=OUTCOMES)
def test_random_machines_end_in_a_status_aws_would_give(
    definition: dict[str, Any], execution_input: dict[str, Any], outcomes: list[TaskOutcome]
) -> None:
    result, seconds, peak = run_guarded(definition, execution_input, outcomes)
    assert_as_aws_would(result, definition)
    assert seconds < HANG_SECONDS
    assert peak < PEAK_BYTES, f"{peak / 1e6:.0f} MB"


@settings(max_examples=40)
@given(definition=definitions(), execution_input=NOT_JSON)
def test_input_json_cannot_carry_is_refused_before_anything_runs(
    definition: dict[str, Any], execution_input: Any
) -> None:
    result, _, _ = run_guarded(definition, execution_input, [TaskOutcome.success({})])
    assert isinstance(result, InvalidExecutionInput | DefinitionError), result


@settings(max_examples=25)
@given(
    pattern=st.text(alphabet="*ab\\", min_size=1, max_size=40),
    subject=st.text(alphabet="ab", max_size=2000),
)
def test_string_matching_patterns_cannot_stall_a_choice(pattern: str, subject: str) -> None:
    # StringMatches runs in linear time: `*a*a*a*b` against 2,000 characters is no catastrophe.
    definition = {
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.s", "StringMatches": pattern, "Next": "Yes"}],
                "Default": "No",
            },
            "Yes": {"Type": "Succeed"},
            "No": {"Type": "Succeed"},
        },
    }
    result, seconds, _ = run_guarded(definition, {"s": subject}, [TaskOutcome.success({})])
    assert_as_aws_would(result, definition)
    assert seconds < HANG_SECONDS
