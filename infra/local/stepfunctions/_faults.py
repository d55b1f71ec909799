"""Fault injection: make a Task state fail, time out, or lose its heartbeat, on given attempts.

A :class:`TaskFault` is a task mock: pass it to ``LocalStepFunctions.mock_tasks`` (or
``start(..., mock=...)``), or several at once through :func:`combine_mocks`. The state's other
attempts, and every other state, run for real. Each fault is recorded as the real failure
would be: a ``TaskFailed`` (``LambdaFunctionFailed``, ``ActivityFailed``) with the error and
cause, or a ``TaskTimedOut`` with ``States.Timeout`` at the state's TimeoutSeconds (for a
timeout) or HeartbeatSeconds (for a lapsed heartbeat) after the task started (at once when it
has none). On a ``.waitForTaskToken`` task the fault is its callback's: the integration
submits for real (``TaskSubmitted``), then the fault answers when the callback would::

    sfn.mock_tasks(combine_mocks(
        TaskFault.failure("Charge", "Card.Declined", "insufficient funds", attempts=[0, 1]),
        TaskFault.heartbeat_lapse("AwaitApproval"),
    ))
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

from stepsaga.infra.local.stepfunctions._tasks import TaskCall, TaskMock, TaskOutcome


@dataclass(frozen=True, slots=True)
class TaskFault:
    """A fault of one Task state.

    Build one with :meth:`failure`, :meth:`timeout` or :meth:`heartbeat_lapse`.

    Attributes:
        state: the Task state's name.
        outcome: what the faulty attempts give.
        attempts: the attempts it hits, counted from 0 like ``$$.State.RetryCount`` (each time
            the state is entered the count restarts); None for every attempt.
    """

    state: str
    outcome: TaskOutcome
    attempts: frozenset[int] | None = None

    @classmethod
    def failure(
        cls,
        state: str,
        error: str,
        cause: str | None = None,
        *,
        attempts: Iterable[int] | None = None,
    ) -> TaskFault:
        """``state`` fails with ``error`` (and ``cause``): what a Catcher or Retrier sees."""
        return cls(state, _answering(TaskOutcome.failure(error, cause)), _attempts(attempts))

    @classmethod
    def timeout(cls, state: str, *, attempts: Iterable[int] | None = None) -> TaskFault:
        """``state`` runs past its TimeoutSeconds (``States.Timeout``)."""
        return cls(state, _answering(TaskOutcome.timeout()), _attempts(attempts))

    @classmethod
    def heartbeat_lapse(cls, state: str, *, attempts: Iterable[int] | None = None) -> TaskFault:
        """``state`` sends no heartbeat within its HeartbeatSeconds.

        Recorded as ``States.Timeout``, which ``States.HeartbeatTimeout`` Retriers and
        Catchers match too.
        """
        return cls(state, _answering(TaskOutcome.heartbeat_timeout()), _attempts(attempts))

    def __call__(self, call: TaskCall) -> TaskOutcome | None:
        """The fault's outcome for the attempts it hits; None lets the others through."""
        if call.state_name != self.state:
            return None
        if self.attempts is not None and call.retry_count not in self.attempts:
            return None
        return self.outcome


def combine_mocks(*mocks: TaskMock) -> TaskMock:
    """One task mock from several: each attempt gets the first answer any of them gives."""

    def answer(call: TaskCall) -> TaskOutcome | None:
        for mock in mocks:
            outcome = mock(call)
            if outcome is not None:
                return outcome
        return None

    return answer


def _answering(outcome: TaskOutcome) -> TaskOutcome:
    # On a `.waitForTaskToken` task a fault is its callback's: the submission runs for real.
    return dataclasses.replace(outcome, answers_callback=True)


def _attempts(attempts: Iterable[int] | None) -> frozenset[int] | None:
    return None if attempts is None else frozenset(attempts)
