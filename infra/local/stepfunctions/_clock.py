"""Clocks: virtual time that jumps instantly, or the wall clock for demos."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Final

DEFAULT_START: Final = datetime(2025, 1, 1, tzinfo=UTC)


class VirtualClock:
    """Time that only moves when the engine advances it, so a one-hour Wait takes no wall time.

    Args:
        start: the first instant the clock shows (timezone-aware, UTC).
    """

    __slots__ = ("_now",)

    def __init__(self, start: datetime = DEFAULT_START) -> None:
        self._now = start

    def now(self) -> datetime:
        """The current instant."""
        return self._now

    def set(self, instant: datetime) -> None:
        """Move the clock to ``instant`` (used to run concurrent branches from one start)."""
        self._now = instant

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` of time pass, at once."""
        if seconds > 0:
            self._now = self._now + timedelta(seconds=seconds)


class RealClock(VirtualClock):
    """The wall clock: advancing it sleeps. For demos, where a Wait should be seen waiting."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__(datetime.now(UTC))

    def now(self) -> datetime:
        """The current wall-clock instant (never earlier than a branch start it was set to)."""
        wall = datetime.now(UTC)
        return wall if wall > self._now else self._now

    def advance(self, seconds: float) -> None:
        """Sleep ``seconds`` of wall time."""
        if seconds > 0:
            time.sleep(seconds)
            self._now = datetime.now(UTC)
