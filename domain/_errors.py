"""Domain errors. Each one carries the context a caller needs to act on it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = (
    "BatchTooLargeError",
    "BusinessFailure",
    "ConcurrencyError",
    "DomainError",
    "EventTooLargeError",
    "FencedError",
    "InvalidIdentifierError",
    "PayloadTooLargeError",
    "RetryableError",
    "TenantMismatchError",
)

# Step Functions matches error names literally in Retry/Catch; keep them plain identifiers and
# keep users out of the reserved `States.` namespace.
_ERROR_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.]{0,127}$")


class DomainError(Exception):
    """Base class of every error stepsaga's domain model raises."""


class InvalidIdentifierError(DomainError, ValueError):
    """A tenant code, aggregate type, aggregate id or event id broke its rules.

    It is a `ValueError` so that pydantic reports it against the field being validated.

    Attributes:
        field: The name of the offending field (`tenant`, `aggregate_id`, ...).
        value: The rejected value.
        reason: What rule the value broke.
    """

    def __init__(self, field: str, value: object, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"invalid {field} {value!r}: {reason}")


class ConcurrencyError(DomainError):
    """An append expected a stream version that is no longer the stream's version.

    Attributes:
        stream: The stream key (`tenant#type#id`).
        expected: The version the caller expected the stream to be at.
        actual: The version the stream was found at (best knowledge at the time of the conflict).
    """

    def __init__(self, stream: str, expected: int, actual: int) -> None:
        self.stream = stream
        self.expected = expected
        self.actual = actual
        super().__init__(f"stream {stream}: expected version {expected}, found {actual}")


class FencedError(DomainError):
    """A command's append was refused: a compensation of the command has run (it is fenced).

    What the command's actions write after one of its compensations started would never be
    undone: a Lambda still running after its Task timed out, or a second execution of the
    command. Not worth retrying; nothing of the refused append was written.

    Attributes:
        tenant: The command's tenant.
        command: The command's key.
        step: The state whose write was refused.
        fenced_by: The states that fenced the command, sorted.
    """

    def __init__(self, tenant: str, command: str, step: str, fenced_by: tuple[str, ...]) -> None:
        self.tenant = tenant
        self.command = command
        self.step = step
        self.fenced_by = tuple(sorted(fenced_by))
        by = ", ".join(self.fenced_by) or "a compensation"
        super().__init__(
            f"{step} may not write: command {command} of tenant {tenant} was fenced by {by}"
        )


class TenantMismatchError(DomainError):
    """An operation scoped to one tenant was asked to touch another tenant's data.

    Attributes:
        tenant: The tenant the operation is scoped to.
        other: The tenant it was asked to reach.
        field: Where the other tenant came from (for example `stream.tenant`).
    """

    def __init__(self, tenant: str, other: str, field: str) -> None:
        self.tenant = tenant
        self.other = other
        self.field = field
        super().__init__(f"{field} is tenant {other!r}, but this operation is scoped to {tenant!r}")


class PayloadTooLargeError(DomainError):
    """Something would not fit a service limit (a step result in a Step Functions payload).

    Attributes:
        field: What was measured (for example `events[2]` or `result`).
        size: Its encoded size in bytes.
        limit: The limit in bytes.
    """

    def __init__(self, field: str, size: int, limit: int) -> None:
        self.field = field
        self.size = size
        self.limit = limit
        super().__init__(f"{field} is {size} bytes encoded, over the {limit}-byte limit")


class EventTooLargeError(PayloadTooLargeError):
    """An event would not fit in one DynamoDB item (400 KB)."""


class BatchTooLargeError(PayloadTooLargeError):
    """An append would not fit one DynamoDB transaction (4 MB of items in all).

    The size counts every item the append writes: its events, their id guards, the stream
    head and the command fence. Split the events over several appends.
    """

    def __init__(self, field: str, size: int, limit: int) -> None:
        super().__init__(field, size, limit)
        self.args = (
            f"{field}: the append writes {size} bytes of items (events, their id guards, the "
            f"stream head), over the {limit}-byte limit of one transaction; split the events",
        )


class BusinessFailure(DomainError):
    """A step refused the command for a business reason: not retried, the saga compensates.

    The Step Functions error name of the failure is `name`. Subclass it and the class name is
    the default name (`class PaymentDeclined(BusinessFailure)` fails with `PaymentDeclined`), or
    raise it directly with an explicit name.

    Attributes:
        name: The Step Functions error name (`PaymentDeclined`).
        message: A human-readable explanation; becomes the error's `Cause`.
        details: JSON-serialisable context for operators and for the failure notification.
    """

    name: str

    def __init__(
        self,
        message: str,
        *,
        name: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        resolved = name or (None if type(self) is BusinessFailure else type(self).__name__)
        if resolved is None:
            raise TypeError("BusinessFailure needs a name when raised without a subclass")
        if not _ERROR_NAME.match(resolved) or resolved.startswith("States."):
            raise InvalidIdentifierError(
                "name", resolved, "an error name is a letter then letters, digits, '_' or '.'"
            )
        self.name = resolved
        self.message = message
        self.details: dict[str, Any] = dict(details or {})
        super().__init__(f"{resolved}: {message}")


class RetryableError(DomainError):
    """A transient failure: Step Functions retries the step under its policy.

    Attributes:
        message: What went wrong.
        retry_hint: Optional context such as the resource that was busy.
    """

    def __init__(self, message: str, *, retry_hint: str | None = None) -> None:
        self.message = message
        self.retry_hint = retry_hint
        super().__init__(message if retry_hint is None else f"{message} ({retry_hint})")
