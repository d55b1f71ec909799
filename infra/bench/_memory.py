"""Memory held by many finished executions with their histories, on the engine.

Measured in a fresh Python process (`python -m stepsaga.infra.bench._memory_process`), so the
resident-set growth is the executions' own and not what moto and the other benchmarks left
behind.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import time
import tracemalloc

from stepsaga.infra.bench._check import check_outcome
from stepsaga.infra.bench._machines import BenchMachine
from stepsaga.infra.bench._peers import EnginePeer
from stepsaga.infra.bench._report import MemoryResult
from stepsaga.infra.local.stepfunctions import LocalStepFunctions

#: Executions traced with tracemalloc to split the cost (tracemalloc is slow).
TRACED_SAMPLE = 2000


def _rss_bytes() -> int | None:
    """The resident set size now (Linux); else the peak so far, which only grows here."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        pass
    try:
        import resource
    except ImportError:
        return None  # neither: the tracemalloc figures stand alone
    # ru_maxrss survives fork and exec, so this fallback assumes a parent smaller than us
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024  # macOS: bytes


def _retention(sfn: LocalStepFunctions, count: int) -> str:
    """What the engine kept of `count` executions, from its public `executions` list."""
    retained = len(sfn.executions)
    if retained >= count:
        return f"the engine keeps all {count:,} executions"
    return (
        f"the engine keeps the last {retained:,} of {count:,} executions "
        "(max_retained_executions); older ones are evicted"
    )


def measure_here(machine: BenchMachine, count: int, sample: int) -> MemoryResult:
    """Measure in this process (meant for a fresh one: see `measure_memory`).

    First `count` untraced executions whose results the caller holds: the growth of the
    resident set is the cost of that many finished executions with their histories.
    Then `sample` executions under tracemalloc on a fresh engine: bytes per held execution,
    and the bytes still held once the caller drops its results (what the engine retains).
    """
    sfn = LocalStepFunctions()
    prepared = EnginePeer(sfn).prepare(machine)
    prepared.outcome(prepared.execute())
    gc.collect()
    rss_before = _rss_bytes()
    started = time.perf_counter()
    held = [prepared.execute() for _ in range(count)]
    seconds = time.perf_counter() - started
    gc.collect()
    rss_after = _rss_bytes()
    last = prepared.outcome(held[-1]) if held else None
    del held, prepared, sfn
    gc.collect()

    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        sfn = LocalStepFunctions()
        prepared = EnginePeer(sfn).prepare(machine)
        held = [prepared.execute() for _ in range(sample)]
        gc.collect()
        traced = tracemalloc.get_traced_memory()[0] - baseline
        del held
        gc.collect()
        engine_bytes = tracemalloc.get_traced_memory()[0] - baseline
        retention = _retention(sfn, sample)
        del prepared, sfn
    finally:
        tracemalloc.stop()
    return MemoryResult(
        machine=machine.name,
        executions=count,
        history_events=last.history_events if last else None,
        rss_bytes=None if rss_before is None or rss_after is None else rss_after - rss_before,
        seconds=seconds,
        traced_sample=sample,
        traced_bytes_per_execution=traced / sample if sample else 0.0,
        engine_retained_bytes=engine_bytes,
        retention=retention,
        problem=check_outcome(machine, last) if last else "no executions ran",
    )


def measure_memory(machine: BenchMachine, count: int, timeout: float = 600.0) -> MemoryResult:
    """Measure `count` finished executions of `machine` in a fresh Python process.

    Args:
        machine: The machine to run (one of `all_machines()`).
        count: How many executions.
        timeout: Seconds before the measuring process is abandoned.

    Returns:
        The measurements, or a result whose `problem` says why there are none.
    """
    command = [
        sys.executable,
        "-m",
        "stepsaga.infra.bench._memory_process",
        machine.name,
        str(count),
        str(min(count, TRACED_SAMPLE)),
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return MemoryResult.failed(machine.name, count, f"no answer within {timeout:.0f} s")
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["(no output)"]
        return MemoryResult.failed(
            machine.name, count, f"measuring process exited {done.returncode}: {tail[0]}"
        )
    return MemoryResult.from_json(json.loads(done.stdout))
