"""The peers a benchmark compares: the embedded engine (through its facade) and moto."""

from __future__ import annotations

import contextlib
import importlib
import itertools
import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast, runtime_checkable

from stepsaga.infra.bench._machines import (
    BENCH_STEP_FUNCTION,
    JSON,
    BenchMachine,
    bench_step_handler,
)

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

    from stepsaga.infra.bench._report import Budget, PeerResult

ENGINE = "engine"
MOTO = "moto"

_ROLE_ARN = "arn:aws:iam::123456789012:role/stepsaga-bench"
_REGION = "us-east-1"


@dataclass(frozen=True)
class Outcome:
    """How one execution ended, in the same terms for every peer.

    Attributes:
        status: `SUCCEEDED`, `FAILED`, `TIMED_OUT` or `ABORTED`.
        output: The parsed final output (None unless it succeeded).
        error: The error name of a failed execution.
        cause: The cause of a failed execution.
        history_events: Number of history events, when the peer exposes them cheaply.
        virtual_seconds: Time from the first to the last history event, as the peer's clock
            saw it (the engine's clock is virtual).
        internal_seconds: The peer's own account of the run (moto: stopDate - startDate, in
            milliseconds resolution), which leaves out the API round trips.
    """

    status: str
    output: JSON
    error: str | None = None
    cause: str | None = None
    history_events: int | None = None
    virtual_seconds: float | None = None
    internal_seconds: float | None = None


class Prepared(Protocol):
    """A machine made ready on one peer: `execute` is timed, `outcome` is not."""

    def execute(self) -> object:
        """Run one execution to completion and return the peer's raw result."""
        ...

    def outcome(self, raw: object) -> Outcome:
        """Turn a raw result of `execute` into an `Outcome` (not timed)."""
        ...


class Peer(Protocol):
    """Something that runs ASL state machines."""

    @property
    def name(self) -> str:
        """Short name used in reports (`engine`, `moto`)."""
        ...

    def supports(self, machine: BenchMachine) -> str | None:
        """None when the peer can run `machine`, else the reason it cannot."""
        ...

    def prepare(self, machine: BenchMachine) -> Prepared:
        """Create what the peer needs to run `machine` repeatedly."""
        ...


@runtime_checkable
class SelfTimedPeer(Protocol):
    """A peer that times executions itself (in another process), within a budget."""

    @property
    def name(self) -> str:
        """Short name used in reports."""
        ...

    def supports(self, machine: BenchMachine) -> str | None:
        """None when the peer can run `machine`, else the reason it cannot."""
        ...

    def measure(self, machine: BenchMachine, budget: Budget) -> PeerResult:
        """Time `machine` within `budget` and check its output."""
        ...


# --- the embedded engine -----------------------------------------------------------------


class EngineExecution(Protocol):
    """What the engine facade's `run` returns (the names the bars use)."""

    @property
    def status(self) -> Any:
        """Final status (a string or a string-valued enum)."""

    @property
    def output(self) -> Any:
        """Final output, as JSON text or already parsed."""

    @property
    def error(self) -> Any:
        """Error name of a failed execution."""

    @property
    def cause(self) -> Any:
        """Cause of a failed execution."""

    @property
    def history(self) -> Any:
        """`GetExecutionHistory` events (dicts with `timestamp`)."""


class EngineFacade(Protocol):
    """`stepsaga.infra.local.LocalStepFunctions` as the bench uses it."""

    def register_lambda(self, name: str, handler: Callable[..., Any], /) -> Any:
        """Make `handler` answer invocations of function `name`."""

    def run(self, definition: Any, input: Any, /) -> EngineExecution:
        """Run `definition` on `input` to completion."""


def load_engine() -> Callable[[], EngineFacade] | str:
    """The engine facade's constructor, or why it cannot be used yet.

    The engine is built alongside the bench; until `stepsaga.infra.local.stepfunctions` exports
    a working `LocalStepFunctions`, the bench reports that plainly instead of failing.
    """
    try:
        module = importlib.import_module("stepsaga.infra.local.stepfunctions")
    except Exception as exc:  # the engine package is mid-build; report, don't crash
        return f"infra.local does not import: {type(exc).__name__}: {exc}"
    factory = getattr(module, "LocalStepFunctions", None)
    if factory is None:
        return "the embedded engine is not built yet (infra.local has no LocalStepFunctions)"
    return cast("Callable[[], EngineFacade]", factory)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return str(getattr(value, "value", value))


def _parsed(value: Any) -> JSON:
    if isinstance(value, str | bytes):
        return json.loads(value)
    return value


def _virtual_seconds(history: Any) -> float | None:
    if not history:
        return None
    first, last = history[0].get("timestamp"), history[-1].get("timestamp")
    if first is None or last is None:
        return None
    return float((last - first).total_seconds())


class _EnginePrepared:
    def __init__(self, sfn: EngineFacade, machine: BenchMachine) -> None:
        self._sfn = sfn
        self._definition = machine.definition
        self._input = machine.input

    def execute(self) -> object:
        return self._sfn.run(self._definition, self._input)

    def outcome(self, raw: object) -> Outcome:
        execution = cast(EngineExecution, raw)
        status = _text(execution.status) or "UNKNOWN"
        history = execution.history
        return Outcome(
            status=status,
            output=_parsed(execution.output) if status == "SUCCEEDED" else None,
            error=_text(execution.error),
            cause=_text(execution.cause),
            history_events=len(history) if history is not None else None,
            virtual_seconds=_virtual_seconds(history),
        )


class EnginePeer:
    """The embedded engine, driven through its Python facade.

    Args:
        sfn: A `LocalStepFunctions` (virtual clock). The bench's Lambda handler is
            registered on it.
    """

    name = ENGINE

    def __init__(self, sfn: EngineFacade) -> None:
        self._sfn = sfn
        sfn.register_lambda(BENCH_STEP_FUNCTION, bench_step_handler)

    def supports(self, machine: BenchMachine) -> str | None:
        return None

    def prepare(self, machine: BenchMachine) -> Prepared:
        return _EnginePrepared(self._sfn, machine)


# --- moto ---------------------------------------------------------------------------------


@contextlib.contextmanager
def moto_stepfunctions() -> Iterator[SFNClient]:
    """A boto3 Step Functions client on moto's ASL parser, in process.

    moto runs each execution on its own threads and sleeps in real time for Waits and
    retries; its own error logging is silenced for the duration (the benchmarks fail on
    purpose).
    """
    import boto3
    from moto import mock_aws

    logger = logging.getLogger("moto")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
            yield boto3.client(
                "stepfunctions",
                region_name=_REGION,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
    finally:
        logger.setLevel(level)


class _MotoPrepared:
    def __init__(self, client: SFNClient, arn: str, machine: BenchMachine, timeout: float) -> None:
        self._client = client
        self._arn = arn
        self._input = json.dumps(machine.input)
        self._names = (f"run-{n}" for n in itertools.count())
        self._timeout = timeout

    def execute(self) -> object:
        client = self._client
        execution_arn = client.start_execution(
            stateMachineArn=self._arn, name=next(self._names), input=self._input
        )["executionArn"]
        # Polling competes with moto's worker threads for the GIL: start fine, back off,
        # and cap the interval so the overshoot stays a small share of a run.
        interval = 0.001
        deadline = time.monotonic() + self._timeout
        while True:
            described = client.describe_execution(executionArn=execution_arn)
            if described["status"] != "RUNNING":
                return described
            if time.monotonic() > deadline:
                raise TimeoutError(f"moto execution {execution_arn} still RUNNING")
            time.sleep(interval)
            interval = min(interval * 1.5, 0.005)

    def outcome(self, raw: object) -> Outcome:
        described = cast(dict[str, Any], raw)
        status = str(described["status"])
        start, stop = described.get("startDate"), described.get("stopDate")
        internal = (stop - start).total_seconds() if start and stop else None
        output = described.get("output")
        return Outcome(
            status=status,
            output=json.loads(output) if status == "SUCCEEDED" and output else None,
            error=described.get("error"),
            cause=described.get("cause"),
            internal_seconds=internal,
        )


class MotoPeer:
    """moto's Step Functions parser, driven through a boto3 client.

    Args:
        client: A `stepfunctions` client inside `mock_aws(config={"stepfunctions":
            {"execute_state_machine": True}})` (see `moto_stepfunctions`).
        timeout: Seconds to wait for one execution before giving up.
    """

    name = MOTO

    def __init__(self, client: SFNClient, timeout: float = 120.0) -> None:
        self._client = client
        self._timeout = timeout

    def supports(self, machine: BenchMachine) -> str | None:
        if machine.needs_lambda:
            return "moto runs Lambda functions only in Docker"
        return None

    def prepare(self, machine: BenchMachine) -> Prepared:
        arn = self._client.create_state_machine(
            name=f"bench-{machine.name}",
            definition=json.dumps(machine.definition),
            roleArn=_ROLE_ARN,
        )["stateMachineArn"]
        return _MotoPrepared(self._client, arn, machine, self._timeout)
