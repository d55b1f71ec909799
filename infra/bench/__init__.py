"""`stepsaga bench`: the embedded engine against moto, machine by machine, in one process.

`bench(BenchOptions(...))` runs it and returns a `BenchReport`; the result types are what the
report holds, and the constants are the bars it judges a run against. Peers, timing loops
and the individual measurements are machinery, in the private modules.
"""

from stepsaga.infra.bench._eventstore import APPENDS_PER_TABLE, AppendResult
from stepsaga.infra.bench._machines import BenchMachine, machine_named
from stepsaga.infra.bench._peers import Outcome
from stepsaga.infra.bench._profile import profile_engine
from stepsaga.infra.bench._report import (
    CHAIN_RATIO_TARGET,
    LONG_WAIT_WALL_TARGET_SECONDS,
    MEMORY_BAR_BYTES,
    NODE_CHAIN_SECONDS,
    BenchReport,
    Budget,
    LongWaitResult,
    MachineResult,
    MemoryResult,
    PeerInfo,
    PeerResult,
    Timing,
)
from stepsaga.infra.bench._runner import BenchOptions, bench
from stepsaga.infra.bench._saga import SagaResult

__all__ = (
    "APPENDS_PER_TABLE",
    "CHAIN_RATIO_TARGET",
    "LONG_WAIT_WALL_TARGET_SECONDS",
    "MEMORY_BAR_BYTES",
    "NODE_CHAIN_SECONDS",
    "AppendResult",
    "BenchMachine",
    "BenchOptions",
    "BenchReport",
    "Budget",
    "LongWaitResult",
    "MachineResult",
    "MemoryResult",
    "Outcome",
    "PeerInfo",
    "PeerResult",
    "SagaResult",
    "Timing",
    "bench",
    "machine_named",
    "profile_engine",
)
