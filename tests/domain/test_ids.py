"""Tenant codes and stream ids: the validated parts of every storage key."""

from __future__ import annotations

import unicodedata

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
    st.characters(
        blacklist_categories=("Cc", "Cf", "Cs", "Zs", "Zl", "Zp"), blacklist_characters="#"
    ),
    min_size=1,
    max_size=40,
).filter(lambda s: not any(c.isspace() for c in s) and unicodedata.is_normalized("NFC", s))


@settings(max_examples=60, deadline=None)
@given(
    tenant=st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True),
    aggregate_id=_ids,
)
def test_distinct_streams_never_share_a_key(tenant: str, aggregate_id: str) -> None:
    stream = StreamId.of(tenant, "Order", aggregate_id)

    assert StreamId.from_key(stream.key) == stream
    assert stream.key.startswith(f"{tenant}#")


@pytest.mark.parametrize("code", ["acme\n", "acme\r\n", "\nacme"])
def test_a_tenant_code_with_a_line_break_is_refused(code: str) -> None:
    # `$` matches before a trailing newline: the whole code must match, not a prefix of it.
    with pytest.raises(InvalidIdentifierError) as raised:
        TenantId(code)

    assert raised.value.field == "tenant"


LOOK_ALIKES = {
    "zero-width space": "o-1\u200b",
    "zero-width joiner": "o\u200d-1",
    "byte order mark": "\ufeffo-1",
    "soft hyphen": "o\u00ad-1",
    "C1 control": "o-1\u0085",
    "C1 control (CSI)": "o-1\u009b",
    "bidi override": "o-\u202e1",
    "bidi isolate": "\u2066o-1",
    "no-break space": "o\u00a01",
    "line separator": "o\u20281",
    "decomposed accent": "cafe\u0301",
}


@pytest.mark.parametrize("value", LOOK_ALIKES.values(), ids=LOOK_ALIKES.keys())
@pytest.mark.parametrize("part", ["aggregate_id", "aggregate_type"])
def test_invisible_and_look_alike_characters_are_refused_in_stream_parts(
    part: str, value: str
) -> None:
    parts = {"tenant": "acme", "aggregate_type": "Order", "aggregate_id": "o-1"}
    parts[part] = value if part == "aggregate_id" else "Order" + value

    with pytest.raises(ValidationError) as raised:
        StreamId(**parts)

    assert raised.value.errors()[0]["loc"] == (part,)


@pytest.mark.parametrize("value", LOOK_ALIKES.values(), ids=LOOK_ALIKES.keys())
def test_invisible_and_look_alike_characters_are_refused_in_event_ids_and_types(
    value: str,
) -> None:
    from stepsaga.domain import StoredEvent

    for field, bad in (("event_id", f"e-{value}"), ("type", f"Opened{value}")):
        fields = {"event_id": "e-1", "type": "Opened", "payload": {}, "tenant": "acme"}
        fields[field] = bad
        with pytest.raises(ValidationError) as raised:
            StoredEvent(**fields)  # type: ignore[arg-type]
        assert raised.value.errors()[0]["loc"] == (field,)


def test_a_lone_surrogate_is_refused_with_a_clear_error_naming_the_field() -> None:
    # A lone surrogate cannot be encoded as UTF-8: refused here, not as a UnicodeEncodeError
    # deep in a store.
    with pytest.raises(ValidationError) as raised:
        StreamId.of("acme", "Order", "o-\ud800")

    (error,) = raised.value.errors()
    assert error["loc"] == ("aggregate_id",)
    assert "lone surrogate" in error["msg"]
    with pytest.raises(InvalidIdentifierError) as tenant:
        TenantId("acme\ud800")
    assert tenant.value.field == "tenant"


def test_accented_letters_in_composed_form_are_accepted() -> None:
    assert StreamId.of("acme", "Order", "café-ünïcode").aggregate_id == "café-ünïcode"
