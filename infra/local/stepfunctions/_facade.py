"""The Python facade: register handlers, start and drive executions, answer their callbacks."""

from __future__ import annotations

import copy
import json
import logging
import math
import os
import random
import threading
from collections import deque
from collections.abc import Mapping
from datetime import datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

from stepsaga.infra.local.stepfunctions._callbacks import (
    Activity,
    ActivityTask,
    Callbacks,
    PendingTask,
)
from stepsaga.infra.local.stepfunctions._clock import DEFAULT_START, ClockMode, make_clock
from stepsaga.infra.local.stepfunctions._errors import (
    ApiError,
    DefinitionError,
    ExecutionAlreadyExists,
    ExecutionDoesNotExist,
    ExecutionStillWaiting,
    InvalidExecutionInput,
    InvalidOutput,
)
from stepsaga.infra.local.stepfunctions._execution import EngineCore, Execution, Run
from stepsaga.infra.local.stepfunctions._history import History
from stepsaga.infra.local.stepfunctions._integrations import TaskIntegrations, uuid4
from stepsaga.infra.local.stepfunctions._observe import observers
from stepsaga.infra.local.stepfunctions._plan import MachinePlan, compile_machine
from stepsaga.infra.local.stepfunctions._scheduler import Jump, Scheduler
from stepsaga.infra.local.stepfunctions._tasks import LambdaHandler, TaskMock, TaskOutcome
from stepsaga.workflows.asl import StateMachine

if TYPE_CHECKING:
    from botocore.config import Config
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_stepfunctions import SFNClient

    from stepsaga.infra.local.stepfunctions.api import StepFunctionsApi

DEFAULT_ROLE_ARN = "arn:aws:iam::123456789012:role/stepsaga-local"

_log = logging.getLogger(__name__)


class SupportsToDict(Protocol):
    """An ASL model that renders its definition (``stepsaga.workflows.asl.StateMachine``)."""

    def to_dict(self) -> Mapping[str, Any]: ...


Definition = Mapping[str, Any] | str | StateMachine | SupportsToDict
"""A definition: a dict, JSON text, or an ASL model."""


class LocalStepFunctions:
    """An embedded Step Functions engine (JSONPath and JSONata ASL) on a clock of its own.

    Example::

        sfn = LocalStepFunctions()
        sfn.register_lambda("reserve", lambda event, context: {"ok": True})
        ex = sfn.run(definition, {"orderId": "o-1"})
        assert ex.status == "SUCCEEDED"

    Args:
        seed: seeds everything random (execution names, request ids, task tokens, jitter,
            States.UUID and States.MathRandom), so runs are reproducible.
        clock: ``"virtual"`` (tests: time jumps when run(), wait() or advance() drive it),
            ``"server"`` (``stepsaga local``: time jumps past Waits and back-off, a waiting
            task's timeouts run in real time) or ``"real"`` (demos: everything takes real
            time). See the package docstring.
        time_scale: with the server clock, virtual seconds per wall-clock second.
        start_time: the virtual clock's first instant.
        region: the region in ARNs and history events.
        account_id: the account in ARNs.
        role_arn: the execution role ARN shown in ExecutionStarted.
        lambda_endpoint: call Lambda functions over the Invoke HTTP API at this URL instead of
            registered handlers (default: env ``LAMBDA_ENDPOINT``).
        lambda_client: a boto3 ``lambda`` client to use for that (built for the endpoint when
            omitted).
        max_retained_executions: how many closed executions :attr:`executions` keeps (oldest
            are dropped first; running ones are always kept), bounding memory for long test
            sessions and benchmarks.

    Executions share the engine's one clock: on the virtual clock each starts at the instant
    the previous call left it, so a sequence of runs is reproducible as a whole. One engine
    may be used from several threads: a lock serialises its calls (and the Lambda handlers it
    runs for them).
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        clock: ClockMode = "virtual",
        time_scale: float = 1.0,
        start_time: datetime = DEFAULT_START,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        role_arn: str = DEFAULT_ROLE_ARN,
        lambda_endpoint: str | None = None,
        lambda_client: LambdaClient | None = None,
        max_retained_executions: int = 1000,
    ) -> None:
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._rng = random.Random(seed)
        self._mode = clock
        self._clock = make_clock(clock, start_time, time_scale)
        self._scheduler = Scheduler(self._clock)
        self._callbacks = Callbacks()
        endpoint = lambda_endpoint or os.environ.get("LAMBDA_ENDPOINT")
        if lambda_client is None and endpoint:
            import boto3

            lambda_client = boto3.client("lambda", endpoint_url=endpoint, region_name=region)
        self._integrations = TaskIntegrations(
            self._clock, self._rng, region, account_id, lambda_client
        )
        self._core = EngineCore(
            self._scheduler,
            self._callbacks,
            self._integrations,
            self._rng,
            region,
            account_id,
            role_arn,
            self._closing,
        )
        self._arn_prefix = f"arn:aws:states:{region}:{account_id}"
        self._plans: dict[int, tuple[Any, MachinePlan]] = {}
        self._by_content: dict[str, MachinePlan] = {}
        self._executions: dict[str, Execution] = {}
        self._runs: dict[str, Run] = {}
        self._closed: deque[str] = deque()
        self._max_retained = max_retained_executions
        self._just_closed: list[Execution] = []
        self._driving = False
        self._driver: threading.Thread | None = None
        self._shut = False
        self._api: StepFunctionsApi | None = None

    # -- configuration -------------------------------------------------------------------

    @property
    def region(self) -> str:
        """The region in ARNs and history events."""
        return self._core.region

    @property
    def account_id(self) -> str:
        """The account in ARNs."""
        return self._core.account_id

    @property
    def role_arn(self) -> str:
        """The execution role ARN shown in ExecutionStarted."""
        return self._core.role_arn

    def register_lambda(self, name_or_arn: str, handler: LambdaHandler) -> None:
        """Answer invocations of a function (by name, partial or full ARN) with ``handler``."""
        with self._lock:
            self._integrations.register_lambda(name_or_arn, handler)

    def mock_tasks(self, mock: TaskMock | None) -> None:
        """Answer Task attempts with ``mock`` first (None from it lets the attempt through).

        This is the fault-injection hook: return :meth:`TaskOutcome.failure` to make a step
        fail, :meth:`TaskOutcome.timeout` to time it out, or a success with a canned result
        (see also :class:`TaskFault` and :class:`MockConfig`). Pass None to remove the mock.
        """
        with self._lock:
            self._integrations.mock = mock

    # -- the Step Functions API -------------------------------------------------------------

    @property
    def api(self) -> StepFunctionsApi:
        """The Step Functions API this engine serves (one per engine, made on first use).

        Its state machines, activities and tags are shared by every :meth:`client` of the
        engine; ``api.mock_config`` is the MockConfigFile whose test cases
        ``stateMachineArn#TestCase`` chooses.
        """
        with self._lock:
            if self._api is None:
                from stepsaga.infra.local.stepfunctions.api import StepFunctionsApi

                self._api = StepFunctionsApi(self)
            return self._api

    def client(self, config: Config | None = None) -> SFNClient:
        """A boto3 ``stepfunctions`` client whose every request this engine answers, in-process.

        No socket is opened and no AWS configuration is read: the client has fake
        credentials, the engine's region and an endpoint that is never reached. Executions
        run on the engine's clock (see :class:`~stepsaga.infra.local.stepfunctions.api.
        StepFunctionsApi` for how polls let virtual time pass)::

            sfn = LocalStepFunctions()
            client = sfn.client()
            arn = client.create_state_machine(name="M", definition=asl, roleArn=role)[
                "stateMachineArn"
            ]
            client.start_execution(stateMachineArn=arn, input="{}")

        Args:
            config: botocore configuration merged over the client's own (e.g.
                ``Config(parameter_validation=False)`` to see the engine's own validation).
        """
        from stepsaga.infra.local.stepfunctions.api import in_process_client

        return in_process_client(self.api, config)

    # -- definitions ---------------------------------------------------------------------

    def compile(self, definition: Definition) -> MachinePlan:
        """Validate a definition once and compile its execution plan (cached).

        Args:
            definition: a dict, JSON text, or an ASL model. A ``StateMachine``
                (``stepsaga.workflows.asl``, a compiled saga) was validated when it was built
                and is not validated again.

        Raises:
            DefinitionError: the definition is invalid or uses what the engine cannot run.
        """
        with self._lock:
            return self._compile(definition)

    def _compile(self, definition: Definition) -> MachinePlan:
        # Fast path: the same object again (a dict is checked for in-place changes).
        cached = self._plans.get(id(definition))
        if cached is not None and (cached[0] is definition or cached[0] == definition):
            return cached[1]
        if isinstance(definition, StateMachine):
            plan = compile_machine(definition)
            self._remember(definition, definition, plan)
            return plan
        if isinstance(definition, str):
            try:
                spec: Any = json.loads(definition)
            except ValueError as exc:
                raise DefinitionError(f"a definition must be JSON text: {exc}") from exc
            snapshot: Any = definition
        elif isinstance(definition, Mapping):
            spec = definition
            snapshot = copy.deepcopy(definition)
        elif hasattr(definition, "to_dict"):
            spec = definition.to_dict()
            snapshot = definition  # a model: cached by identity
        else:
            raise DefinitionError("a definition must be a dict, JSON text or an ASL model")
        if not isinstance(spec, Mapping):
            raise DefinitionError("a definition must be a JSON object")
        # Slow path: an equal definition seen before (e.g. `to_dict()` called per run) reuses
        # its plan; only a new one is validated and compiled.
        content = json.dumps(spec, sort_keys=True, default=str)
        known = self._by_content.get(content)
        if known is None:
            known = compile_machine(_validated(spec))
            if len(self._by_content) > 256:
                self._by_content.clear()
            self._by_content[content] = known
        self._remember(definition, snapshot, known)
        return known

    def _remember(self, definition: object, snapshot: object, plan: MachinePlan) -> None:
        if len(self._plans) > 256:
            self._plans.clear()
        self._plans[id(definition)] = (snapshot, plan)

    # -- executions ----------------------------------------------------------------------

    def start(
        self,
        definition: Definition,
        input: Any = None,
        *,
        name: str | None = None,
        state_machine_name: str = "stepsaga-local",
        mock: TaskMock | None = None,
    ) -> Execution:
        """Start an execution and run it until it ends or waits, at this instant.

        On the virtual clock, time moves only in :meth:`run`, :meth:`wait` and
        :meth:`advance`: an execution that waits (a Wait state, a callback, a handler's
        virtual time) is returned RUNNING, to be answered or driven on.

        Args:
            definition: what to run (see :meth:`compile`).
            input: a JSON value, or JSON text; None is ``{}``.
            name: the execution name (default: a UUID from the engine's seed). A name already
                used with the same input gives that execution back (a retried start is
                idempotent); with another input, :class:`ExecutionAlreadyExists`.
            state_machine_name: the machine's name in the ARNs.
            mock: a task mock for this execution only, in place of the engine's
                (``stateMachineArn#TestCase``'s test case, for instance).

        Raises:
            DefinitionError: the definition is invalid or uses what the engine cannot run.
            InvalidExecutionInput: ``input`` is text that is not JSON.
            ExecutionAlreadyExists: ``name`` is taken by an execution with another input.
        """
        with self._lock:
            execution = self._start(definition, input, name, state_machine_name, mock)
            self._settle()
            return execution

    def run(
        self,
        definition: Definition,
        input: Any = None,
        *,
        name: str | None = None,
        state_machine_name: str = "stepsaga-local",
    ) -> Execution:
        """Run ``definition`` on ``input`` (a JSON value or JSON text) to its end.

        :meth:`start`, then :meth:`wait`.

        Raises:
            DefinitionError: the definition is invalid or uses what the engine cannot run.
            InvalidExecutionInput: ``input`` is text that is not JSON.
            ExecutionAlreadyExists: ``name`` is taken by an execution with another input.
            ExecutionStillWaiting: on the virtual clock, the execution waits for a callback
                that nothing can send (a task token with no timeout, say).
        """
        with self._lock:
            scheduler = self._scheduler
            outer = scheduler.jump
            if self._mode == "virtual" and not self._driving:
                scheduler.jump = "all"  # started as driven: a Wait is jumped past at once
            try:
                execution = self._start(definition, input, name, state_machine_name, None)
            finally:
                scheduler.jump = outer
            if execution.status != "RUNNING":
                self._announce()
                return execution
            return self._wait(execution)

    def _start_through_api(
        self,
        definition: Definition,
        input: Any,
        name: str,
        state_machine_name: str,
        mock: TaskMock | None,
        arn: str,
        role_arn: str,
    ) -> Execution:
        """:meth:`start` for the Step Functions API, which names the execution's ARN itself.

        The API applies AWS's rules for reused names before it calls this (they are stricter
        than :meth:`start`'s), and gives Express executions their own ARNs.
        """
        with self._lock:
            execution = self._start(
                definition, input, name, state_machine_name, mock, arn=arn, role_arn=role_arn
            )
            self._settle()
            return execution

    def _start(
        self,
        definition: Definition,
        input: Any,
        name: str | None,
        state_machine_name: str,
        mock: TaskMock | None,
        *,
        arn: str | None = None,
        role_arn: str | None = None,
    ) -> Execution:
        plan = self._compile(definition)
        if isinstance(input, str):
            try:
                value = json.loads(input)
            except ValueError as exc:
                raise InvalidExecutionInput(str(exc)) from None
        else:
            value = {} if input is None else input
        if name is None:
            name = uuid4(self._rng)
        prefix = self._arn_prefix
        if arn is None:
            arn = f"{prefix}:execution:{state_machine_name}:{name}"
        existing = self._executions.get(arn)
        if existing is not None:
            if _canonical(existing.input) == _canonical(value):
                return existing
            raise ExecutionAlreadyExists(name, arn)
        execution = Execution(
            arn,
            name,
            f"{prefix}:stateMachine:{state_machine_name}",
            plan.machine,
            value,
            self._clock.now(),
            History(),
            self._lock,
        )
        run = Run(self._core, plan, execution, state_machine_name, mock, role_arn)
        self._executions[arn] = execution
        self._runs[arn] = run
        run.start()
        if self._mode != "virtual" and self._driver is None:
            self._driver = threading.Thread(
                target=self._drive_in_background, name="stepsaga-engine-timers", daemon=True
            )
            self._driver.start()
        return execution

    def wait(self, execution: Execution | str) -> Execution:
        """Drive an execution to its end and return it.

        On the virtual clock time jumps to every timer in turn (other executions' too), a
        waiting task's own TimeoutSeconds and HeartbeatSeconds included: in-process, nothing
        else could answer it. On the server and real clocks this blocks until the execution
        ends, callbacks from other threads included.

        Raises:
            ExecutionDoesNotExist: no execution has this ARN.
            ExecutionStillWaiting: on the virtual clock, the execution still waits for a
                callback with nothing left to end the wait.
        """
        with self._lock:
            return self._wait(self._execution(execution))

    def _wait(self, execution: Execution) -> Execution:
        try:
            if self._mode == "virtual":
                run = self._runs.get(execution.arn)
                if run is not None:
                    self._progress(jump="all", done=lambda: run.closed)
                if not execution.closed:
                    assert run is not None
                    wait = run.top.wait if run.top is not None else None
                    waits = tuple(wait.describe()) if wait is not None else ()
                    raise ExecutionStillWaiting(execution.arn, waits)
                return execution
            while not execution.closed:
                delay = self._progress(jump="unprotected", done=lambda: execution.closed)
                if execution.closed:
                    break
                self._announce()
                self._changed.wait(None if delay is None or math.isinf(delay) else delay)
            return execution
        finally:
            self._announce()

    def advance(self, seconds: float | None = None) -> None:
        """Let time pass on the virtual clock (or the server's): ``seconds``, or all of it.

        Timers due meanwhile fire in order, a waiting task's timeout and heartbeat included.
        With None, time moves until no timer is left (an execution that loops on Wait states
        forever never lets that happen).

        Raises:
            ApiError: the engine's clock is the real one, which cannot be moved.
        """
        with self._lock:
            if not self._clock.jumps:
                raise ApiError("advance(): the real clock cannot be moved; use clock='virtual'")
            try:
                if seconds is None:
                    self._progress(jump="all")
                else:
                    horizon = self._clock.now() + timedelta(seconds=seconds)
                    self._progress(jump="all", horizon=horizon)
                    self._clock.jump_to(horizon)
                    self._progress(jump="none")
            finally:
                self._announce()

    def _poll_tick(self) -> None:
        """A poll's worth of time on the virtual clock (the Step Functions API's reads).

        When nothing can run now, the clock jumps to the next timer if it ends no wait on the
        outside world (a Wait state, a retry's back-off), and what is due then runs: time
        passes between two polls as it would on AWS, one timer per poll, so a machine that
        polls for something the test does next cannot run away. A waiting task's own timeout
        is left to :meth:`advance`. The server and real clocks' time passes by itself.
        """
        with self._lock:
            if self._mode != "virtual" or self._driving:
                return
            self._settle()
            timer = self._scheduler.next_timer()
            if timer is None or (timer.protected is not None and timer.protected()):
                return
            try:
                self._progress(jump="unprotected", horizon=timer.at)
            finally:
                self._announce()

    def now(self) -> datetime:
        """The engine's current instant."""
        with self._lock:
            return self._clock.now()

    def describe_execution(self, arn: str) -> Execution:
        """The execution with this ARN (running, or among the retained closed ones).

        Raises:
            ExecutionDoesNotExist: no execution has this ARN.
        """
        with self._lock:
            return self._execution(arn)

    def stop_execution(
        self, arn: str, *, error: str | None = None, cause: str | None = None
    ) -> Execution:
        """Stop a running execution: ABORTED, its history closed by ExecutionAborted.

        Stopping an execution that has ended already changes nothing.

        Raises:
            ExecutionDoesNotExist: no execution has this ARN.
        """
        with self._lock:
            execution = self._execution(arn)
            run = self._runs.get(execution.arn)
            if run is not None:
                run.abort(error, cause)
                self._settle()
            return execution

    @property
    def executions(self) -> list[Execution]:
        """The running executions and the most recent closed ones, oldest first."""
        with self._lock:
            return list(self._executions.values())

    def _execution(self, execution: Execution | str) -> Execution:
        arn = execution if isinstance(execution, str) else execution.arn
        found = self._executions.get(arn)
        if found is None:
            raise ExecutionDoesNotExist(arn)
        return found

    # -- callbacks -----------------------------------------------------------------------

    def send_task_success(self, token: str, output: Any) -> None:
        """Answer a waiting task: its result is ``output`` (a JSON value, or JSON text).

        The execution goes on at once, until it ends or waits again.

        Raises:
            InvalidToken: ``token`` is not a task token.
            TaskDoesNotExist: no task was given ``token``.
            TaskTimedOut: its task is closed (answered already, timed out, or its execution
                ended).
            InvalidOutput: ``output`` is text that is not JSON.
        """
        with self._lock:
            wait = self._callbacks.find(token)
            if isinstance(output, str):
                try:
                    output = json.loads(output)
                except ValueError as exc:
                    raise InvalidOutput(token, f"not JSON text ({exc})") from None
            wait.resolve(TaskOutcome.success(output), "it was answered (SendTaskSuccess)")
            self._settle()

    def send_task_failure(
        self, token: str, *, error: str | None = None, cause: str | None = None
    ) -> None:
        """Fail a waiting task with ``error`` and ``cause`` (either may be left out).

        Raises:
            InvalidToken: ``token`` is not a task token.
            TaskDoesNotExist: no task was given ``token``.
            TaskTimedOut: its task is closed.
        """
        with self._lock:
            wait = self._callbacks.find(token)
            wait.resolve(TaskOutcome.failure(error, cause), "it was answered (SendTaskFailure)")
            self._settle()

    def send_task_heartbeat(self, token: str) -> None:
        """Tell a waiting task its worker is alive: its HeartbeatSeconds start again.

        Raises:
            InvalidToken: ``token`` is not a task token.
            TaskDoesNotExist: no task was given ``token``.
            TaskTimedOut: its task is closed.
        """
        with self._lock:
            self._callbacks.find(token).beat(self._clock.now())
            self._settle()

    def pending_tasks(self, execution: Execution | str | None = None) -> list[PendingTask]:
        """The Tasks waiting for their callbacks (of one execution, or all), oldest first."""
        with self._lock:
            arn = None if execution is None else self._execution(execution).arn
            return self._callbacks.pending(arn)

    # -- activities ----------------------------------------------------------------------

    def create_activity(self, name: str) -> Activity:
        """Create an activity (creating it again returns the same one, as on AWS)."""
        with self._lock:
            arn = f"arn:aws:states:{self.region}:{self.account_id}:activity:{name}"
            return self._callbacks.create_activity(arn, name, self._clock.now())

    def delete_activity(self, arn: str) -> None:
        """Delete an activity: executions started later fail on it (States.Runtime).

        Raises:
            ActivityDoesNotExist: no activity has this ARN.
        """
        with self._lock:
            self._callbacks.delete_activity(arn)

    def get_activity_task(self, arn: str, worker_name: str | None = None) -> ActivityTask | None:
        """Take the oldest task waiting on the activity (None when there is none).

        The task's execution records ActivityStarted (with ``worker_name``); answer with
        :meth:`send_task_success` / :meth:`send_task_failure` and its token, and send
        heartbeats if the state has HeartbeatSeconds.

        Raises:
            ActivityDoesNotExist: no activity has this ARN.
        """
        with self._lock:
            task = self._callbacks.take(arn, worker_name, self._clock.now())
            self._settle()
            return task

    @property
    def activities(self) -> list[Activity]:
        """Every activity, oldest first."""
        with self._lock:
            return self._callbacks.activities()

    # -- driving ---------------------------------------------------------------------------

    def _progress(
        self,
        *,
        jump: Jump,
        done: Any = None,
        horizon: datetime | None = None,
    ) -> float | None:
        if self._driving:  # a handler called the engine: the drive under way continues
            return None
        self._driving = True
        try:
            return self._scheduler.progress(jump=jump, done=done, horizon=horizon)
        finally:
            self._driving = False

    def _settle(self) -> None:
        """Run what can run at this instant (time moves in wait() and advance()), then tell."""
        try:
            self._progress(jump="none")
        finally:
            self._announce()

    def _closing(self, run: Run) -> None:
        arn = run.execution_arn
        self._runs.pop(arn, None)
        self._closed.append(arn)
        while len(self._closed) > self._max_retained:
            self._executions.pop(self._closed.popleft(), None)
        if observers():
            self._just_closed.append(run.execution)

    def _announce(self) -> None:
        """Wake threads waiting on the engine; call the observers of executions just closed."""
        if self._driving:
            return
        if self._mode != "virtual":  # only the server and real clocks have threads waiting
            self._changed.notify_all()
        while self._just_closed:
            closed, self._just_closed = self._just_closed, []
            for execution in closed:
                for observer in observers():
                    observer(execution)

    def _drive_in_background(self) -> None:
        """The server and real clocks' timers: fire each when its time comes."""
        with self._changed:
            while not self._shut:
                delay = self._progress(jump="unprotected")
                try:
                    self._announce()
                except Exception:
                    _log.exception("an execution observer failed")
                self._changed.wait(None if delay is None or math.isinf(delay) else delay)

    def close(self) -> None:
        """Stop the engine's timer thread (server and real clocks); executions stay as they are."""
        with self._lock:
            self._shut = True
            self._changed.notify_all()
            driver = self._driver
        if driver is not None and driver is not threading.current_thread():
            driver.join()

    def __enter__(self) -> LocalStepFunctions:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _canonical(value: Any) -> str:
    # Compared as JSON text: in Python 1 == 1.0 == True, in JSON they differ.
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _validated(spec: Mapping[str, Any]) -> StateMachine:
    """Validate with the ASL model, as AWS validates a definition before it runs it."""
    from stepsaga.workflows.asl import ASLValidationError, parse_definition

    try:
        return parse_definition(spec)
    except ASLValidationError as exc:
        pointer = exc.problems[0].pointer if exc.problems else ""
        raise DefinitionError(str(exc), pointer=pointer) from exc
