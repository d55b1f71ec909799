"""Compile a `Saga` into a JSONPath-mode ASL definition, or refuse it with every broken rule."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from stepsaga.workflows import facts
from stepsaga.workflows.asl import ASLValidationError, StateMachine, parse_definition
from stepsaga.workflows.saga._dsl import (
    COMPENSATION_RETRY,
    DEFAULT_RETRY,
    TRANSIENT_RETRY,
    UNTIL_SUCCESS,
    FunctionNames,
    Notification,
    RetryPolicy,
    Saga,
    Step,
)
from stepsaga.workflows.saga._envelope import (
    COMMIT_FAILED,
    COMPENSATE_PREFIX,
    COMPENSATION_FAILED,
    FENCED_ERROR,
    RESULT_PAYLOAD_KEY,
)

#: The Pass state that creates `$.results` before the first task reads it.
BEGIN_STATE = "Begin"
#: The Fail state that ends a failed saga with the original error.
FAILED_STATE = "Failed"
#: The Fail state that ends a saga whose compensation failed.
COMPENSATION_FAILED_STATE = "CompensationFailed"
#: The Fail state that ends a saga whose pivot, or a step after it, failed for good.
COMMIT_FAILED_STATE = "CommitFailed"

ERROR_PATH = "$.error"
COMPENSATION_ERROR_PATH = "$.compensationError"
NOTIFICATION_ERROR_PATH = "$.failureNotificationError"

_STEP_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_STEP_NAME_MAX = facts.MAX_STATE_NAME_LENGTH - len(COMPENSATE_PREFIX)
# A saga's name is its state machine's name.
_SAGA_NAME = re.compile(rf"[A-Za-z0-9_-]{{1,{facts.MAX_NAME_LENGTH}}}")
_HANDLER_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


@dataclass(frozen=True)
class SagaProblem:
    """One compile rule a saga breaks.

    Attributes:
        step: The step (or notification) at fault, or None for the saga as a whole.
        rule: The rule's name, e.g. `compensation-past-pivot`.
        message: What is wrong and how to fix it.
    """

    step: str | None
    rule: str
    message: str

    def __str__(self) -> str:
        where = f"step {self.step!r}" if self.step is not None else "saga"
        return f"{where}: [{self.rule}] {self.message}"


class SagaCompileError(ValueError):
    """A saga cannot be compiled; nothing was built.

    The rules (`SagaProblem.rule`): `saga-name`, `command-model`, `no-steps`, `unknown-pivot`,
    `step-name` (a letter then letters, digits, `_`; short enough for `Compensate<Step>`),
    `duplicate-name` (steps, notifications, compensations and the compiler's own `Begin`,
    `Failed`, `CompensationFailed`, `CommitFailed` share one namespace), `no-action`,
    `handler-name`,
    `missing-compensation` (a step before the last compensating one needs one),
    `compensation-past-pivot` (the pivot and later steps commit), `retry-after-pivot` (the
    pivot's and later steps' policy must retry `States.ALL`), `retry-policy` (what AWS would
    reject), `timeout`, and `asl-invalid` (the ASL model refused the result: a compiler bug).

    Attributes:
        saga: The saga's name.
        problems: Every broken rule, each naming its step and rule.
    """

    def __init__(self, saga: str, problems: list[SagaProblem]) -> None:
        self.saga = saga
        self.problems = tuple(problems)
        lines = [f"saga {saga!r} cannot be compiled:", *(f"  - {p}" for p in self.problems)]
        super().__init__("\n".join(lines))


def compensation_state(step: str) -> str:
    """The state name of `step`'s compensation."""
    return COMPENSATE_PREFIX + step


def compile_saga(saga: Saga, functions: FunctionNames | None = None) -> StateMachine:
    """Compile `saga` to a validated ASL state machine.

    Args:
        saga: The saga to compile.
        functions: How handler names become function names; default `FunctionNames.local()`.

    Returns:
        The validated state machine; `.to_dict()` gives its JSON.

    Raises:
        SagaCompileError: The saga breaks a compile rule; every problem is listed.
    """
    definition = _definition(saga, functions)
    try:
        return parse_definition(definition)
    except ASLValidationError as error:
        # The rules above should make this unreachable; if not, say so instead of returning junk.
        problems = [SagaProblem(None, "asl-invalid", str(p)) for p in error.problems]
        raise SagaCompileError(saga.name, problems) from error


def _definition(saga: Saga, functions: FunctionNames | None) -> dict[str, Any]:
    names = functions if functions is not None else FunctionNames.local()
    problems = list(_check(saga, names))
    if problems:
        raise SagaCompileError(saga.name, problems)
    return _DefinitionBuilder(saga, names).build()


# --- rules -------------------------------------------------------------------------------------


def _pivot_index(saga: Saga) -> int | None:
    for index, step in enumerate(saga.steps):
        if step.name == saga.pivot:
            return index
    return None


def _check(saga: Saga, names: FunctionNames) -> Iterator[SagaProblem]:
    if not isinstance(saga.name, str) or not _SAGA_NAME.fullmatch(saga.name):
        yield SagaProblem(
            None,
            "saga-name",
            f"{saga.name!r} is not 1-{facts.MAX_NAME_LENGTH} letters, digits, '-' or '_'",
        )
    if not (isinstance(saga.command, type) and issubclass(saga.command, BaseModel)):
        yield SagaProblem(
            None, "command-model", f"command {saga.command!r} is not a pydantic model class"
        )
    if not saga.steps:
        yield SagaProblem(None, "no-steps", "a saga needs at least one step")
    pivot = _pivot_index(saga)
    if saga.pivot is not None and pivot is None:
        yield SagaProblem(None, "unknown-pivot", f"pivot {saga.pivot!r} names no step")
    if saga.timeout is not None:
        yield from _check_timeout(None, saga.timeout)
    seen: dict[str, str] = {}
    last_compensating = pivot if pivot is not None else len(saga.steps) - 1
    for index, step in enumerate(saga.steps):
        past_pivot = pivot is not None and index > pivot
        needs_compensation = index < last_compensating
        yield from _check_step(step, pivot == index, past_pivot, needs_compensation, names)
        for state, what in _state_names(step, pivot == index or past_pivot):
            yield from _claim(seen, state, what, step.name)
    if saga.on_failure is not None:
        note = saga.on_failure
        yield from _check_name(note.name)
        yield from _check_handler(note.name, note.action, "action", names)
        yield from _check_policy(note.name, note.retry, "retry")
        if note.timeout is not None:
            yield from _check_timeout(note.name, note.timeout)
        yield from _claim(seen, note.name, "the failure notification", note.name)
    for reserved in (BEGIN_STATE, FAILED_STATE, COMPENSATION_FAILED_STATE, COMMIT_FAILED_STATE):
        if reserved in seen:
            yield SagaProblem(
                reserved,
                "duplicate-name",
                f"{reserved!r} is a state the compiler adds; rename {seen[reserved]}",
            )


def _state_names(step: Step | Notification, committed: bool) -> Iterator[tuple[str, str]]:
    yield step.name, f"step {step.name!r}"
    if isinstance(step, Step) and step.compensation is not None and not committed:
        yield compensation_state(step.name), f"the compensation of step {step.name!r}"


def _claim(seen: dict[str, str], state: str, what: str, step: str) -> Iterator[SagaProblem]:
    if not isinstance(state, str):
        return
    if state in seen:
        yield SagaProblem(
            step, "duplicate-name", f"state name {state!r} is used by {seen[state]} and {what}"
        )
    else:
        seen[state] = what


def _check_step(
    step: Step | Notification,
    is_pivot: bool,
    past_pivot: bool,
    needs_compensation: bool,
    names: FunctionNames,
) -> Iterator[SagaProblem]:
    yield from _check_name(step.name)
    label = step.name if isinstance(step.name, str) else None
    if not step.action:
        yield SagaProblem(label, "no-action", "every step needs an action handler")
    else:
        yield from _check_handler(label, step.action, "action", names)
    if step.timeout is not None:
        yield from _check_timeout(label, step.timeout)
    committed = is_pivot or past_pivot
    if committed and step.retry is not None and tuple(step.retry.errors) != (facts.STATES_ALL,):
        where = "the pivot" if is_pivot else "a step past the pivot"
        yield SagaProblem(
            label,
            "retry-after-pivot",
            f"{where} must retry until it succeeds (it may have committed): its policy's "
            f"errors must be ({facts.STATES_ALL!r},)",
        )
    yield from _check_policy(label, step.retry, "retry")
    if not isinstance(step, Step):
        return
    yield from _check_policy(label, step.compensation_retry, "compensation_retry")
    if step.compensation is not None and (is_pivot or past_pivot):
        where = "is the pivot" if is_pivot else "is past the pivot"
        yield SagaProblem(
            label,
            "compensation-past-pivot",
            f"the step {where}, so it commits and cannot be compensated; drop its compensation",
        )
    elif step.compensation is not None:
        yield from _check_handler(label, step.compensation, "compensation", names)
    elif needs_compensation:
        yield SagaProblem(
            label,
            "missing-compensation",
            "a step before the pivot needs a compensation (or make it the pivot, or use a "
            "Notification for what cannot be undone)",
        )


def _check_name(name: object) -> Iterator[SagaProblem]:
    label = name if isinstance(name, str) else None
    if not isinstance(name, str) or not _STEP_NAME.fullmatch(name):
        yield SagaProblem(
            label,
            "step-name",
            f"{name!r} must start with a letter and hold only letters, digits and '_' "
            "(it is a state name and a key in $.results)",
        )
    elif len(name) > _STEP_NAME_MAX:
        yield SagaProblem(
            label,
            "step-name",
            f"{len(name)} characters is too long: at most {_STEP_NAME_MAX}, since "
            f"'{COMPENSATE_PREFIX}<Step>' must fit the {facts.MAX_STATE_NAME_LENGTH}-character "
            "state name limit",
        )


def _check_handler(
    step: str | None, handler: object, role: str, names: FunctionNames
) -> Iterator[SagaProblem]:
    if not isinstance(handler, str) or not _HANDLER_NAME.fullmatch(handler):
        yield SagaProblem(
            step,
            "handler-name",
            f"{role} {handler!r} must start with a letter and hold only letters, digits and '_'",
        )
    elif (
        not names.placeholders
        and len(names.function_name(handler)) > facts.MAX_LAMBDA_FUNCTION_NAME_LENGTH
    ):
        yield SagaProblem(
            step,
            "handler-name",
            f"{role} function name {names.function_name(handler)!r} exceeds "
            f"{facts.MAX_LAMBDA_FUNCTION_NAME_LENGTH} characters",
        )


def _check_timeout(step: str | None, timeout: object) -> Iterator[SagaProblem]:
    if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 1:
        yield SagaProblem(step, "timeout", f"timeout {timeout!r} must be a whole number >= 1")
    elif timeout > facts.MAX_SECONDS_OR_ATTEMPTS:
        yield SagaProblem(
            step, "timeout", f"timeout {timeout} exceeds {facts.MAX_SECONDS_OR_ATTEMPTS}"
        )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_policy(step: str | None, policy: RetryPolicy | None, role: str) -> Iterator[SagaProblem]:
    if policy is None:
        return

    def bad(message: str) -> SagaProblem:
        return SagaProblem(step, "retry-policy", f"{role}: {message}")

    if not _is_int(policy.interval) or not 1 <= policy.interval <= facts.MAX_SECONDS_OR_ATTEMPTS:
        yield bad(f"interval {policy.interval!r} must be a whole number of seconds >= 1")
    if (
        not _is_int(policy.max_attempts)
        or not 0 <= policy.max_attempts <= facts.MAX_SECONDS_OR_ATTEMPTS
    ):
        yield bad(
            f"max_attempts {policy.max_attempts!r} must be 0..{facts.MAX_SECONDS_OR_ATTEMPTS}"
        )
    rate = policy.backoff_rate
    if (
        isinstance(rate, bool)
        or not isinstance(rate, int | float)
        or not math.isfinite(rate)
        or rate < 1.0
    ):
        yield bad(f"backoff_rate {rate!r} must be a number >= 1.0")
    if policy.max_delay is not None and (
        not _is_int(policy.max_delay) or not 1 <= policy.max_delay <= facts.MAX_DELAY_SECONDS
    ):
        yield bad(f"max_delay {policy.max_delay!r} must be 1..{facts.MAX_DELAY_SECONDS} seconds")
    if policy.jitter is not None and policy.jitter not in facts.JITTER_STRATEGIES:
        yield bad(f"jitter {policy.jitter!r} must be 'FULL' or 'NONE'")
    errors = tuple(policy.errors)
    if not errors:
        yield bad("errors must name at least one error")
    elif not all(isinstance(e, str) and e for e in errors):
        yield bad(f"errors {errors!r} must be non-empty strings")
    elif facts.STATES_ALL in errors and len(errors) > 1:
        yield bad(f"'{facts.STATES_ALL}' must be the only error of its retrier")
    elif len(set(errors)) != len(errors):
        yield bad(f"errors {errors!r} repeat a name")


# --- building ----------------------------------------------------------------------------------


def _retrier(policy: RetryPolicy, errors: tuple[str, ...]) -> dict[str, Any]:
    retrier: dict[str, Any] = {
        "ErrorEquals": list(errors),
        "IntervalSeconds": policy.interval,
        "MaxAttempts": policy.max_attempts,
        "BackoffRate": policy.backoff_rate,
    }
    if policy.max_delay is not None:
        retrier["MaxDelaySeconds"] = policy.max_delay
    if policy.jitter is not None:
        retrier["JitterStrategy"] = policy.jitter
    return retrier


# A fenced command stays fenced: retrying its task can only be refused again.
_NEVER_RETRY_FENCED = {"ErrorEquals": [FENCED_ERROR], "MaxAttempts": 0}


def _retriers(policy: RetryPolicy, *, action: bool = False) -> list[dict[str, Any]]:
    if tuple(policy.errors) == (facts.STATES_ALL,):
        # One retrier: a transient one first would end retrying once its own attempts ran out.
        # An action retrying every error must still not retry `Saga.Fenced`.
        every = [_retrier(policy, (facts.STATES_ALL,))]
        return [dict(_NEVER_RETRY_FENCED), *every] if action else every
    own = tuple(e for e in policy.errors if e not in TRANSIENT_RETRY.errors)
    retriers = [_retrier(TRANSIENT_RETRY, TRANSIENT_RETRY.errors)]
    if own:
        retriers.append(_retrier(policy, own))
    return retriers


def _payload(with_error: bool, commits: bool = False) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "command.$": "$.command",
        "meta.$": "$.meta",
        "results.$": "$.results",
    }
    if with_error:
        payload["error.$"] = ERROR_PATH
    payload["execution"] = {
        "id.$": "$$.Execution.Id",
        "name.$": "$$.Execution.Name",
        "startTime.$": "$$.Execution.StartTime",
    }
    payload["state"] = {"name.$": "$$.State.Name", "retryCount.$": "$$.State.RetryCount"}
    if commits:
        payload["commits"] = True
    return payload


class _DefinitionBuilder:
    def __init__(self, saga: Saga, names: FunctionNames) -> None:
        self.saga = saga
        self.names = names
        pivot = _pivot_index(saga)
        # Steps before here can fail into the compensation chain; the pivot and later commit.
        self.first_committed = pivot if pivot is not None else len(saga.steps)

    def build(self) -> dict[str, Any]:
        saga = self.saga
        states: dict[str, Any] = {}
        first = saga.steps[0].name
        states[BEGIN_STATE] = {
            "Type": "Pass",
            "Result": {},
            "ResultPath": "$.results",
            "Next": first,
        }
        # With the pivot first, nothing can fail into the notification (see below).
        notify = saga.on_failure if self.first_committed > 0 else None
        tail = notify.name if notify is not None else FAILED_STATE
        # `undo` is the compensation of the latest step that may have done work: where a failure
        # goes once the failing step's own compensation (if any) has run.
        undo = tail
        compensations: list[tuple[str, Step]] = []
        for index, step in enumerate(saga.steps):
            committed = index >= self.first_committed
            nxt = saga.steps[index + 1].name if index + 1 < len(saga.steps) else None
            if not committed and isinstance(step, Step) and step.compensation is not None:
                # A failed action may still have done its work (a late answer, a crash after
                # the append), so its own compensation runs first, then the earlier ones.
                compensations.append((undo, step))
                undo = compensation_state(step.name)
            states[step.name] = self._action(
                step, committed, nxt, COMMIT_FAILED_STATE if committed else undo
            )
        for next_state, step in reversed(compensations):
            states[compensation_state(step.name)] = self._compensation(step, next_state)
        if notify is not None:
            # Left out when the first step is the pivot: nothing is ever compensated or
            # notified then, and ASL refuses a state no transition reaches.
            states[notify.name] = self._failure_notification(notify)
        if self.first_committed > 0:
            # Left out when the first step is the pivot: no failure gets here then.
            states[FAILED_STATE] = {
                "Type": "Fail",
                "Comment": "The saga failed with the error it caught, kept in $.error.",
                "ErrorPath": f"{ERROR_PATH}.Error",
                "CausePath": f"{ERROR_PATH}.Cause",
            }
        if self.first_committed < len(saga.steps):
            states[COMMIT_FAILED_STATE] = {
                "Type": "Fail",
                "Comment": "The pivot or a step after it failed for good; nothing was "
                "compensated. The cause is the caught error, as JSON.",
                "Error": COMMIT_FAILED,
                "CausePath": f"States.JsonToString({ERROR_PATH})",
            }
        if compensations:
            states[COMPENSATION_FAILED_STATE] = {
                "Type": "Fail",
                "Comment": "A compensation failed after its retries; an operator must act.",
                "Error": COMPENSATION_FAILED,
                "CausePath": f"{COMPENSATION_ERROR_PATH}.Cause",
            }
        definition: dict[str, Any] = {
            "Comment": saga.comment
            if saga.comment is not None
            else f"Saga {saga.name} for command {saga.command.__name__}",
            "StartAt": BEGIN_STATE,
            "States": states,
        }
        if saga.timeout is not None:
            definition["TimeoutSeconds"] = saga.timeout
        return definition

    def _task(
        self,
        handler: str,
        *,
        with_error: bool,
        result: dict[str, Any],
        timeout: int | None,
        policy: RetryPolicy,
        catch_into: tuple[str, str],
        nxt: str | None,
        commits: bool = False,
    ) -> dict[str, Any]:
        # Keys in the ASL model's canonical order, so the dict and its round trip print alike.
        task: dict[str, Any] = {
            "Type": "Task",
            "Resource": facts.LAMBDA_INVOKE,
            "Parameters": {
                "FunctionName": self.names.function_name(handler),
                "Payload": _payload(with_error, commits),
            },
            **result,
        }
        if timeout is not None:
            task["TimeoutSeconds"] = timeout
        task["Retry"] = _retriers(policy, action=not with_error)
        result_path, target = catch_into
        task["Catch"] = [
            {"ErrorEquals": [facts.STATES_ALL], "ResultPath": result_path, "Next": target}
        ]
        if nxt is None:
            task["End"] = True
        else:
            task["Next"] = nxt
        return task

    def _action(
        self, step: Step | Notification, committed: bool, nxt: str | None, on_error: str
    ) -> dict[str, Any]:
        default = UNTIL_SUCCESS if committed else DEFAULT_RETRY
        return self._task(
            step.action,
            commits=step.name == self.saga.pivot,
            with_error=False,
            result={
                "ResultSelector": {f"{RESULT_PAYLOAD_KEY}.$": "$.Payload"},
                "ResultPath": f"$.results.{step.name}",
            },
            timeout=step.timeout,
            policy=step.retry if step.retry is not None else default,
            catch_into=(ERROR_PATH, on_error),
            nxt=nxt,
        )

    def _compensation(self, step: Step, nxt: str) -> dict[str, Any]:
        assert step.compensation is not None  # only compensatable steps get here
        return self._task(
            step.compensation,
            with_error=True,
            # The caught error must survive the chain for the final Fail, so results are dropped.
            result={"ResultPath": None},
            timeout=None,
            policy=step.compensation_retry or COMPENSATION_RETRY,
            catch_into=(COMPENSATION_ERROR_PATH, COMPENSATION_FAILED_STATE),
            nxt=nxt,
        )

    def _failure_notification(self, note: Notification) -> dict[str, Any]:
        return self._task(
            note.action,
            with_error=True,
            result={"ResultPath": None},
            timeout=note.timeout,
            # It is idempotent, so every error is worth retrying: a lost failure mail is worse.
            policy=note.retry if note.retry is not None else COMPENSATION_RETRY,
            # A notification that cannot be sent must not hide the saga's own error.
            catch_into=(NOTIFICATION_ERROR_PATH, FAILED_STATE),
            nxt=FAILED_STATE,
        )
