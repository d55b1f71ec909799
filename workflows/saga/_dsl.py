"""The saga DSL: steps, notifications, retry policies, and how handlers map to Lambda functions."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal, get_args

from pydantic import BaseModel

from stepsaga.workflows.facts import (
    MAX_SECONDS_OR_ATTEMPTS,
    STATES_ALL,
    STATES_TIMEOUT,
    TRANSIENT_LAMBDA_ERRORS,
    JitterStrategy,
)
from stepsaga.workflows.saga._envelope import RETRYABLE_ERROR

#: How a saga's state machine runs: `STANDARD` (asynchronous) or `EXPRESS` (synchronous).
WorkflowType = Literal["STANDARD", "EXPRESS"]
#: The longest an express execution runs: AWS ends it after five minutes.
MAX_EXPRESS_SECONDS: Final = 300


@dataclass(frozen=True)
class RetryPolicy:
    """How a task is retried: one ASL `Retry` entry.

    Attributes:
        interval: Seconds before the first retry (`IntervalSeconds`, an integer >= 1).
        max_attempts: Retries after the first attempt (`MaxAttempts`; 0 means none).
        backoff_rate: Factor the interval grows by on each retry (`BackoffRate`, >= 1.0).
        max_delay: Upper bound of the interval in seconds (`MaxDelaySeconds`), or None.
        jitter: `"FULL"` to randomise each interval (`JitterStrategy`), `"NONE"`, or None to omit.
        errors: The error names retried (`ErrorEquals`); `"States.ALL"` must stand alone. The
            default retries `Saga.Retryable` and `States.Timeout` (an attempt that overran the
            Task's `TimeoutSeconds`): steps are idempotent, so a timed-out attempt whose work did
            land is safe to run again.
    """

    interval: int = 1
    max_attempts: int = 3
    backoff_rate: float = 2.0
    max_delay: int | None = None
    jitter: JitterStrategy | None = None
    errors: tuple[str, ...] = (RETRYABLE_ERROR, STATES_TIMEOUT)


#: Policy of an action before the pivot when its step declares none.
DEFAULT_RETRY = RetryPolicy()
#: Policy of a compensation when its step declares none, and of the failure notification when it
#: declares none: every error, patiently (both are idempotent).
COMPENSATION_RETRY = RetryPolicy(
    interval=2,
    max_attempts=10,
    backoff_rate=2.0,
    max_delay=60,
    jitter="FULL",
    errors=(STATES_ALL,),
)
#: Policy of the pivot and of a step past it when it declares none: every error, until it
#: succeeds (or the saga times out).
UNTIL_SUCCESS = RetryPolicy(
    interval=1,
    max_attempts=MAX_SECONDS_OR_ATTEMPTS,
    backoff_rate=2.0,
    max_delay=300,
    jitter="FULL",
    errors=(STATES_ALL,),
)
#: Policy applied to `TRANSIENT_LAMBDA_ERRORS` on every task whose own policy does not retry
#: `States.ALL`.
TRANSIENT_RETRY = RetryPolicy(
    interval=1,
    max_attempts=6,
    backoff_rate=2.0,
    max_delay=30,
    jitter="FULL",
    errors=TRANSIENT_LAMBDA_ERRORS,
)


@dataclass(frozen=True)
class Step:
    """A saga step: an action and, unless the step is the pivot or past it, a compensation.

    The compensation runs when this step or a later one before the pivot fails for good (after
    its retries): a failed action may still have done its work (it answered too late, or died
    after appending), so the failing step's own compensation runs first. A compensation
    therefore undoes only what the event store shows this execution did, and is a no-op when
    the action did nothing.

    Attributes:
        name: The step's name: its ASL state name and its key in `$.results`
            (letters, digits and `_`, starting with a letter, at most 70 characters).
        action: Name of the handler (one Lambda function) that performs the step.
        compensation: Name of the handler that undoes it; required before the pivot, refused at
            or after it.
        retry: The action's retry policy; default `DEFAULT_RETRY` before the pivot and
            `UNTIL_SUCCESS` at and after it (where it must retry `States.ALL`).
        compensation_retry: The compensation's retry policy; default `COMPENSATION_RETRY`.
        timeout: Seconds one attempt of the action may take (`TimeoutSeconds`), or None.
    """

    name: str
    action: str
    compensation: str | None = None
    retry: RetryPolicy | None = None
    compensation_retry: RetryPolicy | None = None
    timeout: int | None = None


@dataclass(frozen=True)
class Notification:
    """A notification step (an SES mail, say): it cannot be undone, so it has no compensation.

    As a step of the saga it runs like any action; as a saga's `on_failure` it runs after the
    compensations, receiving the caught error in its envelope. Its handler makes it idempotent.

    Attributes:
        name: The ASL state name (same rules as `Step.name`).
        action: Name of the handler (one Lambda function) that sends it.
        retry: Retry policy; default `DEFAULT_RETRY` before the pivot, `UNTIL_SUCCESS` after
            it, and `COMPENSATION_RETRY` (every error) as the saga's `on_failure`.
        timeout: Seconds one attempt may take (`TimeoutSeconds`), or None.
    """

    name: str
    action: str
    retry: RetryPolicy | None = None
    timeout: int | None = None


@dataclass(frozen=True)
class Saga:
    """A command's saga: ordered steps, an optional pivot and an optional failure notification.

    Steps before the pivot are compensatable (each declares a compensation); the pivot commits
    the saga, so it and the steps after it are retried until they succeed. Without a pivot every
    step is compensatable.

    Attributes:
        name: The saga's name, also its state machine's name (letters, digits, `-`, `_`).
        command: The pydantic model of the command the saga carries out.
        steps: The steps, in order.
        pivot: Name of the pivot step, or None.
        on_failure: Notification sent after compensating a failed saga, or None.
        timeout: Seconds the whole execution may take (top-level `TimeoutSeconds`), or None.
        comment: The definition's `Comment`; default names the saga and its command.
        workflow_type: `"STANDARD"` (the default): started with StartExecution, answered 202
            and polled; or `"EXPRESS"`: a synchronous command, started with
            StartSyncExecution and answered with its outcome (at most 5 minutes: AWS's limit
            for express workflows). The deployed state machine's `StateMachineType`.
    """

    name: str
    command: type[BaseModel]
    steps: Sequence[Step | Notification] = field(default_factory=tuple)
    pivot: str | None = None
    on_failure: Notification | None = None
    timeout: int | None = None
    comment: str | None = None
    workflow_type: WorkflowType = "STANDARD"

    def __post_init__(self) -> None:
        # A frozen saga must not change under a compiled definition, so steps become a tuple.
        object.__setattr__(self, "steps", tuple(self.steps))
        if self.workflow_type not in get_args(WorkflowType):
            raise ValueError(
                f"saga {self.name!r}: workflow_type must be 'STANDARD' or 'EXPRESS', "
                f"not {self.workflow_type!r}"
            )
        express = self.workflow_type == "EXPRESS"
        if express and self.timeout is not None and self.timeout > MAX_EXPRESS_SECONDS:
            raise ValueError(
                f"saga {self.name!r}: timeout {self.timeout} is over {MAX_EXPRESS_SECONDS} "
                "seconds, which an EXPRESS saga cannot run (AWS ends it after 5 minutes)"
            )

    def handlers(self) -> tuple[str, ...]:
        """Every handler the saga invokes (actions, compensations, notifications), in order."""
        return tuple(dict.fromkeys(handler for _, _, handler in self.invocations()))

    def invocations(self) -> Iterator[tuple[str, str, str]]:
        """`(step, role, handler)` for every handler invocation, in order.

        The role is `action`, `compensation`, `notification` (a `Notification` among the
        steps) or `failure notification` (`on_failure`).
        """
        for step in self.steps:
            role = "notification" if isinstance(step, Notification) else "action"
            yield step.name, role, step.action
            if isinstance(step, Step) and step.compensation is not None:
                yield step.name, "compensation", step.compensation
        if self.on_failure is not None:
            yield self.on_failure.name, "failure notification", self.on_failure.action


@dataclass(frozen=True)
class MissingHandler:
    """A handler a saga invokes that the service does not provide.

    Attributes:
        saga: The saga's name.
        step: The step (or notification) that invokes it.
        role: `action`, `compensation`, `notification` or `failure notification`.
        handler: The handler name the saga names.
        suggestion: The provided handler name closest to it, if one is close.
    """

    saga: str
    step: str
    role: str
    handler: str
    suggestion: str | None = None

    def __str__(self) -> str:
        hint = f" (did you mean {self.suggestion!r}?)" if self.suggestion else ""
        return (
            f"saga {self.saga!r}, step {self.step!r}: its {self.role} handler {self.handler!r} "
            f"is missing{hint}"
        )


class MissingHandlerError(LookupError):
    """Sagas invoke handlers the service does not provide; found before anything runs.

    Attributes:
        problems: Every missing handler, with the saga and step that invoke it.
    """

    def __init__(self, problems: Sequence[MissingHandler]) -> None:
        self.problems = tuple(problems)
        lines = ["the service lacks handlers its sagas invoke:", *(f"  - {p}" for p in problems)]
        super().__init__("\n".join(lines))

    def __str__(self) -> str:
        # LookupError's own `str` would quote the message like a KeyError's.
        return str(self.args[0])


def missing_handlers(sagas: Iterable[Saga], provided: Iterable[str]) -> list[MissingHandler]:
    """Every handler `sagas` invoke that is not among `provided`, with a likely intended name.

    The suggestion is the closest provided name that no saga invokes: a misspelt key is one
    nothing uses (`ReleaseStock`, used elsewhere, is not offered for a missing `ReserveStock`).

    Args:
        sagas: The service's sagas.
        provided: The handler names the service provides (its `HANDLERS` keys).
    """
    sagas = tuple(sagas)
    names = [name for name in provided if isinstance(name, str)]
    invoked = {handler for saga in sagas for handler in saga.handlers()}
    unused = [name for name in names if name not in invoked]
    problems: list[MissingHandler] = []
    for saga in sagas:
        for step, role, handler in saga.invocations():
            if handler not in names:
                close = difflib.get_close_matches(handler, unused, n=1)
                problems.append(
                    MissingHandler(saga.name, step, role, handler, next(iter(close), None))
                )
    return problems


def check_handlers(sagas: Iterable[Saga], provided: Iterable[str]) -> None:
    """Refuse a service whose sagas invoke handlers it does not provide.

    Raises:
        MissingHandlerError: Naming every missing handler, its saga and step.
    """
    problems = missing_handlers(sagas, provided)
    if problems:
        raise MissingHandlerError(problems)


@dataclass(frozen=True)
class FunctionNames:
    """How a handler name becomes the `FunctionName` a compiled Task invokes.

    Use `FunctionNames.local()` for the local engine and `FunctionNames.deployment()` for a
    definition deployed with `DefinitionSubstitutions`.

    Attributes:
        prefix: Prepended to the handler name for a concrete function name.
        placeholders: When true, emit `${<Handler>FunctionArn}` instead of a concrete name.
    """

    prefix: str = ""
    placeholders: bool = False

    @classmethod
    def local(cls, prefix: str = "") -> FunctionNames:
        """Concrete names: the handler name, optionally prefixed."""
        return cls(prefix=prefix)

    @classmethod
    def deployment(cls) -> FunctionNames:
        """Placeholders that `DefinitionSubstitutions` replaces with function ARNs."""
        return cls(placeholders=True)

    def substitution_key(self, handler: str) -> str:
        """The `DefinitionSubstitutions` key of `handler`'s function ARN."""
        return f"{handler}FunctionArn"

    def function_name(self, handler: str) -> str:
        """The `FunctionName` parameter for `handler`."""
        if self.placeholders:
            return "${" + self.substitution_key(handler) + "}"
        return self.prefix + handler
