"""One execution's lifecycle: start, states one after another, retries, catchers, the end.

:class:`Run` drives an execution's top-level strand on the engine's scheduler: it records
``ExecutionStarted``, runs each state (its entered and exited events around the state's own
logic, its Retriers and Catchers), and closes with the execution's last event: succeeded,
failed, timed out (the machine's TimeoutSeconds, a timer) or aborted (``stop_execution``).
:class:`Execution` is what callers hold: DescribeExecution's and GetExecutionHistory's view.
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, cast

from stepsaga.infra.local.stepfunctions._callbacks import Callbacks
from stepsaga.infra.local.stepfunctions._dataflow import error_output
from stepsaga.infra.local.stepfunctions._errors import StatesError
from stepsaga.infra.local.stepfunctions._history import (
    LAST_EVENT_ID,
    History,
    data_limit_exceeded,
    history_full,
    over_payload_limit,
)
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
    from stepsaga.infra.local.stepfunctions._jobs import RunningJob
    from stepsaga.infra.local.stepfunctions._map_run import MapRun
    from stepsaga.infra.local.stepfunctions._plan import MachinePlan
    from stepsaga.workflows.asl import StateMachine

ENTERED: Final = "stateEnteredEventDetails"
EXITED: Final = "stateExitedEventDetails"

# The latest instant a clock may show with room to spare (an execution's end, a second past
# it): Python's datetimes stop at year 9999, AWS's executions at a year from their start.
_END_OF_TIME: Final = datetime.max.replace(tzinfo=UTC) - timedelta(days=2)
_PAST_THE_END: Final = timedelta(seconds=1)


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
        error: the error name of a FAILED execution (None when the failure names none), or
            the one given to ``stop_execution``; None for TIMED_OUT, as DescribeExecution
            shows it (the history's ExecutionTimedOut names ``States.Timeout``).
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

    @property
    def started_by(self) -> str | None:
        """The execution that started this one, as AWS knows it (None when unknown).

        AWS links a child to its parent only through the child's input: the ARN it gives
        under ``AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID``.
        """
        value = (
            self.input.get(facts.STARTED_BY_EXECUTION_ID) if isinstance(self.input, dict) else None
        )
        return value if isinstance(value, str) else None

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
        map_runs: the distributed Maps' runs, by ARN (the most recent ones).
    """

    __slots__ = (
        "account_id",
        "callbacks",
        "clock",
        "integrations",
        "map_runs",
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
        self.map_runs: dict[str, MapRun] = {}


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
        "_end",
        "_execution_context",
        "_on_close",
        "callbacks",
        "clock",
        "closed",
        "core",
        "execution",
        "express",
        "external_waits",
        "history",
        "input",
        "listed",
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
        # An EXPRESS execution (a child of an EXPRESS machine or distributed Map) ends at
        # five minutes; one not listed (a map run's child) is the map run's, not the engine's.
        self.express = False
        self.listed = True
        self.top: Strand | None = None
        self._on_close: list[Callable[[Run], None]] = []
        self._deadline: Timer | None = None
        self._end: datetime | None = None  # when the execution times out (see _end_at)
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
        # A Standard execution lasts a year at most, whatever its TimeoutSeconds says
        # (https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html), an
        # Express one five minutes: the one timer that ends it is set at once for a
        # TimeoutSeconds (or an Express execution), else only when something is to wait past
        # the year (see later()), which most executions never do.
        if self.plan.timeout_seconds or self.express:
            self._arm_deadline()
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

    def _end_at(self) -> datetime:
        """When the execution times out: its TimeoutSeconds, or a year, after its start.

        Computed when first needed (most executions never wait that long).
        """
        end = self._end
        if end is None:
            timeout = self.plan.timeout_seconds
            most = facts.EXPRESS_MAX_SECONDS if self.express else facts.MAX_EXECUTION_SECONDS
            seconds = min(timeout or most, most)
            end = self._end = _instant_after(self.execution.start_date, seconds)
        return end

    def _arm_deadline(self) -> None:
        if self._deadline is None and not self.closed:
            # Protected while a callback is awaited: a server must not time the execution
            # out under a client about to answer.
            self._deadline = self.core.scheduler.timer(
                self._end_at(), self._timed_out, lambda: self.external_waits > 0
            )

    def later(self, since: datetime, seconds: float) -> datetime:
        """The instant ``seconds`` after ``since``, for a Sleep or a timer of this execution.

        Past the execution's end it is just past the end, with the timer that times the
        execution out set first: a wait of any length (a retry's back-off, a Wait's
        SecondsPath, a task's timeout) never overflows the clock, and never outlives the
        execution.
        """
        end = self._end_at()
        room = (end - since).total_seconds()
        if seconds < room:
            return since + timedelta(seconds=seconds)
        self._arm_deadline()
        return end + _PAST_THE_END

    def bounded(self, instant: datetime) -> datetime:
        """``instant``, or just past the execution's end if it comes later (see later())."""
        end = self._end_at()
        if instant < end:
            return instant
        self._arm_deadline()
        return end + _PAST_THE_END

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
        # Set before closing: whoever is told of the close (a map run, a parent) reads them.
        self.execution.error, self.execution.cause = failure.error or None, failure.cause
        self._close("FAILED", "ExecutionFailed", "executionFailedEventDetails", details)

    def _succeeded(self, output: Any) -> None:
        self.execution.output = output
        self._close(
            "SUCCEEDED", "ExecutionSucceeded", "executionSucceededEventDetails", {"output": output}
        )

    def _timed_out(self) -> None:
        """The machine's TimeoutSeconds lapsed: TIMED_OUT.

        As AWS records it (measured: https://github.com/floci-io/floci/issues/2965): the
        states running are not closed one by one, the one ExecutionTimedOut event follows
        event 0 and carries ``States.Timeout`` but no cause, and DescribeExecution shows
        neither an error nor a cause.
        """
        if self.closed:
            return
        self._stop()
        self._close(
            "TIMED_OUT",
            "ExecutionTimedOut",
            "executionTimedOutEventDetails",
            {"error": facts.STATES_TIMEOUT},
            previous=0,
        )

    def abort(self, error: str | None, cause: str | None) -> None:
        """Stop the execution (``stop_execution``): ABORTED, recorded as ExecutionAborted.

        Like a timeout, it records one event after event 0 and no aborted events for the
        states running (https://github.com/floci-io/floci/issues/2965, measured on AWS);
        DescribeExecution shows the error and cause given, if any.
        """
        if self.closed:
            return
        self._stop()
        details: dict[str, Any] = {}
        if error is not None:
            details["error"] = error
        if cause is not None:
            details["cause"] = cause
        self.execution.error, self.execution.cause = error, cause
        self._close(
            "ABORTED", "ExecutionAborted", "executionAbortedEventDetails", details, previous=0
        )

    def halt(self, failure: StatesError) -> None:
        """Fail the execution from outside its states (its history is full, say)."""
        if self.closed:
            return
        self._stop()
        self._failed(failure)

    def crash(self, exc: BaseException) -> None:
        """The engine could not go on (a mock raised, say): close the execution as FAILED."""
        if self.closed:
            return
        self._stop()
        cause = f"The engine stopped on {type(exc).__name__}: {exc}"
        self.execution.error, self.execution.cause = facts.STATES_RUNTIME, cause
        self._close(
            "FAILED",
            "ExecutionFailed",
            "executionFailedEventDetails",
            {"error": facts.STATES_RUNTIME, "cause": cause},
        )

    def _stop(self) -> None:
        if self.top is not None:
            self.core.scheduler.cancel(self.top, aborted=False)

    def _close(
        self,
        status: str,
        event: str,
        key: str,
        details: dict[str, Any],
        *,
        previous: int | None = None,
    ) -> None:
        """Record the closing event (after the top level's last, unless ``previous``)."""
        self.closed = True
        if self._deadline is not None:
            self._deadline.cancel()
        stop = self.clock.now()
        top, self.top = self.top, None  # the top strand points back here: no cycle kept
        if previous is None:
            previous = top.cursor if top is not None else 0
        self.history.close(stop, event, previous, key, details)
        execution = self.execution
        execution.stop_date = stop
        execution.status = status
        if self.listed:
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
        if entered >= LAST_EVENT_ID:
            raise history_full()
        events.append(
            (now, step.entered_type, entered, before, ENTERED, {"name": step.name, "input": data})
        )
        strand.cursor = entered
        if step.uses_context:
            strand.context = self.context(step, now, 0)
        try:
            output, edge, assigned = step.execute(self, data, strand)
            if output is not data and over_payload_limit(output):
                raise data_limit_exceeded(step.name)
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
        if assigned:  # an empty Assign records nothing, as on AWS (see _exit)
            details["assignedVariables"] = assigned
        exited = len(events) + 1
        if exited >= LAST_EVENT_ID:
            self.transitions.append(step.fail_transition)
            raise history_full()
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
        if entered >= LAST_EVENT_ID:
            raise history_full()
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
            late = False  # the state did its work, and its output is what fails
            try:
                output, edge, assigned = yield from step.attempt(self, data, strand, retry_count)
                if output is data or not over_payload_limit(output):
                    break
                late, failure = True, data_limit_exceeded(step.name)
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
                        yield Sleep(self.later(self.clock.now(), delay))
                    retry_count += 1
                    continue
            if step.kind in ("Map", "Parallel") and not late:  # not after MapStateSucceeded
                strand.cursor = strand.history.add(
                    self.clock.now(), f"{step.kind}StateFailed", strand.cursor
                )
            try:
                caught = self._catch(step, failure, data, strand)
            except EvaluationError as exc:
                # The Catcher itself could not be applied (its ResultPath, Output or Assign):
                # the state fails with that error, which no Catcher of its own takes.
                failure = self._runtime(step, entered, exc.error, exc.cause)
                if exc.error == facts.STATES_QUERY_EVALUATION_ERROR:
                    self._evaluation_failed(step, failure, exc.field, before, strand)
                self.transitions.append(step.fail_transition)
                raise failure from None
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
        if assigned:
            # AWS records assignedVariables only when a variable was assigned: an empty
            # Assign leaves no trace (recorded on AWS: LocalStack's test_assign_base
            # snapshot, BASE_EMPTY).
            details["assignedVariables"] = assigned
        exited = len(events) + 1
        if exited >= LAST_EVENT_ID:
            self.transitions.append(step.fail_transition)
            raise history_full()
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
                delay = backoff_seconds(
                    retrier.interval, retrier.backoff_rate, count, retrier.max_delay
                )
                if retrier.jitter_full and delay < math.inf:
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

    def integrate(self, call: TaskCall, kind: str) -> TaskOutcome | RunningJob:
        """Run the call on its integration (a Lambda handler, the Lambda API, a service ...).

        A ``.sync`` integration answers with the job it started (:class:`RunningJob`), which
        the task then waits for.
        """
        return self.core.integrations.invoke(call, kind, self)


def backoff_seconds(interval: float, rate: float, count: int, max_delay: float | None) -> float:
    """A Retrier's wait before its attempt ``count + 1``: IntervalSeconds × BackoffRate^count.

    MaxDelaySeconds caps it before it is computed, so that no count overflows: the thousandth
    retry of a rate-2 Retrier waits MaxDelaySeconds, not an OverflowError. Without a cap the
    wait may be larger than any execution lasts (math.inf when a float cannot hold it).
    """
    if interval <= 0:
        return 0.0
    cap = math.inf if max_delay is None else max_delay
    if count == 0 or rate <= 1:
        return min(interval, cap)
    # interval * rate**count >= cap  <=>  count * log(rate) >= log(cap / interval)
    if cap < math.inf and count * math.log(rate) >= math.log(cap / interval):
        return cap
    try:
        return min(interval * rate**count, cap)
    except OverflowError:
        return cap


def _instant_after(start: datetime, seconds: float) -> datetime:
    """``start`` plus ``seconds``, or the end of time when that is past it."""
    if seconds >= (_END_OF_TIME - start).total_seconds():
        return _END_OF_TIME
    return start + timedelta(seconds=seconds)
