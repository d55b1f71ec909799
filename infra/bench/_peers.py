"""The peers a benchmark compares: the engine (its facade) and endpoints reached by boto3.

An endpoint reached through a boto3 client (`ClientPeer`) is moto, the engine's own boto3
client, or `stepsaga local`.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast, runtime_checkable

from stepsaga.infra.bench._machines import (
    BENCH_STEP_FUNCTION,
    JSON,
    BenchMachine,
    bench_step_handler,
    lambda_stand_in,
)
from stepsaga.infra.local.stepfunctions import Execution, LocalStepFunctions

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

    from stepsaga.infra.bench._report import Budget, PeerResult

ENGINE = "engine"
MOTO = "moto"
#: Why moto runs no Lambda machine.
MOTO_LAMBDA = "moto runs Lambda functions only in Docker"

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


def _virtual_seconds(history: list[dict[str, Any]]) -> float | None:
    if not history:
        return None
    return float((history[-1]["timestamp"] - history[0]["timestamp"]).total_seconds())


class _EnginePrepared:
    def __init__(self, sfn: LocalStepFunctions, machine: BenchMachine) -> None:
        self._sfn = sfn
        self._definition = machine.definition
        self._input = machine.input

    def execute(self) -> object:
        return self._sfn.run(self._definition, self._input)

    def outcome(self, raw: object) -> Outcome:
        execution = cast(Execution, raw)
        history = execution.history
        return Outcome(
            status=execution.status,
            output=execution.output,
            error=execution.error,
            cause=execution.cause,
            history_events=len(history),
            virtual_seconds=_virtual_seconds(history),
        )


class EnginePeer:
    """The embedded engine, driven through its Python facade.

    Args:
        sfn: A `LocalStepFunctions` (virtual clock). The bench's Lambda handler is
            registered on it.
    """

    name = ENGINE

    def __init__(self, sfn: LocalStepFunctions) -> None:
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


class _ClientPrepared:
    def __init__(
        self,
        client: SFNClient,
        arn: str,
        machine: BenchMachine,
        timeout: float,
        internal: bool,
    ) -> None:
        self._client = client
        self._internal = internal
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
                raise TimeoutError(f"execution {execution_arn} still RUNNING")
            time.sleep(interval)
            interval = min(interval * 1.5, 0.005)

    def outcome(self, raw: object) -> Outcome:
        described = cast(dict[str, Any], raw)
        status = str(described["status"])
        start, stop = described.get("startDate"), described.get("stopDate")
        internal = (stop - start).total_seconds() if self._internal and start and stop else None
        output = described.get("output")
        return Outcome(
            status=status,
            output=json.loads(output) if status == "SUCCEEDED" and output else None,
            error=described.get("error"),
            cause=described.get("cause"),
            internal_seconds=internal,
        )


class ClientPeer:
    """A Step Functions endpoint driven through a boto3 client, as backend code drives one.

    `prepare` creates the state machine once; each execution is a StartExecution, then
    DescribeExecution until the execution is no longer RUNNING (the same loop for every
    endpoint, so that their times compare).

    Args:
        name: The peer's name in reports.
        client: A `stepfunctions` client of the endpoint.
        lambda_stand_in: For an endpoint that cannot run the bench's Lambda function: why,
            and the peer runs a Lambda machine's `lambda_stand_in` instead, saying so (None:
            it runs the machine itself).
        internal: Whether the endpoint's own account of an execution (stopDate - startDate)
            is worth reporting (moto's, on the wall clock; not the engine's virtual one).
        timeout: Seconds to wait for one execution before giving up.
    """

    def __init__(
        self,
        name: str,
        client: SFNClient,
        *,
        lambda_stand_in: str | None = None,
        internal: bool = False,
        timeout: float = 120.0,
    ) -> None:
        self.name = name
        self._client = client
        self._stand_in = lambda_stand_in
        self._internal = internal
        self._timeout = timeout

    def supports(self, machine: BenchMachine) -> str | None:
        return None

    def runs_instead(self, machine: BenchMachine) -> str | None:
        """What the peer runs in place of `machine`, and why (None: the machine itself)."""
        if machine.needs_lambda and self._stand_in is not None:
            return f"ran Pass states in place of the Lambda tasks ({self._stand_in})"
        return None

    def prepare(self, machine: BenchMachine) -> Prepared:
        run = machine
        if self.runs_instead(machine) is not None:
            run = lambda_stand_in(machine)
        arn = self._client.create_state_machine(
            name=f"bench-{run.name}",
            definition=json.dumps(run.definition),
            roleArn=_ROLE_ARN,
        )["stateMachineArn"]
        return _ClientPrepared(self._client, arn, run, self._timeout, self._internal)


class MotoPeer(ClientPeer):
    """moto's Step Functions parser, driven through a boto3 client.

    Args:
        client: A `stepfunctions` client inside `mock_aws(config={"stepfunctions":
            {"execute_state_machine": True}})` (see `moto_stepfunctions`).
        timeout: Seconds to wait for one execution before giving up.
    """

    def __init__(self, client: SFNClient, timeout: float = 120.0) -> None:
        super().__init__(MOTO, client, internal=True, timeout=timeout)

    def supports(self, machine: BenchMachine) -> str | None:
        if machine.needs_lambda:
            return MOTO_LAMBDA
        return None
