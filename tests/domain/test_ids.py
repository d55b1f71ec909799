"""Tenant codes and stream ids: the validated parts of every storage key."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from stepsaga.domain import InvalidIdentifierError, StreamId, TenantId


@pytest.mark.parametrize("code", ["acme", "a", "acme-eu-1", "0a", "a" * 63])
def test_valid_tenant_codes_are_accepted(code: str) -> None:
    assert TenantId(code) == code


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("", "empty"),
        ("Acme", "lowercase"),
        ("ac#me", "'#'"),
        ("acme-", "inner '-'"),
        ("-acme", "inner '-'"),
        ("ac me", "lowercase"),
        ("a" * 64, "longer than 63"),
    ],
)
def test_invalid_tenant_codes_are_refused_with_the_field(code: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifierError) as raised:
        TenantId(code)

    assert raised.value.field == "tenant"
    assert raised.value.value == code
    assert reason in str(raised.value)


def test_a_tenant_field_validates_inside_models() -> None:
    class Owned(BaseModel):
        tenant: TenantId

    assert isinstance(Owned(tenant="acme").tenant, TenantId)
    assert Owned(tenant="acme").model_dump() == {"tenant": "acme"}
    with pytest.raises(ValidationError) as raised:
        Owned(tenant="ACME")
    assert raised.value.errors()[0]["loc"] == ("tenant",)


def test_the_stream_key_is_tenant_type_id() -> None:
    stream = StreamId.of("acme", "Order", "o-1")

    assert stream.key == "acme#Order#o-1"
    assert StreamId.from_key(stream.key) == stream


@pytest.mark.parametrize(
    ("part", "value"),
    [
        ("aggregate_type", "Or#der"),
        ("aggregate_type", "1Order"),
        ("aggregate_type", "O" * 65),
        ("aggregate_type", ""),
        ("aggregate_id", "o#1"),
        ("aggregate_id", "o 1"),
        ("aggregate_id", "o\n1"),
        ("aggregate_id", "x" * 201),
        ("aggregate_id", ""),
    ],
)
def test_invalid_stream_parts_are_refused_naming_the_part(part: str, value: str) -> None:
    parts = {"tenant": "acme", "aggregate_type": "Order", "aggregate_id": "o-1", part: value}

    with pytest.raises(ValidationError) as raised:
        StreamId(**parts)

    assert raised.value.errors()[0]["loc"] == (part,)


def test_a_key_without_three_parts_does_not_parse() -> None:
    with pytest.raises(InvalidIdentifierError):
        StreamId.from_key("acme#Order")


def test_stream_ids_are_values() -> None:
    assert StreamId.of("acme", "Order", "o-1") == StreamId.of("acme", "Order", "o-1")
    assert len({StreamId.of("acme", "Order", "o-1"), StreamId.of("acme", "Order", "o-1")}) == 1


_ids = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp"), blacklist_characters="#"),
    min_size=1,
    max_size=40,
).filter(lambda s: not any(c.isspace() for c in s))


@settings(max_examples=60, deadline=None)
@given(
    tenant=st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True),
    aggregate_id=_ids,
)
def test_distinct_streams_never_share_a_key(tenant: str, aggregate_id: str) -> None:
    stream = StreamId.of(tenant, "Order", aggregate_id)

    assert StreamId.from_key(stream.key) == stream
    assert stream.key.startswith(f"{tenant}#")
