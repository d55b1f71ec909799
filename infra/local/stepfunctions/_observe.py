"""What observers of executions see: the transitions taken, and each execution as it closes.

A :class:`Transition` is one edge of the state machine's graph taken by an execution. The plan
builds each edge's Transition once; an execution appends the shared object when it takes the
edge, so recording costs one list append and nothing is built unless somebody reads them.

:func:`observe_executions` lets a tool (the pytest plugin's ``--sfn-coverage``) see the
executions of every engine, including engines that the code under test builds itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stepsaga.infra.local.stepfunctions._execution import Execution


@dataclass(frozen=True, slots=True)
class Transition:
    """One transition an execution took.

    Attributes:
        scope: the JSON pointer of the ``States`` object's owner that ``source`` is in: ``""``
            for the top level, ``"/States/P/Branches/0"`` for a Parallel branch,
            ``"/States/M/ItemProcessor"`` (or ``.../Iterator``) for a Map's body.
        source: the state taken from.
        target: the state taken to; None when ``source`` ends its scope (or the execution).
        via: what took it: ``"Next"``, ``"Default"``, ``"Choices/<i>"``, ``"Catch/<i>"``,
            ``"Retry/<i>"`` (the state again: ``target == source``), ``"End"`` (a terminal
            state, Succeed included), or ``"Fail"`` (the state failed, uncaught: a Fail state,
            or an error no Catcher took).
    """

    scope: str
    source: str
    target: str | None
    via: str


ExecutionObserver = Callable[["Execution"], None]
"""Called with each execution once, when it closes (any status)."""

_lock = threading.Lock()
_observers: tuple[ExecutionObserver, ...] = ()


def observe_executions(callback: ExecutionObserver) -> Callable[[], None]:
    """Call ``callback`` with every execution of every engine when it closes.

    The callback runs on the thread that closed the execution, after the engine has finished
    the call that closed it (so it may read the execution, or call the engine); an exception
    it raises reaches that call's caller.

    Args:
        callback: receives the closed :class:`Execution`.

    Returns:
        A function that unsubscribes ``callback`` (calling it again does nothing).
    """
    global _observers
    with _lock:
        _observers = (*_observers, callback)

    def unsubscribe() -> None:
        global _observers
        with _lock:
            kept = list(_observers)
            if callback in kept:
                kept.remove(callback)
            _observers = tuple(kept)

    return unsubscribe


def observers() -> tuple[ExecutionObserver, ...]:
    """The callbacks subscribed now (empty, and free to check, when nobody observes)."""
    return _observers
