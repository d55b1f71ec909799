"""Where the engine spends its time on one machine: cProfile, for the engine's authors."""

from __future__ import annotations

import cProfile
import io
import pstats

from stepsaga.infra.bench._machines import BenchMachine
from stepsaga.infra.bench._peers import EnginePeer, load_engine


def profile_engine(machine: BenchMachine, runs: int = 1000, top: int = 25) -> str:
    """Run `machine` `runs` times on a fresh engine under cProfile.

    Args:
        machine: The machine to profile.
        runs: Profiled executions (after ten unprofiled warm-up runs).
        top: How many functions to list, by their own time.

    Returns:
        The pstats listing, or why the engine could not be profiled.
    """
    loaded = load_engine()
    if isinstance(loaded, str):
        return loaded
    prepared = EnginePeer(loaded()).prepare(machine)
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
