"""Tenant codes and stream ids: the parts of every event-store key, validated once."""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler, field_validator
from pydantic_core import core_schema

from stepsaga.domain._errors import InvalidIdentifierError

__all__ = (
    "MAX_AGGREGATE_ID_LENGTH",
    "MAX_AGGREGATE_TYPE_LENGTH",
    "MAX_TENANT_LENGTH",
    "StreamId",
    "TenantId",
    "validate_key_part",
)

MAX_TENANT_LENGTH = 63
MAX_AGGREGATE_TYPE_LENGTH = 64
MAX_AGGREGATE_ID_LENGTH = 200

# `#` separates the parts of a partition key; letting it into any part would let one tenant
# spell a key inside another tenant's key space. The patterns are used with `fullmatch`: `$`
# also matches before a trailing newline, which once let `acme\n` through as a tenant.
_TENANT = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")
_AGGREGATE_TYPE = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*")
_FORBIDDEN_IN_ID = re.compile(r"[#\s\x00-\x1f\x7f]")
# Characters that print as nothing or as something else: controls (C0 and C1), format
# characters (zero-width spaces and joiners, the byte order mark, soft hyphens, bidi overrides
# and isolates), separators, and surrogates (not text at all). Two ids differing only by one of
# them would name two streams that look like one.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zs", "Zl", "Zp"})
_CATEGORY_NAMES = {
    "Cc": "a control character",
    "Cf": "an invisible format character (zero-width, bidi control, soft hyphen)",
    "Cs": "a lone surrogate, which is not valid Unicode text",
    "Zs": "a space separator",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
}


def _check_characters(field: str, value: str) -> None:
    """Refuse `#`, whitespace, invisible characters and text not in composed (NFC) form."""
    bad = _FORBIDDEN_IN_ID.search(value)
    if bad:
        raise InvalidIdentifierError(
            field, value, f"contains {bad.group()!r} ('#', whitespace and control characters)"
        )
    if value.isascii():
        return
    for index, char in enumerate(value):
        category = unicodedata.category(char)
        if category in _INVISIBLE_CATEGORIES:
            raise InvalidIdentifierError(
                field,
                value,
                f"contains U+{ord(char):04X} at index {index}: {_CATEGORY_NAMES[category]}",
            )
    # `é` can be one code point or `e` plus a combining accent; both print alike, so only the
    # composed form is a valid id.
    if not unicodedata.is_normalized("NFC", value):
        raise InvalidIdentifierError(
            field, value, "is not in Unicode composed form (NFC): normalise it first"
        )


def _check_length(field: str, value: str, maximum: int) -> None:
    if not value:
        raise InvalidIdentifierError(field, value, "must not be empty")
    if len(value) > maximum:
        raise InvalidIdentifierError(field, value, f"longer than {maximum} characters")


def validate_key_part(field: str, value: object, maximum: int = MAX_AGGREGATE_ID_LENGTH) -> str:
    """Validate a free-form identifier that becomes part of a storage key.

    Args:
        field: The field name to report on failure.
        value: The candidate identifier.
        maximum: The maximum length in characters.

    Returns:
        The identifier unchanged.

    Raises:
        InvalidIdentifierError: If it is not a string, is empty or too long, contains `#`,
            whitespace, a control or invisible format character or a lone surrogate, or is
            not in Unicode composed form (NFC).
    """
    if not isinstance(value, str):
        raise InvalidIdentifierError(field, value, "must be a string")
    _check_length(field, value, maximum)
    _check_characters(field, value)
    return value


class TenantId(str):
    """A tenant code: lowercase letters, digits and inner hyphens, 1 to 63 characters.

    `TenantId("acme")` validates on construction; as a pydantic field type it validates and
    reports failures against the field.

    Raises:
        InvalidIdentifierError: On construction from an invalid code.
    """

    __slots__ = ()

    def __new__(cls, value: str) -> Self:
        if isinstance(value, cls):
            return value
        if not isinstance(value, str):
            raise InvalidIdentifierError("tenant", value, "must be a string")
        _check_length("tenant", value, MAX_TENANT_LENGTH)
        if not _TENANT.fullmatch(value):
            raise InvalidIdentifierError(
                "tenant",
                value,
                "use lowercase letters, digits and inner '-' only (no '#', no upper case)",
            )
        return super().__new__(cls, value)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(
            cls,
            core_schema.str_schema(),
            serialization=core_schema.to_string_ser_schema(),
        )


class StreamId(BaseModel):
    """The identity of one event stream: a tenant's aggregate of some type.

    Attributes:
        tenant: The owning tenant.
        aggregate_type: The kind of aggregate (`Order`, `Stock`); a letter then letters,
            digits, `_`, `.` or `-`, at most 64 characters.
        aggregate_id: The aggregate's id within the tenant; at most 200 characters, no `#`,
            whitespace, control or invisible characters, in Unicode composed form (NFC).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant: TenantId
    aggregate_type: str
    aggregate_id: str

    @field_validator("aggregate_type", mode="before")
    @classmethod
    def _valid_type(cls, value: object) -> str:
        text = validate_key_part("aggregate_type", value, MAX_AGGREGATE_TYPE_LENGTH)
        if not _AGGREGATE_TYPE.fullmatch(text):
            raise InvalidIdentifierError(
                "aggregate_type", text, "a letter then letters, digits, '_', '.' or '-'"
            )
        return text

    @field_validator("aggregate_id", mode="before")
    @classmethod
    def _valid_id(cls, value: object) -> str:
        return validate_key_part("aggregate_id", value, MAX_AGGREGATE_ID_LENGTH)

    @classmethod
    def of(cls, tenant: str, aggregate_type: str, aggregate_id: str) -> StreamId:
        """Build a stream id from its three parts, validating each.

        Raises:
            pydantic.ValidationError: Naming the offending part.
        """
        return cls(tenant=tenant, aggregate_type=aggregate_type, aggregate_id=aggregate_id)

    @classmethod
    def from_key(cls, key: str) -> StreamId:
        """Parse a storage key written by `key`.

        Raises:
            InvalidIdentifierError: If the key does not have exactly three `#`-separated parts.
        """
        parts = key.split("#")
        if len(parts) != 3:
            raise InvalidIdentifierError("stream key", key, "expected tenant#type#id")
        return cls.of(*parts)

    @property
    def key(self) -> str:
        """The partition key: `{tenant}#{aggregate_type}#{aggregate_id}`."""
        return f"{self.tenant}#{self.aggregate_type}#{self.aggregate_id}"

    def __str__(self) -> str:
        return self.key
