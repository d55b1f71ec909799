"""One checker says what a JSON value is, for every caller: engine input, recordings, intrinsics.

AWS's JSON is text: no sets, tuples or bytes, no NaN or Infinity, strings that UTF-8 can carry.
Its documentation is silent on number length and nesting depth; stepsaga holds them to the
defaults of the JVM's JSON parser (Jackson's StreamReadConstraints: 1,000 digits, 1,000
levels), which `stepsaga.workflows.facts` cites.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stepsaga.workflows._expressions import JsonValueError, check_json_value, load_json_text
from stepsaga.workflows.facts import MAX_JSON_DEPTH, MAX_JSON_NUMBER_LENGTH


@pytest.mark.parametrize(
    ("value", "pointer", "reason"),
    [
        ({"a": {1, 2}}, "/a", "a Python set is not a JSON value"),
        ({"a": [1, (2,)]}, "/a/1", "a Python tuple is not a JSON value"),
        (b"bytes", "", "a Python bytes is not a JSON value"),
        ({"a": object()}, "/a", "a Python object is not a JSON value"),
        ([math.nan], "/0", "JSON has no NaN or Infinity"),
        ({"x": -math.inf}, "/x", "JSON has no NaN or Infinity"),
        ({1: "a"}, "", "an object key must be a string"),
        (["ok", "\ud800"], "/1", "lone surrogate (U+D800 at index 0)"),
        ({"k\udfff": 1}, "/k\\udfff", "the key holds a lone surrogate"),
        ({"n": 10**MAX_JSON_NUMBER_LENGTH}, "/n", "more than 1000 digits"),
        ({"n": -(10**5000)}, "/n", "more than 1000 digits"),
    ],
)
def test_non_json_values_are_named_with_their_pointer(
    value: Any, pointer: str, reason: str
) -> None:
    with pytest.raises(JsonValueError) as caught:
        check_json_value(value, "the execution input")
    assert caught.value.pointer == pointer
    assert reason in caught.value.reason
    assert str(caught.value).startswith("the execution input is not valid JSON")
    str(caught.value).encode("utf-8")  # the message itself is printable


def test_the_limits_themselves_are_accepted() -> None:
    check_json_value({"n": 10**MAX_JSON_NUMBER_LENGTH - 1, "m": -(10**999)})
    deep: Any = 1
    for _ in range(MAX_JSON_DEPTH):
        deep = [deep]
    check_json_value(deep)
    with pytest.raises(JsonValueError, match="nests deeper than 1000"):
        check_json_value([deep])


@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(),
        lambda children: st.lists(children) | st.dictionaries(st.text(), children),
        max_leaves=30,
    )
)
def test_every_value_json_can_write_and_read_back_is_accepted(value: Any) -> None:
    text = json.dumps(value, allow_nan=False)
    check_json_value(json.loads(text))
    assert load_json_text(text) == json.loads(text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "Expecting value (line 1, column 1)"),
        ('{"a": 1,}', "line 1, column 9"),
        ("[NaN]", "NaN is not a JSON number"),
        ("[-Infinity]", "-Infinity is not a JSON number"),
        ("1e400", "beyond the range"),
        ("9" * 1001, "1001 digits is longer than the 1000"),
        ('["\\udc00"]', "lone surrogate"),
        ("[" * 100_000, "nests deeper than 1000"),
        (b"\xff\xfe{}", "not UTF-8 text (byte 0xff at offset 0)"),
    ],
)
def test_json_text_that_aws_would_refuse_is_refused_with_a_reason(
    text: str | bytes, reason: str
) -> None:
    with pytest.raises(JsonValueError) as caught:
        load_json_text(text, "the input")
    assert reason in caught.value.reason


def test_utf8_bytes_and_a_byte_order_mark_are_read() -> None:
    assert load_json_text('{"a": "é"}'.encode()) == {"a": "é"}
    assert load_json_text(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}


def test_nesting_to_the_limit_parses_wherever_the_caller_stands() -> None:
    def at_depth(frames: int) -> Any:
        if frames:
            return at_depth(frames - 1)
        return load_json_text("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH)

    assert at_depth(200) is not None
