"""Tasks that wait for a job to end: a ``.sync`` nested execution, a synchronous Express one.

A ``.sync`` integration answers its call with a :class:`RunningJob`: what the service
answered the submission with (the task's TaskSubmitted event) and a wait for the job's end,
which the task parks on. For a child execution that wait is :class:`ExecutionWait`: it ends
when the child closes (``Run.on_close``), with the outcome the integration makes of the
child, or at the task's TimeoutSeconds, when the child is stopped. Stopping the parent (or
a sibling's failure aborting the task) stops the child too: Step Functions makes a best
effort to stop what a ``.sync`` task started.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from stepsaga.infra.local.stepfunctions._tasks import TaskOutcome

if TYPE_CHECKING:
    from stepsaga.infra.local.stepfunctions._execution import Run
    from stepsaga.infra.local.stepfunctions._scheduler import Scheduler, Strand, Timer


class RunningJob:
    """A job a task started and waits for.

    Attributes:
        submitted: the service's response to the submission (recorded as TaskSubmitted);
            None when the task records none (a synchronous call that merely takes time).
        wait: what the task parks on; it is sent the task's outcome.
    """

    __slots__ = ("submitted", "wait")

    def __init__(self, submitted: Any, wait: ExecutionWait) -> None:
        self.submitted = submitted
        self.wait = wait


class ExecutionWait:
    """Wait for a child execution to close (a ``Wait`` of the scheduler).

    Args:
        parent: the execution whose task waits.
        child: the child execution.
        state_name: the waiting Task state.
        outcome: the task's outcome once the child has closed.
    """

    __slots__ = (
        "_at",
        "_counted",
        "_outcome",
        "_scheduler",
        "_strand",
        "_timer",
        "child",
        "done",
        "parent",
        "state_name",
    )

    def __init__(
        self, parent: Run, child: Run, state_name: str, outcome: Callable[[Run], TaskOutcome]
    ) -> None:
        self.parent = parent
        self.child = child
        self.state_name = state_name
        self._outcome = outcome
        self._at: datetime | None = None
        self._timer: Timer | None = None
        self._scheduler: Scheduler | None = None
        self._strand: Strand | None = None
        self._counted = False
        self.done = False

    def time_out_at(self, started: datetime, timeout: float | None) -> None:
        """End the wait with ``States.Timeout`` this long after the task started."""
        self._at = None if timeout is None else started + timedelta(seconds=timeout)

    def park(self, scheduler: Scheduler, strand: Strand) -> bool:
        """Wait for the child to close (at once, if it has)."""
        self._scheduler, self._strand = scheduler, strand
        if self.child.closed:
            self.done = True
            scheduler.wake(strand, self._outcome(self.child))
            return True
        # The parent waits on what the child waits on: a server does not jump its timeout.
        self.parent.external_waits += 1
        self._counted = True
        if self._at is not None:
            self._timer = scheduler.timer(self._at, self._timed_out, _always)
        self.child.on_close(self._closed)
        return True

    def _finish(self, outcome: TaskOutcome | None) -> None:
        self.done = True
        if self._timer is not None:
            self._timer.cancel()
        if self._counted:
            self.parent.external_waits -= 1
            self._counted = False
        strand, self._strand = self._strand, None
        if outcome is not None and strand is not None and self._scheduler is not None:
            self._scheduler.wake(strand, outcome)

    def _closed(self, child: Run) -> None:
        if not self.done:
            self._finish(self._outcome(child))

    def _timed_out(self) -> None:
        if self.done:
            return
        self._finish(TaskOutcome.timeout())
        self.child.abort(None, None)

    def cancel(self, scheduler: Scheduler, *, aborted: bool) -> None:
        """The task is stopped: so is the child."""
        if self.done:
            return
        self._finish(None)
        self.child.abort(None, None)

    def describe(self) -> Iterator[str]:
        """What the task waits for, and what the child waits for."""
        yield f"state {self.state_name!r} waits for execution {self.child.execution_arn}"
        top = self.child.top
        if top is not None and top.wait is not None:
            yield from top.wait.describe()


def _always() -> bool:
    return True
