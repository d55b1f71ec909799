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
from stepsaga.tasks._ports import EmailMessage, EventStore, Notifier, SentEmail

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import (
        AmazonCloudWatchEMFProvider,
    )

    from stepsaga.workflows.saga import CommandMeta, ExecutionContext, StateContext, StepError

__all__ = ("Decider", "StepContext", "event_id_for")

_ModelT = TypeVar("_ModelT", bound=BaseModel)

# A fixed namespace: event ids must be the same on every retry, in every process, forever.
_EVENT_IDS = uuid.UUID("6f1d3c2a-5b7e-4f0a-9c8d-2e4b6a8c0d1f")

Decider = Callable[[list[RecordedEvent]], Sequence[DomainEvent]]
"""Given a stream's history, the events to append (possibly none)."""


def event_id_for(execution_id: str, state_name: str, index: int) -> str:
    """The deterministic id of the `index`-th event a task invocation appends.

    A Step Functions retry of the same state in the same execution gets the same ids, which
    is what lets the event store recognise a retried append.
    """
    return str(uuid.uuid5(_EVENT_IDS, f"{execution_id}\x1f{state_name}\x1f{index}"))


class StepContext:
    """Everything a step function may use besides its command.

    Events and mail are scoped to the command's tenant. Events get deterministic ids from
    (execution, state, index), numbered in the order the step appends them; mails get
    idempotency keys the same way. A step that appends and sends in the same order on every
    attempt is therefore safe to retry after a crash at any point.

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
        self._next_event = 0
        self._next_mail = 0

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

    def _events(self, drafts: Sequence[DomainEvent], start: int) -> list[StoredEvent]:
        now = self._clock()
        return [
            StoredEvent(
                event_id=event_id_for(self.execution.id, self.state.name, start + offset),
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

    def _already_appended(self, history: list[RecordedEvent], start: int) -> list[RecordedEvent]:
        by_id = {r.event.event_id: r for r in history}
        found: list[RecordedEvent] = []
        while (
            recorded := by_id.get(
                event_id_for(self.execution.id, self.state.name, start + len(found))
            )
        ) is not None:
            found.append(recorded)
        return found

    def append(
        self, stream: StreamId, events: Sequence[DomainEvent], *, expected_version: int
    ) -> list[RecordedEvent]:
        """Append typed events if the stream is at `expected_version` (0: a new stream).

        Safe to retry: if an earlier attempt of this task already appended these events, the
        recorded events are returned and nothing is written.

        Raises:
            ConcurrencyError: Another writer moved the stream on (the runtime reports it as
                retryable).
            TenantMismatchError: `stream` belongs to another tenant.
            EventTooLargeError: An event does not fit an item.
        """
        start = self._next_event
        batch = self._events(events, start)
        try:
            recorded = self._store.append(self._own(stream), batch, expected_version)
        except ConcurrencyError:
            # A crashed attempt may have appended these events at a version we did not expect.
            done = self._already_appended(self._store.read(stream), start)
            if len(done) != len(batch):
                raise
            recorded = done
        self._next_event = start + len(batch)
        return recorded

    def decide(
        self, stream: StreamId, decider: Decider, *, attempts: int = 20
    ) -> list[RecordedEvent]:
        """Read the stream, let `decider` choose the events, append them; repeat on conflict.

        This is optimistic concurrency for read-modify-write steps (reserving stock, say):
        the decision is remade from fresh history whenever another writer got in first. If an
        earlier attempt of this task already appended its events, they are returned without
        calling `decider` again.

        Args:
            stream: The stream to decide on (this tenant's).
            decider: Given the history, the events to append; may raise a `BusinessFailure`.
            attempts: How many conflicts to absorb before giving up.

        Returns:
            The recorded events (empty if the decider chose none).

        Raises:
            ConcurrencyError: Still conflicting after `attempts` tries (retryable).
        """
        start = self._next_event
        conflict: ConcurrencyError | None = None
        for attempt in range(max(attempts, 1)):
            if attempt:
                # Jittered back-off so that writers racing on one hot stream spread out
                # instead of colliding again in lockstep.
                time.sleep(random.uniform(0, min(0.05, 0.001 * 2**attempt)))
            history = self.read(stream)
            done = self._already_appended(history, start)
            if done:
                self._next_event = start + len(done)
                return done
            batch = self._events(decider(history), start)
            if not batch:
                return []
            expected = history[-1].version if history else 0
            try:
                recorded = self._store.append(stream, batch, expected)
            except ConcurrencyError as error:
                conflict = error
                self.logger.debug("conflict, deciding again", extra={"stream": stream.key})
                continue
            self._next_event = start + len(batch)
            return recorded
        assert conflict is not None
        raise conflict

    # -- mail -----------------------------------------------------------------------------

    def send_email(self, message: EmailMessage) -> SentEmail:
        """Send a mail at most once per (execution, state, n-th mail of the step).

        Raises:
            RuntimeError: The runtime was built without a notifier.
        """
        if self._notifier is None:
            raise RuntimeError(f"step {self.state.name} sends mail but no notifier is configured")
        key = f"{self.execution.id}/{self.state.name}/mail-{self._next_mail}"
        self._next_mail += 1
        return self._notifier.send(self.tenant, message, idempotency_key=key)
