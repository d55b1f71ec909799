"""The 18 intrinsic functions: results as AWS computes them, and refusals of bad arguments."""

from __future__ import annotations

import random
import re
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stepsaga.workflows._expressions import (
    EvaluationError,
    EvaluationScope,
    ExpressionSyntaxError,
    PathNotFoundError,
    parse_intrinsic,
)
from stepsaga.workflows._expressions._intrinsics import compile_intrinsic


def run(call: str, data: Any = None, scope: EvaluationScope | None = None) -> Any:
    return compile_intrinsic(parse_intrinsic(call))(data, scope or EvaluationScope())


def fails(call: str, data: Any = None) -> EvaluationError:
    with pytest.raises(EvaluationError) as caught:
        run(call, data)
    assert caught.value.error == "States.Runtime"
    # Every cause names the call, so a user can find the failing expression in the definition.
    assert call in caught.value.cause
    return caught.value


# --- parsing -------------------------------------------------------------------------------


def test_parse_reads_literals_paths_and_nested_calls() -> None:
    call = parse_intrinsic("States.Format('a {}', $.x, 1.5, -2, true, null, States.UUID())")
    assert call.name == "States.Format"
    assert len(call.args) == 7


@pytest.mark.parametrize(
    "text",
    [
        "States.Nope(1)",
        "States.Format(",
        "States.Format('x'",
        "States.MathAdd(1)",
        "States.UUID(1)",
        "States.Array(1,)",
        "States.Array(1) trailing",
        "States.Array(foo)",
        "States.Format('unterminated)",
        "Format('x')",
    ],
)
def test_malformed_calls_are_refused_at_parse_time(text: str) -> None:
    with pytest.raises(ExpressionSyntaxError) as caught:
        parse_intrinsic(text)
    assert caught.value.expression == text


def test_path_arguments_may_contain_commas_and_parentheses_in_brackets() -> None:
    assert run("States.Array($['a,b'], $.c)", {"a,b": 1, "c": 2}) == [1, 2]


# --- States.Format -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("", ""),
        ("HelloWorld", "HelloWorld"),
        (None, "null"),
        (1, "1"),
        (1.1, "1.1"),
        (2.0, "2.0"),
        (1e20, "1.0E20"),
        (4.4105365586216965e-4, "4.4105365586216965E-4"),
        (-12345678.5, "-1.23456785E7"),
        (True, "true"),
        ('{"Arg1": 1}', '{"Arg1": 1}'),
        ({"Arg1": 1, "Arg2": []}, "{Arg1=1, Arg2=[]}"),
        (["a", 1, None], "[a, 1, null]"),
    ],
)
def test_format_renders_values_as_aws_does(value: Any, text: str) -> None:
    assert run("States.Format('v={}.', $.v)", {"v": value}) == f"v={text}."


def test_format_escapes_braces_and_quotes() -> None:
    assert run("States.Format('\\{\\} {} \\'q\\'', 'x')") == "{} x 'q'"


def test_format_with_wrong_argument_count_fails() -> None:
    fails("States.Format('{} {}', 1)")
    fails("States.Format('{}', 1, 2)")


# --- JSON ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "null"),
        (1.1, "1.1"),
        ("HelloWorld", '"HelloWorld"'),
        ([1, 2, "HelloWorld"], '[1,2,"HelloWorld"]'),
        ({"Arg1": 1, "Arg2": []}, '{"Arg1":1,"Arg2":[]}'),
        ({"b": 1, "a": "é"}, '{"b":1,"a":"é"}'),
    ],
)
def test_json_to_string_is_compact_and_keeps_key_order(value: Any, text: str) -> None:
    assert run("States.JsonToString($.v)", {"v": value}) == text


def test_string_to_json_parses_and_refuses_non_json() -> None:
    assert run("States.StringToJson($.s)", {"s": '{"a": [1, 2]}'}) == {"a": [1, 2]}
    fails("States.StringToJson($.s)", {"s": "{not json"})
    fails("States.StringToJson($.s)", {"s": 1})


def test_json_merge_is_shallow_and_second_wins() -> None:
    data = {"a": {"x": {"a1": 1}, "b": 2, "d": 3}, "b": {"x": {"a3": 1}, "c": 3, "d": 4}}
    result = run("States.JsonMerge($.a, $.b, false)", data)
    assert result == {"x": {"a3": 1}, "b": 2, "d": 4, "c": 3}
    fails("States.JsonMerge($.a, $.b, true)", data)
    fails("States.JsonMerge($.a, 1, false)", data)


# --- arrays --------------------------------------------------------------------------------


def test_array_builds_from_any_arguments() -> None:
    assert run("States.Array()") == []
    assert run("States.Array(1, 'a', $.o, null)", {"o": {"k": 1}}) == [1, "a", {"k": 1}, None]


@pytest.mark.parametrize(
    ("items", "size", "chunks"),
    [([], 2, []), ([0], 3, [[0]]), ([0, 1, 2], 2, [[0, 1], [2]]), ([0, 1], 1, [[0], [1]])],
)
def test_array_partition(items: list[int], size: int, chunks: list[list[int]]) -> None:
    assert run("States.ArrayPartition($.a, $.n)", {"a": items, "n": size}) == chunks


def test_array_partition_refuses_non_positive_sizes_and_non_arrays() -> None:
    fails("States.ArrayPartition($.a, 0)", {"a": [1]})
    fails("States.ArrayPartition($.a, 1.5)", {"a": [1]})
    fails("States.ArrayPartition($.a, 1)", {"a": "x"})


@pytest.mark.parametrize(
    ("items", "value", "found"),
    [
        ([], None, False),
        ([[1, 2, 3], 2], [1, 2, 3], True),
        ([[1, 2, 3], 2], None, False),
        ([{"1": 2, "2": []}], {"2": [], "1": 2}, True),
        ([True, False], False, True),
        ([1], True, False),
        ([0], False, False),
        ([1.0], 1, True),
    ],
)
def test_array_contains_uses_json_equality(items: list[Any], value: Any, found: bool) -> None:
    assert run("States.ArrayContains($.a, $.v)", {"a": items, "v": value}) is found


@pytest.mark.parametrize(
    ("args", "result"),
    [
        ("0, 9, 3", [0, 3, 6, 9]),
        ("0, 10, 3", [0, 3, 6, 9]),
        ("1, 9, 9", [1]),
        ("1, 9, 2", [1, 3, 5, 7, 9]),
        ("9, 1, -4", [9, 5, 1]),
        ("5, 1, 1", []),
    ],
)
def test_array_range_is_inclusive(args: str, result: list[int]) -> None:
    assert run(f"States.ArrayRange({args})") == result


def test_array_range_limits() -> None:
    assert len(run("States.ArrayRange(1, 1000, 1)")) == 1000
    fails("States.ArrayRange(0, 1000, 1)")  # 1001 items
    fails("States.ArrayRange(0, 10, 0)")


def test_array_get_item_length_and_unique() -> None:
    data: dict[str, Any] = {
        "a": [None, None, 1, 1.0, "x", "x", [], [], {"a": 1, "b": 2}, {"b": 2, "a": 1}]
    }
    assert run("States.ArrayGetItem($.a, 4)", data) == "x"
    assert run("States.ArrayLength($.a)", data) == 10
    assert run("States.ArrayUnique($.a)", data) == [None, 1, "x", [], {"a": 1, "b": 2}]
    fails("States.ArrayGetItem($.a, 10)", data)
    fails("States.ArrayGetItem($.a, -1)", data)
    fails("States.ArrayLength($.s)", {"s": "abc"})


# --- encoding and hashing ------------------------------------------------------------------


def test_base64_round_trip_and_limits() -> None:
    assert run("States.Base64Encode('Data to encode')") == "RGF0YSB0byBlbmNvZGU="
    assert run("States.Base64Decode('RGF0YSB0byBlbmNvZGU=')") == "Data to encode"
    assert run("States.Base64Encode('')") == ""
    fails("States.Base64Decode('not base64!')")
    fails("States.Base64Encode($.s)", {"s": "x" * 10001})
    assert len(run("States.Base64Encode($.s)", {"s": "x" * 10000})) > 10000


@pytest.mark.parametrize(
    ("algorithm", "digest"),
    [
        ("MD5", "812f45842bc6d66ee14572ce20db8e86"),
        ("SHA-1", "aaff4a450a104cd177d28d18d74485e8cae074b7"),
        ("SHA-256", "b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3"),
    ],
)
def test_hash_matches_aws_digests(algorithm: str, digest: str) -> None:
    assert run(f"States.Hash('input data', '{algorithm}')") == digest


def test_hash_refuses_unknown_algorithms() -> None:
    fails("States.Hash('x', 'SHA-3')")


# --- math ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "total"),
    [
        (-9, 3, -6),
        (1.49, 1.5, 3),
        (1.5, 1.51, 4),
        (-1.49, -1.5, -2),
        (-1.5, -1.51, -3),
        (0.5, 0, 1),
        (2.5, 0, 3),
        (-0.5, 0, 0),
        (-2.5, 0, -2),
    ],
)
def test_math_add_rounds_each_argument_half_up(a: float, b: float, total: int) -> None:
    # AWS's recordings: each argument is rounded as Java's Math.round, then summed.
    assert run("States.MathAdd($.a, $.b)", {"a": a, "b": b}) == total


def test_math_add_refuses_non_numbers_and_out_of_range() -> None:
    fails("States.MathAdd('1', 2)")
    fails("States.MathAdd(true, 2)")
    fails("States.MathAdd(2147483648, 0)")


def test_math_random_is_within_bounds_and_reproducible_with_a_seed() -> None:
    seeded = {
        run("States.MathRandom(0, 999, 3)", scope=EvaluationScope(random=random.Random(i)))
        for i in range(5)
    }
    assert len(seeded) == 1  # the seed argument, not the scope, decides
    values = [
        run("States.MathRandom(5, 8)", scope=EvaluationScope(random=random.Random(i)))
        for i in range(50)
    ]
    assert set(values) <= {5, 6, 7}
    first = run("States.MathRandom(0, 1000000)", scope=EvaluationScope(random=random.Random(42)))
    again = run("States.MathRandom(0, 1000000)", scope=EvaluationScope(random=random.Random(42)))
    assert first == again  # the execution's seeded random source makes runs reproducible
    fails("States.MathRandom(5, 5)")


# --- strings and UUID ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "separators", "tokens"),
    [
        (" ", ",", [" "]),
        (", , ,", ",", [" ", " "]),
        (",,,,", ",", []),
        ("1,2,3", ",", ["1", "2", "3"]),
        ("This.is+a,test=string", ".+,=", ["This", "is", "a", "test", "string"]),
        ("split on T and \nnew line", "T\n", ["split on ", " and ", "new line"]),
    ],
)
def test_string_split_splits_on_each_separator_character(
    text: str, separators: str, tokens: list[str]
) -> None:
    assert run("States.StringSplit($.t, $.s)", {"t": text, "s": separators}) == tokens


def test_uuid_is_version_4_and_follows_the_scope_random_source() -> None:
    first = run("States.UUID()", scope=EvaluationScope(random=random.Random(7)))
    second = run("States.UUID()", scope=EvaluationScope(random=random.Random(7)))
    assert first == second
    assert uuid.UUID(first).version == 4


def test_nested_calls_compose() -> None:
    call = (
        "States.ArrayGetItem(States.StringSplit($$.StateMachine.Name, '-'), "
        "States.MathAdd(States.ArrayLength(States.StringSplit($$.StateMachine.Name, '-')), -1))"
    )
    scope = EvaluationScope(context={"StateMachine": {"Name": "orders-place-v2"}})
    assert run(call, None, scope) == "v2"


def test_missing_path_argument_is_a_path_failure() -> None:
    with pytest.raises(PathNotFoundError):
        run("States.ArrayLength($.nope)", {})


# --- properties ----------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=60, deadline=None)
@given(json_values)
def test_json_to_string_then_string_to_json_round_trips(value: Any) -> None:
    text = run("States.JsonToString($.v)", {"v": value})
    assert run("States.StringToJson($.t)", {"t": text}) == value


@settings(max_examples=60, deadline=None)
@given(st.lists(json_values, max_size=8), st.integers(1, 5))
def test_partition_preserves_items_and_unique_is_idempotent(items: list[Any], size: int) -> None:
    chunks = run("States.ArrayPartition($.a, $.n)", {"a": items, "n": size})
    assert [item for chunk in chunks for item in chunk] == items
    assert all(0 < len(chunk) <= size for chunk in chunks)
    unique = run("States.ArrayUnique($.a)", {"a": items})
    assert run("States.ArrayUnique($.a)", {"a": unique}) == unique
    for item in items:
        assert run("States.ArrayContains($.a, $.v)", {"a": unique, "v": item}) is True


# --- the functions at their edges ------------------------------------------------------------
# https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html states each
# function's input validation; every failure is States.Runtime naming the call.


@pytest.mark.parametrize(("text", "value"), [("", None), (" ", None), ("-0", 0), ("null", None)])
def test_string_to_json_of_an_empty_or_blank_string_is_null(text: str, value: Any) -> None:
    """The page is silent; AWS's answer was recorded (LocalStack's test_string_to_json snapshot,
    run on AWS: ``""`` and ``" "`` give ``null``)."""
    assert run("States.StringToJson($.s)", {"s": text}) == value


def test_string_to_json_of_null_is_null() -> None:
    assert run("States.StringToJson($.s)", {"s": None}) is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{", "Expecting property name"),
        ("NaN", "NaN is not a JSON number"),
        ("[1e999]", "beyond the range of a JSON number"),
        ("1" * 1001, "longer than the 1000"),
        ('"\\ud800"', "lone surrogate"),
        ("[" * 1001 + "]" * 1001, "nests deeper than 1000"),
    ],
)
def test_string_to_json_refuses_what_is_not_json_aws_accepts(text: str, reason: str) -> None:
    error = fails("States.StringToJson($.s)", {"s": text})
    assert reason in error.cause


def test_string_to_json_refuses_non_strings() -> None:
    fails("States.StringToJson($.s)", {"s": 1})


@pytest.mark.parametrize(
    ("call", "value"),
    [
        ("States.MathRandom(1.4, 2.4)", 1),  # rounded: 1 to 2, end excluded
        ("States.MathRandom(-0.5, 0.5)", 0),  # Math.round: half-way goes up, -0.5 -> 0 ...
    ],
)
def test_math_random_rounds_non_integer_bounds(call: str, value: int) -> None:
    """Non-integer start and end numbers are rounded to the nearest integer.

    https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html
    (States.MathRandom, input validation; AWS rounds States.MathAdd's the same way, as the
    recordings show).
    """
    assert run(call) == value


def test_math_random_refuses_non_numbers_and_empty_ranges() -> None:
    fails("States.MathRandom('1', 2)")
    fails("States.MathRandom(true, 2)")
    fails("States.MathRandom(2, 2)")
    fails("States.MathRandom(1.6, 2.4)")  # both round to 2


def test_array_range_rounds_non_integer_arguments() -> None:
    """https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html: "If you
    specify a non-integer value for any of the arguments, Step Functions will round it off to
    the nearest integer" (States.ArrayRange), as it does for States.MathAdd."""
    assert run("States.ArrayRange(0.6, 2.4, 1)") == [1, 2]
    assert run("States.ArrayRange(0, 1.5, 1)") == [0, 1, 2]
    fails("States.ArrayRange(0, 10, 0.4)")  # rounds to a step of 0
    fails("States.ArrayRange(0, 'x', 1)")


def test_array_range_holds_at_most_1000_items_in_either_direction() -> None:
    assert len(run("States.ArrayRange(1000, 1, -1)")) == 1000
    fails("States.ArrayRange(1000, 0, -1)")
    fails("States.ArrayRange(0, 2000000000, 1)")  # refused before anything is built


@pytest.mark.parametrize("index", ["-1", "3", "1.5", "'0'", "null"])
def test_array_get_item_outside_the_array_fails(index: str) -> None:
    fails(f"States.ArrayGetItem($.a, {index})", {"a": [1, 2, 3]})


def test_array_partition_refuses_a_size_of_zero_or_less() -> None:
    """ "You must specify a non-zero, positive integer for the second argument"."""
    for size in ("0", "-1", "1.5"):
        fails(f"States.ArrayPartition($.a, {size})", {"a": [1, 2]})
    assert run("States.ArrayPartition($.a, 5)", {"a": []}) == []


@pytest.mark.parametrize("data", [1, 1.5, True, None, ["a"], {"a": 1}])
def test_hash_takes_only_strings(data: Any) -> None:
    """ "The data you provide must be an object string containing 10,000 characters or less"."""
    error = fails("States.Hash($.d, 'SHA-256')", {"d": data})
    assert "must be a string" in error.cause


def test_hash_and_base64_take_at_most_10000_characters() -> None:
    assert len(run("States.Hash($.d, 'MD5')", {"d": "é" * 10_000})) == 32
    fails("States.Hash($.d, 'MD5')", {"d": "x" * 10_001})
    fails("States.Base64Encode($.d)", {"d": "x" * 10_001})


def test_base64_encodes_the_utf8_bytes_of_non_ascii_text() -> None:
    encoded = run("States.Base64Encode($.d)", {"d": "héllo ✓ 😀"})
    assert encoded == "aMOpbGxvIOKckyDwn5iA"
    assert run("States.Base64Decode($.d)", {"d": encoded}) == "héllo ✓ 😀"
    fails("States.Base64Decode($.d)", {"d": "/w=="})  # the byte 0xff is not UTF-8 text
    fails("States.Base64Decode($.d)", {"d": "not base64!"})


@pytest.mark.parametrize(
    "call",
    [
        "States.MathAdd(2147483647, 1)",
        "States.MathAdd(-2147483648, -1)",
        "States.MathAdd(2147483648, 0)",
        "States.MathAdd(2147483647.5, 0)",  # rounds to 2147483648
    ],
)
def test_math_add_stays_within_java_int(call: str) -> None:
    """Arguments and sum are Java ints (-2147483648 to 2147483647). The page states the
    arguments' type only; a sum past the range fails rather than wrapping around silently."""
    fails(call)


def test_math_add_reaches_the_ends_of_the_int_range() -> None:
    assert run("States.MathAdd(2147483646, 1)") == 2_147_483_647
    assert run("States.MathAdd(-2147483647, -1)") == -2_147_483_648


@pytest.mark.parametrize(
    ("text", "separator", "parts"),
    [("", ",", []), (",,,", ",", []), ("a", "", ["a"]), ("a,b", "", ["a,b"])],
)
def test_string_split_edges(text: str, separator: str, parts: list[str]) -> None:
    assert run("States.StringSplit($.t, $.s)", {"t": text, "s": separator}) == parts


def test_uuid_is_a_canonical_lowercase_version_4_uuid() -> None:
    for _ in range(50):
        value = run("States.UUID()", scope=EvaluationScope(random=random.Random()))
        assert re.fullmatch(
            r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", value
        )


def test_format_placeholders_and_escapes() -> None:
    assert run("States.Format('\\{\\} {}', 1)") == "{} 1"
    assert run("States.Format('a\\'b {}', 'c')") == "a'b c"
    assert run("States.Format('\\\\{}', 1)") == "\\1"  # an escaped backslash
    assert run("States.Format('{}{}', 'a', 'b')") == "ab"
    assert fails("States.Format('{} {}', 1)").cause.endswith("argument(s) given")
    assert fails("States.Format('{}', 1, 2)").cause.endswith("were given")


def test_a_field_holds_at_most_ten_intrinsic_calls() -> None:
    """ "You can nest up to 10 intrinsic functions within a field" (the page's example counts
    every call in the field)."""
    ten = "States.Array(" * 9 + "States.UUID()" + ")" * 9
    parse_intrinsic(ten)
    with pytest.raises(ExpressionSyntaxError, match="at most 10"):
        parse_intrinsic("States.Array(" + ten + ")")
    with pytest.raises(ExpressionSyntaxError, match="at most 10"):
        parse_intrinsic("States.Array(" * 5000 + ")" * 5000)  # and no RecursionError


def test_deeply_nested_values_are_handled_without_recursion() -> None:
    deep: Any = 1
    for _ in range(1000):
        deep = [deep]
    text = run("States.JsonToString($.d)", {"d": deep})
    assert text == "[" * 1000 + "1" + "]" * 1000
    # (compared by identity or as text: == on such values would itself recurse)
    unique = run("States.ArrayUnique($.d)", {"d": [deep, deep]})
    assert len(unique) == 1 and unique[0] is deep
    assert run("States.ArrayContains($.d, $.v)", {"d": [deep], "v": deep}) is True
    parsed = run("States.StringToJson($.t)", {"t": text})
    assert run("States.JsonToString($.d)", {"d": parsed}) == text
    assert run("States.Format('{}', $.d)", {"d": deep}) == text
