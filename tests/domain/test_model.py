"""Commands, events and domain errors."""

from __future__ import annotations

from datetime import datetime

import pytest
from pydantic import ValidationError

from stepsaga.domain import (
    BusinessFailure,
    Command,
    ConcurrencyError,
    DomainEvent,
    InvalidIdentifierError,
    RetryableError,
    StoredEvent,
)


class OpenAccount(Command):
    account_id: str
    opening_balance: int


class AccountOpened(DomainEvent):
    account_id: str


class Renamed(DomainEvent):
    event_type = "AccountRenamed"
    schema_version = 2
    name: str


def test_commands_read_and_write_camel_case() -> None:
    command = OpenAccount.model_validate({"accountId": "a-1", "openingBalance": 5})

    assert command == OpenAccount(account_id="a-1", opening_balance=5)
    assert command.model_dump() == {"accountId": "a-1", "openingBalance": 5}


def test_commands_refuse_unknown_fields_and_changes() -> None:
    with pytest.raises(ValidationError) as raised:
        OpenAccount.model_validate({"accountId": "a-1", "openingBalance": 5, "extra": 1})
    assert raised.value.errors()[0]["loc"] == ("extra",)

    command = OpenAccount(account_id="a-1", opening_balance=5)
    with pytest.raises(ValidationError):
        command.account_id = "a-2"  # type: ignore[misc]


def test_event_types_default_to_the_class_name() -> None:
    assert AccountOpened.event_type == "AccountOpened"
    assert AccountOpened.schema_version == 1
    assert (Renamed.event_type, Renamed.schema_version) == ("AccountRenamed", 2)


def test_a_typed_event_round_trips_through_a_stored_event() -> None:
    stored = StoredEvent(
        event_id="e-1", type="AccountOpened", payload={"accountId": "a-1"}, tenant="acme"
    )

    assert AccountOpened.from_event(stored) == AccountOpened(account_id="a-1")
    with pytest.raises(ValueError, match="not a AccountRenamed"):
        Renamed.from_event(stored)


def test_events_are_stamped_with_an_aware_time_by_default() -> None:
    stored = StoredEvent(event_id="e-1", type="AccountOpened", payload={}, tenant="acme")

    assert stored.occurred_at.tzinfo is not None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("event_id", "e#1"),
        ("event_id", ""),
        ("tenant", "ACME"),
        ("type", "1Bad"),
        ("schema_version", 0),
        ("occurred_at", datetime(2026, 1, 1)),  # naive
    ],
)
def test_invalid_events_name_the_field(field: str, value: object) -> None:
    fields: dict[str, object] = {
        "event_id": "e-1",
        "type": "AccountOpened",
        "payload": {},
        "tenant": "acme",
        field: value,
    }

    with pytest.raises(ValidationError) as raised:
        StoredEvent(**fields)  # type: ignore[arg-type]

    assert raised.value.errors()[0]["loc"] == (field,)


def test_concurrency_errors_carry_expected_and_actual() -> None:
    error = ConcurrencyError("acme#Order#o-1", expected=3, actual=5)

    assert (error.stream, error.expected, error.actual) == ("acme#Order#o-1", 3, 5)
    assert "expected version 3, found 5" in str(error)


def test_business_failures_are_named_by_their_class_or_explicitly() -> None:
    class CardExpired(BusinessFailure):
        pass

    assert CardExpired("expired").name == "CardExpired"
    assert BusinessFailure("frozen", name="Account.Frozen").name == "Account.Frozen"
    assert CardExpired("x", details={"last4": "4242"}).details == {"last4": "4242"}
    with pytest.raises(TypeError):
        BusinessFailure("nameless")


# "Declined\n": `$` matches before a trailing newline, which let it through.
@pytest.mark.parametrize("name", ["States.Timeout", "has space", "1st", "a#b", "Declined\n"])
def test_business_failure_names_must_be_plain_error_names(name: str) -> None:
    with pytest.raises(InvalidIdentifierError) as raised:
        BusinessFailure("x", name=name)

    assert raised.value.field == "name"


def test_retryable_errors_keep_their_hint() -> None:
    error = RetryableError("bank busy", retry_hint="gateway-2")

    assert error.retry_hint == "gateway-2"
    assert str(error) == "bank busy (gateway-2)"
