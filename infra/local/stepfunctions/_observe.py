"""What observers of executions see: the transitions taken.

A :class:`Transition` is one edge of the state machine's graph taken by an execution. The plan
builds each edge's Transition once; an execution appends the shared object when it takes the
edge, so recording costs one list append and nothing is built unless somebody reads them.
"""

from __future__ import annotations

from dataclasses import dataclass


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
