"""In-memory adapters: the event store and notifier for tests and local runs."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence

from stepsaga.domain import (
    ConcurrencyError,
    FencedError,
    RecordedEvent,
    RetryableError,
    StoredEvent,
    StreamId,
    TenantId,
    TenantMismatchError,
)
from stepsaga.tasks._limits import (
    check_append,
    check_snapshot,
    encode_json,
    raise_partially_stored,
)
from stepsaga.tasks._ports import (
    EmailMessage,
    Fence,
    IdempotencyConflictError,
    SentEmail,
    Snapshot,
)

__all__ = ("InMemoryEventStore", "InMemoryNotifier")


class InMemoryEventStore:
    """An `EventStore` held in a dict, safe to share between threads.

    It keeps exactly the promises of the DynamoDB store (same checks, same conflict rules),
    so a service tested on it behaves the same on AWS.
    """

    def __init__(self) -> None:
        self._streams: dict[StreamId, list[RecordedEvent]] = {}
        # Per stream, event id to its recorded event: what DynamoDB's event-id guards hold.
        self._by_id: dict[StreamId, dict[str, RecordedEvent]] = {}
        # Per (tenant, command): the states that fenced it, and the one that committed it.
        self._fenced: dict[tuple[str, str], set[str]] = {}
        self._committed: dict[tuple[str, str], str] = {}
        # Per stream and snapshot name: the newest snapshot, kept as its JSON text like the
        # DynamoDB store keeps it (so a caller's later change to the state cannot reach it).
        self._snapshots: dict[tuple[StreamId, str], tuple[int, str]] = {}
        self._lock = threading.Lock()

    def append(
        self,
        stream: StreamId,
        events: Sequence[StoredEvent],
        expected_version: int,
        *,
        fence: Fence | None = None,
    ) -> list[RecordedEvent]:
        """See `EventStore.append`."""
        check_append(stream, events, expected_version, fenced=fence is not None)
        if fence is not None and fence.tenant != stream.tenant:
            raise TenantMismatchError(stream.tenant, fence.tenant, "fence.tenant")
        if not events:
            return []
        with self._lock:
            stored = self._streams.setdefault(stream, [])
            by_id = self._by_id.setdefault(stream, {})
            found = [by_id.get(event.event_id) for event in events]
            if all(recorded is not None for recorded in found):
                return [recorded for recorded in found if recorded is not None]
            if fence is not None:
                self._check_open(fence)
            actual = len(stored)
            if actual != expected_version:
                raise ConcurrencyError(stream.key, expected_version, actual)
            for index, recorded in enumerate(found):
                if recorded is not None:
                    raise_partially_stored(stream, events, index, recorded.version)
            recorded_now = [
                RecordedEvent(stream=stream, version=actual + offset, event=event)
                for offset, event in enumerate(events, start=1)
            ]
            stored.extend(recorded_now)
            by_id.update((r.event.event_id, r) for r in recorded_now)
            if fence is not None and fence.commits:
                self._committed.setdefault((fence.tenant, fence.command), fence.step)
            return list(recorded_now)

    def _check_open(self, fence: Fence) -> None:
        fenced_by = self._fenced.get((fence.tenant, fence.command))
        if fenced_by:
            raise FencedError(fence.tenant, fence.command, fence.step, tuple(fenced_by))

    def load_snapshot(self, stream: StreamId, name: str) -> Snapshot | None:
        """See `EventStore.load_snapshot`."""
        with self._lock:
            kept = self._snapshots.get((stream, name))
        if kept is None:
            return None
        version, state = kept
        return Snapshot(name=name, version=version, state=json.loads(state))

    def save_snapshot(self, stream: StreamId, snapshot: Snapshot) -> bool:
        """See `EventStore.save_snapshot`."""
        state = encode_json(snapshot.state)
        check_snapshot(stream, snapshot.name, state)
        key = (stream, snapshot.name)
        with self._lock:
            kept = self._snapshots.get(key)
            if kept is not None and kept[0] >= snapshot.version:
                return False
            self._snapshots[key] = (snapshot.version, state)
            return True

    def fence_command(self, fence: Fence) -> bool:
        """See `EventStore.fence_command`."""
        key = (fence.tenant, fence.command)
        with self._lock:
            if key in self._committed:
                return False
            self._fenced.setdefault(key, set()).add(fence.step)
            return True

    def fenced_by(self, fence: Fence) -> tuple[str, ...]:
        """See `EventStore.fenced_by`."""
        with self._lock:
            return tuple(sorted(self._fenced.get((fence.tenant, fence.command), ())))

    def commit_command(self, fence: Fence) -> None:
        """See `EventStore.commit_command`."""
        with self._lock:
            self._check_open(fence)
            self._committed.setdefault((fence.tenant, fence.command), fence.step)

    def read(
        self, stream: StreamId, *, from_version: int = 1, limit: int | None = None
    ) -> list[RecordedEvent]:
        """See `EventStore.read`."""
        start = max(from_version, 1) - 1
        with self._lock:
            stored = self._streams.get(stream, [])
            end = len(stored) if limit is None else start + max(limit, 0)
            return stored[start:end]

    def version(self, stream: StreamId) -> int:
        """See `EventStore.version`."""
        with self._lock:
            return len(self._streams.get(stream, []))

    def find(self, stream: StreamId, event_ids: Sequence[str]) -> list[RecordedEvent]:
        """See `EventStore.find`."""
        with self._lock:
            by_id = self._by_id.get(stream, {})
            return [by_id[event_id] for event_id in event_ids if event_id in by_id]

    def streams(self, tenant: str | None = None) -> list[StreamId]:
        """The streams that have events, optionally only one tenant's, in creation order."""
        with self._lock:
            return [s for s in self._streams if self._streams[s] and tenant in (None, s.tenant)]


class InMemoryNotifier:
    """A `Notifier` that records messages instead of sending them, once per idempotency key.

    It keeps the promises of the SES notifier: a key reused for another message is refused
    with `IdempotencyConflictError`, and `fail_next` makes sends fail the way an unreachable
    provider does (retryable, nothing sent), to test what a step does then.

    Attributes:
        sent: Every message actually sent, with its tenant and key, in order.
    """

    def __init__(self) -> None:
        self.sent: list[tuple[TenantId, EmailMessage, SentEmail]] = []
        self._by_key: dict[tuple[str, str], tuple[str, SentEmail]] = {}
        self._failures = 0
        self._lock = threading.Lock()

    def fail_next(self, times: int = 1) -> None:
        """Make the next `times` sends of new mail raise `RetryableError`, sending nothing."""
        with self._lock:
            self._failures = times

    def send(self, tenant: TenantId, message: EmailMessage, *, idempotency_key: str) -> SentEmail:
        """See `Notifier.send`."""
        fingerprint = message.model_dump_json()
        with self._lock:
            previous = self._by_key.get((tenant, idempotency_key))
            if previous is not None:
                sent_fingerprint, receipt = previous
                if sent_fingerprint != fingerprint:
                    raise IdempotencyConflictError(idempotency_key, receipt.message_id)
                return receipt.model_copy(update={"replayed": True})
            if self._failures:
                self._failures -= 1
                raise RetryableError(
                    "the mail provider cannot be reached", retry_hint=idempotency_key
                )
            digest = hashlib.sha256(f"{tenant}\x00{idempotency_key}".encode()).hexdigest()
            receipt = SentEmail(message_id=f"local-{digest[:32]}", idempotency_key=idempotency_key)
            self._by_key[(tenant, idempotency_key)] = (fingerprint, receipt)
            self.sent.append((tenant, message, receipt))
            return receipt
