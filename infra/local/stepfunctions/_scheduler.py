"""The scheduler: every line of execution is a coroutine on one clock, run in a fixed order.

An execution's top level, each Parallel branch and each Map iteration is a *strand*: a
generator that runs states and yields what it has to wait for, a :class:`Sleep` until an
instant, a :class:`Join` of child strands, or a task token (``_callbacks.TaskWait``). The
scheduler runs ready strands one at a time, each until it blocks, in a fixed order:

- a child strand runs as soon as it is started, and a parent resumes as soon as its last child
  finishes, as a function call would: a machine that never waits runs depth-first, like a
  recursive interpreter, and records the same history;
- a Join starts its next child only once the previous one has blocked (or finished), so
  siblings begin in order, and at most ``MaxConcurrency`` of them run at a time;
- strands woken by timers run in the order of their timers (instant, then the order the timers
  were set), which is what makes concurrent branches deterministic for a seed.

When no strand is ready, time moves to the next timer: at once on a clock that jumps, else
when the wall clock gets there. A *protected* timer ends a wait on the outside world (a task
token's timeout or heartbeat); whether the scheduler may jump to one is the clock policy of
the engine's mode (see the package docstring), given by the caller of :meth:`progress`.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable, Generator, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from stepsaga.infra.local.stepfunctions._clock import Clock
from stepsaga.infra.local.stepfunctions._errors import StatesError
from stepsaga.workflows._expressions import EvaluationError, EvaluationScope

if TYPE_CHECKING:
    from stepsaga.infra.local.stepfunctions._execution import Run
    from stepsaga.infra.local.stepfunctions._history import History
    from stepsaga.infra.local.stepfunctions._steps import StateStep

StrandBody = Generator["Wait", Any, Any]
"""A strand's coroutine: yields waits, is sent what ended them, returns its output."""

Jump = Literal["none", "unprotected", "all"]
"""How far :meth:`Scheduler.progress` may move a clock that jumps."""


class Wait(Protocol):
    """What a strand yields: something it waits for."""

    def park(self, scheduler: Scheduler, strand: Strand) -> bool:
        """Start waiting; return True when the strand is now blocked (a Join decides later)."""
        ...

    def cancel(self, scheduler: Scheduler, *, aborted: bool) -> None:
        """Stop waiting: the strand is being cancelled (``aborted``: record it in the history)."""
        ...

    def describe(self) -> Iterator[str]:
        """What is waited for, one line each (for :class:`ExecutionStillWaiting`)."""
        ...


class Strand(EvaluationScope):
    """One line of execution: an execution's top level, a Parallel branch or a Map iteration.

    A strand is also the expression scope of the states it runs (its context object, its
    variables, the engine's random source): one object per strand rather than two, which a
    Map of many items notices.

    Attributes:
        run: the execution it belongs to.
        history: where its events go (a distributed Map's iterations keep their own).
        cursor: the id its next event names as ``previousEventId``.
        variables: the workflow variables visible here (assignments stay in this scope).
        step: the state it is in, while that state can wait (what an abort records).
        join: the Join that started it, for a child strand.
        index: its position among the Join's children.
    """

    __slots__ = (
        "cancelled",
        "cursor",
        "generator",
        "history",
        "index",
        "join",
        "released",
        "run",
        "step",
        "wait",
    )

    def __init__(self, run: Run, history: History, cursor: int, variables: dict[str, Any]) -> None:
        EvaluationScope.__init__(self, {}, variables, run.rng, run.clock.now())
        self.run = run
        self.history = history
        self.cursor = cursor
        self.step: StateStep | None = None
        self.generator: StrandBody | None = None
        self.join: Join | None = None
        self.index = 0
        self.wait: Wait | None = None
        # True once the strand (with everything it started) has blocked for the first time:
        # then its Join may start the next sibling.
        self.released = False
        self.cancelled = False


class Timer:
    """An action due at an instant.

    Attributes:
        at: when it is due.
        protected: tells whether the timer ends a wait on the outside world now (None: never).
        cancelled: whether it was dropped (it stays in the scheduler's heap until due).
    """

    __slots__ = ("action", "at", "cancelled", "protected")

    def __init__(
        self, at: datetime, action: Callable[[], None], protected: Callable[[], bool] | None
    ) -> None:
        self.at = at
        self.action = action
        self.protected = protected
        self.cancelled = False

    def cancel(self) -> None:
        """Drop the timer: it will not run, and no longer holds what its action refers to."""
        self.cancelled = True
        self.action = _nothing
        self.protected = None


def _nothing() -> None:
    return None


class Scheduler:
    """Runs the strands of one engine's executions on its clock.

    Args:
        clock: the engine's clock.
    """

    __slots__ = ("_horizon", "_ready", "_sequence", "_timers", "clock", "jump")

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._ready: deque[tuple[Strand, Any, BaseException | None]] = deque()
        self._timers: list[tuple[datetime, int, Timer]] = []
        self._sequence = 0
        # What the clock may do meanwhile, set by progress() (and by a caller driving a strand
        # it runs itself): a Sleep it may jump past ends at once (sleeps_through).
        self.jump: Jump = "none"
        self._horizon: datetime | None = None

    # -- strands --------------------------------------------------------------------------

    def start(self, strand: Strand, body: StrandBody) -> None:
        """Run ``strand`` next (before whatever else is ready)."""
        strand.generator = body
        self._ready.appendleft((strand, None, None))

    def wake(self, strand: Strand, value: Any = None) -> None:
        """Make ``strand`` ready after those already ready (a timer or callback ended its wait)."""
        self._ready.append((strand, value, None))

    def resume_now(
        self, strand: Strand, value: Any = None, error: BaseException | None = None
    ) -> None:
        """Run ``strand`` next, sent ``value`` or thrown ``error`` (its children are done)."""
        self._ready.appendleft((strand, value, error))

    def cancel(self, strand: Strand, *, aborted: bool) -> None:
        """Stop ``strand`` and everything it waits for.

        Args:
            strand: the strand.
            aborted: record ``<Type>StateAborted`` for the state it is in (a sibling failed);
                False when its whole execution ends, which records only its closing event.
        """
        if strand.cancelled:
            return
        strand.cancelled = True
        wait = strand.wait
        if wait is not None:
            wait.cancel(self, aborted=aborted)
        if aborted and strand.step is not None and strand.generator is not None:
            strand.step.aborted(self.clock.now(), strand)
        body = strand.generator
        strand.generator = strand.wait = strand.join = None
        if body is not None:
            body.close()

    def run_ready(self) -> None:
        """Run every ready strand until it blocks or ends (those they make ready included)."""
        ready = self._ready
        while ready:
            strand, value, error = ready.popleft()
            if not strand.cancelled:
                self._step(strand, value, error)

    def _step(self, strand: Strand, value: Any, error: BaseException | None) -> None:
        body = strand.generator
        assert body is not None, "a strand runs once started and until it ends"
        strand.now = self.clock.now()  # JSONata's $now() and $millis() read the engine's clock
        try:
            wait = body.send(value) if error is None else body.throw(error)
            while type(wait) is Sleep and self.sleeps_through(strand, wait):
                wait = body.send(None)
        except StopIteration as stop:
            # Ended: drop what it points to, so that no reference cycle outlives it (cycles
            # wait for the garbage collector, which a fast engine would feel).
            strand.generator = strand.wait = None
            join, strand.join = strand.join, None
            if join is not None:
                join.finished(self, strand, stop.value)
            return
        except (StatesError, EvaluationError) as failure:
            strand.generator = strand.wait = None
            join, strand.join = strand.join, None
            if join is None:
                raise
            # Handed on without its traceback, whose frames would hold it in a cycle.
            join.failed(self, strand, failure.with_traceback(None))
            return
        except Exception as exc:
            # A bug, or user code (a mock) that raised: the execution cannot go on.
            strand.generator = None
            strand.run.crash(exc)
            raise
        strand.wait = wait
        try:
            blocked = wait.park(self, strand)
        except Exception as exc:  # a Join starting children runs their first states here
            strand.run.crash(exc)
            raise
        if blocked and not strand.released:
            self.release(strand)

    def sleeps_through(self, strand: Strand, sleep: Sleep) -> bool:
        """Jump the clock past ``sleep`` at once if nothing could happen before it ends.

        What parking the strand on a timer and jumping to it would do, without the round trip
        (an hour of Waits and back-off is a handful of these): only when the clock may jump
        there now, nothing else is ready, no timer comes first, and no sibling waits for this
        strand to block before it starts.
        """
        until = sleep.until
        if self.jump == "none" or not self.clock.jumps or self._ready:
            return False
        if self._horizon is not None and until > self._horizon:
            return False
        if strand.join is not None and not strand.released:
            return False
        timers = self._timers
        while timers and timers[0][2].cancelled:
            heapq.heappop(timers)
        if timers and timers[0][0] <= until:
            return False
        self.clock.jump_to(until)
        strand.now = self.clock.now()
        return True

    def release(self, strand: Strand) -> None:
        """Note that ``strand`` has blocked: its Join may start the next sibling."""
        strand.released = True
        if strand.join is not None:
            strand.join.released(self, strand)

    # -- time -----------------------------------------------------------------------------

    def timer(
        self,
        at: datetime,
        action: Callable[[], None],
        protected: Callable[[], bool] | None = None,
    ) -> Timer:
        """Run ``action`` at ``at``; a ``protected`` timer ends a wait on the outside world."""
        timer = Timer(at, action, protected)
        self._sequence += 1
        timers = self._timers
        if len(timers) > 1024 and self._sequence % 1024 == 0:
            # Cancelled timers stay until due (a finished saga's hour-long timeout): sweep them
            # now and then, so that a long session does not keep them all.
            timers[:] = [entry for entry in timers if not entry[2].cancelled]
            heapq.heapify(timers)
        heapq.heappush(timers, (at, self._sequence, timer))
        return timer

    def next_timer(self) -> Timer | None:
        """The earliest timer still set, or None."""
        timers = self._timers
        while timers and timers[0][2].cancelled:
            heapq.heappop(timers)
        return timers[0][2] if timers else None

    def _fire(self) -> None:
        _, _, timer = heapq.heappop(self._timers)
        timer.action()

    def progress(
        self,
        *,
        jump: Jump,
        done: Callable[[], bool] | None = None,
        horizon: datetime | None = None,
    ) -> float | None:
        """Run what can run now, firing due timers and jumping to the next where allowed.

        Args:
            jump: how far a clock that jumps may: ``"none"`` (fire only timers due now),
                ``"unprotected"`` (to any timer but one ending a wait on the outside world) or
                ``"all"``.
            done: stop as soon as this returns True (checked whenever nothing is ready).
            horizon: jump no further than this instant.

        Returns:
            None when no timer is left (or ``done``); otherwise the wall-clock seconds until
            the next timer fires by itself (``math.inf`` on a virtual clock, where time does
            not pass by itself).
        """
        outer = self.jump, self._horizon
        self.jump, self._horizon = jump, horizon
        try:
            return self._progress(jump, done, horizon)
        finally:
            self.jump, self._horizon = outer

    def _progress(
        self, jump: Jump, done: Callable[[], bool] | None, horizon: datetime | None
    ) -> float | None:
        clock = self.clock
        while True:
            if self._ready:
                self.run_ready()
            if done is not None and done():
                return None
            timer = self.next_timer()
            if timer is None:
                return None
            if timer.at <= clock.now():
                self._fire()
                continue
            if horizon is not None and timer.at > horizon:
                return clock.wall_seconds(timer.at)
            if clock.jumps and (
                jump == "all"
                or (jump == "unprotected" and (timer.protected is None or not timer.protected()))
            ):
                clock.jump_to(timer.at)
                self._fire()
                continue
            seconds = clock.wall_seconds(timer.at)
            if seconds <= 0:  # it came due meanwhile (the wall clock moved)
                self._fire()
                continue
            return seconds


class Sleep:
    """Wait until an instant (Wait states, retry back-off, a task's time)."""

    __slots__ = ("_timer", "until")

    def __init__(self, until: datetime) -> None:
        self.until = until
        self._timer: Timer | None = None

    def park(self, scheduler: Scheduler, strand: Strand) -> bool:
        """Set the timer that wakes the strand."""
        self._timer = scheduler.timer(self.until, lambda: scheduler.wake(strand))
        return True

    def cancel(self, scheduler: Scheduler, *, aborted: bool) -> None:
        """Drop the timer."""
        if self._timer is not None:
            self._timer.cancel()

    def describe(self) -> Iterator[str]:
        """Nothing: a timer always fires."""
        return iter(())


def resumed(body: StrandBody, wait: Wait) -> StrandBody:
    """Go on with a coroutine stopped at ``wait``: yield that again, then delegate to it.

    What ``yield from body`` does, for a coroutine started already (``yield from`` would
    resume it past the wait it stopped at).
    """
    while True:
        try:
            value = yield wait
        except GeneratorExit:
            body.close()
            raise
        except BaseException as exc:
            try:
                wait = body.throw(exc)
            except StopIteration as stop:
                return stop.value
        else:
            try:
                wait = body.send(value)
            except StopIteration as stop:
                return stop.value


ChildFactory = Callable[[int], tuple[Strand, StrandBody | None, Any]]
"""Starts child ``index`` of a Join: its strand and its coroutine, or (when the child ended
before anything it had to wait for: its first states run in the factory, as calls) None and
the child's output. A failure before it waits is raised by the factory."""


def start_children(
    count: int,
    factory: ChildFactory,
    results: list[Any],
    *,
    limit: int = 0,
    on_abort: Callable[[Strand], None] | None = None,
) -> Join | None:
    """Start children in order while each ends at once (its outputs go to ``results``).

    Returns None when all of them ended, else the Join to wait on for the rest, which takes
    over the child that blocked (children without a wait need no scheduling at all).
    Raises the failure of a child that failed before it waited.
    """
    for index in range(count):
        strand, body, output = factory(index)
        if body is not None:
            first = (index, strand, body)
            return Join(
                count, factory, limit=limit, on_abort=on_abort, results=results, first=first
            )
        results[index] = output
    return None


class Join:
    """Wait for child strands: a Parallel's branches or a Map's iterations.

    The parent is sent the children's outputs, in order, once all finish; the first failure
    cancels the children still running (recording their states as aborted) and is thrown into
    the parent.

    Start one with :func:`start_children`, which runs the children that end at once without
    a Join at all.

    Args:
        count: how many children.
        factory: builds child ``index``.
        limit: how many children run at once (0: no limit).
        on_abort: called for each child cancelled because a sibling failed.
        results: the outputs of the children that ended already (``first``'s predecessors).
        first: the child started already, which blocked: (index, strand, coroutine).
    """

    __slots__ = (
        "_count",
        "_done",
        "_factory",
        "_first",
        "_limit",
        "_next",
        "_on_abort",
        "_parent",
        "_results",
        "_running",
        "_unreleased",
    )

    def __init__(
        self,
        count: int,
        factory: ChildFactory,
        *,
        limit: int = 0,
        on_abort: Callable[[Strand], None] | None = None,
        results: list[Any] | None = None,
        first: tuple[int, Strand, StrandBody] | None = None,
    ) -> None:
        self._count = count
        self._factory = factory
        self._limit = limit if limit > 0 else count
        self._on_abort = on_abort
        self._results: list[Any] = results if results is not None else [None] * count
        self._running: dict[int, Strand] = {}
        self._next = 0
        self._done = 0
        self._unreleased: Strand | None = None
        self._parent: Strand | None = None
        self._first = first

    def park(self, scheduler: Scheduler, strand: Strand) -> bool:
        """Start the first child; the parent counts as blocked once its children all are."""
        self._parent = strand
        if self._count == 0:
            scheduler.resume_now(strand, [])
            return False
        if self._first is not None:
            index, child, body = self._first
            self._first = None
            self._next = self._done = index
            self._next += 1
            child.join = self
            child.index = index
            self._running[index] = child
            self._unreleased = child
            scheduler.start(child, body)
            return False
        self._start_more(scheduler)
        return False

    def _start_more(self, scheduler: Scheduler) -> None:
        # One child at a time: the next starts when this one blocks (released) or ends.
        while (
            self._unreleased is None
            and self._next < self._count
            and len(self._running) < self._limit
        ):
            index = self._next
            self._next += 1
            try:
                strand, body, output = self._factory(index)
            except (StatesError, EvaluationError) as failure:
                self._fail(scheduler, failure.with_traceback(None))
                return
            if body is None:  # it ended at once
                self._results[index] = output
                self._done += 1
                if self._done == self._count:
                    self._complete(scheduler)
                    return
                continue
            strand.join = self
            strand.index = index
            self._running[index] = strand
            self._unreleased = strand
            scheduler.start(strand, body)
            return
        parent = self._parent
        if self._unreleased is None and parent is not None and not parent.released:
            scheduler.release(parent)  # every child that may run has blocked: so has the parent

    def _complete(self, scheduler: Scheduler) -> None:
        parent, self._parent = self._parent, None
        assert parent is not None
        scheduler.resume_now(parent, self._results)

    def _fail(self, scheduler: Scheduler, failure: BaseException) -> None:
        self._abort_children(scheduler, aborted=True)
        parent, self._parent = self._parent, None
        assert parent is not None
        scheduler.resume_now(parent, None, failure)

    def released(self, scheduler: Scheduler, strand: Strand) -> None:
        """A child blocked for the first time: start the next one, if any may start."""
        if self._unreleased is strand:
            self._unreleased = None
        self._start_more(scheduler)

    def finished(self, scheduler: Scheduler, strand: Strand, output: Any) -> None:
        """A child returned ``output``."""
        self._results[strand.index] = output
        del self._running[strand.index]
        if self._unreleased is strand:
            self._unreleased = None
        self._done += 1
        if self._done == self._count:
            self._complete(scheduler)
            return
        self._start_more(scheduler)

    def failed(self, scheduler: Scheduler, strand: Strand, failure: BaseException) -> None:
        """A child failed: cancel the others and fail the parent."""
        del self._running[strand.index]
        if self._unreleased is strand:
            self._unreleased = None
        self._fail(scheduler, failure)

    def _abort_children(self, scheduler: Scheduler, *, aborted: bool) -> None:
        running, self._running = self._running, {}
        self._next = self._count  # no more starts
        for child in running.values():
            scheduler.cancel(child, aborted=aborted)
            if aborted and self._on_abort is not None:
                self._on_abort(child)

    def cancel(self, scheduler: Scheduler, *, aborted: bool) -> None:
        """The parent is cancelled: so are the children still running."""
        self._abort_children(scheduler, aborted=aborted)

    def describe(self) -> Iterator[str]:
        """What the running children wait for."""
        for child in self._running.values():
            if child.wait is not None and not child.cancelled:
                yield from child.wait.describe()
