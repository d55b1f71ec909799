"""The 18 intrinsic functions: results as AWS computes them, and refusals of bad arguments."""

from __future__ import annotations

import random
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
    fails("States.ArrayRange(0, 1.5, 1)")


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
