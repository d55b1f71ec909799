"""One execution's lifecycle: start, states one after another, retries, catchers, the end.

:class:`Run` drives an execution's top-level strand on the engine's scheduler: it records
``ExecutionStarted``, runs each state (its entered and exited events around the state's own
logic, its Retriers and Catchers), and closes with the execution's last event: succeeded,
failed, timed out (the machine's TimeoutSeconds, a timer) or aborted (``stop_execution``).
:class:`Execution` is what callers hold: DescribeExecution's and GetExecutionHistory's view.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, cast

from stepsaga.infra.local.stepfunctions._callbacks import Callbacks
from stepsaga.infra.local.stepfunctions._dataflow import error_output
from stepsaga.infra.local.stepfunctions._errors import StatesError
from stepsaga.infra.local.stepfunctions._history import History
from stepsaga.infra.local.stepfunctions._observe import Transition
from stepsaga.infra.local.stepfunctions._scheduler import (
    Scheduler,
    Sleep,
    Strand,
    StrandBody,
    Timer,
    Wait,
    resumed,
)
from stepsaga.infra.local.stepfunctions._steps import StateStep, matches
from stepsaga.infra.local.stepfunctions._tasks import TaskCall, TaskMock, TaskOutcome
from stepsaga.workflows import facts
from stepsaga.workflows._expressions import EvaluationError

if TYPE_CHECKING:
    from stepsaga.infra.local.stepfunctions._clock import Clock
    from stepsaga.infra.local.stepfunctions._integrations import TaskIntegrations
    from stepsaga.infra.local.stepfunctions._plan import MachinePlan
    from stepsaga.workflows.asl import StateMachine

ENTERED: Final = "stateEnteredEventDetails"
EXITED: Final = "stateExitedEventDetails"


def iso_time(instant: datetime) -> str:
    """A context-object timestamp: ISO-8601 UTC with milliseconds, as AWS writes it."""
    return instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}Z"


class Execution:
    """An execution, as DescribeExecution and GetExecutionHistory show it.

    Returned by ``start()`` while it may still be running, and by ``run()`` once it is not;
    its fields follow the execution as it progresses.

    Attributes:
        arn: the execution ARN.
        name: the execution name.
        state_machine_arn: the ARN of the machine it runs.
        definition: the state machine it runs (the validated ASL model).
        status: ``RUNNING``, then ``SUCCEEDED``, ``FAILED``, ``TIMED_OUT`` or ``ABORTED``.
        input: the input, parsed.
        output: the output, parsed (None unless SUCCEEDED).
        error: the error name when it did not succeed.
        cause: the cause text, when there is one.
        start_date: when it started (the engine's clock).
        stop_date: when it stopped (None while running).
    """

    __slots__ = (
        "_history",
        "_lock",
        "_transitions",
        "arn",
        "cause",
        "definition",
        "error",
        "input",
        "name",
        "output",
        "start_date",
        "state_machine_arn",
        "status",
        "stop_date",
    )

    def __init__(
        self,
        arn: str,
        name: str,
        state_machine_arn: str,
        definition: StateMachine,
        input: Any,
        start_date: datetime,
        history: History,
        lock: threading.RLock,
    ) -> None:
        self.arn = arn
        self.name = name
        self.state_machine_arn = state_machine_arn
        self.definition = definition
        self.status = "RUNNING"
        self.input = input
        self.output: Any = None
        self.error: str | None = None
        self.cause: str | None = None
        self.start_date = start_date
        self.stop_date: datetime | None = None
        self._history = history
        self._transitions: list[Transition] = []
        self._lock = lock

    @property
    def history(self) -> list[dict[str, Any]]:
        """The events as ``get_execution_history()["events"]`` returns them (datetimes).

        Rendered on each read, as a new list: keep it rather than read it in a loop.
        """
        with self._lock:
            return self._history.render()

    @property
    def event_types(self) -> list[str]:
        """The event types in order (cheaper than :attr:`history`)."""
        with self._lock:
            return self._history.types()

    @property
    def transitions(self) -> tuple[Transition, ...]:
        """The transitions taken, in order (Parallel branches and Map iterations included)."""
        with self._lock:
            return tuple(self._transitions)

    @property
    def closed(self) -> bool:
        """Whether the execution has ended."""
        return self.status != "RUNNING"

    def __repr__(self) -> str:
        return f"Execution({self.arn!r}, status={self.status!r})"


class EngineCore:
    """What every execution of one engine shares (built once per engine).

    Attributes:
        scheduler: the engine's scheduler.
        clock: its clock.
        callbacks: its task tokens and activities.
        integrations: what answers Task attempts.
        rng: its seeded random source.
        region: the region in ARNs and events.
        account_id: the account in ARNs.
        role_arn: the execution role in ExecutionStarted.
        on_close: told when an execution closes.
    """

    __slots__ = (
        "account_id",
        "callbacks",
        "clock",
        "integrations",
        "on_close",
        "region",
        "rng",
        "role_arn",
        "scheduler",
    )

    def __init__(
        self,
        scheduler: Scheduler,
        callbacks: Callbacks,
        integrations: TaskIntegrations,
        rng: random.Random,
        region: str,
        account_id: str,
        role_arn: str,
        on_close: Callable[[Run], None],
    ) -> None:
        self.scheduler = scheduler
        self.clock: Clock = scheduler.clock
        self.callbacks = callbacks
        self.integrations = integrations
        self.rng = rng
        self.region = region
        self.account_id = account_id
        self.role_arn = role_arn
        self.on_close = on_close


class Run:
    """One execution of a plan, from ExecutionStarted to its closing event.

    Args:
        core: what the engine's executions share.
        plan: the compiled machine.
        execution: what callers hold (updated as the run goes).
        state_machine_name: the machine's name (context object, map run ARNs).
        mock: this execution's own task mock (None: the engine's, read on each attempt).
        role_arn: the execution role (ExecutionStarted, ``$$.Execution.RoleArn``); None: the
            engine's (the Step Functions API passes its state machine's).
    """

    __slots__ = (
        "_deadline",
        "_execution_context",
        "_on_close",
        "callbacks",
        "clock",
        "closed",
        "core",
        "execution",
        "external_waits",
        "history",
        "input",
        "mock",
        "plan",
        "rng",
        "role_arn",
        "state_machine_name",
        "top",
        "transitions",
    )

    def __init__(
        self,
        core: EngineCore,
        plan: MachinePlan,
        execution: Execution,
        state_machine_name: str,
        mock: TaskMock | None,
        role_arn: str | None = None,
    ) -> None:
        self.core = core
        self.role_arn = core.role_arn if role_arn is None else role_arn
        self.clock = core.clock
        self.rng = core.rng
        self.callbacks = core.callbacks
        self.plan = plan
        self.execution = execution
        self.input = execution.input
        self.state_machine_name = state_machine_name
        self.mock = mock
        self.history = execution._history
        self.transitions = execution._transitions
        self.external_waits = 0
        self.closed = False
        self.top: Strand | None = None
        self._on_close: list[Callable[[Run], None]] = []
        self._deadline: Timer | None = None
        self._execution_context: dict[str, Any] | None = None  # built on first use of $$

    @property
    def execution_arn(self) -> str:
        """The execution's ARN."""
        return self.execution.arn

    @property
    def region(self) -> str:
        """The engine's region."""
        return self.core.region

    @property
    def account_id(self) -> str:
        """The engine's account."""
        return self.core.account_id

    # -- the execution -------------------------------------------------------------------

    def start(self) -> None:
        """Record ExecutionStarted and make the top level ready to run."""
        start = self.execution.start_date
        self.history.add(
            start,
            "ExecutionStarted",
            0,
            "executionStartedEventDetails",
            {"input": self.input, "roleArn": self.role_arn},
        )
        top = Strand(self, self.history, 0, {})
        self.top = top
        scheduler = self.core.scheduler
        timeout = self.plan.timeout_seconds
        if timeout:
            # Protected while a callback is awaited: a server must not time the execution
            # out under a client about to answer.
            self._deadline = scheduler.timer(
                start + timedelta(seconds=timeout),
                self._timed_out,
                lambda: self.external_waits > 0,
            )
        # Run at once, until it ends or waits: an execution that never waits needs no
        # coroutine (nor the scheduler) at all.
        try:
            data, blocked = self.run_until_blocked(self.plan.graph.start, self.input, top, top=True)
        except StatesError as failure:
            self._failed(failure)
            return
        except Exception as exc:
            self.crash(exc)
            raise
        if blocked is None:
            self._succeeded(data)
        else:
            scheduler.start(top, self._main(blocked, top))

    def on_close(self, listener: Callable[[Run], None]) -> None:
        """Call ``listener`` once this run closes (at once if it has closed).

        The hook for a parent execution that waits for this one (``startExecution.sync``).
        """
        if self.closed:
            listener(self)
        else:
            self._on_close.append(listener)

    def _main(self, blocked: tuple[StrandBody, Wait], strand: Strand) -> StrandBody:
        try:
            # go_on's loop, inlined: one coroutine less between the scheduler and a state.
            body, wait = blocked
            data, step = yield from resumed(body, wait)
            while step is not None:
                if step.waits:
                    data, step = yield from self._run_waiting(step, data, strand)
                else:
                    data, step = self._run_simple(step, data, strand)
        except StatesError as failure:
            self._failed(failure)
        else:
            self._succeeded(data)

    def _failed(self, failure: StatesError) -> None:
        details: dict[str, Any] = {}
        if failure.error:
            details["error"] = failure.error
        if failure.cause is not None:
            details["cause"] = failure.cause
        self._close("FAILED", "ExecutionFailed", "executionFailedEventDetails", details)
        self.execution.error, self.execution.cause = failure.error or None, failure.cause

    def _succeeded(self, output: Any) -> None:
        self.execution.output = output
        self._close(
            "SUCCEEDED", "ExecutionSucceeded", "executionSucceededEventDetails", {"output": output}
        )

    def _timed_out(self) -> None:
        if self.closed:
            return
        self._stop()
        self._close(
            "TIMED_OUT",
            "ExecutionTimedOut",
            "executionTimedOutEventDetails",
            {"error": facts.STATES_TIMEOUT},
        )
        self.execution.error = facts.STATES_TIMEOUT

    def abort(self, error: str | None, cause: str | None) -> None:
        """Stop the execution (``stop_execution``): ABORTED, recorded as ExecutionAborted."""
        if self.closed:
            return
        self._stop()
        details: dict[str, Any] = {}
        if error is not None:
            details["error"] = error
        if cause is not None:
            details["cause"] = cause
        self._close("ABORTED", "ExecutionAborted", "executionAbortedEventDetails", details)
        self.execution.error, self.execution.cause = error, cause

    def crash(self, exc: BaseException) -> None:
        """The engine could not go on (a mock raised, say): close the execution as FAILED."""
        if self.closed:
            return
        self._stop()
        cause = f"The engine stopped on {type(exc).__name__}: {exc}"
        self._close(
            "FAILED",
            "ExecutionFailed",
            "executionFailedEventDetails",
            {"error": facts.STATES_RUNTIME, "cause": cause},
        )
        self.execution.error, self.execution.cause = facts.STATES_RUNTIME, cause

    def _stop(self) -> None:
        if self.top is not None:
            self.core.scheduler.cancel(self.top, aborted=False)

    def _close(self, status: str, event: str, key: str, details: dict[str, Any]) -> None:
        self.closed = True
        if self._deadline is not None:
            self._deadline.cancel()
        stop = self.clock.now()
        top, self.top = self.top, None  # the top strand points back here: no cycle kept
        previous = top.cursor if top is not None else 0
        self.history.add(stop, event, previous, key, details)
        execution = self.execution
        execution.stop_date = stop
        execution.status = status
        self.core.on_close(self)
        listeners, self._on_close = self._on_close, []
        for listener in listeners:
            listener(self)

    # -- states: events, retries, catchers -----------------------------------------------

    def run_until_blocked(
        self, step: StateStep | None, data: Any, strand: Strand, *, top: bool = False
    ) -> tuple[Any, tuple[StrandBody, Wait] | None]:
        """Run states from ``step`` at once, until the scope ends or a state has to wait.

        A state that can wait but does not (a Lambda task that takes no time, a Wait of 0 s,
        a Parallel of Pass states) runs to its end here too, and so does a Sleep the clock
        may jump past at once (for the ``top`` strand, whose blocking starts no sibling):
        only a strand that really waits becomes a coroutine for the scheduler.

        Returns:
            The scope's output and None, when it ended; else None and the state's coroutine
            with the wait it stopped at (see :meth:`go_on`).
        """
        scheduler = self.core.scheduler
        while step is not None:
            if not step.waits:
                data, step = self._run_simple(step, data, strand)
                continue
            body = self._run_waiting(step, data, strand)
            try:
                wait = body.send(None)
                while top and type(wait) is Sleep and scheduler.sleeps_through(strand, wait):
                    wait = body.send(None)
            except StopIteration as stop:
                data, step = stop.value
                continue
            return None, (body, wait)
        return data, None

    def go_on(self, blocked: tuple[StrandBody, Wait], strand: Strand) -> StrandBody:
        """The coroutine of a strand that blocked in :meth:`run_until_blocked`."""
        body, wait = blocked
        data, step = yield from resumed(body, wait)
        while step is not None:
            if step.waits:
                data, step = yield from self._run_waiting(step, data, strand)
            else:
                data, step = self._run_simple(step, data, strand)
        return data

    def _run_simple(
        self, step: StateStep, data: Any, strand: Strand
    ) -> tuple[Any, StateStep | None]:
        events = strand.history.events  # appended to inline: this is the hottest path
        now = self.clock.now()
        before = strand.cursor
        entered = len(events) + 1
        events.append(
            (now, step.entered_type, entered, before, ENTERED, {"name": step.name, "input": data})
        )
        strand.cursor = entered
        if step.uses_context:
            strand.context = self.context(step, now, 0)
        try:
            output, edge, assigned = step.execute(self, data, strand)
        except EvaluationError as exc:
            failure = self._runtime(step, entered, exc.error, exc.cause)
            if exc.error == facts.STATES_QUERY_EVALUATION_ERROR:
                self._evaluation_failed(step, failure, exc.field, before, strand)
            self.transitions.append(step.fail_transition)
            raise failure from None
        except StatesError:
            self.transitions.append(step.fail_transition)
            raise
        details: dict[str, Any] = {"name": step.name, "output": output}
        if assigned is not None:
            details["assignedVariables"] = assigned
        exited = len(events) + 1
        events.append((self.clock.now(), step.exited_type, exited, entered, EXITED, details))
        strand.cursor = exited
        if assigned:
            cast("dict[str, Any]", strand.variables).update(assigned)  # a strand's own dict
        self.transitions.append(edge[1])
        return output, edge[0]

    def _run_waiting(self, step: StateStep, data: Any, strand: Strand) -> StrandBody:
        events = strand.history.events
        entered_time = self.clock.now()
        before = strand.cursor
        entered = len(events) + 1
        events.append(
            (
                entered_time,
                step.entered_type,
                entered,
                before,
                ENTERED,
                {"name": step.name, "input": data},
            )
        )
        strand.cursor = entered
        strand.step = step
        retry_count = 0
        attempts: list[int] | None = None
        while True:
            if step.uses_context:
                strand.context = self.context(step, entered_time, retry_count)
            try:
                output, edge, assigned = yield from step.attempt(self, data, strand, retry_count)
                break
            except EvaluationError as exc:
                failure = self._runtime(step, entered, exc.error, exc.cause)
                if exc.error == facts.STATES_QUERY_EVALUATION_ERROR:
                    self._evaluation_failed(step, failure, exc.field, before, strand)
            except StatesError as exc:
                # Kept without its traceback, whose frames would hold it in a cycle.
                failure = exc.with_traceback(None)
            if failure.error == facts.STATES_RUNTIME:
                self.transitions.append(step.fail_transition)
                raise failure
            if step.retriers:
                if attempts is None:
                    attempts = [0] * len(step.retriers)
                retry = self._retry(step, failure, attempts)
                if retry is not None:
                    delay, transition = retry
                    self.transitions.append(transition)
                    if delay > 0:
                        yield Sleep(self.clock.now() + timedelta(seconds=delay))
                    retry_count += 1
                    continue
            if step.kind in ("Map", "Parallel"):
                strand.cursor = strand.history.add(
                    self.clock.now(), f"{step.kind}StateFailed", strand.cursor
                )
            caught = self._catch(step, failure, data, strand)
            if caught is None:
                self.transitions.append(step.fail_transition)
                raise failure
            output, edge, assigned = caught
            break
        strand.step = None
        self._exit(step, output, assigned, strand)
        self.transitions.append(edge[1])
        return output, edge[0]

    def _exit(self, step: StateStep, output: Any, assigned: Any, strand: Strand) -> None:
        events = strand.history.events
        details: dict[str, Any] = {"name": step.name, "output": output}
        if assigned is not None:
            details["assignedVariables"] = assigned
        exited = len(events) + 1
        events.append((self.clock.now(), step.exited_type, exited, strand.cursor, EXITED, details))
        strand.cursor = exited
        if assigned:
            cast("dict[str, Any]", strand.variables).update(assigned)  # a strand's own dict

    def _evaluation_failed(
        self,
        step: StateStep,
        failure: StatesError,
        location: str | None,
        before: int,
        strand: Strand,
    ) -> None:
        """AWS records a failed JSONata evaluation as an event of its own."""
        details: dict[str, Any] = {"cause": failure.cause, "error": failure.error}
        if location is not None:
            details["location"] = location
        details["state"] = step.name
        strand.cursor = strand.history.add(
            self.clock.now(), "EvaluationFailed", before, "evaluationFailedEventDetails", details
        )

    @staticmethod
    def _runtime(step: StateStep, entered: int, error: str, cause: str) -> StatesError:
        if error in (facts.STATES_RUNTIME, facts.STATES_QUERY_EVALUATION_ERROR):
            cause = (
                f"An error occurred while executing the state '{step.name}' "
                f"(entered at the event id #{entered}). {cause}"
            )
        return StatesError(error, cause)

    def _retry(
        self, step: StateStep, failure: StatesError, attempts: list[int]
    ) -> tuple[float, Transition] | None:
        """The back-off before the next attempt, and the retry's transition; None: no retry."""
        for index, retrier in enumerate(step.retriers):
            if matches(retrier.errors, retrier.matches_all, failure, step.kind):
                count = attempts[index]
                if count >= retrier.max_attempts:
                    return None
                attempts[index] = count + 1
                delay = retrier.interval * retrier.backoff_rate**count
                if retrier.max_delay is not None:
                    delay = min(delay, retrier.max_delay)
                if retrier.jitter_full:
                    delay = self.rng.uniform(0, delay)
                return delay, retrier.transition
        return None

    def _catch(
        self, step: StateStep, failure: StatesError, data: Any, strand: Strand
    ) -> tuple[Any, Any, Any] | None:
        for catcher in step.catchers:
            if matches(catcher.errors, catcher.matches_all, failure, step.kind):
                output, assigned = step.language.caught(
                    catcher, data, error_output(failure.error, failure.cause), strand
                )
                return output, catcher.edge, assigned
        return None

    # -- what states use ------------------------------------------------------------------

    def context(self, step: StateStep, entered: datetime, retry_count: int) -> dict[str, Any]:
        """The context object (``$$``) a state sees (RetryCount only where retries exist)."""
        state_context: dict[str, Any] = {"EnteredTime": iso_time(entered), "Name": step.name}
        if step.kind == "Task":
            state_context["RetryCount"] = retry_count
        execution = self.execution
        if self._execution_context is None:
            self._execution_context = {
                "Id": execution.arn,
                "Input": self.input,
                "Name": execution.name,
                "RoleArn": self.role_arn,
                "StartTime": iso_time(execution.start_date),
                "RedriveCount": 0,
            }
        return {
            "Execution": self._execution_context,
            "State": state_context,
            "StateMachine": {"Id": execution.state_machine_arn, "Name": self.state_machine_name},
        }

    def new_token(self) -> str:
        """A fresh task token (opaque text, reproducible under the engine's seed)."""
        return f"{self.rng.getrandbits(256):064x}"

    def mock_answer(self, call: TaskCall) -> TaskOutcome | None:
        """This execution's mock's answer (else the engine's), or None to let the call through."""
        mock = self.mock if self.mock is not None else self.core.integrations.mock
        return None if mock is None else mock(call)

    def integrate(self, call: TaskCall, kind: str) -> TaskOutcome:
        """Run the call on its integration (a Lambda handler, the Lambda API ...)."""
        return self.core.integrations.invoke(call, kind)
