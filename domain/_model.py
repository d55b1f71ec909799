"""Commands and events: the pydantic models a service declares and the store persists."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    field_validator,
)
from pydantic.alias_generators import to_camel

from stepsaga.domain._errors import InvalidIdentifierError
from stepsaga.domain._ids import StreamId, TenantId, validate_key_part

__all__ = ("Command", "DomainEvent", "RecordedEvent", "StoredEvent")

MAX_EVENT_ID_LENGTH = 128


#: How commands and event payloads travel: camelCase JSON, immutable, no unknown fields.
WIRE_MODEL_CONFIG = ConfigDict(
    alias_generator=to_camel,
    validate_by_name=True,
    validate_by_alias=True,
    serialize_by_alias=True,
    frozen=True,
    extra="forbid",
)


class Command(BaseModel):
    """Base class of a service's commands: immutable, strict about unknown fields, camelCase.

    Fields are written in snake_case in Python and read and written as camelCase on the wire
    (API Gateway bodies, Step Functions input), which is what `model_dump()` produces.

    Example:
        >>> class PlaceOrder(Command):
        ...     order_id: str
        >>> PlaceOrder.model_validate({"orderId": "o-1"}).model_dump()
        {'orderId': 'o-1'}
    """

    model_config = WIRE_MODEL_CONFIG


class DomainEvent(BaseModel):
    """Base class of a service's typed event payloads.

    The stored event type is the class name unless the class sets `event_type`; bump
    `schema_version` when the payload's shape changes incompatibly.
    """

    model_config = WIRE_MODEL_CONFIG

    event_type: ClassVar[str] = ""
    schema_version: ClassVar[int] = 1

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__dict__.get("event_type"):
            cls.event_type = cls.__name__

    @classmethod
    def from_event(cls, event: StoredEvent) -> Self:
        """Rebuild the typed payload from a stored event of this type.

        Raises:
            ValueError: If the stored event has another type.
        """
        if event.type != cls.event_type:
            raise ValueError(f"event {event.event_id} is a {event.type}, not a {cls.event_type}")
        return cls.model_validate(event.payload)


class StoredEvent(BaseModel):
    """One domain event as the event store holds it: the envelope around a payload's JSON.

    A service writes its events as `DomainEvent` subclasses; the store keeps each as a
    `StoredEvent` (ids, type, tenant, correlation), and reads it back as a `RecordedEvent`.

    Attributes:
        event_id: Unique within its stream; deterministic per (command, state, stream, index)
            when written by a saga step, which makes a retried append idempotent.
        type: The event type (`OrderPlaced`).
        schema_version: The payload's schema version, from 1.
        payload: The event's JSON payload.
        occurred_at: When it happened (timezone-aware).
        tenant: The owning tenant; always the tenant of the stream it is appended to.
        correlation_id: The Step Functions execution ARN that produced it.
        causation_id: What caused it: the command id or the producing state.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: str
    type: str = Field(min_length=1, max_length=128)
    schema_version: int = Field(default=1, ge=1)
    payload: dict[str, JsonValue]
    occurred_at: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))
    tenant: TenantId
    correlation_id: str = Field(default="", max_length=2048)
    causation_id: str = Field(default="", max_length=2048)

    @field_validator("event_id", mode="before")
    @classmethod
    def _valid_event_id(cls, value: object) -> str:
        return validate_key_part("event_id", value, MAX_EVENT_ID_LENGTH)

    @field_validator("type")
    @classmethod
    def _valid_type(cls, value: str) -> str:
        if not value[0].isalpha() or not value.replace("_", "").replace(".", "").isalnum():
            raise InvalidIdentifierError("type", value, "a letter then letters, digits, '_', '.'")
        return value


class RecordedEvent(BaseModel):
    """A stored event at its place in a stream.

    Attributes:
        stream: The stream it belongs to.
        version: Its version in the stream, from 1 without gaps.
        event: The stored event itself.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    stream: StreamId
    version: int = Field(ge=1)
    event: StoredEvent
