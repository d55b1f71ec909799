"""What a Task attempt is, as a mock or a Lambda handler sees it, and what its outcome can be."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


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

    Build one with :meth:`success`, :meth:`failure`, :meth:`timeout`, :meth:`heartbeat_timeout`
    or, for a ``.waitForTaskToken`` task whose callback is to come, :meth:`awaiting_callback`.

    Attributes:
        output: the task result as the state receives it (before ResultSelector). For
            ``lambda:invoke`` that is the whole invoke response (``{"Payload": ..., "StatusCode":
            200, ...}``); for a bare function ARN, the function's return value.
        error: the error name of a failure (None for a success, or a failure naming none).
        cause: the cause text of a failure.
        failed: True for a failure (``error`` may be None: ``SendTaskFailure`` without one).
        timed_out: True when the attempt timed out (``States.Timeout``): at the task's
            TimeoutSeconds after it started (at once when it has none).
        heartbeat_lapsed: True when the attempt sent no heartbeat in time: it times out at the
            task's HeartbeatSeconds after it started (at once when it has none).
        seconds: virtual seconds the attempt took (the clock advances by that much).
        submitted: for ``.sync`` and ``.waitForTaskToken`` tasks, the service's response to the
            submission (recorded as a TaskSubmitted event before the outcome); None for none.
        awaits_callback: the submission succeeded and the task now waits for its token
            (``send_task_success`` ...): the outcome is only the submission.
        answers_callback: for a ``.waitForTaskToken`` task, the outcome is its callback's
            (a fault): the submission runs for real first, as it would on AWS.
        output_bytes_at_most: an upper bound of the size of ``output`` as compact UTF-8 JSON,
            when the integration already knows one; it spares the engine serialising every
            result only to check the 256 KiB limit (a bound over the limit is checked exactly).
            None: the engine measures.
    """

    output: Any = None
    error: str | None = None
    cause: str | None = None
    failed: bool = False
    timed_out: bool = False
    heartbeat_lapsed: bool = False
    seconds: float = 0.0
    submitted: Any = None
    awaits_callback: bool = False
    answers_callback: bool = False
    output_bytes_at_most: int | None = None

    @property
    def is_failure(self) -> bool:
        """Whether the attempt failed (with or without an error name)."""
        return self.failed or self.error is not None

    @classmethod
    def success(cls, output: Any, *, seconds: float = 0.0, submitted: Any = None) -> TaskOutcome:
        """The task returned ``output`` after ``seconds`` of virtual time."""
        return cls(output=output, seconds=seconds, submitted=submitted)

    @classmethod
    def failure(
        cls,
        error: str | None,
        cause: str | None = None,
        *,
        seconds: float = 0.0,
        submitted: Any = None,
    ) -> TaskOutcome:
        """The task failed with ``error`` (and ``cause``)."""
        return cls(error=error, cause=cause, failed=True, seconds=seconds, submitted=submitted)

    @classmethod
    def timeout(cls, *, submitted: Any = None) -> TaskOutcome:
        """The task did not finish within its TimeoutSeconds."""
        return cls(timed_out=True, submitted=submitted)

    @classmethod
    def heartbeat_timeout(cls, *, submitted: Any = None) -> TaskOutcome:
        """The task sent no heartbeat within its HeartbeatSeconds."""
        return cls(timed_out=True, heartbeat_lapsed=True, submitted=submitted)

    @classmethod
    def awaiting_callback(cls, submitted: Any = None) -> TaskOutcome:
        """The submission of a ``.waitForTaskToken`` task succeeded; its callback is to come.

        The task records ``submitted`` as its TaskSubmitted output and waits for
        ``send_task_success`` / ``send_task_failure`` with its token, or for its timeout.
        """
        return cls(submitted=submitted, awaits_callback=True)


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
