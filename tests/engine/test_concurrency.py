"""Parallel branches and Map iterations progress concurrently on the engine's clock.

Each branch and iteration runs until it waits, in order; the clock then moves to the first
timer due. AWS interleaves such events in no fixed order; the engine's order is fixed, so a
history is the same for a seed.
"""

from __future__ import annotations

from typing import Any

from stepsaga.infra.local.stepfunctions import LambdaContext, LocalStepFunctions

INVOKE = "arn:aws:states:::lambda:invoke"


def poll_machine() -> dict[str, Any]:
    """Branch 0 polls ``check`` every 2 s until it reports ready; branch 1 waits 3 s, then
    runs ``produce`` (5 s of handler time) which makes it ready."""
    return {
        "StartAt": "Both",
        "States": {
            "Both": {
                "Type": "Parallel",
                "End": True,
                "Branches": [
                    {
                        "StartAt": "Check",
                        "States": {
                            "Check": {
                                "Type": "Task",
                                "Resource": INVOKE,
                                "Parameters": {"FunctionName": "check"},
                                "ResultSelector": {"ready.$": "$.Payload.ready"},
                                "Next": "Ready?",
                            },
                            "Ready?": {
                                "Type": "Choice",
                                "Choices": [
                                    {"Variable": "$.ready", "BooleanEquals": True, "Next": "Seen"}
                                ],
                                "Default": "Pause",
                            },
                            "Pause": {"Type": "Wait", "Seconds": 2, "Next": "Check"},
                            "Seen": {"Type": "Succeed"},
                        },
                    },
                    {
                        "StartAt": "Later",
                        "States": {
                            "Later": {"Type": "Wait", "Seconds": 3, "Next": "Produce"},
                            "Produce": {
                                "Type": "Task",
                                "Resource": INVOKE,
                                "Parameters": {"FunctionName": "produce"},
                                "ResultSelector": {"made.$": "$.Payload"},
                                "End": True,
                            },
                        },
                    },
                ],
            }
        },
    }


def poll_engine() -> LocalStepFunctions:
    store = {"ready": False}

    def produce(event: Any, context: LambdaContext) -> Any:
        store["ready"] = True
        context.elapse(5)
        return "made"

    sfn = LocalStepFunctions()
    sfn.register_lambda("produce", produce)
    sfn.register_lambda("check", lambda event, context: {"ready": store["ready"]})
    return sfn


def seconds(history: list[dict[str, Any]], index: int) -> float:
    return (history[index]["timestamp"] - history[0]["timestamp"]).total_seconds()


def test_a_parallel_whose_first_branch_polls_for_work_another_branch_does_finishes() -> None:
    # GIVEN a branch that polls (Wait + Choice loop) for what its sibling produces
    sfn = poll_engine()
    # WHEN the Parallel runs
    ex = sfn.run(poll_machine(), {})
    # THEN the poller sees the work done and both branches end
    assert ex.status == "SUCCEEDED"
    assert ex.output == [{"ready": True}, {"made": "made"}]
    history = ex.history
    entered = [
        (seconds(history, i), e["stateEnteredEventDetails"]["name"])
        for i, e in enumerate(history)
        if e["type"].endswith("StateEntered")
    ]
    # polls at 0 and 2 s find nothing; the work lands at 3 s; the poll at 4 s sees it
    assert entered == [
        (0, "Both"),
        (0, "Check"),
        (0, "Ready?"),
        (0, "Pause"),
        (0, "Later"),
        (2, "Check"),
        (2, "Ready?"),
        (2, "Pause"),
        (3, "Produce"),
        (4, "Check"),
        (4, "Ready?"),
        (4, "Seen"),
    ]
    # each branch chains its own events from ParallelStateStarted, as AWS records them
    started = next(e for e in history if e["type"] == "ParallelStateStarted")
    first_of_each = [e for e in history if e["previousEventId"] == started["id"]]
    assert [e["stateEnteredEventDetails"]["name"] for e in first_of_each] == ["Check", "Later"]
    # the state ends with the later branch (the handler's 5 s), timestamps never go back
    assert history[-1]["type"] == "ExecutionSucceeded" and seconds(history, -1) == 8
    assert [e["timestamp"] for e in history] == sorted(e["timestamp"] for e in history)


def test_the_interleaving_is_the_same_for_every_run() -> None:
    first, second = (poll_engine().run(poll_machine(), {}).history for _ in range(2))
    assert first == second


def test_map_max_concurrency_bounds_the_iterations_running_at_once() -> None:
    # GIVEN a Map of four 10 s iterations, two at a time
    definition = {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "MaxConcurrency": 2,
                "ItemProcessor": {
                    "StartAt": "Work",
                    "States": {"Work": {"Type": "Wait", "Seconds": 10, "End": True}},
                },
                "End": True,
            }
        },
    }
    # WHEN it runs
    ex = LocalStepFunctions().run(definition, ["a", "b", "c", "d"])
    # THEN iterations 0 and 1 start at once, 2 and 3 as slots free up; the Map takes 20 s
    history = ex.history
    starts = [
        (e["mapIterationStartedEventDetails"]["index"], seconds(history, i))
        for i, e in enumerate(history)
        if e["type"] == "MapIterationStarted"
    ]
    assert starts == [(0, 0), (1, 0), (2, 10), (3, 10)]
    assert ex.output == ["a", "b", "c", "d"]
    assert seconds(history, -1) == 20


def test_map_iterations_without_a_limit_all_wait_at_once() -> None:
    definition = {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemProcessor": {
                    "StartAt": "Work",
                    "States": {"Work": {"Type": "Wait", "SecondsPath": "$", "End": True}},
                },
                "End": True,
            }
        },
    }
    ex = LocalStepFunctions().run(definition, [30, 10, 20])
    # the Map lasts as long as its longest iteration, and ends in iteration order of time
    assert seconds(ex.history, -1) == 30
    succeeded = [
        e["mapIterationSucceededEventDetails"]["index"]
        for e in ex.history
        if e["type"] == "MapIterationSucceeded"
    ]
    assert succeeded == [1, 2, 0]


def test_lambda_time_in_one_branch_lets_its_sibling_run_meanwhile() -> None:
    # GIVEN two branches whose handlers each take 10 s of virtual time
    sfn = LocalStepFunctions()

    def slow(event: Any, context: LambdaContext) -> Any:
        context.elapse(10)
        return event

    sfn.register_lambda("slow", slow)
    task = {"Type": "Task", "Resource": INVOKE, "End": True}
    definition = {
        "StartAt": "Both",
        "States": {
            "Both": {
                "Type": "Parallel",
                "Branches": [
                    {
                        "StartAt": f"T{i}",
                        "States": {f"T{i}": {**task, "Parameters": {"FunctionName": "slow"}}},
                    }
                    for i in range(2)
                ],
                "End": True,
            }
        },
    }
    # WHEN it runs
    ex = sfn.run(definition, {})
    # THEN the branches overlap: the Parallel takes 10 s, not 20
    assert seconds(ex.history, -1) == 10


def test_a_failing_branch_stops_its_siblings_and_records_them_aborted() -> None:
    # GIVEN a branch that fails at 1 s while the others wait (a Wait, a Map of Waits)
    definition = {
        "StartAt": "Both",
        "States": {
            "Both": {
                "Type": "Parallel",
                "Branches": [
                    {
                        "StartAt": "Long",
                        "States": {"Long": {"Type": "Wait", "Seconds": 10, "End": True}},
                    },
                    {
                        "StartAt": "Short",
                        "States": {
                            "Short": {"Type": "Wait", "Seconds": 1, "Next": "Boom"},
                            "Boom": {"Type": "Fail", "Error": "Boom", "Cause": "c"},
                        },
                    },
                    {
                        "StartAt": "Each",
                        "States": {
                            "Each": {
                                "Type": "Map",
                                "ItemProcessor": {
                                    "StartAt": "W",
                                    "States": {"W": {"Type": "Wait", "Seconds": 5, "End": True}},
                                },
                                "End": True,
                            }
                        },
                    },
                ],
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Handled"}],
                "End": True,
            },
            "Handled": {"Type": "Pass", "End": True},
        },
    }
    # WHEN it runs
    ex = LocalStepFunctions().run(definition, [1, 2])
    # THEN the siblings' states are aborted at 1 s, and the Parallel is caught
    assert ex.output == {"Error": "Boom", "Cause": "c"}
    after_fail = ex.event_types[ex.event_types.index("FailStateEntered") + 1 :]
    assert after_fail[:6] == [
        "WaitStateAborted",
        "WaitStateAborted",
        "MapIterationAborted",
        "WaitStateAborted",
        "MapIterationAborted",
        "MapStateAborted",
    ]
    assert after_fail[6:8] == ["ParallelStateFailed", "ParallelStateExited"]
    assert seconds(ex.history, -1) == 1
