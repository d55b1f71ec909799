"""The JSON a saga execution starts with and the envelope each task Lambda receives."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

# Re-exported by `stepsaga.workflows.saga`: every saga task retries these, whatever its policy.
from stepsaga.workflows.facts import MAX_NAME_LENGTH
from stepsaga.workflows.facts import TRANSIENT_LAMBDA_ERRORS as TRANSIENT_LAMBDA_ERRORS

#: Error name a task raises for a failure worth retrying; every action retries it by default.
RETRYABLE_ERROR = "Saga.Retryable"
#: Error name of the execution when a compensation still fails after its retries.
COMPENSATION_FAILED = "Saga.CompensationFailed"
#: Error name of the execution when the pivot, or a step after it, fails for good: the saga's
#: commit did not complete, and nothing was compensated (see the contract for the command's
#: state then). Its cause is the JSON of the original `{"Error", "Cause"}`.
COMMIT_FAILED = "Saga.CommitFailed"
#: Error name a task raises when its command is fenced: a compensation of the command ran, so
#: what the task would write would never be undone. Not retried; nothing was written.
FENCED_ERROR = "Saga.Fenced"
#: Key under which a step's result keeps the Lambda's returned JSON (`$.results.<Step>.Payload`).
RESULT_PAYLOAD_KEY = "Payload"
#: Prefix of a compensation's state name: the compensation of step `S` runs as `CompensateS`.
COMPENSATE_PREFIX = "Compensate"


# Execution names stepsaga derives use this alphabet only: a subset of what Step Functions allows
# (no whitespace, brackets, wildcards, `"#%\\^|~`$&,;:/` or control characters) that any tool,
# URL and log handles as is.
_NAME_ALPHABET = re.compile(r"[A-Za-z0-9_-]+")
# At least this many hex digits of the digest follow the tenant: 64 bits, even for the longest
# tenant code (63 characters, a '-', 16 digits: 80).
_MIN_DIGEST_DIGITS = 16
_MAX_DIGEST_DIGITS = 40


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def execution_name_for(tenant: str, idempotency_key: str) -> str:
    """The execution name of a command: the same for every submission of it.

    Starting a saga under this name makes Step Functions itself refuse a second execution of
    one command (`ExecutionAlreadyExists`, or the running execution for the same input). The
    name is `{tenant}-{digest}`: the tenant code, then hex digits of the SHA-256 of the tenant
    and the key (as many as fit in 80 characters, at most 40), so it is at most 80 characters
    of `[A-Za-z0-9_-]` whatever the key holds.

    Args:
        tenant: The command's tenant code (`meta.tenant`).
        idempotency_key: The command's idempotency key (`meta.idempotencyKey`).

    Raises:
        ValueError: The tenant is not a name Step Functions accepts or is too long, or the key
            is empty.
    """
    if not idempotency_key:
        raise ValueError("idempotency_key must not be empty")
    room = MAX_NAME_LENGTH - len(tenant) - 1
    if not _NAME_ALPHABET.fullmatch(tenant) or room < _MIN_DIGEST_DIGITS:
        raise ValueError(
            f"tenant {tenant!r} cannot start an execution name: a tenant code is at most "
            f"{MAX_NAME_LENGTH - 1 - _MIN_DIGEST_DIGITS} of [A-Za-z0-9_-]"
        )
    return f"{tenant}-{_digest(tenant, idempotency_key)[: min(room, _MAX_DIGEST_DIGITS)]}"


def command_key(meta: CommandMeta) -> str:
    """The key of one command: what every submission and execution of it shares.

    The SHA-256 (hex) of its tenant, its command type and its idempotency key. Event ids,
    mail idempotency keys and the command's fence derive from it, so a command executed twice
    writes the same events and sends the same mails, which the stores and notifiers then
    take as retries.
    """
    return _digest(meta.tenant, meta.command_type, meta.idempotency_key)


class _Wire(BaseModel):
    """Base of the envelope models: camelCase on the wire, snake_case in Python, immutable."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class CommandMeta(_Wire):
    """Who asked for a command, for which tenant, and the key that makes it idempotent.

    Attributes:
        tenant: Tenant code; every event the saga writes is scoped to it.
        command_id: Unique id of this command (JSON `commandId`).
        command_type: Name of the command, e.g. `PlaceOrder` (JSON `commandType`).
        requested_by: Principal that issued the command (JSON `requestedBy`).
        idempotency_key: Key under which repeated submissions are one command
            (JSON `idempotencyKey`).
    """

    tenant: str = Field(min_length=1)
    command_id: str = Field(min_length=1)
    command_type: str = Field(min_length=1)
    requested_by: str = Field(min_length=1)
    idempotency_key: str = Field(min_length=1)


class ExecutionInput(_Wire):
    """The input of a saga execution: `{"command": {...}, "meta": {...}}`.

    Attributes:
        command: The command as JSON, validated by the saga's command model in the tasks.
        meta: The command's metadata.
    """

    command: dict[str, Any]
    meta: CommandMeta


def failure_message(message: str, details: Mapping[str, Any]) -> str:
    """The `errorMessage` a business failure travels as: `{"message": ..., "details": ...}`.

    A Lambda error carries nothing but its type and message, so a business failure's message
    and details travel together as this JSON, which `StepError` reads back.
    """
    return json.dumps({"message": message, "details": dict(details)}, ensure_ascii=False)


class StepError(BaseModel):
    """An error caught by a `Catch` (`{"Error": ..., "Cause": ...}`, AWS's own capitalisation).

    A business failure raised by a step arrives whole: its `name`, `message` and `details`,
    as the step raised them. Any other error has its Lambda error message (or the cause text)
    as `message` and no details.

    Attributes:
        error: The Step Functions error name, e.g. `PaymentDeclined` or `States.Timeout`.
        cause: The cause text (for a Lambda error, the JSON of its error message and type).
    """

    model_config = ConfigDict(populate_by_name=True, frozen=True)

    error: str = Field(alias="Error")
    cause: str | None = Field(default=None, alias="Cause")

    @property
    def name(self) -> str:
        """The error's name: a business failure's name, or the Step Functions error."""
        return self.error

    def _failure(self) -> tuple[str, dict[str, Any]]:
        text = self.cause or ""
        try:
            cause = json.loads(text)
        except ValueError:
            return text, {}
        if not isinstance(cause, dict) or not isinstance(cause.get("errorMessage"), str):
            return text, {}
        message: str = cause["errorMessage"]
        try:
            failure = json.loads(message)
        except ValueError:
            return message, {}
        if (
            isinstance(failure, dict)
            and set(failure) == {"message", "details"}
            and isinstance(failure["message"], str)
            and isinstance(failure["details"], dict)
        ):
            return failure["message"], failure["details"]
        return message, {}

    @property
    def message(self) -> str:
        """What went wrong: the failure's message, a Lambda error's message, or the cause."""
        return self._failure()[0]

    @property
    def details(self) -> dict[str, Any]:
        """A business failure's details (empty for any other error)."""
        return self._failure()[1]


class StepResult(BaseModel):
    """What a completed step left in `$.results`: the JSON its Lambda returned, under `Payload`.

    The compiler's `ResultSelector` keeps only the `Payload` of the `lambda:invoke` response, and
    JSONPath-mode `ResultSelector` can only build an object, hence the one-key wrapper.
    """

    model_config = ConfigDict(populate_by_name=True, frozen=True)

    payload: Any = Field(default=None, alias=RESULT_PAYLOAD_KEY)


class ExecutionContext(_Wire):
    """The execution a task runs in, from the context object (`$$.Execution`).

    Attributes:
        id: The execution ARN (`$$.Execution.Id`); the event store's correlation id.
        name: The execution name.
        start_time: When the execution started (JSON `startTime`).
    """

    id: str
    name: str
    start_time: datetime


class StateContext(_Wire):
    """The state a task runs in, from the context object (`$$.State`).

    Attributes:
        name: The state name: the step name for an action, `Compensate<Step>` for a compensation,
            the notification's name for a notification.
        retry_count: How many times this state has been retried so far (JSON `retryCount`).
    """

    name: str
    retry_count: int = Field(ge=0)


class StepEnvelope(_Wire):
    """The `Payload` every saga task Lambda receives.

    Attributes:
        command: The command JSON, as given in the execution input.
        meta: The command's metadata.
        results: Results of the steps completed so far, by step name.
        error: The caught error; present for compensations and the failure notification.
        execution: The execution context.
        state: The state context; `(command, state.name)` identifies a task invocation
            across retries and executions of the command, which is what makes its side
            effects idempotent.
        commits: True for the pivot: its appends commit the command.
    """

    command: dict[str, Any]
    meta: CommandMeta
    results: dict[str, StepResult] = Field(default_factory=dict)
    error: StepError | None = None
    execution: ExecutionContext
    state: StateContext
    commits: bool = False
