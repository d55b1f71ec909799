"""Where the engine spends its time on one machine: cProfile, for the engine's authors."""

from __future__ import annotations

import cProfile
import io
import pstats

from stepsaga.infra.bench._machines import machine_named
from stepsaga.infra.bench._peers import EnginePeer
from stepsaga.infra.local.stepfunctions import LocalStepFunctions


def profile_engine(name: str, runs: int = 1000, top: int = 25) -> str:
    """Run the bench machine `name` `runs` times on a fresh engine under cProfile.

    Args:
        name: The machine to profile (`chain`, `loop`, `map`, `parallel`, `wait_retry`, `tasks`).
        runs: Profiled executions (after ten unprofiled warm-up runs).
        top: How many functions to list, by their own time.

    Returns:
        The pstats listing.

    Raises:
        KeyError: No machine is called `name` (the message lists the known ones).
    """
    machine = machine_named(name)
    prepared = EnginePeer(LocalStepFunctions()).prepare(machine)
    for _ in range(10):
        prepared.execute()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        prepared.execute()
    profiler.disable()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats(pstats.SortKey.TIME).print_stats(top)
    return f"{machine.name}: {runs} executions on the engine under cProfile\n{text.getvalue()}"
