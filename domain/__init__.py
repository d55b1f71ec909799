"""The pure domain model of a stepsaga service: commands, events, tenants, stream ids, errors."""

from stepsaga.domain._errors import (
    BatchTooLargeError,
    BusinessFailure,
    ConcurrencyError,
    DomainError,
    EventTooLargeError,
    InvalidIdentifierError,
    PayloadTooLargeError,
    RetryableError,
    TenantMismatchError,
)
from stepsaga.domain._ids import (
    MAX_AGGREGATE_ID_LENGTH,
    MAX_AGGREGATE_TYPE_LENGTH,
    MAX_TENANT_LENGTH,
    StreamId,
    TenantId,
)
from stepsaga.domain._model import (
    WIRE_MODEL_CONFIG,
    Command,
    DomainEvent,
    RecordedEvent,
    StoredEvent,
)

__all__ = (
    "MAX_AGGREGATE_ID_LENGTH",
    "MAX_AGGREGATE_TYPE_LENGTH",
    "MAX_TENANT_LENGTH",
    "WIRE_MODEL_CONFIG",
    "BatchTooLargeError",
    "BusinessFailure",
    "Command",
    "ConcurrencyError",
    "DomainError",
    "DomainEvent",
    "EventTooLargeError",
    "InvalidIdentifierError",
    "PayloadTooLargeError",
    "RecordedEvent",
    "RetryableError",
    "StoredEvent",
    "StreamId",
    "TenantId",
    "TenantMismatchError",
)
