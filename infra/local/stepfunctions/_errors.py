"""Errors: failures inside an execution, bad definitions, and refused API calls.

Failures inside an execution carry the names AWS gives them (``stepsaga.workflows.facts``).
A refused call to the engine's API raises an :class:`ApiError` whose class name, and
:attr:`ApiError.code`, is the error AWS Step Functions answers that call with
(``ExecutionAlreadyExists``, ``TaskTimedOut`` ...), so that an AWS JSON front end can map one
to the other without a table.
"""

from __future__ import annotations

from typing import Any


class StatesError(Exception):
    """A named failure inside an execution (what a Retrier or Catcher matches).

    Attributes:
        error: the error name, e.g. ``"States.Timeout"`` or a Lambda exception class name;
            None for a failure that names none (``SendTaskFailure`` without an error).
        cause: the cause text, or None when AWS records none.
        heartbeat: True when the failure is a lapsed heartbeat (recorded as
            ``States.Timeout``, and matched by ``States.HeartbeatTimeout`` as well).
    """

    def __init__(
        self, error: str | None, cause: str | None = None, *, heartbeat: bool = False
    ) -> None:
        name = error or "(no error name)"
        super().__init__(name if cause is None else f"{name}: {cause}")
        self.error = error
        self.cause = cause
        self.heartbeat = heartbeat


class DefinitionError(ValueError):
    """A definition the engine cannot run (invalid ASL, or a feature it does not support).

    Attributes:
        pointer: the JSON pointer of the offending field, e.g. ``"/States/A/Resource"``.
    """

    def __init__(self, message: str, *, pointer: str = "") -> None:
        super().__init__(f"{message} (at {pointer})" if pointer else message)
        self.message = message
        self.pointer = pointer


class ApiError(Exception):
    """A call to the engine that AWS Step Functions would refuse.

    Attributes:
        code: the AWS error code (the class name), e.g. ``"TaskDoesNotExist"``.
        message: what went wrong, naming the offending value.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def code(self) -> str:
        """The AWS error code: the class name."""
        return type(self).__name__

    def fields(self) -> dict[str, Any]:
        """Members AWS's error shape has beyond the message (none, unless a subclass says)."""
        return {}


class InvalidDefinition(ApiError):
    """The definition is not valid ASL (AWS answers CreateStateMachine and TestState so).

    The message is AWS's: ``Invalid State Machine Definition: '<CODE>: <what> at <pointer>'``,
    the problems joined by ", ".
    """


class InvalidArn(ApiError):
    """A value that should be an ARN (of a role, a state machine ...) is not one."""


class ValidationException(ApiError):
    """A request AWS refuses as invalid: a field out of its range, or a rule of the operation.

    The message is AWS's where a recording shows it (TestState's mock and context rules, say).
    """


class ExecutionAlreadyExists(ApiError):
    """An execution of this state machine already has this name, with another input.

    (The Step Functions API also refuses the name of a closed execution: ``reason`` says which.)

    Attributes:
        name: the execution name asked for.
        arn: the ARN of the existing execution.
    """

    def __init__(self, name: str, arn: str, reason: str = "another input") -> None:
        super().__init__(f"Execution Already Exists: '{arn}' (name {name!r}, {reason})")
        self.name = name
        self.arn = arn


class ExecutionDoesNotExist(ApiError):
    """No execution has this ARN (or it is no longer retained).

    Attributes:
        arn: the ARN asked for.
    """

    def __init__(self, arn: str) -> None:
        super().__init__(f"Execution Does Not Exist: '{arn}'")
        self.arn = arn


class InvalidToken(ApiError):
    """The text is not a task token this engine could have issued.

    The Step Functions API raises it for a pagination token it did not give out, too
    (``message`` then says so).

    Attributes:
        token: the token given.
    """

    def __init__(self, token: str, message: str | None = None) -> None:
        super().__init__(message or f"Invalid Token: {token!r} is not a task token")
        self.token = token


class TaskDoesNotExist(ApiError):
    """A well-formed task token that no task of this engine was given.

    Attributes:
        token: the token given.
    """

    def __init__(self, token: str) -> None:
        super().__init__(f"Task Does Not Exist: no task was given the token {token!r}")
        self.token = token


class TaskTimedOut(ApiError):
    """The task of this token is closed: it was answered, it timed out, or its execution ended.

    Attributes:
        token: the token given.
        execution_arn: the execution the task belonged to.
        state_name: the Task state it was issued in.
        reason: how the task closed, e.g. ``"it timed out (States.Timeout)"``.
    """

    def __init__(self, token: str, execution_arn: str, state_name: str, reason: str) -> None:
        super().__init__(
            f"Task Timed Out: the task of state {state_name!r} in {execution_arn} is closed: "
            f"{reason}"
        )
        self.token = token
        self.execution_arn = execution_arn
        self.state_name = state_name
        self.reason = reason


class InvalidExecutionInput(ApiError):
    """The execution input is not JSON text.

    Attributes:
        problem: what the JSON parser said.
    """

    def __init__(self, problem: str) -> None:
        super().__init__(f"Invalid Execution Input: not JSON text ({problem})")
        self.problem = problem


class InvalidOutput(ApiError):
    """The output sent with ``send_task_success`` is not JSON text.

    Attributes:
        token: the token it was sent for.
    """

    def __init__(self, token: str, problem: str) -> None:
        super().__init__(f"Invalid Output for task token {token!r}: {problem}")
        self.token = token


class ActivityDoesNotExist(ApiError):
    """No activity has this ARN.

    Attributes:
        arn: the ARN asked for.
    """

    def __init__(self, arn: str) -> None:
        super().__init__(f"Activity Does Not Exist: '{arn}'")
        self.arn = arn


class ExecutionStillWaiting(ApiError):
    """``run()`` drove an execution as far as it goes, and it still waits for the outside world.

    On the virtual clock nothing else can answer an in-process execution: a task token nobody
    sends, or an activity no worker takes, with no timeout to end the wait, would block
    forever. The execution stays RUNNING; answering it (``send_task_success`` ...) resumes it.

    Attributes:
        execution_arn: the execution.
        waits: one line per wait, naming the state and what it waits for.
    """

    def __init__(self, execution_arn: str, waits: tuple[str, ...]) -> None:
        listed = "; ".join(waits) or "nothing the engine can name"
        super().__init__(f"execution {execution_arn} is still waiting: {listed}")
        self.execution_arn = execution_arn
        self.waits = waits
