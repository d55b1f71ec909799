"""`stepsaga bench`: the embedded engine against moto, machine by machine, in one process."""

from infra.bench._check import check_outcome, first_difference
from infra.bench._eventstore import AppendResult, measure_appends, moto_dynamodb
from infra.bench._machines import BenchMachine, all_machines, machine_named
from infra.bench._node import NodePeer
from infra.bench._peers import (
    EnginePeer,
    MotoPeer,
    Outcome,
    Peer,
    SelfTimedPeer,
    load_engine,
    moto_stepfunctions,
)
from infra.bench._report import (
    BenchReport,
    Budget,
    LongWaitResult,
    MachineResult,
    MemoryResult,
    PeerInfo,
    PeerResult,
    Timing,
)
from infra.bench._runner import BenchOptions, bench, run_bench, time_machine
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
    "NodePeer",
    "Outcome",
    "Peer",
    "PeerInfo",
    "PeerResult",
    "SagaResult",
    "SelfTimedPeer",
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
