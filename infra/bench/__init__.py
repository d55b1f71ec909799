"""`stepsaga bench`: the embedded engine against moto, machine by machine, in one process."""

from infra.bench._check import check_outcome, first_difference
from infra.bench._eventstore import AppendResult, measure_appends, moto_dynamodb
from infra.bench._machines import BenchMachine, all_machines, machine_named
from infra.bench._peers import (
    EnginePeer,
    MotoPeer,
    Outcome,
    Peer,
    load_engine,
    moto_stepfunctions,
)
from infra.bench._report import (
    BenchReport,
    LongWaitResult,
    MachineResult,
    MemoryResult,
    PeerInfo,
    PeerResult,
    Timing,
)
from infra.bench._runner import BenchOptions, Budget, bench, run_bench, time_machine
from infra.bench._saga import SagaResult, measure_saga

__all__ = (
    "AppendResult",
    "BenchMachine",
    "BenchOptions",
    "BenchReport",
    "Budget",
    "EnginePeer",
    "LongWaitResult",
    "MachineResult",
    "MemoryResult",
    "MotoPeer",
    "Outcome",
    "Peer",
    "PeerInfo",
    "PeerResult",
    "SagaResult",
    "Timing",
    "all_machines",
    "bench",
    "check_outcome",
    "first_difference",
    "load_engine",
    "machine_named",
    "measure_appends",
    "measure_saga",
    "moto_dynamodb",
    "moto_stepfunctions",
    "run_bench",
    "time_machine",
)
