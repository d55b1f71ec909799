"""The engine's clocks: virtual time that jumps, real time, or both (a server's).

Each clock says what time it is and whether the scheduler may jump it forward to the next
timer. The scheduler (``_scheduler``) decides when to jump; a clock only says whether it can.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta
from typing import Final, Literal

DEFAULT_START: Final = datetime(2025, 1, 1, tzinfo=UTC)

ClockMode = Literal["virtual", "server", "real"]
"""How an engine's time passes (see the package docstring for each mode's policy)."""


class VirtualClock:
    """Time that only moves when the scheduler jumps it, so an hour's Wait takes no wall time.

    Args:
        start: the first instant the clock shows (timezone-aware, UTC).
    """

    __slots__ = ("_now",)

    jumps = True
    """The scheduler may move this clock to its next timer at once."""

    def __init__(self, start: datetime = DEFAULT_START) -> None:
        self._now = start

    def now(self) -> datetime:
        """The current instant (the same object until the clock moves, which callers cache on)."""
        return self._now

    def jump_to(self, instant: datetime) -> None:
        """Move to ``instant`` at once (never backwards)."""
        if instant > self._now:
            self._now = instant

    def wall_seconds(self, instant: datetime) -> float:
        """Wall-clock seconds until ``instant``: never, virtual time does not pass by itself."""
        return math.inf if instant > self._now else 0.0


class RealClock:
    """The wall clock: timers fire when their time comes. For demos, where a Wait is seen waiting.

    ``now`` never goes backwards, even when the system clock does, so that the events of one
    execution keep their order in time.
    """

    __slots__ = ("_last",)

    jumps = False

    def __init__(self) -> None:
        self._last = datetime.now(UTC)

    def now(self) -> datetime:
        """The current wall-clock instant (never earlier than one already shown)."""
        wall = datetime.now(UTC)
        if wall > self._last:
            self._last = wall
        return self._last

    def jump_to(self, instant: datetime) -> None:
        """Refused: real time cannot be skipped."""
        raise RuntimeError("the real-time clock cannot jump")

    def wall_seconds(self, instant: datetime) -> float:
        """Wall-clock seconds until ``instant`` (0 when it is due)."""
        return max(0.0, (instant - self.now()).total_seconds())


class ServerClock:
    """Real time, scaled, that the scheduler may also jump forward (``stepsaga local``'s clock).

    Virtual time is ``offset + scale * wall time``: it passes on its own, ``scale`` times as
    fast as the wall clock, and a jump adds to the offset, so it stays monotonic.

    Args:
        scale: virtual seconds per wall-clock second (1.0 is real time).
    """

    __slots__ = ("_origin", "_scale", "_wall0")

    jumps = True

    def __init__(self, scale: float = 1.0) -> None:
        if not scale > 0:
            raise ValueError(f"time_scale must be positive, got {scale!r}")
        self._origin = datetime.now(UTC)
        self._scale = scale
        self._wall0 = time.monotonic()

    def now(self) -> datetime:
        """The current virtual instant."""
        elapsed = (time.monotonic() - self._wall0) * self._scale
        return self._origin + timedelta(seconds=elapsed)

    def jump_to(self, instant: datetime) -> None:
        """Skip ahead to ``instant`` (never backwards)."""
        now = self.now()
        if instant > now:
            self._origin += instant - now

    def wall_seconds(self, instant: datetime) -> float:
        """Wall-clock seconds until ``instant`` arrives on its own."""
        return max(0.0, (instant - self.now()).total_seconds() / self._scale)


Clock = VirtualClock | RealClock | ServerClock
"""Any of the engine's clocks."""


def make_clock(mode: str, start: datetime, scale: float) -> Clock:
    """The clock for ``mode`` (``"virtual"``, ``"server"`` or ``"real"``).

    Raises:
        ValueError: an unknown mode, or a scale that is not positive.
    """
    if mode == "virtual":
        return VirtualClock(start)
    if mode == "server":
        return ServerClock(scale=scale)
    if mode == "real":
        return RealClock()
    raise ValueError(f"clock must be 'virtual', 'server' or 'real', got {mode!r}")
