"""Waits on the outside world: task tokens, activity workers, other executions.

A ``.waitForTaskToken`` Task, or a Task on an activity, parks its strand on a
:class:`TaskWait` until ``SendTaskSuccess`` / ``SendTaskFailure`` answers its token, or its
TimeoutSeconds or HeartbeatSeconds lapse (``SendTaskHeartbeat`` resets the latter). The
timers that end such a wait are *protected*: a server's clock never jumps to them while the
callback may still come (see the package docstring).

:class:`Callbacks` is one engine's registry of open tokens and of its activities, with the
queue of tasks each activity holds for its workers.
"""

from __future__ import annotations

import re
from collections import OrderedDict, deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from stepsaga.infra.local.stepfunctions._errors import (
    ActivityDoesNotExist,
    InvalidToken,
    StatesError,
    TaskDoesNotExist,
    TaskTimedOut,
)
from stepsaga.infra.local.stepfunctions._scheduler import Scheduler, Strand, Timer
from stepsaga.infra.local.stepfunctions._tasks import TaskOutcome

if TYPE_CHECKING:
    from stepsaga.infra.local.stepfunctions._execution import Run

_TOKEN: Final = re.compile(r"^[0-9a-f]{64}$")
# Closed tokens kept to tell "closed" (TaskTimedOut) from "never issued" (TaskDoesNotExist).
_CLOSED_KEPT: Final = 4096


@dataclass(frozen=True, slots=True)
class Activity:
    """An activity: a queue of tasks that workers take with ``get_activity_task``.

    Attributes:
        arn: its ARN.
        name: its name.
        creation_date: when it was created (the engine's clock).
    """

    arn: str
    name: str
    creation_date: datetime


@dataclass(frozen=True, slots=True)
class ActivityTask:
    """A task an activity worker took: answer it with ``send_task_success(token, ...)``.

    Attributes:
        token: the task token.
        input: the task's input (the state's effective input), parsed.
    """

    token: str
    input: Any


@dataclass(frozen=True, slots=True)
class PendingTask:
    """A Task that waits for its callback.

    Attributes:
        token: its task token.
        execution_arn: the execution it belongs to.
        state_name: the Task state.
        resource: the state's ``Resource``.
        input: what the task was given (its parameters, or an activity's input).
        activity_arn: for an activity task, the activity; None for a task token.
        worker_name: the worker that took an activity task (None before one has).
    """

    token: str
    execution_arn: str
    state_name: str
    resource: str
    input: Any
    activity_arn: str | None
    worker_name: str | None


class TaskWait:
    """A Task waiting for the callback of its token (a ``Wait`` of the scheduler).

    Built before the task's integration runs, so that a handler may answer its own token at
    once; the answer is then kept until the Task parks.

    Args:
        registry: the engine's callbacks.
        run: the execution.
        token: the task token.
        state_name: the Task state.
        resource: the state's ``Resource``.
        input: what the task was given.
        started_at: when the Task started (timeouts and heartbeats count from there).
        timeout: its TimeoutSeconds, or None.
        heartbeat: its HeartbeatSeconds, or None.
        activity_arn: the activity, for an activity task.
    """

    __slots__ = (
        "_heartbeat_timer",
        "_registry",
        "_scheduler",
        "_timeout_timer",
        "activity_arn",
        "answer",
        "closed",
        "heartbeat",
        "input",
        "resource",
        "run",
        "started_at",
        "state_name",
        "strand",
        "timeout",
        "token",
        "worker_name",
    )

    def __init__(
        self,
        registry: Callbacks,
        run: Run,
        token: str,
        state_name: str,
        resource: str,
        input: Any,
        started_at: datetime,
        timeout: float | None,
        heartbeat: float | None,
        activity_arn: str | None = None,
    ) -> None:
        self._registry = registry
        self.run = run
        self.token = token
        self.state_name = state_name
        self.resource = resource
        self.input = input
        self.started_at = started_at
        self.timeout = timeout
        self.heartbeat = heartbeat
        self.activity_arn = activity_arn
        self.worker_name: str | None = None
        self.answer: TaskOutcome | None = None
        self.strand: Strand | None = None
        self.closed = False
        self._scheduler: Scheduler | None = None
        self._timeout_timer: Timer | None = None
        self._heartbeat_timer: Timer | None = None
        registry.open(self)

    # -- the scheduler's side -------------------------------------------------------------

    def park(self, scheduler: Scheduler, strand: Strand) -> bool:
        """Wait for the answer (at once, if it came already), or for a timer to end the wait."""
        self._scheduler = scheduler
        self.strand = strand
        if self.answer is not None:
            scheduler.wake(strand, self.answer)
            return True
        self.run.external_waits += 1
        if self.timeout is not None:
            at = self.run.later(self.started_at, self.timeout)  # within the execution's year
            self._timeout_timer = scheduler.timer(at, self._timed_out, _always)
        if self.heartbeat is not None and self.activity_arn is None:
            self._set_heartbeat(self.started_at)
        if self.activity_arn is not None:
            self._registry.enqueue(self)
        return True

    def cancel(self, scheduler: Scheduler, *, aborted: bool) -> None:
        """The Task is stopped: its token closes."""
        reason = "its state was aborted" if aborted else "its execution ended"
        self.close(reason)

    def describe(self) -> Iterator[str]:
        """What the Task waits for."""
        if self.activity_arn is not None and self.worker_name is None:
            yield (
                f"state {self.state_name!r} waits for a worker of activity {self.activity_arn} "
                "(get_activity_task)"
            )
        else:
            yield (
                f"state {self.state_name!r} waits for its task token {self.token} "
                "(send_task_success / send_task_failure)"
            )

    # -- the answers ----------------------------------------------------------------------

    def resolve(self, outcome: TaskOutcome, reason: str) -> None:
        """End the wait with ``outcome`` (an answer, or a timeout); ``reason`` closes the token."""
        strand = self.strand
        self.close(reason)
        if strand is not None and self._scheduler is not None:
            self._scheduler.wake(strand, outcome)
        else:
            self.answer = outcome  # answered before the Task parked: kept until it does

    def beat(self, now: datetime) -> None:
        """A heartbeat: the HeartbeatSeconds clock restarts."""
        started = self.activity_arn is None or self.worker_name is not None
        if self.heartbeat is not None and self._scheduler is not None and started:
            self._set_heartbeat(now)

    def taken(self, worker_name: str | None, now: datetime) -> None:
        """An activity worker took the task: ActivityStarted, and the heartbeat clock starts."""
        self.worker_name = worker_name or ""
        strand = self.strand
        assert strand is not None
        details = {"workerName": worker_name} if worker_name else {}
        try:
            strand.cursor = strand.history.add(
                now, "ActivityStarted", strand.cursor, "activityStartedEventDetails", details
            )
        except StatesError as full:  # no room left in the history: the execution fails
            self.run.halt(full)
            return
        if self.heartbeat is not None:
            self._set_heartbeat(now)

    def pending(self) -> PendingTask:
        """The task as :class:`PendingTask` describes it."""
        return PendingTask(
            token=self.token,
            execution_arn=self.run.execution_arn,
            state_name=self.state_name,
            resource=self.resource,
            input=self.input,
            activity_arn=self.activity_arn,
            worker_name=self.worker_name or None,
        )

    def _set_heartbeat(self, since: datetime) -> None:
        if self._heartbeat_timer is not None:
            self._heartbeat_timer.cancel()
        assert self._scheduler is not None and self.heartbeat is not None
        at = self.run.later(since, self.heartbeat)
        self._heartbeat_timer = self._scheduler.timer(at, self._heartbeat_lapsed, _always)

    def _timed_out(self) -> None:
        self.resolve(TaskOutcome.timeout(), "it timed out (TimeoutSeconds)")

    def _heartbeat_lapsed(self) -> None:
        self.resolve(TaskOutcome.heartbeat_timeout(), "its heartbeat lapsed (HeartbeatSeconds)")

    def close(self, reason: str) -> None:
        """Close the token (its task ended): later callbacks get :class:`TaskTimedOut`."""
        if self.closed:
            return
        self.closed = True
        for timer in (self._timeout_timer, self._heartbeat_timer):
            if timer is not None:
                timer.cancel()
        if self.strand is not None and self.answer is None:
            self.run.external_waits -= 1
        self.strand = None  # it points back at this wait: no cycle kept
        self._registry.close(self, reason)


def _always() -> bool:
    return True


class Callbacks:
    """One engine's open task tokens and its activities."""

    def __init__(self) -> None:
        self._open: dict[str, TaskWait] = {}
        self._closed: OrderedDict[str, tuple[str, str, str]] = OrderedDict()
        self._activities: dict[str, Activity] = {}
        self._queues: dict[str, deque[TaskWait]] = {}

    # -- tokens ---------------------------------------------------------------------------

    def open(self, wait: TaskWait) -> None:
        """Register the token of a Task about to wait."""
        self._open[wait.token] = wait

    def close(self, wait: TaskWait, reason: str) -> None:
        """The token's task is closed: later callbacks get :class:`TaskTimedOut`."""
        if self._open.pop(wait.token, None) is None:
            return
        self._closed[wait.token] = (wait.run.execution_arn, wait.state_name, reason)
        while len(self._closed) > _CLOSED_KEPT:
            self._closed.popitem(last=False)

    def find(self, token: Any) -> TaskWait:
        """The open task of ``token``.

        Raises:
            InvalidToken: ``token`` is not a token this engine could have issued.
            TaskTimedOut: its task is closed (answered, timed out, or its execution ended).
            TaskDoesNotExist: no task was given it.
        """
        if not isinstance(token, str) or not _TOKEN.match(token):
            raise InvalidToken(str(token))
        wait = self._open.get(token)
        if wait is not None:
            return wait
        closed = self._closed.get(token)
        if closed is not None:
            raise TaskTimedOut(token, *closed)
        raise TaskDoesNotExist(token)

    def pending(self, execution_arn: str | None = None) -> list[PendingTask]:
        """The Tasks waiting for their callbacks (of one execution, or all), oldest first."""
        return [
            wait.pending()
            for wait in self._open.values()
            if wait.strand is not None
            and wait.answer is None
            and (execution_arn is None or wait.run.execution_arn == execution_arn)
        ]

    # -- activities -----------------------------------------------------------------------

    def create_activity(self, arn: str, name: str, now: datetime) -> Activity:
        """Create the activity (or return it: creating one twice is idempotent, as on AWS)."""
        activity = self._activities.get(arn)
        if activity is None:
            activity = Activity(arn=arn, name=name, creation_date=now)
            self._activities[arn] = activity
            self._queues[arn] = deque()
        return activity

    def delete_activity(self, arn: str) -> None:
        """Delete the activity (tasks it holds keep waiting, for their timeouts).

        Raises:
            ActivityDoesNotExist: no activity has this ARN.
        """
        if self._activities.pop(arn, None) is None:
            raise ActivityDoesNotExist(arn)
        self._queues.pop(arn, None)

    def activity_exists(self, arn: str) -> bool:
        """Whether an activity has this ARN."""
        return arn in self._activities

    def activities(self) -> list[Activity]:
        """Every activity, oldest first."""
        return list(self._activities.values())

    def enqueue(self, wait: TaskWait) -> None:
        """Hold an activity task for its workers."""
        assert wait.activity_arn is not None
        queue = self._queues.get(wait.activity_arn)
        if queue is not None:
            queue.append(wait)

    def take(self, arn: str, worker_name: str | None, now: datetime) -> ActivityTask | None:
        """Give the oldest task of the activity to a worker (None when it holds none).

        Raises:
            ActivityDoesNotExist: no activity has this ARN.
        """
        queue = self._queues.get(arn)
        if queue is None:
            raise ActivityDoesNotExist(arn)
        while queue:
            wait = queue.popleft()
            if not wait.closed:
                wait.taken(worker_name, now)
                return ActivityTask(token=wait.token, input=wait.input)
        return None
