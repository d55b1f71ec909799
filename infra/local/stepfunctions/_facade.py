"""The Python facade: register handlers, run definitions, read executions."""

from __future__ import annotations

import copy
import json
import os
import random
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Protocol

from stepsaga.infra.local.stepfunctions._clock import DEFAULT_START, RealClock, VirtualClock
from stepsaga.infra.local.stepfunctions._errors import DefinitionError, ExecutionAlreadyExists
from stepsaga.infra.local.stepfunctions._execution import Run
from stepsaga.infra.local.stepfunctions._history import History, to_json
from stepsaga.infra.local.stepfunctions._plan import GraphPlan, compile_plan
from stepsaga.infra.local.stepfunctions._tasks import (
    HttpLambdaInvoker,
    LambdaContext,
    LambdaHandler,
    TaskCall,
    TaskMock,
    TaskOutcome,
    function_name_of,
    json_copy,
    lambda_error_cause,
)
from stepsaga.workflows import facts

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

DEFAULT_ROLE_ARN = "arn:aws:iam::123456789012:role/stepsaga-local"


class SupportsToDict(Protocol):
    """An ASL model that renders its definition (``stepsaga.workflows.asl.StateMachine``)."""

    def to_dict(self) -> Mapping[str, Any]: ...


@dataclass(eq=False)
class Execution:
    """A finished execution, as DescribeExecution and GetExecutionHistory would show it.

    Attributes:
        arn: the execution ARN.
        name: the execution name.
        state_machine_arn: the ARN of the machine it ran.
        status: ``SUCCEEDED``, ``FAILED`` or ``TIMED_OUT``.
        input: the input, parsed.
        output: the output, parsed (None unless SUCCEEDED).
        error: the error name when it did not succeed.
        cause: the cause text, when there is one.
        start_date: when it started (the engine's clock).
        stop_date: when it stopped.
    """

    arn: str
    name: str
    state_machine_arn: str
    status: str
    input: Any
    output: Any
    error: str | None
    cause: str | None
    start_date: datetime
    stop_date: datetime | None
    _history: History = field(repr=False)

    @property
    def history(self) -> list[dict[str, Any]]:
        """The events as ``get_execution_history()["events"]`` returns them (datetimes).

        Rendered on each read, as a new list: keep it rather than read it in a loop.
        """
        return self._history.render()

    @property
    def event_types(self) -> list[str]:
        """The event types in order (cheaper than :attr:`history`)."""
        return self._history.types()


class LocalStepFunctions:
    """An embedded Step Functions engine (JSONPath and JSONata ASL) on a virtual clock.

    Example::

        sfn = LocalStepFunctions()
        sfn.register_lambda("reserve", lambda event, context: {"ok": True})
        ex = sfn.run(definition, {"orderId": "o-1"})
        assert ex.status == "SUCCEEDED"

    Args:
        seed: seeds everything random (execution names, request ids, jitter, States.UUID and
            States.MathRandom), so runs are reproducible.
        real_time: advance the wall clock instead of the virtual one (Wait states really wait).
        start_time: the virtual clock's first instant.
        region: the region in ARNs and history events.
        account_id: the account in ARNs.
        role_arn: the execution role ARN shown in ExecutionStarted.
        lambda_endpoint: call Lambda functions over the Invoke HTTP API at this URL instead of
            registered handlers (default: env ``LAMBDA_ENDPOINT``).
        lambda_client: a boto3 ``lambda`` client to use for that (built for the endpoint when
            omitted).
        max_retained_executions: how many finished executions :attr:`executions` keeps (oldest
            are dropped first), bounding memory for long test sessions and benchmarks.

    Executions run one after another on one clock: each starts at the instant the previous one
    ended, so a sequence of runs is reproducible as a whole.
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        real_time: bool = False,
        start_time: datetime = DEFAULT_START,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        role_arn: str = DEFAULT_ROLE_ARN,
        lambda_endpoint: str | None = None,
        lambda_client: LambdaClient | None = None,
        max_retained_executions: int = 1000,
    ) -> None:
        self._rng = random.Random(seed)
        self.clock: VirtualClock = RealClock() if real_time else VirtualClock(start_time)
        self.region = region
        self.account_id = account_id
        self.role_arn = role_arn
        self._lambdas: dict[str, LambdaHandler] = {}
        self._mock: TaskMock | None = None
        endpoint = lambda_endpoint or os.environ.get("LAMBDA_ENDPOINT")
        if lambda_client is None and endpoint:
            import boto3

            lambda_client = boto3.client("lambda", endpoint_url=endpoint, region_name=region)
        self._http = None if lambda_client is None else HttpLambdaInvoker(lambda_client)
        self._plans: dict[int, tuple[Any, GraphPlan]] = {}
        self._by_content: dict[str, GraphPlan] = {}
        self._executions: deque[Execution] = deque(maxlen=max_retained_executions)
        # The retained executions by ARN: a name used again is the same execution, or refused.
        self._by_arn: dict[str, Execution] = {}
        self._counter = 0
        self._date_now: datetime | None = None  # see _date_texts
        self._date_second: datetime | None = None
        self._date_cache = ("", "")

    # -- configuration -------------------------------------------------------------------

    def register_lambda(self, name_or_arn: str, handler: LambdaHandler) -> None:
        """Answer invocations of a function (by name, partial or full ARN) with ``handler``."""
        name, _ = function_name_of(name_or_arn)
        self._lambdas[name] = handler
        self._lambdas[name_or_arn] = handler

    def mock_tasks(self, mock: TaskMock | None) -> None:
        """Answer Task attempts with ``mock`` first (None from it lets the attempt through).

        This is the fault-injection hook: return :meth:`TaskOutcome.failure` to make a step
        fail, :meth:`TaskOutcome.timeout` to time it out, or a success with a canned result.
        Pass None to remove the mock.
        """
        self._mock = mock

    # -- running -------------------------------------------------------------------------

    def compile(self, definition: Mapping[str, Any] | str | SupportsToDict) -> GraphPlan:
        """Validate a definition once and compile its execution plan (cached).

        Args:
            definition: a dict, JSON text, or an ASL model (anything with ``to_dict()``, such
                as ``stepsaga.workflows.asl.StateMachine`` or a compiled saga).

        Raises:
            DefinitionError: the definition is invalid or uses what the engine cannot run.
        """
        # Fast path: the same object again (a dict is checked for in-place changes).
        cached = self._plans.get(id(definition))
        if cached is not None and (cached[0] is definition or cached[0] == definition):
            return cached[1]
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
        graph = self._by_content.get(content)
        if graph is None:
            _validate(spec)
            graph = compile_plan(spec)
            if len(self._by_content) > 256:
                self._by_content.clear()
            self._by_content[content] = graph
        if len(self._plans) > 256:
            self._plans.clear()
        self._plans[id(definition)] = (snapshot, graph)
        return graph

    def run(
        self,
        definition: Mapping[str, Any] | str | SupportsToDict,
        input: Any = None,
        *,
        name: str | None = None,
        state_machine_name: str = "stepsaga-local",
    ) -> Execution:
        """Run ``definition`` on ``input`` (a JSON value or JSON text) to completion.

        A ``name`` already used (by a retained execution of this state machine) with the same
        input gives that execution back; with another input, it is refused, as AWS refuses it.

        Raises:
            DefinitionError: the definition is invalid or uses what the engine cannot run.
            ExecutionAlreadyExists: ``name`` is taken by an execution with another input.
        """
        graph = self.compile(definition)
        value = json.loads(input) if isinstance(input, str) else ({} if input is None else input)
        self._counter += 1
        if name is None:
            name = uuid4(self._rng)
        prefix = f"arn:aws:states:{self.region}:{self.account_id}"
        machine_arn = f"{prefix}:stateMachine:{state_machine_name}"
        existing = self._by_arn.get(f"{prefix}:execution:{state_machine_name}:{name}")
        if existing is not None:
            if _canonical(existing.input) == _canonical(value):
                return existing
            raise ExecutionAlreadyExists(name, existing.arn)
        run = Run(
            graph,
            value,
            execution_arn=f"{prefix}:execution:{state_machine_name}:{name}",
            execution_name=name,
            state_machine_arn=machine_arn,
            state_machine_name=state_machine_name,
            role_arn=self.role_arn,
            region=self.region,
            account_id=self.account_id,
            clock=self.clock,
            rng=self._rng,
            invoke=self._invoke,
        ).execute()
        execution = Execution(
            arn=run.execution_arn,
            name=name,
            state_machine_arn=machine_arn,
            status=run.status,
            input=value,
            output=run.output,
            error=run.error,
            cause=run.cause,
            start_date=run.start_time,
            stop_date=run.stop_time,
            _history=run.history,
        )
        if len(self._executions) == self._executions.maxlen:
            self._by_arn.pop(self._executions[0].arn, None)
        self._executions.append(execution)
        self._by_arn[execution.arn] = execution
        return execution

    @property
    def executions(self) -> list[Execution]:
        """The most recent finished executions (at most ``max_retained_executions``)."""
        return list(self._executions)

    # -- task integrations ----------------------------------------------------------------

    def _invoke(self, call: TaskCall, kind: str) -> TaskOutcome:
        if self._mock is not None:
            mocked = self._mock(call)
            if mocked is not None:
                return mocked
        if kind == "lambda-invoke":
            return self._lambda_invoke(call)
        if kind == "lambda-arn":
            return self._lambda_arn(call)
        return TaskOutcome.failure(
            facts.STATES_RUNTIME,
            f"The resource '{call.resource}' has no local integration; answer it with "
            "LocalStepFunctions.mock_tasks().",
        )

    def _request_id(self) -> str:
        return uuid4(self._rng)

    def _lambda_invoke(self, call: TaskCall) -> TaskOutcome:
        params = call.parameters
        if not isinstance(params, Mapping) or not isinstance(params.get("FunctionName"), str):
            return TaskOutcome.failure(
                facts.STATES_RUNTIME, "lambda:invoke needs Parameters with a FunctionName string"
            )
        function = params["FunctionName"]
        name, qualifier = function_name_of(function)
        qualifier = params.get("Qualifier") or qualifier
        request_id = self._request_id()
        ok, value, seconds = self._call_function(
            function, name, qualifier, params.get("Payload"), call, request_id, compact=True
        )
        if not ok:
            error, cause = value
            return TaskOutcome.failure(error, cause, seconds=seconds)
        # Serialised once: the text gives both the Content-Length header and the payload's share
        # of the 256 KiB limit, which the engine would otherwise check by serialising it again.
        text = to_json(value)
        if text.isascii():
            payload_bytes = body_length = len(text)
        else:
            payload_bytes = len(text.encode())
            # Lambda's body escapes non-ASCII characters, so its length differs from the text's.
            body_length = len(json.dumps(value, separators=(",", ":")))
        version = qualifier or "$LATEST"
        content_length = str(body_length)
        response = invoke_response(
            value, version, request_id, self._date_texts()[0], content_length
        )
        return TaskOutcome(
            output=response,
            seconds=seconds,
            output_bytes_at_most=payload_bytes + envelope_bytes_at_most(version, content_length),
        )

    def _lambda_arn(self, call: TaskCall) -> TaskOutcome:
        name, qualifier = function_name_of(call.resource)
        ok, value, seconds = self._call_function(
            call.resource, name, qualifier, call.parameters, call, self._request_id(), compact=False
        )
        if not ok:
            error, cause = value
            return TaskOutcome.failure(error, cause, seconds=seconds)
        # The result is the state's output as is: its exact size spares the engine measuring it.
        return TaskOutcome(
            output=value, seconds=seconds, output_bytes_at_most=len(to_json(value).encode())
        )

    def _date_texts(self) -> tuple[str, str]:
        """The clock's current second as an HTTP Date header and as a log stream's day.

        Cached per second: formatting dates is a visible share of a Lambda task, and the
        virtual clock often stays on one second for many tasks. The cache key is the naive
        time, which is all ``strftime`` reads.
        """
        now = self.clock.now()
        if now is self._date_now:
            return self._date_cache  # the virtual clock hands out one object until it moves
        self._date_now = now
        second = now.replace(microsecond=0, tzinfo=None)
        if second != self._date_second:
            self._date_second = second
            self._date_cache = (
                second.strftime("%a, %d %b %Y %H:%M:%S GMT"),
                second.strftime("%Y/%m/%d"),
            )
        return self._date_cache

    def _call_function(
        self,
        function: str,
        name: str,
        qualifier: str | None,
        payload: Any,
        call: TaskCall,
        request_id: str,
        *,
        compact: bool,
    ) -> tuple[bool, Any, float]:
        if self._http is not None:
            ok, value = self._http.invoke(function, qualifier, payload)
            return ok, value, 0.0
        handler = self._lambdas.get(function) or self._lambdas.get(name)
        arn = f"arn:aws:lambda:{self.region}:{self.account_id}:function:{name}"
        if handler is None:
            return (
                False,
                (
                    "Lambda.ResourceNotFoundException",
                    f"Function not found: {arn}:{qualifier or '$LATEST'} (Service: AWSLambda; "
                    "Status Code: 404; Error Code: ResourceNotFoundException; "
                    f"Request ID: {request_id}; Proxy: null)",
                ),
                0.0,
            )
        context = LambdaContext(
            function_name=name,
            function_version=qualifier or "$LATEST",
            invoked_function_arn=arn if qualifier is None else f"{arn}:{qualifier}",
            aws_request_id=request_id,
            timeout_seconds=float(call.timeout_seconds or 60),
            log_group_name=f"/aws/lambda/{name}",
            log_stream_name=(
                f"{self._date_texts()[1]}/[{qualifier or '$LATEST'}]{request_id.replace('-', '')}"
            ),
        )
        # A real function receives serialised JSON: hand over a copy the handler may mutate.
        event = json_copy(payload)
        try:
            result = handler(event, context)
        except Exception as exc:
            return (
                False,
                lambda_error_cause(exc, request_id, compact=compact),
                context.elapsed_seconds,
            )
        try:
            # ...and its result is marshalled: a copy the handler cannot change afterwards.
            value = json_copy(result)
        except (TypeError, ValueError) as exc:
            error = "Runtime.MarshalError"
            body = {
                "errorMessage": f"Unable to marshal response: {exc}",
                "errorType": error,
                "requestId": request_id,
                "stackTrace": [],
            }
            return False, (error, json.dumps(body)), context.elapsed_seconds
        return True, value, context.elapsed_seconds


def invoke_response(
    payload: Any, version: str, request_id: str, date: str, content_length: str
) -> dict[str, Any]:
    """A ``lambda:invoke`` task's result, shaped as Step Functions records Lambda's response."""
    trace = f"Root=1-{request_id[:8]}-{request_id.replace('-', '')[8:32]}"
    headers = {
        "Connection": "keep-alive",
        "Content-Length": content_length,
        "Content-Type": "application/json",
        "Date": date,
        "X-Amz-Executed-Version": version,
        "X-Amzn-Trace-Id": trace,
        "x-amzn-Remapped-Content-Length": "0",
        "x-amzn-RequestId": request_id,
    }
    return {
        "ExecutedVersion": version,
        "Payload": payload,
        "SdkHttpMetadata": {
            "AllHttpHeaders": {key: [header] for key, header in headers.items()},
            "HttpHeaders": headers,
            "HttpStatusCode": 200,
        },
        "SdkResponseMetadata": {"RequestId": request_id},
        "StatusCode": 200,
    }


# The JSON size of an invoke response around its payload, less the parts whose length varies:
# measured on a response with an empty version and Content-Length, a null payload, and the
# longest request id (a UUID) and Date header there are.
_ENVELOPE_BYTES: Final = len(
    to_json(
        invoke_response(
            None, "", "00000000-0000-4000-8000-000000000000", "Wed, 31 Dec 9999 23:59:59 GMT", ""
        )
    ).encode()
)


def envelope_bytes_at_most(version: str, content_length: str) -> int:
    r"""An upper bound of an invoke response's JSON size, less its payload's.

    The version appears three times and the Content-Length twice; a character takes at most
    six bytes in JSON (``\uXXXX``).
    """
    return _ENVELOPE_BYTES + 3 * 6 * len(version) + 2 * len(content_length)


def uuid4(rng: random.Random) -> str:
    """A version-4 UUID drawn from ``rng`` (reproducible under a seed; cheaper than uuid.UUID)."""
    bits = rng.getrandbits(128)
    bits = (bits & ~(0xF000 << 64)) | (0x4000 << 64)  # version 4
    bits = (bits & ~(0xC000 << 48)) | (0x8000 << 48)  # RFC 4122 variant
    text = f"{bits:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def _canonical(value: Any) -> str:
    """One text per JSON value, whatever the order of its keys."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _validate(spec: Mapping[str, Any]) -> None:
    """Validate with the ASL model, as AWS validates a definition before it runs it."""
    # Imported here: the ASL model costs its import only to callers that run definitions.
    from stepsaga.workflows.asl import ASLValidationError, parse_definition

    try:
        parse_definition(spec)
    except ASLValidationError as exc:
        pointer = exc.problems[0].pointer if exc.problems else ""
        raise DefinitionError(str(exc), pointer=pointer) from exc
