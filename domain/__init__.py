"""The pure domain model of a stepsaga service: commands, events, tenants, stream ids, errors."""

from stepsaga.domain._errors import (
    BatchTooLargeError,
    BusinessFailure,
    ConcurrencyError,
    DomainError,
    EventTooLargeError,
    FencedError,
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
    validate_key_part,
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
    "FencedError",
    "InvalidIdentifierError",
    "PayloadTooLargeError",
    "RecordedEvent",
    "RetryableError",
    "StoredEvent",
    "StreamId",
    "TenantId",
    "TenantMismatchError",
    "validate_key_part",
)
