"""A stepsaga service run locally: compiled sagas on the embedded engine, steps in-process."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from stepsaga.domain import RecordedEvent, StoredEvent, StreamId, TenantId
from stepsaga.infra.local.stepfunctions import (
    Execution,
    ExecutionAlreadyExists,
    LocalStepFunctions,
    TaskCall,
    TaskMock,
    TaskOutcome,
)
from stepsaga.infra.project import Service
from stepsaga.tasks import (
    EmailMessage,
    EventStore,
    Fence,
    LambdaHandler,
    Notifier,
    SentEmail,
    Snapshot,
    StepFunction,
    TaskRuntime,
)
from stepsaga.workflows.saga import (
    CommandMeta,
    ExecutionInput,
    FunctionNames,
    Saga,
    compile_saga,
    execution_name_for,
)

__all__ = ("LocalService", "SentMail", "ServiceRun", "execution_path")


@dataclass(frozen=True, slots=True)
class SentMail:
    """A mail a step sent during an execution (replayed sends are not counted).

    Attributes:
        to: The recipients.
        subject: The subject line.
        message_id: The id the mail provider gave it (SES `MessageId`).
        state: The state whose step sent it.
    """

    to: tuple[str, ...]
    subject: str
    message_id: str
    state: str


@dataclass(frozen=True, slots=True)
class ServiceRun:
    """One saga execution and what it did.

    Attributes:
        saga: The saga's name.
        execution: The finished execution (status, output, error, history).
        path: The names of the states entered, in order, from the execution history.
        events: The events the execution appended (its correlation id), read back from the
            store, grouped by stream in the order the streams were first written, then by
            version.
        emails: The mails sent during the execution, in order.
    """

    saga: str
    execution: Execution
    path: tuple[str, ...]
    events: tuple[RecordedEvent, ...]
    emails: tuple[SentMail, ...]

    @property
    def status(self) -> str:
        """The execution's status: `SUCCEEDED`, `FAILED` or `TIMED_OUT`."""
        return self.execution.status


@dataclass
class _Named:
    """An execution name taken: the input it was taken with, and its run once it ended."""

    input: str
    done: threading.Event = field(default_factory=threading.Event)
    run: ServiceRun | None = None


@dataclass
class _Record:
    # Stream to the first version this execution wrote there (1 when unknown: the write's
    # answer was lost), so that reading its events back skips the stream's older history.
    streams: dict[StreamId, int] = field(default_factory=dict)
    emails: list[SentMail] = field(default_factory=list)
    state: str = ""  # the Task state whose attempt is running


class _Recorder:
    """Notes, per calling thread, the streams written and the mails sent.

    Steps run in-process on the thread that runs the execution, so a thread-local record
    attributes every write and mail to the execution in progress, even with several
    executions running at once on other threads.
    """

    def __init__(self, store: EventStore, notifier: Notifier | None) -> None:
        self.store = store
        self.notifier = notifier
        self._local = threading.local()

    def begin(self) -> _Record:
        record = _Record()
        self._local.record = record
        return record

    def end(self) -> None:
        self._local.record = None

    def entering(self, state: str) -> None:
        record = self._record()
        if record is not None:
            record.state = state

    def _record(self) -> _Record | None:
        record: _Record | None = getattr(self._local, "record", None)
        return record

    # -- EventStore -----------------------------------------------------------------------

    def append(
        self,
        stream: StreamId,
        events: Sequence[StoredEvent],
        expected_version: int,
        *,
        fence: Fence | None = None,
    ) -> list[RecordedEvent]:
        record = self._record()
        first = record is not None and stream not in record.streams
        if record is not None and first:
            # Noted before the write: a write that lands but whose answer is lost still counts.
            record.streams[stream] = 1
        recorded = self.store.append(stream, events, expected_version, fence=fence)
        if record is not None and first and recorded:
            record.streams[stream] = recorded[0].version
        return recorded

    def read(
        self, stream: StreamId, *, from_version: int = 1, limit: int | None = None
    ) -> list[RecordedEvent]:
        return self.store.read(stream, from_version=from_version, limit=limit)

    def version(self, stream: StreamId) -> int:
        return self.store.version(stream)

    def find(self, stream: StreamId, event_ids: Sequence[str]) -> list[RecordedEvent]:
        return self.store.find(stream, event_ids)

    def load_snapshot(self, stream: StreamId, name: str) -> Snapshot | None:
        return self.store.load_snapshot(stream, name)

    def save_snapshot(self, stream: StreamId, snapshot: Snapshot) -> bool:
        return self.store.save_snapshot(stream, snapshot)

    def fence_command(self, fence: Fence) -> bool:
        return self.store.fence_command(fence)

    def fenced_by(self, fence: Fence) -> tuple[str, ...]:
        return self.store.fenced_by(fence)

    def commit_command(self, fence: Fence) -> None:
        self.store.commit_command(fence)

    # -- Notifier -------------------------------------------------------------------------

    def send(self, tenant: TenantId, message: EmailMessage, *, idempotency_key: str) -> SentEmail:
        if self.notifier is None:
            raise RuntimeError("this service was started without a notifier")
        sent = self.notifier.send(tenant, message, idempotency_key=idempotency_key)
        record = self._record()
        if record is not None and not sent.replayed:
            mail = SentMail(message.to, message.subject, sent.message_id, record.state)
            record.emails.append(mail)
        return sent


class LocalService:
    """A service's sagas running locally, on the embedded engine with in-process steps.

    Use `LocalService.start()` (a context manager) to run a service on moto's DynamoDB and
    SES v2; construct one directly to run on stores of your own (the in-memory ones, for fast
    tests).

    `execute` may be called from several threads at once: each thread runs its executions on
    its own engine, because an engine's virtual clock and seeded randomness follow one
    execution at a time. Execution names are the service's, across threads: a name is one
    execution of its saga, as on AWS (the same input gives it back, another is refused).

    Args:
        sagas: The service's sagas.
        steps: Handler name to step function.
        event_store: Where the steps' events go.
        notifier: Where the steps' mails go.
        tenant: The tenant of commands executed without explicit metadata.
        service: The service name (logs, and the prefix of the local function names).
        seed: Seeds each engine (retry jitter, request ids).

    Raises:
        MissingHandlerError: The sagas invoke handlers `steps` lacks (every one is named, with
            its saga and step), found before anything runs.

    Attributes:
        event_store: The event store the steps write to.
        tenant: The tenant of commands executed without explicit metadata.
        seed: The seed of each thread's engine.
        handlers: Handler name to the Lambda handler the engine invokes for it. Replace an
            entry to wrap a step (fault injection); the change applies to the next invocation.
        task_mock: Answers Task attempts before the handlers do (see
            `LocalStepFunctions.mock_tasks`); None lets every attempt through.
        definitions: Saga name to its compiled definition (ASL JSON).
    """

    def __init__(
        self,
        sagas: Iterable[Saga],
        steps: Mapping[str, StepFunction],
        *,
        event_store: EventStore,
        notifier: Notifier | None = None,
        tenant: str = "acme",
        service: str = "service",
        seed: int = 0,
    ) -> None:
        self._sagas = {saga.name: saga for saga in sagas}
        self._recorder = _Recorder(event_store, notifier)
        self.event_store = event_store
        self.tenant = TenantId(tenant)
        self.seed = seed
        runtime = TaskRuntime(
            event_store=self._recorder,
            notifier=None if notifier is None else self._recorder,
            service=service,
        )
        self.handlers: dict[str, LambdaHandler] = runtime.handlers(
            steps, sagas=self._sagas.values()
        )
        self.task_mock: TaskMock | None = None
        self._functions = FunctionNames.local(prefix=f"{service}-")
        self.definitions: dict[str, dict[str, Any]] = {
            name: compile_saga(saga, self._functions).to_dict()
            for name, saga in self._sagas.items()
        }
        self._engines = threading.local()
        # Saga and execution name to the execution's input and run: a name is one execution.
        self._names: dict[tuple[str, str], _Named] = {}
        self._names_lock = threading.Lock()

    @classmethod
    def start(
        cls, service: str | Service | None = None, **options: Any
    ) -> AbstractContextManager[LocalService]:
        """Run `service` on moto's DynamoDB and SES v2, in-process (a context manager).

        Fake AWS credentials are set while it runs, so no real account is reachable. See
        `stepsaga.infra.local.service.moto_service` for the service and the options.
        """
        from stepsaga.infra.local.service._moto import moto_service

        return moto_service(service, **options)

    # -- running --------------------------------------------------------------------------

    def _engine(self) -> LocalStepFunctions:
        engine: LocalStepFunctions | None = getattr(self._engines, "engine", None)
        if engine is None:
            engine = LocalStepFunctions(seed=self.seed)
            for handler in self.handlers:
                engine.register_lambda(self._functions.function_name(handler), self._call(handler))
            engine.mock_tasks(self._mock)
            self._engines.engine = engine
        return engine

    def _call(self, handler: str) -> LambdaHandler:
        # Looked up per invocation, so that replacing `handlers[name]` takes effect at once.
        def invoke(event: Any, context: Any) -> Any:
            return self.handlers[handler](event, context)

        return invoke

    def _mock(self, call: TaskCall) -> TaskOutcome | None:
        # The engine asks the mock first on every Task attempt, on the executing thread.
        self._recorder.entering(call.state_name)
        mock = self.task_mock
        return None if mock is None else mock(call)

    def meta(self, saga: str, **fields: str) -> CommandMeta:
        """Metadata for a command of `saga`: this service's tenant and fresh ids, unless given."""
        command_id = fields.pop("command_id", None) or str(uuid.uuid4())
        values = {
            "tenant": str(self.tenant),
            "command_id": command_id,
            "command_type": self._saga(saga).command.__name__,
            "requested_by": "local",
            "idempotency_key": command_id,
            **fields,
        }
        return CommandMeta.model_validate(values)

    def _saga(self, name: str) -> Saga:
        try:
            return self._sagas[name]
        except KeyError:
            known = ", ".join(sorted(self._sagas)) or "none"
            raise KeyError(f"no saga {name!r} in this service; it has: {known}") from None

    def execute(
        self,
        saga: str,
        command: BaseModel | Mapping[str, Any],
        meta: CommandMeta | None = None,
        *,
        name: str | None = None,
    ) -> ServiceRun:
        """Run one execution of `saga` to completion.

        Args:
            saga: The saga's name.
            command: The command (a model instance, or its JSON, validated against the saga's
                command model before anything runs).
            meta: The command's metadata (default: `self.meta(saga)`, a new command).
            name: The execution name (default: `execution_name_for(tenant, idempotency key)`,
                the command's own name, so that submitting one command twice starts one
                execution).

        Returns:
            The execution, its path, its events and its mails. A name already used with the
            same input is the same execution, as on AWS: its run is returned, and nothing runs
            again (a call while it still runs waits for it).

        Raises:
            KeyError: The service has no saga `saga`.
            pydantic.ValidationError: `command` does not fit the saga's command model.
            ExecutionAlreadyExists: `name` is taken, in this service's `saga`, by an execution
                with another input; nothing ran.
        """
        model = self._saga(saga).command
        typed = command if isinstance(command, model) else model.model_validate(command)
        meta = meta or self.meta(saga)
        execution_input = ExecutionInput(
            command=typed.model_dump(mode="json", by_alias=True), meta=meta
        ).model_dump(mode="json", by_alias=True)
        name = name or execution_name_for(meta.tenant, meta.idempotency_key)
        canonical = json.dumps(execution_input, sort_keys=True, separators=(",", ":"))
        while True:
            with self._names_lock:
                named = self._names.get((saga, name))
                if named is None:
                    named = self._names[(saga, name)] = _Named(canonical)
                    break
            if named.input != canonical:
                raise ExecutionAlreadyExists(name, self._arn(saga, name))
            named.done.wait()
            if named.run is not None:
                return named.run  # the same name and input: the same execution
            # It never started (its start raised): the name is free again.
        try:
            run = self._run(saga, execution_input, name)
        except BaseException:
            with self._names_lock:
                del self._names[(saga, name)]
            named.done.set()
            raise
        named.run = run
        named.done.set()
        return run

    def _arn(self, saga: str, name: str) -> str:
        engine = self._engine()
        return f"arn:aws:states:{engine.region}:{engine.account_id}:execution:{saga}:{name}"

    def _run(self, saga: str, execution_input: dict[str, Any], name: str) -> ServiceRun:
        record = self._recorder.begin()
        try:
            execution = self._engine().run(
                self.definitions[saga], execution_input, name=name, state_machine_name=saga
            )
        finally:
            self._recorder.end()
        events = tuple(
            recorded
            for stream, first in record.streams.items()
            for recorded in self.event_store.read(stream, from_version=first)
            if recorded.event.correlation_id == execution.arn
        )
        return ServiceRun(
            saga=saga,
            execution=execution,
            path=execution_path(execution),
            events=events,
            emails=tuple(record.emails),
        )


def execution_path(execution: Execution) -> tuple[str, ...]:
    """The names of the states an execution entered, in order, from its history."""
    return tuple(
        event["stateEnteredEventDetails"]["name"]
        for event in execution.history
        if event["type"].endswith("StateEntered")
    )
