"""The state machines the benchmark runs, each with its input and the output AWS would give."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

JSON = Any

#: Name of the Lambda function the saga-shaped machine invokes (registered on the engine).
BENCH_STEP_FUNCTION = "stepsaga-bench-step"


@dataclass(frozen=True)
class BenchMachine:
    """One benchmarked state machine.

    Attributes:
        name: Short identifier, used on the command line and in the JSON report.
        title: One line for humans.
        definition: The ASL definition (JSONPath mode).
        input: The execution input.
        expected_output: What the execution must return; a peer that returns anything else
            is reported as wrong, and its timings are not worth comparing.
        needs_lambda: True when the machine invokes `BENCH_STEP_FUNCTION`; moto runs Lambda
            functions only in Docker, so such machines run on the engine alone.
        states_entered: How many states one execution enters (for per-state figures).
    """

    name: str
    title: str
    definition: dict[str, JSON]
    input: JSON
    expected_output: JSON
    states_entered: int
    needs_lambda: bool = False


def _chain() -> BenchMachine:
    order = {"id": "o-1", "total": 150, "items": 3}
    definition = {
        "Comment": "6-state Pass/Choice chain",
        "StartAt": "Validate",
        "States": {
            "Validate": {
                "Type": "Pass",
                "Parameters": {"order.$": "$.order", "stage": "validated"},
                "Next": "Check",
            },
            "Check": {
                "Type": "Pass",
                "Result": {"ok": True, "checks": 2},
                "ResultPath": "$.checks",
                "Next": "Route",
            },
            "Route": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.order.total", "NumericGreaterThan": 100, "Next": "Large"}
                ],
                "Default": "Summarise",
            },
            "Large": {
                "Type": "Pass",
                "Result": "large",
                "ResultPath": "$.size",
                "Next": "Summarise",
            },
            "Summarise": {
                "Type": "Pass",
                "Parameters": {
                    "id.$": "$.order.id",
                    "total.$": "$.order.total",
                    "size.$": "$.size",
                    "checks.$": "$.checks.checks",
                },
                "Next": "Done",
            },
            "Done": {"Type": "Succeed"},
        },
    }
    expected = {"id": order["id"], "total": order["total"], "size": "large", "checks": 2}
    return BenchMachine(
        name="chain",
        title="6-state Pass/Choice chain",
        definition=definition,
        input={"order": order},
        expected_output=expected,
        states_entered=6,
    )


def _loop(iterations: int = 100) -> BenchMachine:
    definition = {
        "Comment": f"Choice loop of {iterations} iterations",
        "StartAt": "Step",
        "States": {
            "Step": {
                "Type": "Pass",
                "Parameters": {
                    "i.$": "States.MathAdd($.i, 1)",
                    "sum.$": "States.MathAdd($.sum, $.i)",
                    "limit.$": "$.limit",
                },
                "Next": "Again",
            },
            "Again": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.i", "NumericLessThanPath": "$.limit", "Next": "Step"}],
                "Default": "Done",
            },
            "Done": {"Type": "Succeed"},
        },
    }
    expected = {"i": iterations, "sum": sum(range(iterations)), "limit": iterations}
    return BenchMachine(
        name="loop",
        title=f"Choice loop, {iterations} iterations",
        definition=definition,
        input={"i": 0, "sum": 0, "limit": iterations},
        expected_output=expected,
        states_entered=2 * iterations + 1,
    )


def _map(items: int = 100) -> BenchMachine:
    definition = {
        "Comment": f"inline Map over {items} items",
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemSelector": {
                    "value.$": "$$.Map.Item.Value",
                    "index.$": "$$.Map.Item.Index",
                },
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "Double",
                    "States": {
                        "Double": {
                            "Type": "Pass",
                            "Parameters": {
                                "index.$": "$.index",
                                "double.$": "States.MathAdd($.value, $.value)",
                            },
                            "End": True,
                        }
                    },
                },
                "ResultPath": "$.doubled",
                "Next": "Count",
            },
            "Count": {
                "Type": "Pass",
                "Parameters": {
                    "count.$": "States.ArrayLength($.doubled)",
                    "doubled.$": "$.doubled",
                },
                "End": True,
            },
        },
    }
    values = [3 * i + 1 for i in range(items)]
    expected = {
        "count": items,
        "doubled": [{"index": i, "double": 2 * v} for i, v in enumerate(values)],
    }
    return BenchMachine(
        name="map",
        title=f"Map over {items} items",
        definition=definition,
        input={"items": values},
        expected_output=expected,
        states_entered=items + 2,
    )


def _parallel(branches: int = 4) -> BenchMachine:
    def branch(k: int) -> dict[str, JSON]:
        return {
            "StartAt": f"Pick{k}",
            "States": {
                f"Pick{k}": {
                    "Type": "Pass",
                    "Parameters": {"branch": k, "x.$": "$.x"},
                    "Next": f"Add{k}",
                },
                f"Add{k}": {
                    "Type": "Pass",
                    "Parameters": {
                        "branch.$": "$.branch",
                        "sum.$": "States.MathAdd($.x, $.branch)",
                    },
                    "End": True,
                },
            },
        }

    definition = {
        "Comment": f"{branches}-branch Parallel",
        "StartAt": "Fan",
        "States": {
            "Fan": {
                "Type": "Parallel",
                "Branches": [branch(k) for k in range(branches)],
                "ResultPath": "$.branches",
                "Next": "Done",
            },
            "Done": {"Type": "Succeed"},
        },
    }
    x = 40
    expected = {"x": x, "branches": [{"branch": k, "sum": x + k} for k in range(branches)]}
    return BenchMachine(
        name="parallel",
        title=f"{branches}-branch Parallel",
        definition=definition,
        input={"x": x},
        expected_output=expected,
        states_entered=2 + 2 * branches,
    )


def wait_retry_definition(
    interval_seconds: int, max_attempts: int, backoff_rate: float
) -> dict[str, JSON]:
    """A Wait / Retry-heavy machine: two Waits of `$.pause` seconds around a failing step.

    The failing step is a Parallel whose only branch fails with `Bench.Flaky`; it is retried
    `max_attempts` times with exponential back-off, then caught, so the execution succeeds.
    A Parallel (rather than a Task) keeps the machine runnable on moto without Docker.

    Args:
        interval_seconds: Retry `IntervalSeconds` (AWS's minimum is 1).
        max_attempts: Retry `MaxAttempts`.
        backoff_rate: Retry `BackoffRate`.

    Returns:
        The ASL definition.
    """
    return {
        "Comment": "Wait and Retry back-off",
        "StartAt": "Settle",
        "States": {
            "Settle": {"Type": "Wait", "SecondsPath": "$.pause", "Next": "Flaky"},
            "Flaky": {
                "Type": "Parallel",
                "Branches": [
                    {
                        "StartAt": "Boom",
                        "States": {
                            "Boom": {
                                "Type": "Fail",
                                "Error": "Bench.Flaky",
                                "Cause": "always fails",
                            }
                        },
                    }
                ],
                "Retry": [
                    {
                        "ErrorEquals": ["Bench.Flaky"],
                        "IntervalSeconds": interval_seconds,
                        "MaxAttempts": max_attempts,
                        "BackoffRate": backoff_rate,
                    }
                ],
                "Catch": [
                    {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Recover"}
                ],
                "Next": "Recover",
            },
            "Recover": {
                "Type": "Pass",
                "Result": True,
                "ResultPath": "$.recovered",
                "Next": "Cooldown",
            },
            "Cooldown": {"Type": "Wait", "SecondsPath": "$.pause", "Next": "Done"},
            "Done": {"Type": "Succeed"},
        },
    }


def wait_retry_expected(pause: int) -> JSON:
    """The output of `wait_retry_definition` for input `{"pause": pause}`."""
    return {
        "pause": pause,
        "error": {"Error": "Bench.Flaky", "Cause": "always fails"},
        "recovered": True,
    }


def _wait_retry() -> BenchMachine:
    # moto sleeps in real time: the smallest waits ASL allows (0 s Waits, one 1 s retry).
    return BenchMachine(
        name="wait_retry",
        title="Wait + Retry back-off (0 s waits, one 1 s retry)",
        definition=wait_retry_definition(interval_seconds=1, max_attempts=1, backoff_rate=2.0),
        input={"pause": 0},
        expected_output=wait_retry_expected(0),
        states_entered=7,
    )


#: The hour-long variant run on the engine alone: two 30-minute Waits plus back-off.
LONG_WAIT_PAUSE_SECONDS = 1800
LONG_WAIT_RETRY = {"interval_seconds": 60, "max_attempts": 5, "backoff_rate": 2.0}


def long_wait_virtual_seconds() -> float:
    """Virtual seconds the hour-long variant must span: both Waits plus every back-off."""
    interval = float(LONG_WAIT_RETRY["interval_seconds"])
    rate = float(LONG_WAIT_RETRY["backoff_rate"])
    attempts = int(LONG_WAIT_RETRY["max_attempts"])
    backoff = sum(interval * rate**k for k in range(attempts))
    return 2 * LONG_WAIT_PAUSE_SECONDS + backoff


def long_wait_definition() -> dict[str, JSON]:
    """The hour-long Wait / Retry machine (engine only; moto would sleep through it)."""
    return wait_retry_definition(
        interval_seconds=int(LONG_WAIT_RETRY["interval_seconds"]),
        max_attempts=int(LONG_WAIT_RETRY["max_attempts"]),
        backoff_rate=float(LONG_WAIT_RETRY["backoff_rate"]),
    )


SAGA_STEPS = ("Reserve", "Charge", "Confirm", "Ship", "Notify")


def bench_step_handler(event: dict[str, JSON], context: object) -> dict[str, JSON]:
    """The Lambda handler behind `BENCH_STEP_FUNCTION`: acknowledges the step it was sent."""
    return {"ok": True, "step": event["step"], "order": event["orderId"]}


#: The function the callback machine's task invokes.
CALLBACK_FUNCTION = "stepsaga-bench-callback"


def acknowledge_handler(event: dict[str, JSON], context: object) -> dict[str, JSON]:
    """The Lambda handler behind `CALLBACK_FUNCTION`: only acknowledges.

    The bench reads the task's token from the execution's history, as a test reads it.
    """
    return {}


def callback_definition() -> dict[str, JSON]:
    """One `.waitForTaskToken` task: its answer (SendTaskSuccess) is the execution's output."""
    return {
        "Comment": "a callback: wait for SendTaskSuccess",
        "StartAt": "Approve",
        "States": {
            "Approve": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {
                    "FunctionName": CALLBACK_FUNCTION,
                    "Payload": {"token.$": "$$.Task.Token", "n.$": "$.n"},
                },
                "End": True,
            }
        },
    }


def _saga() -> BenchMachine:
    states: dict[str, JSON] = {}
    for position, step in enumerate(SAGA_STEPS):
        last = position == len(SAGA_STEPS) - 1
        state: dict[str, JSON] = {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {
                "FunctionName": BENCH_STEP_FUNCTION,
                "Payload": {"step": step, "orderId.$": "$.orderId"},
            },
            "ResultSelector": {"ok.$": "$.Payload.ok", "step.$": "$.Payload.step"},
            "ResultPath": f"$.results.{step}",
            "Retry": [
                {
                    "ErrorEquals": ["Lambda.TooManyRequestsException", "Lambda.ServiceException"],
                    "IntervalSeconds": 1,
                    "MaxAttempts": 3,
                    "BackoffRate": 2.0,
                }
            ],
        }
        if last:
            state["End"] = True
        else:
            state["Next"] = SAGA_STEPS[position + 1]
        states[step] = state
    definition = {
        "Comment": "saga-shaped: 5 Lambda tasks",
        "StartAt": SAGA_STEPS[0],
        "States": states,
    }
    expected = {
        "orderId": "o-42",
        "results": {step: {"ok": True, "step": step} for step in SAGA_STEPS},
    }
    return BenchMachine(
        name="tasks",
        title="5 Lambda tasks in a row (saga-shaped)",
        definition=definition,
        input={"orderId": "o-42"},
        expected_output=expected,
        states_entered=len(SAGA_STEPS),
        needs_lambda=True,
    )


def lambda_stand_in(machine: BenchMachine) -> BenchMachine:
    """`machine` with each invocation of `BENCH_STEP_FUNCTION` replaced by a Pass state.

    Each Pass state gives, at the Task's `ResultPath`, what the Task's `ResultSelector` keeps
    of the function's answer, so the machine's output is the same. It is what a peer that
    cannot run the function (moto without Docker) runs instead: the same states and data
    flow with no function invoked, a lower bound of that peer's time for the machine.

    Raises:
        ValueError: a Task of `machine` is not a plain invocation of the bench's function.
    """
    states: dict[str, JSON] = {}
    for name, state in machine.definition["States"].items():
        if state.get("Type") != "Task":
            states[name] = state
            continue
        parameters = state.get("Parameters", {})
        if parameters.get("FunctionName") != BENCH_STEP_FUNCTION:
            raise ValueError(f"{machine.name}: state {name!r} does not invoke the bench function")
        answer = bench_step_handler(
            {"step": parameters["Payload"]["step"], "orderId": machine.input["orderId"]}, None
        )
        kept = {key: answer[key] for key in ("ok", "step")}
        stand_in: dict[str, JSON] = {
            "Type": "Pass",
            "Result": kept,
            "ResultPath": state["ResultPath"],
        }
        for key in ("Next", "End"):
            if key in state:
                stand_in[key] = state[key]
        states[name] = stand_in
    definition = {**machine.definition, "States": states}
    return BenchMachine(
        name=f"{machine.name}_stand_in",
        title=f"{machine.title}, Pass states in place of the Lambda tasks",
        definition=definition,
        input=machine.input,
        expected_output=machine.expected_output,
        states_entered=machine.states_entered,
    )


def all_machines() -> tuple[BenchMachine, ...]:
    """Every benchmarked machine, in report order."""
    return (_chain(), _loop(), _map(), _parallel(), _wait_retry(), _saga())


def machine_named(name: str) -> BenchMachine:
    """The machine called `name`.

    Raises:
        KeyError: no machine has that name (the message lists the known ones).
    """
    machines = {machine.name: machine for machine in all_machines()}
    try:
        return machines[name]
    except KeyError:
        raise KeyError(f"no benchmark machine {name!r}; known: {', '.join(machines)}") from None
