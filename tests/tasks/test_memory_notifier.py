"""The in-memory notifier keeps every promise of the notifier contract."""

from __future__ import annotations

from stepsaga.tasks import InMemoryNotifier, Notifier
from stepsaga.testing.contracts import NotifierContract


class TestInMemoryNotifier(NotifierContract):
    def make_notifier(self) -> Notifier:
        return InMemoryNotifier()

    def delivered(self, notifier: Notifier) -> int:
        assert isinstance(notifier, InMemoryNotifier)
        return len(notifier.sent)

    def fail_next_send(self, notifier: Notifier) -> None:
        assert isinstance(notifier, InMemoryNotifier)
        notifier.fail_next()
