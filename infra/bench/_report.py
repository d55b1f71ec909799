"""What a benchmark run found, and its JSON form (`stepsaga bench --json`)."""

from __future__ import annotations

import hashlib
import json
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stepsaga.infra.bench._machines import JSON, BenchMachine
from stepsaga.infra.bench._peers import ENGINE, MOTO, Outcome

if TYPE_CHECKING:
    from stepsaga.infra.bench._api import ApiResult
    from stepsaga.infra.bench._eventstore import AppendResult
    from stepsaga.infra.bench._hot_stream import HotStreamResult
    from stepsaga.infra.bench._saga import SagaResult
    from stepsaga.infra.bench._serve import ServeResult

#: The issue's bars.
CHAIN_RATIO_TARGET = 100.0
LONG_WAIT_WALL_TARGET_SECONDS = 1.0
MEMORY_BAR_BYTES = 500 * 1024 * 1024
#: aws-local-stepfunctions (Node) on the 6-state chain, per the issue: the moonshot.
NODE_CHAIN_SECONDS = 42e-6
NODE_PEER = "aws-local-stepfunctions"


@dataclass(frozen=True)
class Budget:
    """How many executions to time for one machine on one peer.

    Runs at least `min_runs` and at most `max_runs`, stopping once `seconds` of timed
    execution have been spent; `warmup` untimed runs come first (parsing, caches).
    """

    min_runs: int
    max_runs: int
    seconds: float
    warmup: int

    def capped(self, runs: int) -> Budget:
        """This budget limited to exactly `runs` timed executions and one warm-up."""
        return Budget(min_runs=runs, max_runs=runs, seconds=0.0, warmup=min(self.warmup, 1))


@dataclass(frozen=True)
class Timing:
    """Wall-clock seconds per execution over `runs` timed executions."""

    runs: int
    median: float
    p95: float
    mean: float
    minimum: float

    @classmethod
    def of(cls, samples: Sequence[float]) -> Timing:
        """Summarise `samples` (seconds; at least one)."""
        ordered = sorted(samples)
        # nearest-rank percentile: the smallest sample with at least 95 % at or below it
        rank = max(1, math.ceil(0.95 * len(ordered)))
        return cls(
            runs=len(ordered),
            median=statistics.median(ordered),
            p95=ordered[rank - 1],
            mean=statistics.fmean(ordered),
            minimum=ordered[0],
        )

    def to_json(self) -> dict[str, JSON]:
        """Microseconds, rounded to 0.1 µs."""
        return {
            "runs": self.runs,
            "median_us": round(self.median * 1e6, 1),
            "p95_us": round(self.p95 * 1e6, 1),
            "mean_us": round(self.mean * 1e6, 1),
            "min_us": round(self.minimum * 1e6, 1),
        }


@dataclass(frozen=True)
class PeerResult:
    """One machine on one peer.

    Attributes:
        peer: Peer name.
        skipped: Why the peer did not run the machine (None if it did).
        timing: Per-execution wall time, client side (moto: start_execution + polling).
        internal: The peer's own account of its executions, where it has one.
        outcome: The last execution's outcome.
        problem: The first thing wrong with an outcome (None when every run gave the
            expected output).
        note: What the peer ran in place of the machine, if anything else (moto's stand-in
            for a Lambda machine).
    """

    peer: str
    skipped: str | None = None
    timing: Timing | None = None
    internal: Timing | None = None
    outcome: Outcome | None = None
    problem: str | None = None
    note: str | None = None

    @property
    def correct(self) -> bool:
        """True when the peer ran and every execution returned the expected output."""
        return self.skipped is None and self.problem is None and self.timing is not None

    def to_json(self) -> dict[str, JSON]:
        """The JSON form."""
        body: dict[str, JSON] = {"peer": self.peer, "ran": self.skipped is None}
        if self.skipped is not None:
            body["skipped"] = self.skipped
            return body
        body["correct"] = self.correct
        body["problem"] = self.problem
        if self.note is not None:
            body["note"] = self.note
        if self.outcome is not None:
            body["status"] = self.outcome.status
            # outputs can be large (the Map's): a digest shows agreement, the full output
            # is kept only when it is wrong
            body["output_sha256"] = output_digest(self.outcome.output)
            if self.problem is not None:
                body["output"] = self.outcome.output
            if self.outcome.error is not None:
                body["error"] = self.outcome.error
                body["cause"] = self.outcome.cause
            if self.outcome.history_events is not None:
                body["history_events"] = self.outcome.history_events
        if self.timing is not None:
            body.update(self.timing.to_json())
        if self.internal is not None:
            body["internal"] = self.internal.to_json()
        return body


@dataclass(frozen=True)
class MachineResult:
    """One machine on every peer."""

    machine: BenchMachine
    results: dict[str, PeerResult]

    @property
    def outputs_agree(self) -> bool | None:
        """Whether every peer that ran returned the same outcome (None unless two did)."""
        outcomes = {
            _canonical(result.outcome)
            for result in self.results.values()
            if result.outcome is not None
        }
        ran = sum(result.outcome is not None for result in self.results.values())
        return None if ran < 2 else len(outcomes) == 1

    def ratio_to(self, peer: str) -> float | None:
        """`peer`'s median time per execution over the engine's, when both are correct."""
        engine, other = self.results.get(ENGINE), self.results.get(peer)
        if engine is None or other is None or not (engine.correct and other.correct):
            return None
        assert engine.timing is not None and other.timing is not None  # correct implies timed
        return other.timing.median / engine.timing.median

    @property
    def ratio(self) -> float | None:
        """The ratio of moto's median time per execution to the engine's, when both are correct."""
        return self.ratio_to(MOTO)

    def to_json(self) -> dict[str, JSON]:
        """The JSON form."""
        ratio = self.ratio
        return {
            "name": self.machine.name,
            "title": self.machine.title,
            "states_entered": self.machine.states_entered,
            "peers": {name: result.to_json() for name, result in self.results.items()},
            "outputs_agree": self.outputs_agree,
            "ratio_moto_over_engine": None if ratio is None else round(ratio, 1),
            "median_over_engine": {
                peer: round(value, 2)
                for peer in self.results
                if peer != ENGINE and (value := self.ratio_to(peer)) is not None
            },
        }


def output_digest(output: JSON) -> str:
    """A short SHA-256 of `output` as canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(output, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _canonical(outcome: Outcome) -> str:
    return json.dumps(
        [outcome.status, outcome.output, outcome.error, outcome.cause], sort_keys=True
    )


@dataclass(frozen=True)
class LongWaitResult:
    """The hour-long Wait plus retry back-off, on the engine's virtual clock."""

    wall_seconds: float
    expected_virtual_seconds: float
    virtual_seconds: float | None
    problem: str | None

    @property
    def ok(self) -> bool:
        """Correct output, the virtual clock spanned the waits, and under the wall target."""
        return self.problem is None and self.wall_seconds < LONG_WAIT_WALL_TARGET_SECONDS

    def to_json(self) -> dict[str, JSON]:
        """The JSON form."""
        return {
            "wall_seconds": round(self.wall_seconds, 6),
            "virtual_seconds": self.virtual_seconds,
            "expected_virtual_seconds": self.expected_virtual_seconds,
            "target_wall_seconds": LONG_WAIT_WALL_TARGET_SECONDS,
            "problem": self.problem,
            "ok": self.ok,
        }


@dataclass(frozen=True)
class MemoryResult:
    """Memory held by finished executions with their histories (measured in a fresh process).

    Attributes:
        machine: The machine each execution ran.
        executions: How many executions ran while the caller held every result.
        history_events: History events per execution.
        rss_bytes: Growth of the resident set over those executions: the figure held
            against the bar.
        seconds: Wall time of those executions.
        traced_sample: Executions run again under tracemalloc, to split the cost.
        traced_bytes_per_execution: Python allocations per held execution.
        engine_retained_bytes: Allocations still live, over the sample, once the caller has
            dropped its results: what the engine keeps by itself.
        retention: What the engine kept of the sample (its eviction limit, if it evicts).
        problem: What went wrong (an execution's wrong output, a failed measurement).
    """

    machine: str
    executions: int
    history_events: int | None
    rss_bytes: int | None
    seconds: float
    traced_sample: int
    traced_bytes_per_execution: float
    engine_retained_bytes: int
    retention: str | None = None
    problem: str | None = None

    @classmethod
    def failed(cls, machine: str, executions: int, problem: str) -> MemoryResult:
        """A measurement that could not be made, and why."""
        return cls(machine, executions, None, None, 0.0, 0, 0.0, 0, None, problem)

    @property
    def held_bytes(self) -> int:
        """Best figure for `executions` held executions: the RSS growth, else traced bytes."""
        if self.rss_bytes is not None:
            return self.rss_bytes
        return round(self.traced_bytes_per_execution * self.executions)

    @property
    def under_bar(self) -> bool:
        """Whether the held executions stay under the 500 MB bar."""
        return self.problem is None and self.held_bytes < MEMORY_BAR_BYTES

    def to_json(self) -> dict[str, JSON]:
        """The JSON form."""
        return {
            "machine": self.machine,
            "executions": self.executions,
            "history_events": self.history_events,
            "rss_bytes": self.rss_bytes,
            "seconds": round(self.seconds, 3),
            "traced_sample": self.traced_sample,
            "traced_bytes_per_execution": round(self.traced_bytes_per_execution),
            "engine_retained_bytes": self.engine_retained_bytes,
            "held_bytes": self.held_bytes,
            "bar_bytes": MEMORY_BAR_BYTES,
            "under_bar": self.under_bar,
            "retention": self.retention,
            "problem": self.problem,
        }

    @classmethod
    def from_json(cls, body: dict[str, JSON]) -> MemoryResult:
        """Read back what `to_json` wrote (the measuring process's answer)."""
        return cls(
            machine=body["machine"],
            executions=body["executions"],
            history_events=body["history_events"],
            rss_bytes=body["rss_bytes"],
            seconds=body["seconds"],
            traced_sample=body["traced_sample"],
            traced_bytes_per_execution=float(body["traced_bytes_per_execution"]),
            engine_retained_bytes=body["engine_retained_bytes"],
            retention=body["retention"],
            problem=body["problem"],
        )


@dataclass(frozen=True)
class PeerInfo:
    """Whether a peer took part, and why not."""

    name: str
    available: bool
    note: str | None = None

    def to_json(self) -> dict[str, JSON]:
        """The JSON form."""
        return {"name": self.name, "available": self.available, "note": self.note}


@dataclass(frozen=True)
class BenchReport:
    """Everything one `stepsaga bench` run measured."""

    quick: bool
    peers: tuple[PeerInfo, ...]
    machines: tuple[MachineResult, ...]
    long_wait: LongWaitResult | None = None
    memory: MemoryResult | None = None
    appends: AppendResult | None = None
    saga: SagaResult | None = None
    hot_stream: tuple[HotStreamResult, ...] | None = None
    seconds: float = 0.0
    api: ApiResult | None = None
    serve: tuple[ServeResult, ...] = ()

    @property
    def all_correct(self) -> bool:
        """Every peer that ran every machine returned the expected output."""
        runs = [r for m in self.machines for r in m.results.values() if r.skipped is None]
        extras_ok = all(
            extra is None or extra.problem is None
            for extra in (self.appends, self.saga, *(self.hot_stream or ()))
        )
        return (
            all(r.correct for r in runs)
            and all(m.outputs_agree is not False for m in self.machines)
            and extras_ok
            and (self.api is None or self.api.correct)
            and all(served.problem is None for served in self.serve)
        )

    def targets(self) -> dict[str, JSON]:
        """The issue's bars and whether this run met them (None: not measured)."""
        chain = next((m for m in self.machines if m.machine.name == "chain"), None)
        ratio = chain.ratio if chain is not None else None
        engine = chain.results.get(ENGINE) if chain is not None else None
        engine_median = engine.timing.median if engine and engine.timing else None
        node_ratio = chain.ratio_to(NODE_PEER) if chain is not None else None
        return {
            "chain_ratio_at_least_100x": None if ratio is None else ratio >= CHAIN_RATIO_TARGET,
            "chain_faster_than_node_42us": None
            if engine_median is None or not (engine and engine.correct)
            else engine_median < NODE_CHAIN_SECONDS,
            "chain_faster_than_node_measured_here": None if node_ratio is None else node_ratio > 1,
            "hour_wait_under_1s": None if self.long_wait is None else self.long_wait.ok,
            "memory_under_500MB": None if self.memory is None else self.memory.under_bar,
            "boto3_chain_at_least_20x_moto": None,
            "http_chain_at_least_5x_moto_server": None,
            **({} if self.api is None else self.api.targets()),
            "hot_stream_reads_flat": self._hot_reads_flat(),
        }

    def _hot_reads_flat(self) -> bool | None:
        """On DynamoDB, whether the last orders read as the first did.

        As many requests, and as many items within a quarter (the tail read past a snapshot
        varies along the snapshot's interval).
        """
        for result in self.hot_stream or ():
            first, last = result.first, result.last
            if first is None or last is None or first.items is None or last.items is None:
                continue
            return last.reads == first.reads and last.items <= first.items * 1.25
        return None

    def to_json(self) -> dict[str, JSON]:
        """The JSON document `stepsaga bench --json` prints.

        Top level: `quick`, `all_correct`, `peers` (`name`,
        `available`, `note`), `machines`, `long_wait`, `memory`, `event_store`,
        `reference_saga`, `hot_stream` (per store: `store`, `orders`, `first` and `last`
        windows with `cpu` and `timing` (wall), `reads_per_order` and `items_read_per_order`,
        `growth_last_over_first`, `problem`), `api`, `targets` (each bar: true, false, or
        null when not measured), `seconds`. Each machine: `name`, `title`, `states_entered`,
        `peers` (per peer: `ran`, `skipped` or `correct`, `problem`, `status`,
        `output_sha256`, `runs`, `median_us`, `p95_us`, `mean_us`, `min_us`, and moto's own
        `internal` timing), `outputs_agree`, `ratio_moto_over_engine` and `median_over_engine`
        (each other peer's median over the engine's). `api`: `comparisons` (per path,
        `in-process` or `http`, and machine: `ours` and `theirs` as a machine's peers, a
        `note` when moto ran a stand-in, `ratio_theirs_over_ours`), `callbacks` (per path:
        `round_trips_per_second` and the timing), `problem`, `correct`. `serve`: per kind of
        store (`memory`, `moto`), `requests`, `requests_per_second` and the timing of
        `POST /commands/PlaceOrder` through `stepsaga serve`, and any `problem`. Times are
        wall-clock microseconds per execution.
        """
        return {
            "quick": self.quick,
            "all_correct": self.all_correct,
            "peers": [peer.to_json() for peer in self.peers],
            "machines": [machine.to_json() for machine in self.machines],
            "long_wait": None if self.long_wait is None else self.long_wait.to_json(),
            "memory": None if self.memory is None else self.memory.to_json(),
            "event_store": None if self.appends is None else self.appends.to_json(),
            "reference_saga": None if self.saga is None else self.saga.to_json(),
            "api": None if self.api is None else self.api.to_json(),
            "hot_stream": None
            if self.hot_stream is None
            else [result.to_json() for result in self.hot_stream],
            "serve": [served.to_json() for served in self.serve],
            "targets": self.targets(),
            "seconds": round(self.seconds, 2),
        }
