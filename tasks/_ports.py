"""The ports a step talks to: the event store and the notifier, and the values they exchange."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from stepsaga.domain import DomainError, RecordedEvent, StoredEvent, StreamId, TenantId

__all__ = ("EmailMessage", "EventStore", "IdempotencyConflictError", "Notifier", "SentEmail")


class EventStore(Protocol):
    """An append-only, tenant-partitioned store of event streams.

    Every implementation keeps the promises written down once in the conformance test class
    (`stepsaga.testing.contracts.EventStoreContract`):

    - versions start at 1 and have no gaps;
    - an event id is unique within its stream: an append whose event ids are all stored in
      the stream already (a retried append) succeeds whatever its `expected_version`, writes
      nothing and returns the stored events; one that mixes stored and new ids is refused;
    - otherwise `append` writes all of its events or none of them, and only if the stream is
      still at `expected_version` (0 for a new stream), else it raises
      `ConcurrencyError(expected, actual)`;
    - each event must belong to the stream's tenant and fit the item-size limit; a violation
      is refused before anything is written;
    - reads are strongly consistent and ordered by version.
    """

    def append(
        self, stream: StreamId, events: Sequence[StoredEvent], expected_version: int
    ) -> list[RecordedEvent]:
        """Append `events` to `stream` if it is at `expected_version`.

        Args:
            stream: The target stream; its tenant scopes the write.
            events: The events, in order; each event's tenant must be the stream's.
            expected_version: The version the caller last saw (0: the stream must not exist).

        Returns:
            The events as recorded, with their versions.

        Raises:
            ConcurrencyError: The stream moved on and the stored events are not these.
            TenantMismatchError: An event belongs to another tenant.
            EventTooLargeError: An event does not fit one item.
            ValueError: Duplicate event ids in the batch, or some but not all of them already
                stored; too many events; a negative version.
        """
        ...

    def read(
        self, stream: StreamId, *, from_version: int = 1, limit: int | None = None
    ) -> list[RecordedEvent]:
        """Read a stream's events in version order, starting at `from_version`.

        Args:
            stream: The stream to read; its tenant scopes the read.
            from_version: The first version to return (from 1).
            limit: At most this many events (all when None).

        Returns:
            The events, possibly empty when the stream does not exist.
        """
        ...

    def version(self, stream: StreamId) -> int:
        """Return the stream's current version (0 when it has no events)."""
        ...

    def find(self, stream: StreamId, event_ids: Sequence[str]) -> list[RecordedEvent]:
        """The events of `stream` with these ids, in the order asked; ids not stored are left out.

        A lookup by id, in time independent of the stream's length (DynamoDB: the id guards).
        """
        ...


class EmailMessage(BaseModel):
    """A rendered email.

    Attributes:
        to: Recipient addresses.
        subject: The subject line.
        text: The plain-text body.
        html: The HTML body, if any.
        tags: SES message tags (name to value).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    to: tuple[str, ...] = Field(min_length=1, max_length=50)
    subject: str = Field(min_length=1, max_length=998)
    text: str
    html: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class SentEmail(BaseModel):
    """The outcome of a send.

    Attributes:
        message_id: The provider's message id (SES `MessageId`).
        idempotency_key: The key the send was claimed under.
        replayed: True when an earlier attempt had already sent it and nothing was sent now.
    """

    model_config = ConfigDict(frozen=True)

    message_id: str
    idempotency_key: str
    replayed: bool = False


class IdempotencyConflictError(DomainError, ValueError):
    """An idempotency key was reused for a different message.

    Attributes:
        idempotency_key: The reused key.
        message_id: The id of the message already sent under it.
    """

    def __init__(self, idempotency_key: str, message_id: str) -> None:
        self.idempotency_key = idempotency_key
        self.message_id = message_id
        super().__init__(
            f"idempotency_key {idempotency_key!r} already sent a different message ({message_id})"
        )


class Notifier(Protocol):
    """Sends email at most once per idempotency key.

    Every implementation keeps the promises of `stepsaga.testing.contracts.NotifierContract`:
    a key sends once (a repeat returns the first receipt, `replayed`), a key reused for another
    message is refused, keys are scoped to their tenant, and a send that failed before the
    provider sent anything releases its claim, so that a retry sends at once.
    """

    def send(self, tenant: TenantId, message: EmailMessage, *, idempotency_key: str) -> SentEmail:
        """Send `message` unless it was already sent under `idempotency_key` for `tenant`.

        Raises:
            RetryableError: Another attempt holds the claim and has not finished yet, or the
                provider failed transiently (when nothing was sent, the claim is released so
                that a retry can send at once).
            IdempotencyConflictError: The key already sent a different message.
        """
        ...
