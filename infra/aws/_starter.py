"""Starting saga executions from code: the one path the trigger and any backend code take.

    from stepsaga.infra.aws import Starter

    starter = Starter(boto3.client("stepfunctions"), SAGAS, {"PlaceOrder": state_machine_arn})
    started = starter.start(order, tenant="acme", requested_by="user-1", idempotency_key="k-1")
    started.arn, started.created          # created: False when this command already ran
    started.wait().status                 # polls DescribeExecution
    started.history()                     # GetExecutionHistory's events

The only dependency is the injected boto3 `stepfunctions` client, so the same code runs against
AWS, against `stepsaga local` (`endpoint_url=`) and against the engine's in-process client.

**Idempotency without a store of its own.** The execution name derives from the tenant and the
idempotency key (`stepsaga.workflows.saga.execution_name_for`: `{tenant}-{hex digest}`, at most
80 characters of `[A-Za-z0-9_-]`), as the saga contract says; a start
without a key uses a fresh command id as the key. Each start carries a fresh `meta.commandId`,
so a second start of one command never has the same input as the first, and Step Functions
answers it `ExecutionAlreadyExists` whether the first is running or closed. The starter then
reads the execution under that name (DescribeExecution of the derived ARN) and compares its
stored input with this command's: the same command (tenant, command type, idempotency key and
command body) is the same execution (`created=False`); another body under the same key raises
`CommandConflictError`. A caller that reuses a command id itself gets Step Functions' own answer
for an identical input to a running execution: the same execution, reported as `created=True`.

EXPRESS sagas (`Saga.workflow_type`) start with StartSyncExecution and carry their outcome in
`StartedExecution.outcome`. AWS does not keep express executions by name, so a repeated
synchronous command runs again; its steps' effects stay once (event ids and mail keys derive
from the command, not the execution).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from pydantic import BaseModel

from stepsaga.domain import PayloadTooLargeError, TenantId
from stepsaga.workflows.facts import MAX_PAYLOAD_BYTES
from stepsaga.workflows.saga import CommandMeta, ExecutionInput, Saga, execution_name_for

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

__all__ = (
    "CommandConflictError",
    "ExecutionStatus",
    "StartedExecution",
    "Starter",
    "StepFunctionsUnavailableError",
    "UnknownSagaError",
)

#: Seconds a client should wait after Step Functions throttled a start.
THROTTLED_RETRY_AFTER: Final = 1
#: Seconds a client should wait after Step Functions was unreachable or failed.
UNAVAILABLE_RETRY_AFTER: Final = 5
_THROTTLING_CODES: Final = frozenset(
    {"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"}
)
_UNAVAILABLE_CODES: Final = frozenset(
    {"ServiceUnavailable", "ServiceUnavailableException", "InternalFailure", "InternalError"}
)
# Execution names stepsaga derives (`execution_name_for`) use this alphabet only.
_NAME_ALPHABET: Final = re.compile(r"[A-Za-z0-9_-]+")


class UnknownSagaError(LookupError):
    """No saga by that name (or for that command type) can be started here.

    Attributes:
        saga: The name asked for.
        known: The sagas that can be started.
    """

    def __init__(self, saga: str, known: Iterable[str]) -> None:
        self.saga = saga
        self.known = tuple(sorted(known))
        listed = ", ".join(self.known) or "none"
        super().__init__(f"no saga {saga!r} can be started here; these can: {listed}")


class CommandConflictError(Exception):
    """The idempotency key already names another command (another body, or another type).

    Attributes:
        execution_arn: The execution that holds the key.
        idempotency_key: The key.
    """

    def __init__(self, execution_arn: str, idempotency_key: str) -> None:
        self.execution_arn = execution_arn
        self.idempotency_key = idempotency_key
        super().__init__(
            f"idempotency key {idempotency_key!r} was used for another command "
            f"({execution_arn}); use a new key for a new command"
        )


class StepFunctionsUnavailableError(Exception):
    """Step Functions throttled the call, failed, or could not be reached; try again later.

    Attributes:
        throttled: True when Step Functions throttled the call (429), False when it failed or
            was unreachable (503).
        retry_after: Seconds to wait before trying again.
        code: The AWS error code, or the connection error's class name.
    """

    def __init__(self, code: str, *, throttled: bool) -> None:
        self.code = code
        self.throttled = throttled
        self.retry_after = THROTTLED_RETRY_AFTER if throttled else UNAVAILABLE_RETRY_AFTER
        what = "throttled the request" if throttled else "is unavailable"
        super().__init__(f"Step Functions {what} ({code}); retry in {self.retry_after} s")


@dataclass(frozen=True, slots=True)
class ExecutionStatus:
    """An execution as DescribeExecution (or StartSyncExecution) reports it.

    Attributes:
        arn: The execution ARN.
        name: The execution name.
        status: `RUNNING`, `SUCCEEDED`, `FAILED`, `TIMED_OUT` or `ABORTED`.
        input: The execution input, parsed.
        output: The output, parsed, once it succeeded.
        error: The error name, once it failed.
        cause: The error's cause.
        start_date: When it started.
        stop_date: When it stopped, if it did.
    """

    arn: str
    name: str
    status: str
    input: dict[str, Any] = field(repr=False)
    output: Any = None
    error: str | None = None
    cause: str | None = None
    start_date: datetime | None = None
    stop_date: datetime | None = None

    @property
    def tenant(self) -> str | None:
        """The tenant that started it (`meta.tenant` of its input), if its input says."""
        meta = self.input.get("meta")
        tenant = meta.get("tenant") if isinstance(meta, dict) else None
        return tenant if isinstance(tenant, str) else None

    @classmethod
    def from_response(cls, response: Mapping[str, Any]) -> ExecutionStatus:
        """Read a DescribeExecution or StartSyncExecution answer."""
        output = response.get("output")
        return cls(
            arn=response["executionArn"],
            name=response.get("name") or response["executionArn"].rsplit(":", 1)[-1],
            status=response["status"],
            input=_parsed_object(response.get("input")),
            output=None if output is None else json.loads(output),
            error=response.get("error"),
            cause=response.get("cause"),
            start_date=response.get("startDate"),
            stop_date=response.get("stopDate"),
        )


def _parsed_object(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True, slots=True)
class StartedExecution:
    """A started execution: what to describe, wait for and read the history of.

    Attributes:
        arn: The execution ARN.
        name: The execution name (the id `GET /executions/{id}` takes).
        saga: The saga's name.
        created: True when this start created it, False when the command had started before.
        outcome: For an EXPRESS saga, its finished execution; None for a STANDARD one.
    """

    arn: str
    name: str
    saga: str
    created: bool
    outcome: ExecutionStatus | None
    _client: SFNClient = field(repr=False, compare=False)

    def describe(self) -> ExecutionStatus:
        """The execution now (DescribeExecution)."""
        return _describe(self._client, self.arn)

    def wait(self, timeout: float = 60.0, interval: float = 0.2) -> ExecutionStatus:
        """Poll until the execution stops, and return it.

        Raises:
            TimeoutError: It is still running after `timeout` seconds.
        """
        if self.outcome is not None:
            return self.outcome
        deadline = time.monotonic() + timeout
        while True:
            status = self.describe()
            if status.status != "RUNNING":
                return status
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{self.arn} is still running after {timeout} s")
            time.sleep(interval)

    def history(self) -> list[dict[str, Any]]:
        """Its events, oldest first, as GetExecutionHistory returns them (every page)."""
        events: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            page = (
                self._client.get_execution_history(executionArn=self.arn, nextToken=token)
                if token
                else self._client.get_execution_history(executionArn=self.arn)
            )
            events.extend(dict(event) for event in page["events"])
            token = page.get("nextToken")
            if not token:
                return events


def _describe(client: SFNClient, arn: str) -> ExecutionStatus:
    return ExecutionStatus.from_response(_call(lambda: client.describe_execution(executionArn=arn)))


def _call(operation: Any) -> Any:
    """Run one Step Functions call; throttling and outages become the error that says so."""
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

    try:
        return operation()
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        if code in _THROTTLING_CODES:
            raise StepFunctionsUnavailableError(code, throttled=True) from error
        if code in _UNAVAILABLE_CODES or status >= 500:
            raise StepFunctionsUnavailableError(code or str(status), throttled=False) from error
        raise
    except (ConnectionError, HTTPClientError) as error:
        raise StepFunctionsUnavailableError(type(error).__name__, throttled=False) from error


def _execution_arn(state_machine_arn: str, name: str) -> str:
    # arn:aws:states:<region>:<account>:stateMachine:<machine> -> ...:execution:<machine>:<name>
    head, kind, machine = state_machine_arn.rsplit(":", 2)
    if kind != "stateMachine":
        raise ValueError(f"{state_machine_arn!r} is not a state machine ARN")
    return f"{head}:execution:{machine}:{name}"


def _same_command(stored: Mapping[str, Any], mine: Mapping[str, Any]) -> bool:
    """Whether a stored execution input is the same command as `mine` (not the same submission).

    The command id and the requester may differ between submissions of one command.
    """
    keys = ("tenant", "commandType", "idempotencyKey")
    stored_meta, my_meta = stored.get("meta"), mine["meta"]
    return (
        isinstance(stored_meta, dict)
        and all(stored_meta.get(key) == my_meta[key] for key in keys)
        and stored.get("command") == mine["command"]
    )


class Starter:
    """Starts a service's sagas on an injected boto3 `stepfunctions` client.

    Args:
        client: A boto3 `stepfunctions` client (AWS, `stepsaga local`, or the in-process one).
        sagas: The sagas that may be started.
        state_machines: Saga name to its state machine ARN; a saga without one cannot be
            started.
    """

    def __init__(
        self,
        client: SFNClient,
        sagas: Iterable[Saga],
        state_machines: Mapping[str, str],
    ) -> None:
        self._client = client
        self.sagas: dict[str, Saga] = {
            saga.name: saga for saga in sagas if saga.name in state_machines
        }
        self.state_machines = {name: state_machines[name] for name in self.sagas}
        for arn in self.state_machines.values():
            _execution_arn(arn, "x")  # refuse a malformed ARN now, not on the first start
        self._by_command = {saga.command: saga for saga in self.sagas.values()}

    def saga(self, name: str) -> Saga:
        """The saga called `name`.

        Raises:
            UnknownSagaError: None by that name can be started here.
        """
        try:
            return self.sagas[name]
        except KeyError:
            raise UnknownSagaError(name, self.sagas) from None

    def start(
        self,
        command: BaseModel | Mapping[str, Any],
        *,
        tenant: str,
        requested_by: str,
        idempotency_key: str | None = None,
        saga: str | None = None,
    ) -> StartedExecution:
        """Start the saga of `command`, once per (tenant, idempotency key).

        Args:
            command: The command: a model instance (its saga is found by its type) or its JSON
                (then `saga` names the saga). Validated against the saga's command model.
            tenant: The tenant it runs for (a `TenantId`).
            requested_by: Who asked for it (`meta.requestedBy`).
            idempotency_key: Names the command: the same key is the same execution. Without
                one, the start is a new command.
            saga: The saga's name; needed when `command` is JSON.

        Returns:
            The execution, created or found.

        Raises:
            UnknownSagaError: No such saga can be started here.
            pydantic.ValidationError: The command does not fit the saga's command model.
            InvalidIdentifierError: The tenant is not a valid tenant code.
            PayloadTooLargeError: The execution input is over Step Functions' 256 KiB.
            CommandConflictError: The key already names another command.
            StepFunctionsUnavailableError: Step Functions throttled the call or is unavailable.
        """
        chosen = self._saga_of(command, saga)
        body = (
            command.model_dump(mode="json", by_alias=True)
            if isinstance(command, BaseModel)
            else dict(command)
        )
        typed = chosen.command.model_validate(body)
        command_id = str(uuid.uuid4())
        key = idempotency_key or command_id
        meta = CommandMeta(
            tenant=str(TenantId(tenant)),
            command_id=command_id,
            command_type=chosen.command.__name__,
            requested_by=requested_by,
            idempotency_key=key,
        )
        execution_input = ExecutionInput(
            command=typed.model_dump(mode="json", by_alias=True), meta=meta
        ).model_dump(mode="json", by_alias=True)
        text = json.dumps(execution_input, separators=(",", ":"), ensure_ascii=False)
        size = len(text.encode("utf-8"))
        if size > MAX_PAYLOAD_BYTES:
            raise PayloadTooLargeError("input", size, MAX_PAYLOAD_BYTES)
        name = execution_name_for(meta.tenant, key)
        machine = self.state_machines[chosen.name]
        if chosen.workflow_type == "EXPRESS":
            return self._start_sync(chosen, machine, name, text)
        return self._start(chosen, machine, name, text, execution_input)

    def _saga_of(self, command: BaseModel | Mapping[str, Any], saga: str | None) -> Saga:
        if saga is not None:
            return self.saga(saga)
        if isinstance(command, BaseModel):
            found = self._by_command.get(type(command))
            if found is None:
                raise UnknownSagaError(type(command).__name__, self.sagas)
            return found
        raise TypeError("a command given as JSON needs saga= to name its saga")

    def _start(
        self,
        saga: Saga,
        machine: str,
        name: str,
        text: str,
        execution_input: Mapping[str, Any],
    ) -> StartedExecution:
        from botocore.exceptions import ClientError

        try:
            started = _call(
                lambda: self._client.start_execution(stateMachineArn=machine, name=name, input=text)
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ExecutionAlreadyExists":
                raise
            existing = _describe(self._client, _execution_arn(machine, name))
            if not _same_command(existing.input, execution_input):
                raise CommandConflictError(
                    existing.arn, execution_input["meta"]["idempotencyKey"]
                ) from None
            return StartedExecution(existing.arn, name, saga.name, False, None, self._client)
        return StartedExecution(started["executionArn"], name, saga.name, True, None, self._client)

    def _start_sync(self, saga: Saga, machine: str, name: str, text: str) -> StartedExecution:
        answer = _call(
            lambda: self._client.start_sync_execution(
                stateMachineArn=machine, name=name, input=text
            )
        )
        outcome = ExecutionStatus.from_response(answer)
        return StartedExecution(outcome.arn, name, saga.name, True, outcome, self._client)

    def find(self, execution_id: str, *, tenant: str) -> ExecutionStatus | None:
        """The execution named `execution_id` if `tenant` started it, else None.

        Only STANDARD sagas' executions are kept by name. An id that the tenant's names cannot
        have, and an execution whose input names another tenant, are not found: a tenant cannot
        even learn that another tenant's execution exists.

        Raises:
            StepFunctionsUnavailableError: Step Functions throttled the call or is unavailable.
        """
        from botocore.exceptions import ClientError

        if not execution_id.startswith(f"{tenant}-") or not _NAME_ALPHABET.fullmatch(execution_id):
            return None
        for saga in self.sagas.values():
            if saga.workflow_type == "EXPRESS":
                continue
            arn = _execution_arn(self.state_machines[saga.name], execution_id)
            try:
                found = _describe(self._client, arn)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") == "ExecutionDoesNotExist":
                    continue
                raise
            return found if found.tenant == tenant else None
        return None
