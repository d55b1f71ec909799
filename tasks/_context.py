"""What a step sees: its typed inputs and tenant-scoped, retry-safe access to events and mail."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from stepsaga.domain import (
    ConcurrencyError,
    DomainEvent,
    RecordedEvent,
    StoredEvent,
    StreamId,
    TenantId,
    TenantMismatchError,
)
from stepsaga.tasks._ports import EmailMessage, EventStore, Fence, Notifier, SentEmail
from stepsaga.tasks._projection import Projection, fold
from stepsaga.workflows.saga import COMPENSATE_PREFIX, CommandMeta, command_key

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import (
        AmazonCloudWatchEMFProvider,
    )

    from stepsaga.workflows.saga import ExecutionContext, StateContext, StepError

__all__ = ("Decider", "StepContext", "event_id_for")

_ModelT = TypeVar("_ModelT", bound=BaseModel)
S = TypeVar("S")

# A fixed namespace: event ids must be the same on every retry, in every process, forever.
_EVENT_IDS = uuid.UUID("6f1d3c2a-5b7e-4f0a-9c8d-2e4b6a8c0d1f")

Decider = Callable[[list[RecordedEvent]], Sequence[DomainEvent]]
"""Given a stream's history, the events to append (possibly none)."""


def event_id_for(command_key: str, state_name: str, stream: StreamId, index: int) -> str:
    """The deterministic id of the `index`-th event a command's state appends to `stream`.

    Every attempt of the state, in every execution of the command (`command_key`, see
    `stepsaga.workflows.saga.command_key`), gets the same ids, which is what lets the event
    store recognise a retried append and a compensation find what its action appended.
    """
    name = f"{command_key}\x1f{state_name}\x1f{stream.key}\x1f{index}"
    return str(uuid.uuid5(_EVENT_IDS, name))


class StepContext:
    """Everything a step function may use besides its command.

    Events and mail are scoped to the command's tenant. Events get deterministic ids from
    (command, state, stream, index), numbered per stream in the order the step appends them;
    mails get idempotency keys from (command, state, n). A step that appends and sends in the
    same order on every attempt is therefore safe to retry after a crash at any point, and a
    second execution of the same command writes and sends nothing twice.

    Attributes:
        tenant: The command's tenant.
        meta: The command's metadata (`commandId`, `requestedBy`, ...).
        execution: The Step Functions execution (`id` is the correlation id of every event).
        state: The state running this step (its name, its retry count).
        error: The caught error, for compensations and failure notifications, else None.
        logger: The Powertools logger, already carrying the correlation id.
        metrics: The Powertools metrics of this invocation.
    """

    def __init__(
        self,
        *,
        tenant: TenantId,
        meta: CommandMeta,
        execution: ExecutionContext,
        state: StateContext,
        results: Mapping[str, Any],
        error: StepError | None,
        event_store: EventStore,
        notifier: Notifier | None,
        logger: Logger,
        metrics: AmazonCloudWatchEMFProvider,
        clock: Callable[[], datetime],
        fence: Fence | None = None,
    ) -> None:
        self.tenant = tenant
        self.meta = meta
        self.execution = execution
        self.state = state
        self.error = error
        self.logger = logger
        self.metrics = metrics
        self._results = dict(results)
        self._store = event_store
        self._notifier = notifier
        self._clock = clock
        self._command = command_key(meta)
        self._fence = fence
        self._committed = False
        self._reused = False
        self._wrote = False
        self._next_event: dict[StreamId, int] = {}
        self._next_mail = 0

    @property
    def committed(self) -> bool:
        """True once this task (the pivot) has committed its command with an append."""
        return self._committed

    @property
    def relied_on_earlier_work(self) -> bool:
        """Whether this attempt went on from work done earlier, writing nothing itself.

        True when it returned events an earlier attempt (or another execution of the command)
        appended, and appended none behind its fence: it met no fence on its way, so the
        runtime checks the fence for it, since a command compensated meanwhile must not go on
        as though that work still stood.
        """
        return self._reused and not self._wrote

    @property
    def command_key(self) -> str:
        """The command's key: the same in every execution and attempt of this command."""
        return self._command

    @property
    def compensated_step(self) -> str | None:
        """The step this task compensates (its state is `Compensate<Step>`), else None."""
        name = self.state.name
        if self.error is not None and name.startswith(COMPENSATE_PREFIX):
            return name[len(COMPENSATE_PREFIX) :] or None
        return None

    # -- earlier results ------------------------------------------------------------------

    @property
    def results(self) -> Mapping[str, Any]:
        """The JSON each completed step returned, by step name."""
        return self._results

    def result(self, step: str, model: type[_ModelT]) -> _ModelT:
        """The result of a completed step, validated against its model.

        Raises:
            KeyError: The step has not completed (the message lists the completed ones).
            ValueError: The stored result does not fit `model` (names `results.<step>`).
        """
        if step not in self._results:
            done = ", ".join(sorted(self._results)) or "none"
            raise KeyError(f"step {step!r} has no result; completed steps: {done}")
        try:
            return model.model_validate(self._results[step])
        except ValidationError as invalid:
            raise ValueError(f"results.{step} is not a {model.__name__}: {invalid}") from None

    # -- events ---------------------------------------------------------------------------

    def stream(self, aggregate_type: str, aggregate_id: str) -> StreamId:
        """The stream of one of this tenant's aggregates.

        Raises:
            pydantic.ValidationError: An invalid part (names `aggregate_type` or `aggregate_id`).
        """
        return StreamId.of(self.tenant, aggregate_type, aggregate_id)

    def _own(self, stream: StreamId) -> StreamId:
        if stream.tenant != self.tenant:
            raise TenantMismatchError(self.tenant, stream.tenant, "stream.tenant")
        return stream

    def read(self, stream: StreamId) -> list[RecordedEvent]:
        """The stream's whole history (this tenant's streams only)."""
        return self._store.read(self._own(stream))

    def version(self, stream: StreamId) -> int:
        """The stream's current version (this tenant's streams only)."""
        return self._store.version(self._own(stream))

    def _id(self, stream: StreamId, index: int, state: str | None = None) -> str:
        return event_id_for(self._command, state or self.state.name, stream, index)

    def _events(self, stream: StreamId, drafts: Sequence[DomainEvent]) -> list[StoredEvent]:
        now = self._clock()
        start = self._next_event.get(stream, 0)
        return [
            StoredEvent(
                event_id=self._id(stream, start + offset),
                type=draft.event_type,
                schema_version=draft.schema_version,
                payload=draft.model_dump(mode="json"),
                occurred_at=now,
                tenant=self.tenant,
                correlation_id=self.execution.id,
                causation_id=self.meta.command_id,
            )
            for offset, draft in enumerate(drafts)
        ]

    def _appended(self, stream: StreamId, state: str | None = None) -> list[RecordedEvent]:
        """The events `state` (default: this one) of this command appended to `stream` so far.

        Looked up by their ids, which are consecutive per stream: a handful of reads however
        long the stream is.
        """
        found: list[RecordedEvent] = []
        start = self._next_event.get(stream, 0) if state is None else 0
        chunk = 4
        while True:
            ids = [self._id(stream, start + len(found) + n, state) for n in range(chunk)]
            page = self._store.find(stream, ids)
            found += page
            if len(page) < chunk:
                return found
            chunk = min(chunk * 2, 32)

    def appended_by(self, state: str, stream: StreamId) -> list[RecordedEvent]:
        """What this command's state `state` appended to `stream`, in every attempt.

        A compensation calls it with its action's step name to find the action's own events
        (a failed action returns no result, and may still have appended): they are found by
        their ids, not by reading the stream.

        Raises:
            TenantMismatchError: `stream` belongs to another tenant.
        """
        return self._appended(self._own(stream), state)

    def _advance(self, stream: StreamId, recorded: Sequence[RecordedEvent]) -> None:
        self._next_event[stream] = self._next_event.get(stream, 0) + len(recorded)

    def append(
        self, stream: StreamId, events: Sequence[DomainEvent], *, expected_version: int
    ) -> list[RecordedEvent]:
        """Append typed events if the stream is at `expected_version` (0: a new stream).

        Safe to retry: if an earlier attempt of this step (in this execution of the command or
        another) already appended these events, the store returns them and writes nothing,
        whatever `expected_version` the retry passes.

        Raises:
            ConcurrencyError: Another writer moved the stream on (the runtime reports it as
                retryable).
            FencedError: A compensation of this command has run (the runtime reports it as
                `Saga.Fenced`); nothing was written.
            TenantMismatchError: `stream` belongs to another tenant.
            EventTooLargeError: An event does not fit an item.
        """
        batch = self._events(self._own(stream), events)
        recorded = self._write(stream, batch, expected_version)
        self._advance(stream, recorded)
        return recorded

    def _write(
        self, stream: StreamId, batch: list[StoredEvent], expected_version: int
    ) -> list[RecordedEvent]:
        recorded = self._store.append(stream, batch, expected_version, fence=self._fence)
        # The store returns what it holds: these very events when it wrote them now, an
        # earlier attempt's (stamped earlier) when it found them already stored.
        if any(kept.event != sent for kept, sent in zip(recorded, batch, strict=True)):
            self._reused = True
        elif recorded and self._fence is not None:
            self._wrote = True
            self._committed = self._committed or self._fence.commits
        return recorded

    def decide(
        self, stream: StreamId, decider: Decider, *, attempts: int = 20
    ) -> list[RecordedEvent]:
        """Read the stream, let `decider` choose the events, append them; repeat on conflict.

        This is optimistic concurrency for read-modify-write steps (reserving stock, say):
        the decision is remade from fresh history whenever another writer got in first. If an
        earlier attempt of this step (in any execution of the command) already appended its
        events, they are returned without calling `decider` again.

        Args:
            stream: The stream to decide on (this tenant's).
            decider: Given the history, the events to append; may raise a `BusinessFailure`.
            attempts: How many conflicts to absorb before giving up.

        Returns:
            The recorded events (empty if the decider chose none).

        Raises:
            ConcurrencyError: Still conflicting after `attempts` tries (retryable).
        """

        def attempt() -> tuple[Sequence[DomainEvent], int]:
            history = self.read(stream)
            return decider(history), history[-1].version if history else 0

        return self._decide_until_written(stream, attempt, attempts)

    def decide_from(
        self,
        stream: StreamId,
        projection: Projection[S],
        decider: Callable[[S], Sequence[DomainEvent]],
        *,
        attempts: int = 20,
    ) -> list[RecordedEvent]:
        """`decide` on a hot stream: the decider gets the stream's folded state, not its history.

        The state is read from the stream's snapshot and the events after it (`fold`), in
        time independent of the stream's length; the events are appended at the version the
        state includes, and on a conflict the state is folded again and the decision remade.
        If an earlier attempt of this step (in any execution of the command) already appended
        its events, they are returned without calling `decider`.

        Args:
            stream: The stream to decide on (this tenant's).
            projection: How its events fold into the state the decider needs.
            decider: Given the state, the events to append; may raise a `BusinessFailure`.
            attempts: How many conflicts to absorb before giving up.

        Raises:
            ConcurrencyError: Still conflicting after `attempts` tries (retryable).
        """

        def attempt() -> tuple[Sequence[DomainEvent], int]:
            folded = fold(self._store, stream, projection)
            return decider(folded.state), folded.version

        return self._decide_until_written(stream, attempt, attempts)

    def _decide_until_written(
        self,
        stream: StreamId,
        attempt: Callable[[], tuple[Sequence[DomainEvent], int]],
        attempts: int,
    ) -> list[RecordedEvent]:
        """Decide and append, deciding again on each conflict.

        `attempt` gives the events and the version they were decided at. If this step already
        wrote its events (an earlier attempt, in any execution of the command), they are
        returned without deciding.
        """
        self._own(stream)
        done = self._appended(stream)
        if done:
            self._reused = True
            self._advance(stream, done)
            return done
        conflict: ConcurrencyError | None = None
        for tries in range(max(attempts, 1)):
            if tries:
                # Jittered back-off so that writers racing on one hot stream spread out
                # instead of colliding again in lockstep.
                time.sleep(random.uniform(0, min(0.05, 0.001 * 2**tries)))
            decided, expected = attempt()
            batch = self._events(stream, decided)
            if not batch:
                return []
            try:
                recorded = self._write(stream, batch, expected)
            except ConcurrencyError as error:
                conflict = error
                self.logger.debug("conflict, deciding again", extra={"stream": stream.key})
                continue
            self._advance(stream, recorded)
            return recorded
        assert conflict is not None
        raise conflict

    # -- mail -----------------------------------------------------------------------------

    def send_email(self, message: EmailMessage) -> SentEmail:
        """Send a mail at most once per (command, state, n-th mail of the step).

        Raises:
            RuntimeError: The runtime was built without a notifier.
        """
        if self._notifier is None:
            raise RuntimeError(f"step {self.state.name} sends mail but no notifier is configured")
        key = f"{self._command}/{self.state.name}/mail-{self._next_mail}"
        self._next_mail += 1
        return self._notifier.send(self.tenant, message, idempotency_key=key)
