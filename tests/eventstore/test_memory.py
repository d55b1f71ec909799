"""The in-memory store keeps every promise of the event-store contract."""

from __future__ import annotations

from stepsaga.domain import StreamId
from stepsaga.tasks import EventStore, InMemoryEventStore
from stepsaga.testing.contracts import EventStoreContract

ORDER, event = EventStoreContract.ORDER, EventStoreContract.event


class TestInMemoryEventStore(EventStoreContract):
    def make_store(self) -> EventStore:
        return InMemoryEventStore()


def test_streams_lists_only_the_asked_tenant() -> None:
    store = InMemoryEventStore()
    other = StreamId.of("globex", "Order", "o-1")
    store.append(ORDER, [event("a")], 0)
    store.append(other, [event("b", tenant="globex")], 0)

    assert store.streams("acme") == [ORDER]
    assert store.streams() == [ORDER, other]
