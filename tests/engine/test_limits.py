"""Executions that would never end end as AWS ends them, and no number overflows the clock.

https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html: a Standard execution
holds at most 25,000 history events and lasts at most one year. AWS fails one that would go
past the events with ``States.Runtime``, "The execution reached the maximum number of history
events (25000)." (the failure is event 25,000: measured on AWS in
https://github.com/floci-io/floci/issues/2734), and times out one that would go past the year
(``States.Timeout``), whatever its own TimeoutSeconds. Within those bounds every wait is
computed without overflow: a Retrier's back-off, a Wait's SecondsPath, a Timestamp near the
end of the calendar.
"""

from __future__ import annotations

import json
import math
import time
import tracemalloc
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from stepsaga.examples.orders.sagas import PLACE_ORDER
from stepsaga.infra.local.replay import Record, replay_record
from stepsaga.infra.local.stepfunctions import LocalStepFunctions, TaskOutcome
from stepsaga.infra.local.stepfunctions._execution import backoff_seconds
from stepsaga.workflows import facts
from stepsaga.workflows.saga import compile_saga

YEAR = timedelta(seconds=facts.MAX_EXECUTION_SECONDS)
FULL = "The execution reached the maximum number of history events (25000)."
INVOKE = "arn:aws:states:::lambda:invoke"


def choice_loop() -> dict[str, Any]:
    """A Choice and a Pass that go round forever (the Choice's only way out never matches)."""
    return {
        "StartAt": "Check",
        "States": {
            "Check": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.done", "BooleanEquals": True, "Next": "Done"}],
                "Default": "Again",
            },
            "Again": {"Type": "Pass", "Next": "Check"},
            "Done": {"Type": "Succeed"},
        },
    }


def counting_loop(times: int) -> dict[str, Any]:
    """A loop of ``times`` rounds (4 events each), counting in ``$.n``."""
    return {
        "StartAt": "Check",
        "States": {
            "Check": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.n", "NumericGreaterThanEquals": times, "Next": "Done"}],
                "Default": "Count",
            },
            "Count": {
                "Type": "Pass",
                "Parameters": {"n.$": "States.MathAdd($.n, 1)"},
                "Next": "Check",
            },
            "Done": {"Type": "Succeed"},
        },
    }


def test_a_loop_that_never_ends_fails_at_the_25000th_event() -> None:
    tracemalloc.start()
    try:
        began = time.perf_counter()
        ex = LocalStepFunctions().run(choice_loop(), {"done": False})
        seconds = time.perf_counter() - began
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (ex.status, ex.error, ex.cause) == ("FAILED", "States.Runtime", FULL)
    last = ex.history[-1]
    assert (last["id"], last["type"]) == (facts.MAX_HISTORY_EVENTS, "ExecutionFailed")
    assert last["executionFailedEventDetails"] == {"error": "States.Runtime", "cause": FULL}
    assert len(ex.history) == facts.MAX_HISTORY_EVENTS
    # Bounded on the way: the events share the state's data (generous bounds, not a benchmark).
    assert peak < 64 * 1024 * 1024
    assert seconds < 30


def test_the_limit_stops_a_loop_inside_a_parallel_branch() -> None:
    branch = choice_loop()
    branch["States"] = {f"B{name}": state for name, state in branch["States"].items()}
    branch["StartAt"] = "BCheck"
    branch["States"]["BCheck"]["Choices"][0]["Next"] = "BDone"
    branch["States"]["BCheck"]["Default"] = "BAgain"
    branch["States"]["BAgain"]["Next"] = "BCheck"
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [branch],
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    ex = LocalStepFunctions().run(definition, {"done": False})
    # States.ALL does not catch a States.Runtime error: the execution fails with the limit.
    assert (ex.status, ex.error, ex.cause) == ("FAILED", "States.Runtime", FULL)
    assert ex.history[-1]["id"] == facts.MAX_HISTORY_EVENTS


def test_distributed_map_children_count_their_own_events() -> None:
    """A Distributed Map runs each item as a child execution with its own history
    (https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html): the
    parent's limit counts none of their events. The same items inline count them all."""
    processor = counting_loop(3000)  # about 12,000 events an item
    items = [{"n": 0}, {"n": 0}, {"n": 0}]

    def mapping(config: dict[str, str]) -> dict[str, Any]:
        return {
            "StartAt": "M",
            "States": {
                "M": {
                    "Type": "Map",
                    "ItemProcessor": {"ProcessorConfig": config, **processor},
                    "End": True,
                }
            },
        }

    standard = {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    distributed = LocalStepFunctions().run(mapping(standard), items)
    inline = LocalStepFunctions().run(mapping({"Mode": "INLINE"}), items)
    assert distributed.status == "SUCCEEDED"
    assert len(distributed.history) < 20
    assert (inline.status, inline.cause) == ("FAILED", FULL)


def test_an_endless_retry_with_a_capped_back_off_runs_to_the_event_limit() -> None:
    sfn = LocalStepFunctions()
    sfn.mock_tasks(lambda call: TaskOutcome.failure("Flaky", "again"))
    retry = {
        "ErrorEquals": ["States.ALL"],
        "IntervalSeconds": 1,
        "BackoffRate": 2,
        "MaxAttempts": facts.MAX_SECONDS_OR_ATTEMPTS,
        "MaxDelaySeconds": 60,
    }
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": INVOKE,
                "Parameters": {"FunctionName": "f"},
                "Retry": [retry],
                "End": True,
            }
        },
    }
    ex = sfn.run(definition, {})
    assert (ex.status, ex.cause) == ("FAILED", FULL)
    scheduled = [e["timestamp"] for e in ex.history if e["type"] == "TaskScheduled"]
    gaps = {
        (b - a).total_seconds() for a, b in zip(scheduled[-100:], scheduled[-99:], strict=False)
    }
    assert gaps == {60}  # past retry 6, every wait is MaxDelaySeconds, far past retry 1,025


def test_an_endless_retry_without_a_cap_times_out_after_a_year() -> None:
    sfn = LocalStepFunctions()
    sfn.mock_tasks(lambda call: TaskOutcome.failure("Flaky"))
    retry = {"ErrorEquals": ["States.ALL"], "BackoffRate": 2, "MaxAttempts": 5000}
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": INVOKE,
                "Parameters": {},
                "Retry": [retry],
                "End": True,
            }
        },
    }
    ex = sfn.run(definition, {})
    assert (ex.status, ex.error, ex.cause) == ("TIMED_OUT", None, None)
    assert ex.stop_date is not None and ex.stop_date - ex.start_date == YEAR


def test_the_reference_saga_outlasts_a_pivot_that_never_succeeds_without_a_timeout() -> None:
    # The pivot and the steps after it retry until they succeed: with no saga timeout and a
    # pivot that always fails, the back-off must stay computable for ever (it used to raise
    # OverflowError at retry 1,025), and the execution ends at AWS's event limit.
    saga = replace(PLACE_ORDER, timeout=None)
    sfn = LocalStepFunctions(seed=3)
    for handler in saga.handlers():
        sfn.register_lambda(handler, lambda event, context: {"ok": True})
    sfn.register_lambda("ConfirmOrder", _always_throttled)
    execution_input = {
        "command": {"orderId": "o-1"},
        "meta": {
            "tenant": "acme",
            "commandId": "c-1",
            "commandType": "PlaceOrder",
            "requestedBy": "u-1",
            "idempotencyKey": "k-1",
        },
    }
    ex = sfn.run(compile_saga(saga).to_dict(), execution_input)
    # Its retries wait MaxDelaySeconds (300 s, jittered) at most: the events run out first.
    assert (ex.status, ex.error, ex.cause) == ("FAILED", "States.Runtime", FULL)


class Throttled(Exception):
    """A retryable failure that never stops."""


def _always_throttled(event: Any, context: Any) -> Any:
    raise Throttled("still busy")


@pytest.mark.parametrize(
    ("interval", "rate", "count", "cap", "expected"),
    [
        (2.0, 3.0, 2, None, 18.0),
        (1.0, 2.0, 10_000, 60.0, 60.0),
        (1.0, 2.0, 10_000, None, math.inf),
        (99_999_999.0, 1.5, 5000, float(facts.MAX_DELAY_SECONDS), float(facts.MAX_DELAY_SECONDS)),
        (0.0, 2.0, 10_000, None, 0.0),
        (5.0, 1.0, 10_000, None, 5.0),
    ],
)
def test_back_off_is_capped_before_it_is_computed(
    interval: float, rate: float, count: int, cap: float | None, expected: float
) -> None:
    assert backoff_seconds(interval, rate, count, cap) == expected


def wait(**fields: Any) -> dict[str, Any]:
    return {"StartAt": "W", "States": {"W": {"Type": "Wait", "End": True, **fields}}}


@pytest.mark.parametrize(
    ("definition", "execution_input"),
    [
        (wait(Seconds=facts.MAX_SECONDS_OR_ATTEMPTS), {}),
        (wait(SecondsPath="$.s"), {"s": 10**18}),
        (wait(TimestampPath="$.t"), {"t": "9999-12-31T23:59:59Z"}),
        # valid RFC 3339, and past year 9999 once in UTC
        (wait(TimestampPath="$.t"), {"t": "9999-12-31T23:30:00-01:00"}),
        ({**wait(Seconds=10**7 * 5), "TimeoutSeconds": facts.MAX_SECONDS_OR_ATTEMPTS}, {}),
    ],
)
def test_a_wait_past_the_year_times_the_execution_out_at_the_year(
    definition: dict[str, Any], execution_input: Any
) -> None:
    ex = LocalStepFunctions().run(definition, execution_input)
    assert (ex.status, ex.error, ex.cause) == ("TIMED_OUT", None, None)
    assert ex.stop_date is not None and ex.stop_date - ex.start_date == YEAR
    assert ex.event_types == ["ExecutionStarted", "WaitStateEntered", "ExecutionTimedOut"]


def test_a_seconds_path_beyond_a_long_cannot_be_parsed_as_one() -> None:
    # The recorded cause for a SecondsPath that is not a whole number (test_wait.py,
    # test_base_wait_seconds_path[-1.5]) is AWS's for one no Java long can hold as well.
    ex = LocalStepFunctions().run(wait(SecondsPath="$.s"), {"s": 2**63})
    assert ex.error == "States.Runtime"
    assert ex.cause == (
        "An error occurred while executing the state 'W' (entered at the event id #2). "
        f"The SecondsPath parameter cannot be parsed as a long value: $.s == {2**63}"
    )


def test_a_callback_with_a_timeout_past_the_year_times_out_with_the_execution() -> None:
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": "q", "MessageBody.$": "$$.Task.Token"},
                "TimeoutSeconds": facts.MAX_SECONDS_OR_ATTEMPTS,
                "End": True,
            }
        },
    }
    sfn = LocalStepFunctions()
    sfn.mock_tasks(lambda call: TaskOutcome.awaiting_callback({"MessageId": "m"}))
    ex = sfn.run(definition, {})
    assert ex.status == "TIMED_OUT"
    assert ex.stop_date is not None and ex.stop_date - ex.start_date == YEAR


def test_replaying_a_record_that_loops_ends() -> None:
    record = Record(
        id="loop",
        definition=choice_loop(),
        input='{"done": false}',
        status="FAILED",
        history=[],
    )
    result = replay_record(record)
    assert result.levels["status"] is True  # FAILED, at the limit


def test_a_record_waiting_until_its_own_wall_time_replays_as_recorded() -> None:
    # A record made on AWS may wait until a timestamp taken then (test_wait_timestamppath):
    # the replay's clock must not start over a year before it, or the wait would outlast a
    # Standard execution and the replay would time out where AWS succeeded.
    then = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    record = Record(
        id="wait-until-then",
        definition=wait(TimestampPath="$.t"),
        input=json.dumps({"t": then}),
        status="SUCCEEDED",
        history=None,
        output={"t": then},
    )
    assert replay_record(record).levels["status"] is True
