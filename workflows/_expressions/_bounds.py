"""Time bounds for expression evaluation that may not end: regexes and JSONata programs.

A JSONata program can loop or recurse without end, and a regular expression with nested
quantifiers (``(a+)+$``) backtracks for longer than the universe's age on a 40-character
string. AWS ends such an evaluation with ``States.QueryEvaluationError``; stepsaga bounds both:
JSONata through jsonata-python's own time box (a time and a depth limit checked at each step),
and a regular expression through an interval timer, whose signal CPython's regex engine checks
while it matches. Signals reach only the main thread: elsewhere a regex runs unbounded (the
JSONata time box still bounds the rest of the program).
"""

from __future__ import annotations

import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Final, TypeVar

#: How long one JSONata evaluation may run, in seconds of wall time. AWS documents no limit;
#: this one is generous enough for any real Output, and ends a runaway program.
JSONATA_TIME_LIMIT_SECONDS: Final = 5.0
#: How deep one JSONata evaluation may nest (recursive functions included). jsonata-python
#: takes several Python frames per level; this stays within CPython's recursion limit.
JSONATA_DEPTH_LIMIT: Final = 150
#: How long one regular-expression match may run, in seconds.
REGEX_TIME_LIMIT_SECONDS: Final = 1.0

_T = TypeVar("_T")


class ExpressionTimeout(Exception):
    """A bounded evaluation ran past its time limit.

    Attributes:
        seconds: the limit that was reached.
    """

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the evaluation ran longer than {seconds:g} seconds")
        self.seconds = seconds


_HAS_TIMER: Final = hasattr(signal, "setitimer") and hasattr(signal, "SIGALRM")


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`ExpressionTimeout` in the block once ``seconds`` have passed.

    Only in the main thread (where signals are delivered); elsewhere the block runs unbounded.
    A timer the caller had set is restored, less the time spent here.
    """
    if not _HAS_TIMER or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(_signum: int, _frame: Any) -> None:
        raise ExpressionTimeout(seconds)

    started = time.monotonic()
    previous = signal.signal(signal.SIGALRM, expire)
    earlier_delay, earlier_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if earlier_delay:
            left = max(earlier_delay - (time.monotonic() - started), 0.001)
            signal.setitimer(signal.ITIMER_REAL, left, earlier_interval)


def bounded(function: Callable[..., _T]) -> Callable[..., _T]:
    """``function`` run under :func:`time_limit` of :data:`REGEX_TIME_LIMIT_SECONDS`."""

    def call(*args: Any, **kwargs: Any) -> _T:
        with time_limit(REGEX_TIME_LIMIT_SECONDS):
            return function(*args, **kwargs)

    return call


class BoundedPattern:
    """A compiled regular expression whose every match is bounded by :func:`time_limit`.

    It has the methods jsonata-python calls on a pattern (its ``CompiledPattern``).
    """

    __slots__ = ("_finditer", "_search", "_split", "_sub", "pattern")

    def __init__(self, compiled: re.Pattern[str]) -> None:
        self.pattern = compiled.pattern
        self._search = bounded(compiled.search)
        # Matched here, under the limit, rather than lazily by whoever iterates.
        self._finditer = bounded(lambda text: list(compiled.finditer(text)))
        self._sub = bounded(compiled.sub)
        self._split = bounded(compiled.split)

    def search(self, string: str) -> Any:
        return self._search(string)

    def finditer(self, string: str) -> Any:
        return iter(self._finditer(string))

    def sub(self, repl: Any, string: str, count: int = 0) -> str:
        return self._sub(repl, string, count)

    def split(self, string: str, maxsplit: int = 0) -> list[str]:
        return self._split(string, maxsplit)
