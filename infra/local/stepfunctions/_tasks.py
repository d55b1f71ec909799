"""What a Task state asks for, and what answers it: mocks, in-process Lambda handlers, HTTP."""

from __future__ import annotations

import json
import linecache
import os
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Protocol

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient


@dataclass(frozen=True, slots=True)
class TaskCall:
    """One attempt of a Task state, as a mock sees it.

    Attributes:
        state_name: the Task state's name.
        resource: the ``Resource`` ARN as written (``arn:aws:states:::lambda:invoke``, a function
            ARN, ...).
        parameters: the effective input after InputPath and Parameters (for ``lambda:invoke``,
            the object holding FunctionName and Payload).
        execution_arn: the execution this attempt belongs to.
        retry_count: ``$$.State.RetryCount`` (0 for the first attempt).
        timeout_seconds: the task's TimeoutSeconds(Path), when set.
        task_token: ``$$.Task.Token`` of a ``.waitForTaskToken`` task, else None.
    """

    state_name: str
    resource: str
    parameters: Any
    execution_arn: str
    retry_count: int
    timeout_seconds: int | None = None
    task_token: str | None = None


@dataclass(frozen=True, slots=True)
class TaskOutcome:
    """The result of a Task attempt: a result, a named failure, or a timeout.

    Build one with :meth:`success`, :meth:`failure` or :meth:`timeout`.

    Attributes:
        output: the task result as the state receives it (before ResultSelector). For
            ``lambda:invoke`` that is the whole invoke response (``{"Payload": ..., "StatusCode":
            200, ...}``); for a bare function ARN, the function's return value.
        error: the error name of a failure.
        cause: the cause text of a failure.
        timed_out: True when the attempt timed out (``States.Timeout``).
        seconds: virtual seconds the attempt took (the clock advances by that much).
        submitted: for ``.sync`` and ``.waitForTaskToken`` tasks, the service's response to the
            submission (recorded as a TaskSubmitted event before the outcome); None for none.
        output_bytes_at_most: an upper bound of the size of ``output`` as compact UTF-8 JSON,
            when the integration already knows one; it spares the engine serialising every
            result only to check the 256 KiB limit (a bound over the limit is checked exactly).
            None: the engine measures.
    """

    output: Any = None
    error: str | None = None
    cause: str | None = None
    timed_out: bool = False
    seconds: float = 0.0
    submitted: Any = None
    output_bytes_at_most: int | None = None

    @classmethod
    def success(cls, output: Any, *, seconds: float = 0.0, submitted: Any = None) -> TaskOutcome:
        """The task returned ``output`` after ``seconds`` of virtual time."""
        return cls(output=output, seconds=seconds, submitted=submitted)

    @classmethod
    def failure(
        cls, error: str, cause: str | None = None, *, seconds: float = 0.0, submitted: Any = None
    ) -> TaskOutcome:
        """The task failed with ``error`` (and ``cause``)."""
        return cls(error=error, cause=cause, seconds=seconds, submitted=submitted)

    @classmethod
    def timeout(cls, *, submitted: Any = None) -> TaskOutcome:
        """The task did not finish within its TimeoutSeconds (or heartbeat)."""
        return cls(timed_out=True, submitted=submitted)


TaskMock = Callable[[TaskCall], TaskOutcome | None]
"""Answers a Task attempt in place of the real integration; None lets it through."""


class LambdaHandler(Protocol):
    """A Python Lambda handler: ``handler(event, context) -> JSON-serialisable result``."""

    def __call__(self, event: Any, context: Any, /) -> Any: ...


@dataclass(slots=True)
class LambdaContext:
    """The ``context`` a handler receives, shaped like AWS Lambda's Python context.

    Time is virtual: :meth:`elapse` tells the engine the invocation took that long, so a test can
    drive a Task past its TimeoutSeconds without waiting.

    Attributes:
        function_name: the function's name.
        function_version: ``"$LATEST"`` or the qualifier invoked.
        invoked_function_arn: the ARN the function was invoked with.
        memory_limit_in_mb: always 128 here.
        aws_request_id: a UUID, deterministic under the engine's seed.
        log_group_name: ``/aws/lambda/<function_name>``.
        log_stream_name: a stream name in Lambda's format.
        timeout_seconds: the remaining budget the Task grants (its TimeoutSeconds, else 60).
        elapsed_seconds: virtual seconds the handler reported through :meth:`elapse`.
    """

    function_name: str
    function_version: str
    invoked_function_arn: str
    aws_request_id: str
    timeout_seconds: float = 60.0
    memory_limit_in_mb: int = 128
    log_group_name: str = ""
    log_stream_name: str = ""
    elapsed_seconds: float = 0.0
    identity: Any = None
    client_context: Any = None

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the invocation's timeout, on the virtual clock."""
        return max(0, int((self.timeout_seconds - self.elapsed_seconds) * 1000))

    def elapse(self, seconds: float) -> None:
        """Declare that the handler spent ``seconds`` of (virtual) time."""
        self.elapsed_seconds += seconds


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
