"""The interpreter: runs a compiled plan, recording AWS's history on the engine's clock.

Concurrency (Parallel branches, Map iterations) is simulated: branches run one after the other,
each starting from the same virtual instant, and the state ends when the latest one does. That
keeps histories deterministic; AWS interleaves such events in no fixed order.
"""

from __future__ import annotations

import functools
import json
import random
import re
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Final

from stepsaga.infra.local.stepfunctions._clock import VirtualClock
from stepsaga.infra.local.stepfunctions._errors import StatesError
from stepsaga.infra.local.stepfunctions._history import History, to_json
from stepsaga.infra.local.stepfunctions._plan import (
    KEEP,
    ChoicePlan,
    FailPlan,
    GraphPlan,
    MapPlan,
    ParallelPlan,
    StatePlan,
    TaskPlan,
    WaitPlan,
)
from stepsaga.infra.local.stepfunctions._tasks import TaskCall, TaskOutcome
from stepsaga.workflows import facts
from stepsaga.workflows._expressions import (
    EvaluationError,
    EvaluationScope,
    JsonataTemplate,
    parse_timestamp,
)

ENTERED: Final = "stateEnteredEventDetails"
EXITED: Final = "stateExitedEventDetails"

# The Lambda integration in any partition (its ARN past `arn:aws:`), waiting for a token or not.
_LAMBDA_INVOKE: Final = re.compile(
    r"^arn:[^:]+:"
    + re.escape(facts.LAMBDA_INVOKE.removeprefix("arn:aws:"))
    + f"({re.escape(facts.WAIT_FOR_TASK_TOKEN)})?$"
)
_LAMBDA_ARN: Final = re.compile(r"^arn:[^:]+:lambda:[^:]*:[^:]*:function:.+$")
_SERVICE: Final = re.compile(r"^arn:[^:]+:states:::(aws-sdk:[^:]+|[^:]+):(.+)$")

TaskInvoker = Callable[[TaskCall, str], TaskOutcome]
"""Answers a Task attempt; the second argument is the integration kind (see ``task_kind``)."""


def iso_time(instant: datetime) -> str:
    """A context-object timestamp: ISO-8601 UTC with milliseconds, as AWS writes it."""
    return instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}Z"


@functools.lru_cache(maxsize=1024)  # a machine has few resources, each classified per attempt
def task_kind(resource: str) -> tuple[str, str, str]:
    """Classify a Task resource: (kind, resourceType, resource) as history events name them.

    kind is ``"lambda-invoke"``, ``"lambda-arn"`` or ``"service"``.
    """
    if _LAMBDA_INVOKE.match(resource):
        suffix = resource.rsplit(":", 1)[1]
        return "lambda-invoke", "lambda", suffix
    if _LAMBDA_ARN.match(resource):
        return "lambda-arn", "lambda", resource
    match = _SERVICE.match(resource)
    if match:
        return "service", match.group(1), match.group(2)
    return "service", "unknown", resource


class _ExecutionTimedOut(Exception):
    """The whole machine's TimeoutSeconds elapsed (not catchable inside the machine)."""


class Thread:
    """One line of execution: the top level, a Parallel branch or a Map iteration.

    Attributes:
        cursor: the id the next event names as its previousEventId.
        variables: the workflow variables visible here (assignments stay in this scope).
        scope: the expression scope handed to paths and templates.
    """

    __slots__ = ("cursor", "scope", "variables")

    def __init__(self, cursor: int, variables: dict[str, Any], rng: random.Random) -> None:
        self.cursor = cursor
        self.variables = variables
        self.scope = EvaluationScope(context={}, variables=variables, random=rng)


class Run:
    """One execution of a plan, from ExecutionStarted to its closing event."""

    def __init__(
        self,
        graph: GraphPlan,
        input_value: Any,
        *,
        execution_arn: str,
        execution_name: str,
        state_machine_arn: str,
        state_machine_name: str,
        role_arn: str,
        region: str,
        account_id: str,
        clock: VirtualClock,
        rng: random.Random,
        invoke: TaskInvoker,
    ) -> None:
        self.graph = graph
        self.input = input_value
        self.execution_arn = execution_arn
        self.state_machine_name = state_machine_name
        self.region = region
        self.account_id = account_id
        self.clock = clock
        self.rng = rng
        self.invoke = invoke
        self.history = History()
        self.start_time = clock.now()
        self.deadline: datetime | None = None
        if graph.timeout_seconds:
            self.deadline = self.start_time + timedelta(seconds=graph.timeout_seconds)
        self.role_arn = role_arn
        self.execution_name = execution_name
        self.state_machine_arn = state_machine_arn
        self._execution_context: dict[str, Any] | None = None  # built on first use of $$
        self.status = "RUNNING"
        self.output: Any = None
        self.error: str | None = None
        self.cause: str | None = None
        self.stop_time: datetime | None = None

    # -- the execution -------------------------------------------------------------------

    def execute(self) -> Run:
        """Run to completion; the outcome is in status/output/error/cause/history."""
        history = self.history
        history.add(
            self.start_time,
            "ExecutionStarted",
            0,
            "executionStartedEventDetails",
            {"input": self.input, "roleArn": self.role_arn},
        )
        thread = Thread(0, {}, self.rng)
        try:
            output = self.run_graph(self.graph, self.input, thread)
        except StatesError as failure:
            details: dict[str, Any] = {}
            if failure.error:
                details["error"] = failure.error
            if failure.cause is not None:
                details["cause"] = failure.cause
            self._close("FAILED", "ExecutionFailed", thread, "executionFailedEventDetails", details)
            self.error, self.cause = failure.error or None, failure.cause
        except _ExecutionTimedOut:
            self._close(
                "TIMED_OUT",
                "ExecutionTimedOut",
                thread,
                "executionTimedOutEventDetails",
                {"error": facts.STATES_TIMEOUT},
            )
            self.error = facts.STATES_TIMEOUT
        else:
            self.output = output
            self._close(
                "SUCCEEDED",
                "ExecutionSucceeded",
                thread,
                "executionSucceededEventDetails",
                {"output": output},
            )
        return self

    def _close(
        self, status: str, event: str, thread: Thread, key: str, details: dict[str, Any]
    ) -> None:
        self.status = status
        self.stop_time = self.clock.now()
        self.history.add(self.stop_time, event, thread.cursor, key, details)

    def run_graph(self, graph: GraphPlan, data: Any, thread: Thread) -> Any:
        """Run states from ``graph.start`` until one ends the graph; return its output."""
        state: StatePlan | None = graph.start
        deadline = self.deadline
        while state is not None:
            if deadline is not None and self.clock.now() >= deadline:
                raise _ExecutionTimedOut
            data, state = self.run_state(state, data, thread)
        return data

    # -- one state: events, retries, catchers ------------------------------------------------

    def run_state(
        self, state: StatePlan, data: Any, thread: Thread
    ) -> tuple[Any, StatePlan | None]:
        """Run ``state`` on ``data``; return its output and the next state (None at the end)."""
        events = self.history.events  # appended to inline: this is the hottest path
        entered_time = self.clock.now()
        before = thread.cursor
        entered = len(events) + 1
        events.append(
            (
                entered_time,
                state.entered_type,
                entered,
                thread.cursor,
                ENTERED,
                {"name": state.name, "input": data},
            )
        )
        thread.cursor = entered
        handler = _HANDLERS[state.kind]
        retry_count = 0
        attempts: list[int] | None = None
        while True:
            if state.uses_context:
                thread.scope.context = self.context(state, entered_time, retry_count)
            try:
                output, next_state, assigned = handler(self, state, data, thread, retry_count)
                break
            except EvaluationError as exc:
                failure = self._runtime(state, entered, exc.error, exc.cause)
                if exc.error == facts.STATES_QUERY_EVALUATION_ERROR:
                    self._evaluation_failed(state, failure, exc.field, before, thread)
            except StatesError as exc:
                failure = exc
            if failure.error == facts.STATES_RUNTIME:
                raise failure
            if state.retriers:
                if attempts is None:
                    attempts = [0] * len(state.retriers)
                delay = self._retry_delay(state, failure, attempts)
                if delay is not None:
                    self.sleep(delay)
                    retry_count += 1
                    continue
            self._state_failed(state, thread)
            caught = self._catch(state, failure, data, thread)
            if caught is None:
                raise failure
            output, next_state, assigned = caught
            break
        if state.kind != "Fail":
            details: dict[str, Any] = {"name": state.name, "output": output}
            if assigned is not None:
                details["assignedVariables"] = assigned
            exited = len(events) + 1
            events.append(
                (self.clock.now(), state.exited_type, exited, thread.cursor, EXITED, details)
            )
            thread.cursor = exited
        if assigned:
            thread.variables.update(assigned)
        return output, next_state

    def _evaluation_failed(
        self,
        state: StatePlan,
        failure: StatesError,
        location: str | None,
        before: int,
        thread: Thread,
    ) -> None:
        """AWS records a failed JSONata evaluation as an event of its own."""
        details: dict[str, Any] = {"cause": failure.cause, "error": failure.error}
        if location is not None:
            details["location"] = location
        details["state"] = state.name
        thread.cursor = self.history.add(
            self.clock.now(), "EvaluationFailed", before, "evaluationFailedEventDetails", details
        )

    def _runtime(self, state: StatePlan, entered: int, error: str, cause: str) -> StatesError:
        if error in (facts.STATES_RUNTIME, facts.STATES_QUERY_EVALUATION_ERROR):
            cause = (
                f"An error occurred while executing the state '{state.name}' "
                f"(entered at the event id #{entered}). {cause}"
            )
        return StatesError(error, cause)

    def _retry_delay(
        self, state: StatePlan, failure: StatesError, attempts: list[int]
    ) -> float | None:
        for index, retrier in enumerate(state.retriers):
            if _matches(retrier.errors, retrier.matches_all, failure.error, state.kind):
                count = attempts[index]
                if count >= retrier.max_attempts:
                    return None
                attempts[index] = count + 1
                delay = retrier.interval * retrier.backoff_rate**count
                if retrier.max_delay is not None:
                    delay = min(delay, retrier.max_delay)
                if retrier.jitter_full:
                    delay = self.rng.uniform(0, delay)
                return delay
        return None

    def _catch(
        self, state: StatePlan, failure: StatesError, data: Any, thread: Thread
    ) -> tuple[Any, StatePlan | None, Any] | None:
        for catcher in state.catchers:
            if _matches(catcher.errors, catcher.matches_all, failure.error, state.kind):
                cause = failure.cause
                if cause is None and failure.error in (
                    facts.STATES_TIMEOUT,
                    facts.STATES_HEARTBEAT_TIMEOUT,
                ):
                    cause = ""
                error_output: dict[str, Any] = {"Error": failure.error}
                if cause is not None:
                    error_output["Cause"] = cause
                if state.jsonata:
                    states = self._states(data, thread, errorOutput=error_output)
                    assigned = None
                    if catcher.assign is not None:
                        assigned = catcher.assign.evaluate(states, thread.scope)
                    output: Any = error_output
                    if catcher.output is not None:
                        output = catcher.output.evaluate(states, thread.scope)
                    return output, catcher.next_state, assigned
                assigned = None
                if catcher.assign is not None:
                    assigned = catcher.assign.evaluate(error_output, thread.scope)
                output = _place(catcher.result_path, data, error_output)
                return output, catcher.next_state, assigned
        return None

    def _state_failed(self, state: StatePlan, thread: Thread) -> None:
        if state.kind == "Map":
            event = "MapStateFailed"
        elif state.kind == "Parallel":
            event = "ParallelStateFailed"
        else:
            return
        thread.cursor = self.history.add(self.clock.now(), event, thread.cursor)

    def task_token(self) -> str:
        """A fresh task token (opaque text, reproducible under the engine's seed)."""
        return f"{self.rng.getrandbits(256):064x}"

    def sleep(self, seconds: float) -> None:
        """Let ``seconds`` pass on the clock, stopping at the machine's deadline."""
        deadline = self.deadline
        if deadline is not None and self.clock.now() + timedelta(seconds=seconds) >= deadline:
            self.clock.set(deadline)
            raise _ExecutionTimedOut
        self.clock.advance(seconds)

    def context(self, state: StatePlan, entered: datetime, retry_count: int) -> dict[str, Any]:
        """The context object (``$$``) a state sees (RetryCount only where retries exist)."""
        state_context: dict[str, Any] = {"EnteredTime": iso_time(entered), "Name": state.name}
        if state.kind == "Task":
            state_context["RetryCount"] = retry_count
        if self._execution_context is None:
            self._execution_context = {
                "Id": self.execution_arn,
                "Input": self.input,
                "Name": self.execution_name,
                "RoleArn": self.role_arn,
                "StartTime": iso_time(self.start_time),
                "RedriveCount": 0,
            }
        return {
            "Execution": self._execution_context,
            "State": state_context,
            "StateMachine": {"Id": self.state_machine_arn, "Name": self.state_machine_name},
        }

    # -- input and output processing -----------------------------------------------------------

    @staticmethod
    def _input(state: StatePlan, data: Any, scope: EvaluationScope) -> Any:
        return _filter(state.input_path, data, scope)

    @staticmethod
    def _output(state: StatePlan, data: Any, scope: EvaluationScope) -> Any:
        return _filter(state.output_path, data, scope)

    @staticmethod
    def _states(data: Any, thread: Thread, **extra: Any) -> dict[str, Any]:
        """``$states`` for a JSONata expression: input, context, and result / errorOutput."""
        return {"input": data, "context": thread.scope.context, **extra}

    def _effective(self, state: StatePlan, data: Any, thread: Thread) -> Any:
        """A Task's or Parallel's input: InputPath + Parameters, or JSONata's Arguments."""
        scope = thread.scope
        if state.jsonata:
            if state.parameters is None:
                return data
            return state.parameters.evaluate(self._states(data, thread), scope)
        effective = self._input(state, data, scope)
        if state.parameters is not None:
            effective = state.parameters.evaluate(effective, scope)
        return effective

    def _value(self, field: Any, data: Any, thread: Thread) -> Any:
        """Evaluate a *Path field (JSONPath) or its JSONata expression counterpart."""
        if isinstance(field, JsonataTemplate):
            return field.evaluate(self._states(data, thread), thread.scope)
        return field.evaluate(data, thread.scope)

    def _complete(
        self, state: StatePlan, data: Any, result: Any, thread: Thread
    ) -> tuple[Any, Any]:
        """The state's output and assignments from its result, in either query language."""
        if state.jsonata:
            states = self._states(data, thread, result=result)
            assigned = None
            if state.assign is not None:
                assigned = state.assign.evaluate(states, thread.scope)
            output = result if state.output is None else state.output.evaluate(states, thread.scope)
            return output, assigned
        return self._finish(state, data, result, thread.scope)

    def _finish(
        self, state: StatePlan, raw_input: Any, result: Any, scope: EvaluationScope
    ) -> tuple[Any, Any]:
        """ResultSelector, Assign, ResultPath, OutputPath: (output, assigned variables)."""
        if state.result_selector is not None:
            result = state.result_selector.evaluate(result, scope)
        assigned = None if state.assign is None else state.assign.evaluate(result, scope)
        return self._output(state, _place(state.result_path, raw_input, result), scope), assigned

    # -- state types ---------------------------------------------------------------------------

    def _pass(self, state: StatePlan, data: Any, thread: Thread, _: int) -> tuple[Any, Any, Any]:
        if state.jsonata:
            output, assigned = self._complete(state, data, data, thread)
            return output, state.next_state, assigned
        scope = thread.scope
        effective = self._input(state, data, scope)
        if state.parameters is not None:
            effective = state.parameters.evaluate(effective, scope)
        result = effective if state.result is KEEP else state.result
        output, assigned = self._finish(state, data, result, scope)
        return output, state.next_state, assigned

    def _succeed(self, state: StatePlan, data: Any, thread: Thread, _: int) -> tuple[Any, Any, Any]:
        if state.jsonata:
            output, assigned = self._complete(state, data, data, thread)
            return output, None, assigned
        scope = thread.scope
        effective = self._input(state, data, scope)
        assigned = None if state.assign is None else state.assign.evaluate(effective, scope)
        return self._output(state, effective, scope), None, assigned

    def _fail(self, state: StatePlan, data: Any, thread: Thread, _: int) -> tuple[Any, Any, Any]:
        assert isinstance(state, FailPlan)
        error = state.error
        cause = state.cause
        if state.jsonata:
            if state.error_path is not None:
                error = self._value(state.error_path, data, thread)
            if state.cause_path is not None:
                cause = self._value(state.cause_path, data, thread)
        else:
            if state.error_path is not None:
                error = state.error_path.evaluate(data, thread.scope)["value"]
            if state.cause_path is not None:
                cause = state.cause_path.evaluate(data, thread.scope)["value"]
        raise StatesError(error if error is not None else "", cause)

    def _choice(self, state: StatePlan, data: Any, thread: Thread, _: int) -> tuple[Any, Any, Any]:
        assert isinstance(state, ChoicePlan)
        if state.jsonata:
            return self._choice_jsonata(state, data, thread)
        scope = thread.scope
        effective = self._input(state, data, scope)
        target: StatePlan | None = None
        rule_assign = None
        for rule, _name, assign, _output, next_state in state.choices:
            if rule.matches(effective, scope):
                target, rule_assign = next_state, assign
                break
        else:
            target = state.default_state
            if target is None:
                raise StatesError(facts.STATES_NO_CHOICE_MATCHED, "No Matches!")
        assigned = None
        if state.assign is not None:
            assigned = state.assign.evaluate(effective, scope)
        if rule_assign is not None:
            extra = rule_assign.evaluate(effective, scope)
            assigned = extra if assigned is None else {**assigned, **extra}
        return self._output(state, effective, scope), target, assigned

    def _choice_jsonata(self, state: ChoicePlan, data: Any, thread: Thread) -> tuple[Any, Any, Any]:
        scope = thread.scope
        states = self._states(data, thread)
        for condition, _name, assign, output, next_state in state.choices:
            verdict = condition.evaluate(states, scope)
            if not isinstance(verdict, bool):
                raise EvaluationError(
                    facts.STATES_QUERY_EVALUATION_ERROR,
                    f"The Condition of a Choice rule must be a boolean, but was: {_show(verdict)}",
                )
            if verdict:
                target, rule_assign, rule_output = next_state, assign, output
                break
        else:
            target, rule_assign, rule_output = state.default_state, None, None
            if target is None:
                raise StatesError(facts.STATES_NO_CHOICE_MATCHED, "No Matches!")
        assigned = None if state.assign is None else state.assign.evaluate(states, scope)
        if rule_assign is not None:
            extra = rule_assign.evaluate(states, scope)
            assigned = extra if assigned is None else {**assigned, **extra}
        template = rule_output if rule_output is not None else state.output
        output = data if template is None else template.evaluate(states, scope)
        return output, target, assigned

    def _wait(self, state: StatePlan, data: Any, thread: Thread, _: int) -> tuple[Any, Any, Any]:
        assert isinstance(state, WaitPlan)
        scope = thread.scope
        effective = data if state.jsonata else self._input(state, data, scope)
        seconds: float = 0.0
        if state.seconds is not None:
            seconds = state.seconds
        elif state.seconds_path is not None:
            value = self._value(state.seconds_path, effective, thread)
            where = f"{_field_text(state.seconds_path)} == {_show(value)}"
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise EvaluationError(
                    facts.STATES_RUNTIME,
                    f"The SecondsPath parameter cannot be parsed as a long value: {where}",
                )
            if isinstance(value, float) and not value.is_integer():
                raise EvaluationError(
                    facts.STATES_RUNTIME,
                    f"The SecondsPath parameter cannot be parsed as a long value: {where}",
                )
            if value < 0:
                raise EvaluationError(
                    facts.STATES_RUNTIME,
                    f"The SecondsPath parameter references a negative value: {where}",
                )
            seconds = value
        else:
            if state.timestamp is not None:
                text: Any = state.timestamp
                where = f"Timestamp == {text}"
            else:
                text = self._value(state.timestamp_path, effective, thread)
                where = f"{_field_text(state.timestamp_path)} == {_show(text)}"
            target = _parse_timestamp(text)
            if target is None:
                raise EvaluationError(
                    facts.STATES_RUNTIME,
                    "The TimestampPath parameter does not reference a valid ISO-8601 "
                    f"extended offset date-time format string: {where}",
                )
            seconds = (target - self.clock.now()).total_seconds()
        if seconds > 0:
            self.sleep(seconds)
        if state.jsonata:
            output, assigned = self._complete(state, data, data, thread)
            return output, state.next_state, assigned
        assigned = None if state.assign is None else state.assign.evaluate(effective, scope)
        return self._output(state, effective, scope), state.next_state, assigned

    def _task(
        self, state: StatePlan, data: Any, thread: Thread, retry: int
    ) -> tuple[Any, Any, Any]:
        assert isinstance(state, TaskPlan)
        scope = thread.scope
        history = self.history
        token = None
        if state.resource.endswith(facts.WAIT_FOR_TASK_TOKEN):
            token = self.task_token()
            context = dict(scope.context) if scope.context else {}
            context["Task"] = {"Token": token}
            scope.context = context
        credentials = None
        if state.credentials is not None:
            if state.jsonata:
                credentials = self._value(state.credentials, data, thread)
            else:
                credentials = state.credentials.evaluate(self._input(state, data, scope), scope)
        effective = self._effective(state, data, thread)
        timeout = state.timeout
        if state.timeout_path is not None:
            timeout = _positive_int(
                self._value(state.timeout_path, data, thread), "TimeoutSecondsPath"
            )
        heartbeat = state.heartbeat
        if state.heartbeat_path is not None:
            heartbeat = _positive_int(
                self._value(state.heartbeat_path, data, thread), "HeartbeatSecondsPath"
            )
        kind, resource_type, resource = task_kind(state.resource)
        if kind == "lambda-arn":
            details: dict[str, Any] = {"input": effective, "resource": state.resource}
            prefix, scheduled_key = "LambdaFunction", "lambdaFunctionScheduledEventDetails"
            started_details: dict[str, Any] | None = None
            base: dict[str, Any] = {}
        else:
            details = {
                "parameters": effective,
                "region": self.region,
                "resource": resource,
                "resourceType": resource_type,
            }
            prefix, scheduled_key = "Task", "taskScheduledEventDetails"
            base = {"resource": resource, "resourceType": resource_type}
            started_details = base
        if timeout is not None:
            details["timeoutInSeconds"] = timeout
        if heartbeat is not None:
            details["heartbeatInSeconds"] = heartbeat
        if isinstance(credentials, dict) and "RoleArn" in credentials:
            details["taskCredentials"] = {"roleArn": credentials["RoleArn"]}
        cursor = history.add(
            self.clock.now(), f"{prefix}Scheduled", thread.cursor, scheduled_key, details
        )
        cursor = history.add(
            self.clock.now(),
            f"{prefix}Started",
            cursor,
            None if started_details is None else "taskStartedEventDetails",
            started_details,
        )
        thread.cursor = cursor
        call = TaskCall(
            state_name=state.name,
            resource=state.resource,
            parameters=effective,
            execution_arn=self.execution_arn,
            retry_count=retry,
            timeout_seconds=timeout,
            task_token=token,
        )
        outcome = self.invoke(call, kind)
        lower = prefix[0].lower() + prefix[1:]
        if outcome.submitted is not None:
            cursor = history.add(
                self.clock.now(),
                f"{prefix}Submitted",
                cursor,
                f"{lower}SubmittedEventDetails",
                {**base, "output": outcome.submitted},
            )
            thread.cursor = cursor
        limit = min(x for x in (timeout, heartbeat, 10**9) if x is not None)
        timed_out = outcome.timed_out or outcome.seconds > limit
        self.sleep(min(outcome.seconds, float(limit)))
        if timed_out:
            timeout_error = facts.STATES_TIMEOUT
            if (
                heartbeat is not None
                and not outcome.timed_out
                and outcome.seconds > heartbeat
                and (timeout is None or heartbeat < timeout)
            ):
                timeout_error = facts.STATES_HEARTBEAT_TIMEOUT
            thread.cursor = history.add(
                self.clock.now(),
                f"{prefix}TimedOut",
                cursor,
                f"{lower}TimedOutEventDetails",
                {**base, "error": timeout_error},
            )
            raise StatesError(timeout_error)
        error = outcome.error
        cause = outcome.cause
        result = outcome.output
        if error is None and _exceeds_payload_limit(outcome):
            error = facts.STATES_DATA_LIMIT_EXCEEDED
            task_name = "lambda" if kind == "lambda-invoke" else state.resource
            cause = (
                f"The state/task '{task_name}' returned a result with a size exceeding the "
                "maximum number of bytes service limit."
            )
        if error is not None:
            failed: dict[str, Any] = {**base, "error": error}
            if cause is not None:
                failed["cause"] = cause
            thread.cursor = history.add(
                self.clock.now(), f"{prefix}Failed", cursor, f"{lower}FailedEventDetails", failed
            )
            raise StatesError(error, cause)
        thread.cursor = history.add(
            self.clock.now(),
            f"{prefix}Succeeded",
            cursor,
            f"{lower}SucceededEventDetails",
            {**base, "output": result},
        )
        output, assigned = self._complete(state, data, result, thread)
        return output, state.next_state, assigned

    def _parallel(
        self, state: StatePlan, data: Any, thread: Thread, _: int
    ) -> tuple[Any, Any, Any]:
        assert isinstance(state, ParallelPlan)
        history = self.history
        effective = self._effective(state, data, thread)
        started = history.add(self.clock.now(), "ParallelStateStarted", thread.cursor)
        thread.cursor = started
        begin = self.clock.now()
        latest = begin
        outputs = []
        try:
            for branch in state.branches:
                self.clock.set(begin)
                child = Thread(started, dict(thread.variables), self.rng)
                outputs.append(self.run_graph(branch, effective, child))
                latest = max(latest, self.clock.now())
        except StatesError:
            thread.cursor = history.last_id
            raise
        self.clock.set(latest)
        last = history.last_id
        history.add(self.clock.now(), "ParallelStateSucceeded", last)
        thread.cursor = last
        output, assigned = self._complete(state, data, outputs, thread)
        return output, state.next_state, assigned

    def _map(self, state: StatePlan, data: Any, thread: Thread, _: int) -> tuple[Any, Any, Any]:
        assert isinstance(state, MapPlan)
        scope = thread.scope
        history = self.history
        if state.jsonata:
            effective = data
            items = self._items_jsonata(state, data, thread)
        else:
            effective = self._input(state, data, scope)
            items = (
                effective
                if state.items_path is KEEP
                else state.items_path.evaluate(effective, scope)
            )
            if not isinstance(items, list):
                path = "$" if state.items_path is KEEP else state.items_path.text
                raise EvaluationError(
                    facts.STATES_RUNTIME, f'Reference path "{path}" must point to array.'
                )
        concurrency = state.max_concurrency
        if state.max_concurrency_path is not None:
            concurrency = _count_field(
                self._value(state.max_concurrency_path, effective, thread),
                state.max_concurrency_path,
                "MaxConcurrencyPath",
            )
        started = history.add(
            self.clock.now(),
            "MapStateStarted",
            thread.cursor,
            "mapStateStartedEventDetails",
            {"length": len(items)},
        )
        thread.cursor = started
        tolerated_count = state.tolerated_count
        if state.tolerated_count_path is not None:
            tolerated_count = _count_field(
                self._value(state.tolerated_count_path, effective, thread),
                state.tolerated_count_path,
                "ToleratedFailureCountPath",
            )
        if tolerated_count is not None and tolerated_count < 0:
            raise EvaluationError(facts.STATES_RUNTIME, "ToleratedFailureCount cannot be negative.")
        tolerated_percentage = state.tolerated_percentage
        if state.tolerated_percentage_path is not None:
            tolerated_percentage = _percentage_field(
                self._value(state.tolerated_percentage_path, effective, thread),
                state.tolerated_percentage_path,
            )
        if state.distributed:
            return self._map_run(
                state, data, effective, items, thread, tolerated_count, tolerated_percentage
            )
        begin = self.clock.now()
        slots: list[datetime] = []
        ends: list[datetime] = [begin]
        results = []
        last_iteration = 0
        for index, item in enumerate(items):
            if concurrency and len(slots) >= concurrency:
                slots.sort()
                self.clock.set(slots.pop(0))
            else:
                self.clock.set(begin)
            item_input = self._item(state, effective, index, item, thread)
            iteration = self._iteration_event("Started", thread.cursor, index, state)
            child = Thread(iteration, dict(thread.variables), self.rng)
            try:
                results.append(self.run_graph(state.processor, item_input, child))
            except StatesError:
                self._iteration_event("Failed", child.cursor, index, state)
                thread.cursor = child.cursor
                raise
            last_iteration = self._iteration_event("Succeeded", child.cursor, index, state)
            thread.cursor = child.cursor
            slots.append(self.clock.now())
            ends.append(self.clock.now())
        self.clock.set(max(ends))
        closing = last_iteration or started
        history.add(self.clock.now(), "MapStateSucceeded", closing)
        thread.cursor = closing
        output, assigned = self._complete(state, data, results, thread)
        return output, state.next_state, assigned

    def _iteration_event(self, outcome: str, previous: int, index: int, state: StatePlan) -> int:
        """Record MapIterationStarted / Failed / Succeeded; return its event id."""
        return self.history.add(
            self.clock.now(),
            f"MapIteration{outcome}",
            previous,
            f"mapIteration{outcome}EventDetails",
            {"index": index, "name": state.name},
        )

    def _item(self, state: MapPlan, effective: Any, index: int, item: Any, thread: Thread) -> Any:
        if state.item_selector is None:
            return item
        scope = thread.scope
        context = dict(scope.context) if scope.context else {}
        context["Map"] = {"Item": {"Index": index, "Value": item}}
        item_scope = EvaluationScope(
            context=context, variables=scope.variables, random=scope.random
        )
        if state.jsonata:
            states = {"input": effective, "context": context}
            return state.item_selector.evaluate(states, item_scope)
        return state.item_selector.evaluate(effective, item_scope)

    def _items_jsonata(self, state: MapPlan, data: Any, thread: Thread) -> list[Any]:
        if state.items_path is KEEP or state.items_path is None:
            if not isinstance(data, list):
                raise EvaluationError(
                    facts.STATES_QUERY_EVALUATION_ERROR,
                    f"Map state input must be an array but was: {to_json(data)}",
                )
            return data
        template = state.items_path
        assert isinstance(template, JsonataTemplate)
        items = self._value(template, data, thread)
        if not isinstance(items, list):
            raise template.unexpected_type(items, "array")
        return items

    def _map_run(
        self,
        state: MapPlan,
        data: Any,
        effective: Any,
        items: list[Any],
        thread: Thread,
        tolerated_count: int | None,
        tolerated_percentage: float | None,
    ) -> tuple[Any, Any, Any]:
        history = self.history
        label = state.label or state.name
        run_id = uuid.UUID(int=self.rng.getrandbits(128), version=4)
        map_run_arn = (
            f"arn:aws:states:{self.region}:{self.account_id}:mapRun:"
            f"{self.state_machine_name}/{label}:{run_id}"
        )
        run_started = history.add(
            self.clock.now(),
            "MapRunStarted",
            thread.cursor,
            "mapRunStartedEventDetails",
            {"mapRunArn": map_run_arn},
        )
        thread.cursor = run_started
        # Child executions of a map run keep their own histories, not the parent's.
        parent_history = history
        begin = self.clock.now()
        latest = begin
        results: list[Any] = []
        failures = 0
        try:
            for index, item in enumerate(items):
                self.history = History()
                self.clock.set(begin)
                item_input = self._item(state, effective, index, item, thread)
                child = Thread(0, dict(thread.variables), self.rng)
                try:
                    results.append(self.run_graph(state.processor, item_input, child))
                except StatesError as failure:
                    failures += 1
                    error_output: dict[str, Any] = {"Error": failure.error}
                    if failure.cause is not None:
                        error_output["Cause"] = failure.cause
                    results.append(error_output)
                latest = max(latest, self.clock.now())
        finally:
            self.history = parent_history
        self.clock.set(latest)
        if failures and _exceeds(failures, len(items), tolerated_count, tolerated_percentage):
            history.add(self.clock.now(), "MapRunFailed", run_started)
            raise StatesError(
                facts.STATES_EXCEED_TOLERATED_FAILURE_THRESHOLD,
                "The specified tolerated failure threshold was exceeded",
            )
        run_succeeded = history.add(self.clock.now(), "MapRunSucceeded", run_started)
        history.add(self.clock.now(), "MapStateSucceeded", run_succeeded)
        thread.cursor = run_succeeded
        output, assigned = self._complete(state, data, results, thread)
        return output, state.next_state, assigned


_Handler = Callable[[Run, Any, Any, Thread, int], tuple[Any, Any, Any]]
_HANDLERS: Final[dict[str, _Handler]] = {
    "Pass": Run._pass,
    "Succeed": Run._succeed,
    "Fail": Run._fail,
    "Wait": Run._wait,
    "Choice": Run._choice,
    "Task": Run._task,
    "Parallel": Run._parallel,
    "Map": Run._map,
}


def _exceeds_payload_limit(outcome: TaskOutcome) -> bool:
    """Whether a task's result is over the 256 KiB limit (its compact UTF-8 JSON)."""
    bound = outcome.output_bytes_at_most
    if bound is not None and bound <= facts.MAX_PAYLOAD_BYTES:
        return False  # the integration vouches for a size within the limit: skip serialising
    return len(to_json(outcome.output).encode()) > facts.MAX_PAYLOAD_BYTES


def _filter(path: Any, data: Any, scope: EvaluationScope) -> Any:
    """Apply InputPath or OutputPath: ``$`` (or absent) keeps ``data``, null gives ``{}``."""
    if path is KEEP:
        return data
    if path is None:
        return {}
    return path.evaluate(data, scope)


def _place(path: Any, raw_input: Any, result: Any) -> Any:
    """Apply ResultPath: ``$`` (or absent) gives ``result``, null keeps the input."""
    if path is KEEP:
        return result
    if path is None:
        return raw_input
    return path.set(raw_input, result)


def _matches(errors: frozenset[str], matches_all: bool, error: str, kind: str) -> bool:
    if error in errors:
        return True
    if error == facts.STATES_RUNTIME or error == facts.STATES_DATA_LIMIT_EXCEEDED:
        return False
    if matches_all:
        return True
    return kind == "Task" and facts.STATES_TASK_FAILED in errors and error != facts.STATES_TIMEOUT


def _exceeds(failures: int, total: int, count: int | None, percentage: float | None) -> bool:
    if count is None and percentage is None:
        return True
    within_count = count is not None and failures <= count
    within_percentage = percentage is not None and total and failures * 100 / total <= percentage
    return not (within_count or within_percentage)


def _field_text(field: Any) -> str:
    """How a causes quotes a path (its text) or a JSONata field (its expression)."""
    if isinstance(field, JsonataTemplate):
        return field.expression
    return str(field.text)


def _show(value: Any) -> str:
    return value if isinstance(value, str) else to_json(value)


def _parse_timestamp(value: Any) -> datetime | None:
    """A Wait timestamp (the format Choice's timestamp rules accept), to the microsecond."""
    parsed = parse_timestamp(value)
    if parsed is None:
        return None
    instant, fraction = parsed
    return instant + timedelta(microseconds=int(fraction * 1_000_000))


def _count_field(value: Any, path: Any, field: str) -> int:
    parsed = _as_int(value)
    if parsed is None:
        raise EvaluationError(
            facts.STATES_RUNTIME,
            f'The {field} field refers to value "{_show(value)}" which is not a valid integer: '
            f"{_field_text(path)}",
        )
    return parsed


def _percentage_field(value: Any, path: Any) -> float:
    parsed: float | None = None
    if not isinstance(value, bool) and isinstance(value, int | float | str):
        try:
            parsed = float(value)
        except ValueError:
            parsed = None
    if parsed is None:
        raise EvaluationError(
            facts.STATES_RUNTIME,
            f'The ToleratedFailurePercentagePath field refers to value "{_show(value)}" which is '
            f"not a valid float: {_field_text(path)}",
        )
    if not 0 <= parsed <= 100:
        raise EvaluationError(
            facts.STATES_RUNTIME, "ToleratedFailurePercentage must be between 0 and 100."
        )
    return parsed


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return None
    return None


def _positive_int(value: Any, field: str) -> int:
    parsed = _as_int(value)
    if parsed is None or parsed <= 0:
        raise EvaluationError(
            facts.STATES_RUNTIME,
            f"The {field} field must be a positive integer, got: {json.dumps(value)}",
        )
    return parsed
