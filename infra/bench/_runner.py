"""Runs the machines on every peer, timing executions and checking their outputs."""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace

from stepsaga.infra.bench._api import MOTO_SERVER, api_steps, run_api
from stepsaga.infra.bench._check import check_outcome
from stepsaga.infra.bench._eventstore import AppendResult, run_appends
from stepsaga.infra.bench._hot_stream import HotStreamResult, run_hot_stream
from stepsaga.infra.bench._machines import (
    LONG_WAIT_PAUSE_SECONDS,
    BenchMachine,
    all_machines,
    long_wait_definition,
    long_wait_virtual_seconds,
    machine_named,
    wait_retry_expected,
)
from stepsaga.infra.bench._memory import measure_memory
from stepsaga.infra.bench._node import NodePeer, node_peer_info
from stepsaga.infra.bench._peers import (
    ENGINE,
    MOTO,
    ClientPeer,
    EnginePeer,
    MotoPeer,
    Outcome,
    Peer,
    SelfTimedPeer,
    moto_stepfunctions,
)
from stepsaga.infra.bench._report import (
    NODE_PEER,
    BenchReport,
    Budget,
    LongWaitResult,
    MachineResult,
    MemoryResult,
    PeerInfo,
    PeerResult,
    Timing,
)
from stepsaga.infra.bench._saga import SagaResult, run_saga
from stepsaga.infra.bench._serve import SERVE_STORES, measure_serve
from stepsaga.infra.local.stepfunctions import LocalStepFunctions

#: The memory benchmark runs the saga-shaped Lambda machine: what stepsaga users run most.
MEMORY_MACHINE = "tasks"

#: Called with (what is running now, steps done, total steps).
ProgressHook = Callable[[str, int, int], None]


@dataclass(frozen=True)
class BenchOptions:
    """What to run.

    Attributes:
        quick: A smoke run: few executions, small memory sample.
        machines: Names of the machines to run (all when empty).
        runs: Exactly this many timed executions per machine and peer (overrides budgets).
        memory_executions: Executions in the memory benchmark (0 skips it; None: 10,000,
            or 500 when quick).
        long_wait: Whether to run the hour-long Wait on the engine.
        appends: Event store appends to time against put_item (0 skips; None: 200, or 20
            when quick).
        sagas: Reference PlaceOrder executions to time end to end on moto (0 skips;
            None: 20, or 3 when quick).
        hot_orders: Reference orders placed on one SKU, in memory and on moto, to compare the
            first orders with the last (0 skips; None: 1,000, or 60 when quick).
        budgets: Per-peer budgets replacing the defaults.
        api: Whether to time the Step Functions API's paths against moto's (the engine's
            boto3 client, `stepsaga local` over HTTP) and the callback round trips.
        serve: `POST /commands/PlaceOrder` requests to time through `stepsaga serve`, on each
            kind of store (0 skips; None: 30, or 3 when quick).
    """

    quick: bool = False
    machines: tuple[str, ...] = ()
    runs: int | None = None
    memory_executions: int | None = None
    long_wait: bool = True
    appends: int | None = None
    sagas: int | None = None
    hot_orders: int | None = None
    budgets: dict[str, Budget] = field(default_factory=dict)
    api: bool = True
    serve: int | None = None

    def budget_for(self, peer: str) -> Budget:
        """The budget for `peer` under these options."""
        budget = self.budgets.get(peer) or _default_budget(peer, self.quick)
        return budget.capped(self.runs) if self.runs is not None else budget

    def memory_count(self) -> int:
        """How many executions the memory benchmark runs."""
        if self.memory_executions is not None:
            return self.memory_executions
        return 500 if self.quick else 10_000

    def append_count(self) -> int:
        """How many appends the event store benchmark times."""
        if self.appends is not None:
            return self.appends
        return 20 if self.quick else 200

    def saga_count(self) -> int:
        """How many reference saga executions are timed end to end."""
        if self.sagas is not None:
            return self.sagas
        return 3 if self.quick else 20

    def hot_order_count(self) -> int:
        """How many orders the hot-stream measurement places on one SKU."""
        if self.hot_orders is not None:
            return self.hot_orders
        return 60 if self.quick else 1_000

    def serve_count(self) -> int:
        """How many requests the serve benchmark times per kind of store."""
        if self.serve is not None:
            return self.serve
        return 3 if self.quick else 30

    def selected(self) -> tuple[BenchMachine, ...]:
        """The machines to run, in report order.

        Raises:
            KeyError: a requested name is unknown (the message lists the known ones).
        """
        for name in self.machines:
            machine_named(name)
        return tuple(
            machine
            for machine in all_machines()
            if not self.machines or machine.name in self.machines
        )


def _default_budget(peer: str, quick: bool) -> Budget:
    if peer == NODE_PEER:
        return Budget(1, 20, 0.05, 1) if quick else Budget(3, 5000, 0.75, 3)
    if peer in (MOTO, MOTO_SERVER):
        # moto takes ~25 ms (chain) to ~1 s (loop, Map, a 1 s retry) per execution here
        return Budget(1, 2, 0.0, 0) if quick else Budget(3, 200, 2.0, 1)
    return Budget(2, 20, 0.05, 1) if quick else Budget(20, 5000, 0.75, 3)


def time_machine(peer: Peer | SelfTimedPeer, machine: BenchMachine, budget: Budget) -> PeerResult:
    """Time `machine` on `peer` within `budget`, checking every execution's output.

    A peer that raises, or returns a wrong output, is reported with the problem instead
    of (or beside) its timings.
    """
    reason = peer.supports(machine)
    if reason is not None:
        return PeerResult(peer=peer.name, skipped=reason)
    if isinstance(peer, SelfTimedPeer):
        return peer.measure(machine, budget)
    try:
        prepared = peer.prepare(machine)
        samples: list[float] = []
        internal: list[float] = []
        problem: str | None = None
        outcome: Outcome | None = None
        spent = 0.0
        for _ in range(budget.warmup):
            started = time.perf_counter()
            raw = prepared.execute()
            elapsed = time.perf_counter() - started
            problem = check_outcome(machine, prepared.outcome(raw))
            if elapsed > budget.seconds / 4:
                # one-off costs vanish in a run this slow (moto's real-time sleeps): keep it
                # as a timed run rather than spend the budget warming up
                samples.append(elapsed)
                spent += elapsed
                break
        while len(samples) < budget.max_runs and (
            len(samples) < budget.min_runs or spent < budget.seconds
        ):
            started = time.perf_counter()
            raw = prepared.execute()
            elapsed = time.perf_counter() - started
            samples.append(elapsed)
            spent += elapsed
            outcome = prepared.outcome(raw)
            if outcome.internal_seconds is not None:
                internal.append(outcome.internal_seconds)
            problem = problem or check_outcome(machine, outcome)
    except Exception as exc:  # a peer that crashes is a finding to report, not a bench crash
        return PeerResult(peer=peer.name, problem=f"raised {type(exc).__name__}: {exc}")
    return PeerResult(
        peer=peer.name,
        timing=Timing.of(samples),
        internal=Timing.of(internal) if internal else None,
        outcome=outcome,
        problem=problem,
        note=peer.runs_instead(machine) if isinstance(peer, ClientPeer) else None,
    )


def run_long_wait(sfn: LocalStepFunctions) -> LongWaitResult:
    """Run an hour's Wait plus retry back-off on the engine and time it on the wall clock."""
    definition = long_wait_definition()
    expected_virtual = long_wait_virtual_seconds()
    machine = BenchMachine(
        name="long_wait",
        title="an hour of Wait plus retry back-off",
        definition=definition,
        input={"pause": LONG_WAIT_PAUSE_SECONDS},
        expected_output=wait_retry_expected(LONG_WAIT_PAUSE_SECONDS),
        states_entered=7,
    )
    prepared = EnginePeer(sfn).prepare(machine)
    try:
        started = time.perf_counter()
        raw = prepared.execute()
        wall = time.perf_counter() - started
        outcome = prepared.outcome(raw)
    except Exception as exc:  # reported, like any peer failure
        return LongWaitResult(0.0, expected_virtual, None, f"raised {type(exc).__name__}: {exc}")
    problem = check_outcome(machine, outcome)
    virtual = outcome.virtual_seconds
    if problem is None:
        if virtual is None:
            problem = "the history carries no timestamps to read the virtual clock from"
        elif virtual < expected_virtual:
            problem = f"virtual clock advanced {virtual} s, expected at least {expected_virtual} s"
    return LongWaitResult(wall, expected_virtual, virtual, problem)


class _Steps:
    def __init__(self, total: int, hook: ProgressHook | None) -> None:
        self.total = total
        self.done = 0
        self._hook = hook

    @contextlib.contextmanager
    def step(self, what: str) -> Iterator[None]:
        if self._hook:
            self._hook(what, self.done, self.total)
        yield
        self.done += 1
        if self._hook:
            self._hook(what, self.done, self.total)


def run_bench(
    peers: Sequence[Peer | SelfTimedPeer],
    options: BenchOptions,
    *,
    peer_info: Sequence[PeerInfo],
    progress: ProgressHook | None = None,
) -> BenchReport:
    """Run the selected machines on `peers`, then the engine-only benchmarks.

    Args:
        peers: The peers to compare (engine first).
        options: What to run.
        peer_info: Which peers took part and why others did not, for the report.
        progress: Told what runs now and how far along the run is.

    Returns:
        The report.
    """
    started = time.perf_counter()
    machines = options.selected()
    memory_count = options.memory_count()
    append_count = options.append_count()
    saga_count = options.saga_count()
    hot_orders = options.hot_order_count()
    extra = (
        int(options.long_wait)
        + int(memory_count > 0)
        + int(append_count > 0)
        + int(saga_count > 0)
        + int(hot_orders > 0)
    )
    steps = _Steps(len(machines) * len(peers) + extra, progress)
    results: list[MachineResult] = []
    for machine in machines:
        per_peer: dict[str, PeerResult] = {}
        for peer in peers:
            with steps.step(f"{machine.name} on {peer.name}"):
                per_peer[peer.name] = time_machine(peer, machine, options.budget_for(peer.name))
            gc.collect()
        results.append(MachineResult(machine, per_peer))
    appends: AppendResult | None = None
    if append_count > 0:
        with steps.step(f"event store: {append_count} appends vs put_item"):
            appends = run_appends(append_count)
    saga: SagaResult | None = None
    if saga_count > 0:
        with steps.step(f"reference saga: {saga_count} orders on moto"):
            saga = run_saga(saga_count)
    hot_stream: tuple[HotStreamResult, ...] | None = None
    if hot_orders > 0:
        with steps.step(f"hot stream: {hot_orders:,} orders on one SKU, in memory and on moto"):
            hot_stream = run_hot_stream(hot_orders)
    long_wait: LongWaitResult | None = None
    if options.long_wait:
        with steps.step("an hour's Wait on the engine"):
            long_wait = run_long_wait(LocalStepFunctions())
    memory: MemoryResult | None = None
    if memory_count > 0:
        measured = machine_named(MEMORY_MACHINE)
        with steps.step(f"memory: {memory_count:,} executions"):
            memory = measure_memory(measured, memory_count)
    return BenchReport(
        quick=options.quick,
        peers=tuple(peer_info),
        machines=tuple(results),
        long_wait=long_wait,
        memory=memory,
        appends=appends,
        saga=saga,
        hot_stream=hot_stream,
        seconds=time.perf_counter() - started,
    )


def bench(options: BenchOptions, progress: ProgressHook | None = None) -> BenchReport:
    """Run `stepsaga bench`: the embedded engine against moto (and Node, if installed).

    Then, unless `options.api` is off, the Step Functions API's paths against moto's
    (`run_api`), outside moto's in-process mock so that no HTTP request passes through it; and
    unless `options.serve` is 0, requests through `stepsaga serve` (`measure_serve`).

    Args:
        options: What to run.
        progress: Told what runs now and how far along the run is.

    Returns:
        The report.
    """
    info = [PeerInfo(ENGINE, available=True)]
    peers: list[Peer | SelfTimedPeer] = [EnginePeer(LocalStepFunctions())]
    with moto_stepfunctions() as client:
        peers.append(MotoPeer(client))
        info.append(PeerInfo(MOTO, available=True, note="moto's ASL parser via boto3"))
        node = node_peer_info()
        info.append(node)
        if node.available:
            peers.append(NodePeer())
        report = run_bench(peers, options, peer_info=info, progress=progress)
    count = api_steps(options)
    if count > 0:
        started = time.perf_counter()
        api = run_api(options, _Steps(count, progress))
        report = replace(report, api=api, seconds=report.seconds + time.perf_counter() - started)
    requests = options.serve_count()
    if requests == 0:
        return report
    # Outside moto's Step Functions mock too: `serve` on moto opens its own.
    started = time.perf_counter()
    steps = _Steps(len(SERVE_STORES), progress)
    served = []
    for stores in SERVE_STORES:
        with steps.step(f"serve: {requests} POST /commands/PlaceOrder on {stores} stores"):
            served.append(measure_serve(requests, stores))
    return replace(
        report, serve=tuple(served), seconds=report.seconds + time.perf_counter() - started
    )
