"""The Step Functions API's two paths, each against moto's: boto3 in-process, and over HTTP.

- In-process: the engine's own boto3 client (`LocalStepFunctions().client()`, answered
  without a socket) against moto through boto3 (`mock_aws`).
- Over HTTP: `stepsaga local` (`local_endpoint`, the server clock) against moto's server
  (`ThreadedMotoServer`), each on 127.0.0.1 in a process of its own, as users run them
  (`_server_process`), each reached by the same signed boto3 client. In this process, the
  server's threads would contend with the client for the GIL and every request would wait
  for the interpreter's switch interval: that would measure the bench, not the servers.

Both sides run the 6-state chain and the Lambda machine through the same loop (`ClientPeer`:
StartExecution, then DescribeExecution until the execution ends), every output checked
before its time counts. moto runs Lambda functions only in Docker, so for the Lambda machine
it runs the machine's stand-in (`lambda_stand_in`: Pass states giving the same output, no
function invoked), a lower bound of its time; the report says so.

A callback round trip (StartExecution of a `.waitForTaskToken` task; GetExecutionHistory
until the task is scheduled, for its token; SendTaskSuccess; DescribeExecution until the
execution ends) is timed on both of the engine's paths and reported per second. moto has no
figure for it: its `.waitForTaskToken` needs a Lambda function, in Docker.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stepsaga.infra.bench._machines import (
    BENCH_STEP_FUNCTION,
    CALLBACK_FUNCTION,
    JSON,
    BenchMachine,
    acknowledge_handler,
    bench_step_handler,
    callback_definition,
)
from stepsaga.infra.bench._peers import (
    MOTO,
    MOTO_LAMBDA,
    ClientPeer,
    moto_stepfunctions,
)
from stepsaga.infra.bench._report import Budget, PeerResult, Timing
from stepsaga.infra.local.stepfunctions import LocalStepFunctions

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

    from stepsaga.infra.bench._runner import BenchOptions, _Steps

#: The machines both paths run.
API_MACHINES = ("chain", "tasks")
#: Peer names.
ENGINE_CLIENT = "engine-boto3"
STEPSAGA_LOCAL = "stepsaga-local"
MOTO_SERVER = "moto-server"
#: The two paths.
IN_PROCESS = "in-process"
HTTP = "http"
#: The issue's bars: the boto3 in-process path ≥ 20× moto through boto3 on the chain, and
#: `stepsaga local` ≥ 5× moto's server on it.
IN_PROCESS_RATIO_TARGET = 20.0
HTTP_RATIO_TARGET = 5.0
_ROLE_ARN = "arn:aws:iam::123456789012:role/stepsaga-bench"
_REGION = "us-east-1"
# How long a callback round trip may take before the bench calls it a problem.
_CALLBACK_TIMEOUT_SECONDS = 30.0
# How long a server process may take to stop, or its configuration to answer.
_STOP_SECONDS = 10.0


@dataclass(frozen=True)
class Comparison:
    """One machine on one path: the engine's side and moto's.

    Attributes:
        path: `in-process` or `http`.
        machine: The machine.
        ours: The engine's client (`engine-boto3`) or `stepsaga-local`.
        theirs: moto through boto3 (`moto`) or moto's server (`moto-server`).
    """

    path: str
    machine: BenchMachine
    ours: PeerResult
    theirs: PeerResult

    @property
    def ratio(self) -> float | None:
        """The ratio of moto's median time per execution to ours, when both are correct."""
        if not (self.ours.correct and self.theirs.correct):
            return None
        assert self.ours.timing is not None and self.theirs.timing is not None
        return self.theirs.timing.median / self.ours.timing.median

    def to_json(self) -> dict[str, JSON]:
        """The JSON form."""
        ratio = self.ratio
        return {
            "path": self.path,
            "machine": self.machine.name,
            "ours": self.ours.to_json(),
            "theirs": self.theirs.to_json(),
            "ratio_theirs_over_ours": None if ratio is None else round(ratio, 1),
        }


@dataclass(frozen=True)
class CallbackResult:
    """Callback round trips on one path: start, the token, SendTaskSuccess, done.

    Attributes:
        path: `in-process` or `http`.
        timing: Wall time per round trip (None when none completed).
        problem: The first thing wrong with a round trip (a wrong output, a lost token).
    """

    path: str
    timing: Timing | None
    problem: str | None = None

    @property
    def per_second(self) -> float | None:
        """Round trips per second, from the mean time of one."""
        return None if self.timing is None else 1.0 / self.timing.mean

    def to_json(self) -> dict[str, JSON]:
        """The JSON form."""
        per_second = self.per_second
        return {
            "path": self.path,
            "problem": self.problem,
            "round_trips_per_second": None if per_second is None else round(per_second, 1),
            **(self.timing.to_json() if self.timing is not None else {}),
        }


@dataclass(frozen=True)
class ApiResult:
    """The API's paths against moto's, and the callback round trips.

    Attributes:
        comparisons: Each machine on each path.
        callbacks: The round trips, per path.
        problem: What kept a path from being measured at all (moto's server not starting).
    """

    comparisons: tuple[Comparison, ...]
    callbacks: tuple[CallbackResult, ...]
    problem: str | None = None

    @property
    def correct(self) -> bool:
        """Every execution on every side gave the expected output, and nothing failed."""
        return (
            self.problem is None
            and all(c.ours.correct and c.theirs.correct for c in self.comparisons)
            and all(callback.problem is None for callback in self.callbacks)
        )

    def ratio(self, path: str, machine: str) -> float | None:
        """The ratio for `machine` on `path` (None: not measured, or an output was wrong)."""
        for comparison in self.comparisons:
            if comparison.path == path and comparison.machine.name == machine:
                return comparison.ratio
        return None

    def targets(self) -> dict[str, bool | None]:
        """The issue's two bars and whether they were met (None: not measured)."""
        in_process = self.ratio(IN_PROCESS, "chain")
        http = self.ratio(HTTP, "chain")
        return {
            "boto3_chain_at_least_20x_moto": None
            if in_process is None
            else in_process >= IN_PROCESS_RATIO_TARGET,
            "http_chain_at_least_5x_moto_server": None
            if http is None
            else http >= HTTP_RATIO_TARGET,
        }

    def to_json(self) -> dict[str, JSON]:
        """The JSON form."""
        return {
            "comparisons": [comparison.to_json() for comparison in self.comparisons],
            "callbacks": [callback.to_json() for callback in self.callbacks],
            "problem": self.problem,
            "correct": self.correct,
        }


def http_client(url: str) -> SFNClient:
    """A boto3 client of the endpoint at `url`, signed with fake credentials as a user's is."""
    import boto3

    client: SFNClient = boto3.client(
        "stepfunctions",
        endpoint_url=url,
        region_name=_REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    return client


@contextlib.contextmanager
def server_process(endpoint: str) -> Iterator[str]:
    """`endpoint` (`local` or `moto`) served by a process of its own; yields its URL.

    Raises:
        OSError: the process did not start serving (its error output says why).
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "stepsaga.infra.bench._server_process", endpoint],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        url = process.stdout.readline().strip()
        if not url.startswith("http://"):
            process.kill()
            _, err = process.communicate(timeout=_STOP_SECONDS)
            raise OSError(f"the {endpoint} server did not start: {err.strip()[-500:]}")
        yield url
    finally:
        if process.poll() is None:
            process.stdin.close()  # the server's cue to stop
            try:
                process.wait(timeout=_STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _execute_state_machines(moto_url: str) -> None:
    """Tell moto's server to run executions (`/moto-api/config`), as a user of it does."""
    body = json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode()
    request = urllib.request.Request(f"{moto_url}/moto-api/config", data=body)
    with urllib.request.urlopen(request, timeout=_STOP_SECONDS) as answer:
        answer.read()


def _token(client: SFNClient, execution_arn: str, deadline: float) -> str:
    """The task token of the execution's scheduled task, from its history."""
    while True:
        for event in client.get_execution_history(executionArn=execution_arn)["events"]:
            if event["type"] == "TaskScheduled":
                parameters = json.loads(event["taskScheduledEventDetails"]["parameters"])
                token: str = parameters["Payload"]["token"]
                return token
        if time.monotonic() > deadline:
            raise TimeoutError(f"execution {execution_arn} scheduled no task")
        time.sleep(0.0005)


def _done(client: SFNClient, execution_arn: str, deadline: float) -> dict[str, Any]:
    while True:
        described: dict[str, Any] = dict(client.describe_execution(executionArn=execution_arn))
        if described["status"] != "RUNNING":
            return described
        if time.monotonic() > deadline:
            raise TimeoutError(f"execution {execution_arn} still RUNNING")
        time.sleep(0.0005)


def measure_callbacks(path: str, client: SFNClient, budget: Budget) -> CallbackResult:
    """Time callback round trips through `client` (its endpoint has `CALLBACK_FUNCTION`).

    Each: StartExecution; GetExecutionHistory until the task is scheduled, for its token (as
    a test reads it); SendTaskSuccess; DescribeExecution until the execution has ended, with
    the answer as its output.
    """
    samples: list[float] = []
    problem: str | None = None
    try:
        arn = client.create_state_machine(
            name="bench-callback", definition=json.dumps(callback_definition()), roleArn=_ROLE_ARN
        )["stateMachineArn"]
        spent = 0.0
        n = 0
        while len(samples) < budget.max_runs and (
            len(samples) < budget.min_runs or spent < budget.seconds
        ):
            started = time.perf_counter()
            deadline = time.monotonic() + _CALLBACK_TIMEOUT_SECONDS
            execution = client.start_execution(stateMachineArn=arn, input=json.dumps({"n": n}))
            token = _token(client, execution["executionArn"], deadline)
            client.send_task_success(taskToken=token, output=json.dumps({"approved": True, "n": n}))
            described = _done(client, execution["executionArn"], deadline)
            elapsed = time.perf_counter() - started
            output = json.loads(described.get("output") or "null")
            if (described["status"], output) != ("SUCCEEDED", {"approved": True, "n": n}):
                problem = problem or (
                    f"round trip {n}: {described['status']} with output {output!r}, "
                    f"expected SUCCEEDED with {{'approved': True, 'n': {n}}}"
                )
            if n >= budget.warmup:
                samples.append(elapsed)
                spent += elapsed
            n += 1
    except Exception as exc:  # reported, like any peer failure
        problem = f"raised {type(exc).__name__}: {exc}"
    return CallbackResult(path, Timing.of(samples) if samples else None, problem)


def run_api(options: BenchOptions, steps: _Steps) -> ApiResult:
    """Both paths on the selected API machines, then the callback round trips.

    `steps` counts `api_steps(options)` steps.
    """
    from stepsaga.infra.bench._runner import time_machine

    machines = api_machines(options)
    comparisons: list[Comparison] = []
    callbacks: list[CallbackResult] = []

    engine = LocalStepFunctions()
    engine.register_lambda(BENCH_STEP_FUNCTION, bench_step_handler)
    ours = ClientPeer(ENGINE_CLIENT, engine.client())
    mine: dict[str, PeerResult] = {}
    for machine in machines:
        with steps.step(f"{machine.name} on {ENGINE_CLIENT}"):
            mine[machine.name] = time_machine(ours, machine, options.budget_for(ENGINE_CLIENT))
    with moto_stepfunctions() as moto_client:
        theirs = ClientPeer(MOTO, moto_client, lambda_stand_in=MOTO_LAMBDA, internal=True)
        for machine in machines:
            with steps.step(f"{machine.name} on {MOTO} (boto3)"):
                result = time_machine(theirs, machine, options.budget_for(MOTO))
            comparisons.append(Comparison(IN_PROCESS, machine, mine[machine.name], result))
    with steps.step("callback round trips, in-process"):
        engine = LocalStepFunctions()
        engine.register_lambda(CALLBACK_FUNCTION, acknowledge_handler)
        budget = options.budget_for(ENGINE_CLIENT)
        callbacks.append(measure_callbacks(IN_PROCESS, engine.client(), budget))

    problem: str | None = None
    try:
        with server_process("local") as url:
            local = ClientPeer(STEPSAGA_LOCAL, http_client(url))
            mine = {}
            for machine in machines:
                with steps.step(f"{machine.name} on {STEPSAGA_LOCAL} (HTTP)"):
                    budget = options.budget_for(STEPSAGA_LOCAL)
                    mine[machine.name] = time_machine(local, machine, budget)
            with steps.step("callback round trips, over HTTP"):
                budget = options.budget_for(STEPSAGA_LOCAL)
                callbacks.append(measure_callbacks(HTTP, http_client(url), budget))
        with server_process("moto") as moto_url:
            _execute_state_machines(moto_url)
            server = ClientPeer(
                MOTO_SERVER, http_client(moto_url), lambda_stand_in=MOTO_LAMBDA, internal=True
            )
            for machine in machines:
                with steps.step(f"{machine.name} on {MOTO_SERVER} (HTTP)"):
                    result = time_machine(server, machine, options.budget_for(MOTO_SERVER))
                comparisons.append(Comparison(HTTP, machine, mine[machine.name], result))
    except OSError as exc:
        problem = str(exc)
    return ApiResult(tuple(comparisons), tuple(callbacks), problem)


def api_machines(options: BenchOptions) -> tuple[BenchMachine, ...]:
    """The selected machines both paths run (none: the API's part is not run)."""
    if not options.api:
        return ()
    return tuple(machine for machine in options.selected() if machine.name in API_MACHINES)


def api_steps(options: BenchOptions) -> int:
    """How many progress steps `run_api` takes under `options`."""
    machines = len(api_machines(options))
    return 4 * machines + 2 if machines else 0
