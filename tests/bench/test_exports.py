"""The public surface of `infra.bench` is pinned: a change here is a reviewed change."""

from __future__ import annotations

import infra.bench

PUBLIC = (
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


def test_the_public_names_are_pinned_and_resolve() -> None:
    assert tuple(infra.bench.__all__) == PUBLIC
    for name in PUBLIC:
        assert getattr(infra.bench, name).__module__.startswith("infra.bench")
