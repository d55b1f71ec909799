"""The integrations that answer Task attempts: registered Lambda handlers, the Lambda API.

A Task attempt goes to its execution's mock first (``Run.mock_answer``); what the mock lets
through comes here. ``lambda:invoke`` and bare function ARNs call a Python handler registered
with ``register_lambda`` (in-process, with a Lambda context on the engine's clock, its event
and result marshalled as JSON would be), or the Lambda Invoke API at a ``LAMBDA_ENDPOINT``.
Other resources have no local integration: a mock must answer them.
"""

from __future__ import annotations

import json
import linecache
import os
import random
import traceback
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from stepsaga.infra.local.stepfunctions._clock import Clock
from stepsaga.infra.local.stepfunctions._history import to_json
from stepsaga.infra.local.stepfunctions._tasks import (
    LambdaContext,
    LambdaHandler,
    TaskCall,
    TaskMock,
    TaskOutcome,
)
from stepsaga.workflows import facts

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient


class TaskIntegrations:
    """One engine's integrations: its Lambda handlers, its Lambda client, its task mock.

    Args:
        clock: the engine's clock (a handler's context, the invoke response's Date header).
        rng: the engine's random source (request ids).
        region: the region in function ARNs.
        account_id: the account in function ARNs.
        lambda_client: call functions over the Lambda Invoke API with this client instead of
            registered handlers.

    Attributes:
        mock: the engine-wide task mock (``mock_tasks``), asked before any integration.
    """

    def __init__(
        self,
        clock: Clock,
        rng: random.Random,
        region: str,
        account_id: str,
        lambda_client: LambdaClient | None,
    ) -> None:
        self.clock = clock
        self._rng = rng
        self.region = region
        self.account_id = account_id
        self.mock: TaskMock | None = None
        self._lambdas: dict[str, LambdaHandler] = {}
        self._http = None if lambda_client is None else HttpLambdaInvoker(lambda_client)
        self._date_now: Any = None  # see _date_texts
        self._date_second: Any = None
        self._date_cache = ("", "")

    def register_lambda(self, name_or_arn: str, handler: LambdaHandler) -> None:
        """Answer invocations of a function (by name, partial or full ARN) with ``handler``."""
        name, _ = function_name_of(name_or_arn)
        self._lambdas[name] = handler
        self._lambdas[name_or_arn] = handler

    def invoke(self, call: TaskCall, kind: str) -> TaskOutcome:
        """Answer ``call`` with its integration (``kind`` as ``task_kind`` classifies it)."""
        if kind == "lambda-invoke":
            return self._lambda_invoke(call)
        if kind == "lambda-arn":
            return self._lambda_arn(call)
        return TaskOutcome.failure(
            facts.STATES_RUNTIME,
            f"The resource '{call.resource}' has no local integration; answer it with "
            "LocalStepFunctions.mock_tasks() (TaskOutcome.awaiting_callback() for a "
            ".waitForTaskToken task whose callback the test sends).",
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
        # No Payload (or null) invokes the function with no payload, which Lambda hands over
        # as {}: AWS's recordings show an identity function answering {} to it (services.jsonl
        # TestTaskServiceLambda::test_invoke, test_state.jsonl test_base_lambda_service_task_state).
        payload = params.get("Payload")
        ok, value, seconds = self._call_function(
            function,
            name,
            qualifier,
            {} if payload is None else payload,
            call,
            request_id,
            compact=True,
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


# Types that JSON carries through unchanged (exact types: a subclass may serialise differently).
_JSON_SCALARS: Final = frozenset({str, int, float, bool, type(None)})
# Deeper values take the JSON round trip, which also reports a circular value as JSON does.
_MAX_COPY_DEPTH: Final = 100


class _NotPlainJson(Exception):
    """A value that a JSON round trip would change or reject (a tuple, a non-str key, ...)."""


def json_copy(value: Any) -> Any:
    """The same result as ``json.loads(json.dumps(value))``, several times faster.

    A handler receives its event as parsed JSON, and its result is marshalled the same way:
    the engine hands each side a copy the other cannot see mutated. Plain JSON values (dicts
    with str keys, lists, str, int, float, bool, None) are copied directly, sharing only the
    immutable scalars; anything else takes the JSON round trip, so converted values and raised
    errors are exactly the round trip's.

    Raises:
        TypeError: a value JSON cannot encode (as ``json.dumps`` raises it).
        ValueError: a circular value (as ``json.dumps`` raises it).
    """
    try:
        return _copy_plain(value, 0)
    except _NotPlainJson:
        return json.loads(json.dumps(value))


def _copy_plain(value: Any, depth: int) -> Any:
    kind = type(value)
    if kind in _JSON_SCALARS:
        return value
    if depth >= _MAX_COPY_DEPTH:
        raise _NotPlainJson
    if kind is dict:
        copy: dict[str, Any] = {}
        for key, item in value.items():
            if type(key) is not str:
                raise _NotPlainJson
            copy[key] = item if type(item) in _JSON_SCALARS else _copy_plain(item, depth + 1)
        return copy
    if kind is list:
        return [
            item if type(item) in _JSON_SCALARS else _copy_plain(item, depth + 1) for item in value
        ]
    raise _NotPlainJson


def _shown_file(module: object, filename: str) -> str:
    """A frame's file as its module lays it out (`pkg/mod.py`), not where this machine has it.

    Causes are recorded in histories and shown to users: an absolute path would tell where
    the code is installed and differ from machine to machine.
    """
    if isinstance(module, str) and module and module != "__main__":
        tail = "/__init__.py" if os.path.basename(filename) == "__init__.py" else ".py"
        return module.replace(".", "/") + tail
    return os.path.basename(filename)


def lambda_error_cause(exc: BaseException, request_id: str, *, compact: bool) -> tuple[str, str]:
    """The error name and cause JSON AWS records for a Python handler's exception."""
    error_type = type(exc).__name__
    frames = list(traceback.walk_tb(exc.__traceback__))[1:]  # drop the engine's own call frame
    stack = []
    for frame, line_number in frames:
        filename = frame.f_code.co_filename
        shown = _shown_file(frame.f_globals.get("__name__"), filename)
        line = linecache.getline(filename, line_number, frame.f_globals).strip()
        stack.append(
            f'  File "{shown}", line {line_number}, in {frame.f_code.co_name}\n    {line}\n'
        )
    body = {
        "errorMessage": str(exc),
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": stack,
    }
    separators = (",", ":") if compact else (", ", ": ")
    return error_type, json.dumps(body, separators=separators, ensure_ascii=False)


def function_name_of(name_or_arn: str) -> tuple[str, str | None]:
    """Split a function name, partial or full ARN into (name, qualifier)."""
    parts = name_or_arn.split(":")
    if name_or_arn.startswith("arn:"):
        # arn:partition:lambda:region:account:function:name[:qualifier]
        name = parts[6] if len(parts) > 6 else parts[-1]
        qualifier = parts[7] if len(parts) > 7 else None
        return name, qualifier
    if len(parts) >= 3 and parts[1] == "function":  # account:function:name[:qualifier]
        return parts[2], parts[3] if len(parts) > 3 else None
    if len(parts) == 2:
        return parts[0], parts[1]
    return name_or_arn, None


class HttpLambdaInvoker:
    """Calls functions through the Lambda Invoke API (a LAMBDA_ENDPOINT, moto, or AWS).

    Args:
        client: a boto3 ``lambda`` client pointed at the endpoint.
    """

    def __init__(self, client: LambdaClient) -> None:
        self._client = client

    def invoke(self, function: str, qualifier: str | None, payload: Any) -> tuple[bool, Any]:
        """Invoke ``function``; return (True, result) or (False, (error, cause))."""
        kwargs: dict[str, Any] = {
            "FunctionName": function,
            "Payload": json.dumps(payload).encode(),
        }
        if qualifier:
            kwargs["Qualifier"] = qualifier
        response = self._client.invoke(**kwargs)
        raw = response["Payload"].read()
        body = json.loads(raw) if raw else None
        if response.get("FunctionError"):
            error = body.get("errorType", "Exception") if isinstance(body, dict) else "Exception"
            return False, (error, raw.decode())
        return True, body
