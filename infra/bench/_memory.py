"""Memory held by many finished executions with their histories, on the engine."""

from __future__ import annotations

import gc
import sys
import time
import tracemalloc
from collections.abc import Callable

from infra.bench._check import check_outcome
from infra.bench._machines import BenchMachine
from infra.bench._peers import EngineFacade, EnginePeer
from infra.bench._report import MemoryResult


def _peak_rss_bytes() -> int | None:
    try:
        import resource
    except ImportError:
        return None  # not POSIX: the tracemalloc figure stands alone
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports kibibytes, macOS bytes
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024


def _retention(sfn: EngineFacade, count: int) -> str | None:
    """What the engine kept of `count` executions, from its public `executions` list."""
    kept = getattr(sfn, "executions", None)
    if kept is None:
        return None
    retained = len(kept)
    if retained >= count:
        return f"the engine keeps all {count:,} executions"
    return (
        f"the engine keeps the last {retained:,} of {count:,} executions "
        "(max_retained_executions); older ones are evicted"
    )


def measure_memory(
    factory: Callable[[], EngineFacade], machine: BenchMachine, count: int
) -> MemoryResult:
    """Run `machine` `count` times on a fresh engine and measure what stays in memory.

    One pass under tracemalloc: the bytes held while the caller keeps every result (each
    with its history), then the bytes still held once it drops them (what the engine
    retains by itself). tracemalloc slows the run, so its wall time is not a speed figure.

    Args:
        factory: Builds a fresh `LocalStepFunctions`.
        machine: The machine to run.
        count: How many executions.

    Returns:
        The measurements; `problem` says so if an execution did not give the expected
        output (then the figures describe a wrong run).
    """
    gc.collect()
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        sfn = factory()
        prepared = EnginePeer(sfn).prepare(machine)
        started = time.perf_counter()
        held = [prepared.execute() for _ in range(count)]
        seconds = time.perf_counter() - started
        gc.collect()
        held_bytes = tracemalloc.get_traced_memory()[0] - baseline
        last = prepared.outcome(held[-1]) if held else None
        del held
        gc.collect()
        engine_bytes = tracemalloc.get_traced_memory()[0] - baseline
        retention = _retention(sfn, count)
        del prepared, sfn
    finally:
        tracemalloc.stop()
    gc.collect()
    return MemoryResult(
        machine=machine.name,
        executions=count,
        history_events=last.history_events if last else None,
        held_bytes=held_bytes,
        engine_bytes=engine_bytes,
        peak_rss_bytes=_peak_rss_bytes(),
        seconds=seconds,
        retention=retention,
        problem=check_outcome(machine, last) if last else "no executions ran",
    )
