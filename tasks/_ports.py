"""The ports a step talks to: the event store and the notifier, and the values they exchange."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationInfo, field_validator

from stepsaga.domain import (
    DomainError,
    RecordedEvent,
    StoredEvent,
    StreamId,
    TenantId,
    validate_key_part,
)

__all__ = (
    "EmailMessage",
    "EventStore",
    "Fence",
    "IdempotencyConflictError",
    "Notifier",
    "SentEmail",
    "Snapshot",
)

#: The longest snapshot name (it is part of a storage key).
MAX_SNAPSHOT_NAME_LENGTH = 64


class Snapshot(BaseModel):
    """A stream's events folded into a state, as of a version: what a reader starts from.

    Attributes:
        name: What was folded, and how (`stock-level/1`): one name per fold function; bump
            the part after `/` when the function changes, so that old snapshots are ignored.
        version: The stream version the state includes (from 1).
        state: The folded state, as JSON.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    version: int = Field(ge=1)
    state: JsonValue

    @field_validator("name", mode="before")
    @classmethod
    def _valid_name(cls, value: object) -> str:
        return validate_key_part("name", value, MAX_SNAPSHOT_NAME_LENGTH)


class Fence(BaseModel):
    """Which command an append belongs to, which state writes it, and whether it commits.

    A compensation fences its command (`EventStore.fence_command`); from then on every append
    behind that command's fence is refused (`FencedError`). The pivot's appends carry
    `commits`: they mark the command committed in the same write, and a committed command can
    no longer be fenced. So a command is either committed or compensated, never both.

    Attributes:
        tenant: The command's tenant; appends behind the fence must be to its streams.
        command: The command's key (`stepsaga.workflows.saga.command_key`).
        step: The state writing (or fencing): recorded for operators.
        commits: The pivot: its append commits the command.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant: TenantId
    command: str
    step: str
    commits: bool = False

    @field_validator("command", "step", mode="before")
    @classmethod
    def _valid_part(cls, value: object, info: ValidationInfo) -> str:
        return validate_key_part(info.field_name or "fence", value, 128)


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
    - each event must belong to the stream's tenant and fit the item-size limit, and an
      append one transaction's limits (`check_append`); a violation is refused before
      anything is written;
    - an append behind a `Fence` is refused with `FencedError` once its command is fenced,
      and the pivot's (`commits`) marks the command committed in the same write; a committed
      command is never fenced, a fenced one never committed;
    - reads are strongly consistent and ordered by version;
    - a stream's snapshots (one per name) are kept newest first: saving one no newer than
      the stored one changes nothing; they leave the stream itself as it was.
    """

    def append(
        self,
        stream: StreamId,
        events: Sequence[StoredEvent],
        expected_version: int,
        *,
        fence: Fence | None = None,
    ) -> list[RecordedEvent]:
        """Append `events` to `stream` if it is at `expected_version`.

        Args:
            stream: The target stream; its tenant scopes the write.
            events: The events, in order; each event's tenant must be the stream's.
            expected_version: The version the caller last saw (0: the stream must not exist).
            fence: The command the append belongs to: refused once the command is fenced;
                with `commits`, it commits the command in the same write.

        Returns:
            The events as recorded, with their versions.

        Raises:
            ConcurrencyError: The stream moved on and the stored events are not these.
            FencedError: The fence's command is fenced; nothing was written.
            TenantMismatchError: An event, or the fence, belongs to another tenant.
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

    def fence_command(self, fence: Fence) -> bool:
        """Fence `fence.command`: refuse every later append behind its fence.

        Idempotent; each fencing state is recorded (`FencedError.fenced_by`).

        Returns:
            True when the command is fenced (now or before); False when it has committed,
            in which case nothing is fenced and the caller must not undo anything.
        """
        ...

    def load_snapshot(self, stream: StreamId, name: str) -> Snapshot | None:
        """The stream's snapshot called `name`, or None (a consistent read)."""
        ...

    def save_snapshot(self, stream: StreamId, snapshot: Snapshot) -> bool:
        """Keep `snapshot` as the stream's snapshot of its name, if it is newer than the stored.

        Returns:
            True when it was saved; False when the stored one is as new or newer.

        Raises:
            PayloadTooLargeError: The snapshot does not fit one item (`snapshot <name>`).
        """
        ...

    def fenced_by(self, fence: Fence) -> tuple[str, ...]:
        """The states that fenced `fence.command`, sorted; empty while it is not fenced."""
        ...

    def commit_command(self, fence: Fence) -> None:
        """Mark `fence.command` committed (as the pivot's append does), unless it is fenced.

        Idempotent; for a pivot that committed without appending.

        Raises:
            FencedError: The command is fenced.
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
