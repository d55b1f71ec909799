"""JSONPath as AWS evaluates it: Jayway JsonPath's grammar, definite and indefinite results.

AWS: "Paths follow JsonPath syntax"
(https://docs.aws.amazon.com/step-functions/latest/dg/amazon-states-language-paths.html); the
implementation is Jayway JsonPath, whose README (https://github.com/json-path/JsonPath) states
the rules tested here: a *definite* path returns its one value, an *indefinite* one (wildcard,
deep scan, slice, filter, index list) the list of its matches; filters and their operators. The
recorded "Invalid path '$.x' : No results for path: $['x']" causes are Jayway's exceptions.
The validator compiles paths with the same code, so each path here is also a definition test.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stepsaga.workflows._expressions import (
    EvaluationError,
    ExpressionSyntaxError,
    PathNotFoundError,
    compile_path,
)
from stepsaga.workflows.asl import ASLValidationError, parse_definition

STORE: dict[str, Any] = {
    "items": [
        {"OU": 1, "name": "apple", "tags": ["red", "fruit"], "price": 8.95},
        {"OU": 0, "name": "bean", "tags": [], "price": 12},
        {"name": "cherry", "tags": ["red"], "price": "9"},
    ],
    "owner": {"OU": 3, "name": "ann", "address": {"city": "Lyon"}},
    "limit": 10,
}


def select(path: str, data: Any = STORE) -> Any:
    return compile_path(path).evaluate(data)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$.[0]", [1, 2][0]),  # on an array input below
        ("$.['limit']", 10),
        ("$.items.[1].name", "bean"),
        ("$.owner.['address'].city", "Lyon"),
        ("$['items'][-1]['name']", "cherry"),
    ],
)
def test_a_dot_before_a_bracket_is_the_bracket(path: str, expected: Any) -> None:
    """Jayway reads ``$.[0]`` as ``$[0]`` and ``$.['x']`` as ``$['x']``."""
    data = [1, 2] if path == "$.[0]" else STORE
    assert select(path, data) == expected
    assert compile_path(path).definite


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$.items[*].name", ["apple", "bean", "cherry"]),
        ("$.owner.*", [3, "ann", {"city": "Lyon"}]),
        ("$..city", ["Lyon"]),
        ("$..OU", [1, 0, 3]),
        ("$.items[0,2].name", ["apple", "cherry"]),
        ("$.items[1:].name", ["bean", "cherry"]),
        ("$.items[:1].name", ["apple"]),
        ("$.items[-2:].name", ["bean", "cherry"]),
        ("$.items[?(@.OU > 0)].name", ["apple"]),
        ("$.items[5:9]", []),
        ("$.missing[*]", []),
    ],
)
def test_an_indefinite_path_returns_the_list_of_its_matches(path: str, expected: Any) -> None:
    compiled = compile_path(path)
    assert not compiled.definite
    assert compiled.evaluate(STORE) == expected


def test_a_definite_path_returns_the_value_itself_never_a_one_item_list() -> None:
    assert select("$.items[0].tags") == ["red", "fruit"]
    assert select("$.owner") == STORE["owner"]


def test_a_property_list_at_the_end_merges_into_one_object() -> None:
    """Jayway: ``$['a','b']`` at the end of a path is definite and gives one object holding the
    properties that exist; applied after a wildcard it gives one such object per element."""
    assert select("$.owner['name','OU']") == {"name": "ann", "OU": 3}
    assert select("$.owner['name','nope']") == {"name": "ann"}
    assert select("$.items[*]['name','OU']") == [
        {"name": "apple", "OU": 1},
        {"name": "bean", "OU": 0},
        {"name": "cherry"},
    ]
    # Before the end it iterates: each property's value goes on.
    assert select("$['owner','items'].name") == ["ann"]


def test_a_definite_path_that_selects_nothing_is_aws_invalid_path_error() -> None:
    with pytest.raises(PathNotFoundError) as caught:
        select("$.nope['x','y']")
    assert caught.value.cause == (
        "Invalid path '$.nope['x','y']' : No results for path: $['nope']['x','y']"
    )
    with pytest.raises(PathNotFoundError) as caught:
        select("$.items[7]")
    assert caught.value.cause == "Invalid path '$.items[7]' : No results for path: $['items'][7]"


@pytest.mark.parametrize(
    ("filter_", "names"),
    [
        ("@.OU > 0 && @.price < 10", ["apple"]),
        ("@.OU == 0 || @.name == 'cherry'", ["bean", "cherry"]),
        ("!(@.OU == 1)", ["bean", "cherry"]),
        ("@.name in ['apple', 'cherry']", ["apple", "cherry"]),
        ('@.name nin ["apple"]', ["bean", "cherry"]),
        ("@.name =~ /^[ab].*/", ["apple", "bean"]),
        ("@.name =~ /APPLE/i", ["apple"]),
        ("@.name =~ /pp/", []),  # a regex must match the whole string
        ("@.tags empty true", ["bean"]),
        ("@.tags empty false", ["apple", "cherry"]),
        ("@.tags size 2", ["apple"]),
        ("@.name size 4", ["bean"]),
        ("@.tags contains 'red'", ["apple", "cherry"]),
        ("@.tags subsetof ['red', 'fruit', 'green']", ["apple", "bean", "cherry"]),
        ("@.tags anyof ['fruit']", ["apple"]),
        ("@.tags noneof ['red']", ["bean"]),
        ("@.OU", ["apple", "bean"]),  # the key exists (0 included)
        ("!@.OU", ["cherry"]),
        ("@.price >= $.limit", ["bean"]),  # $ is the whole document
        ("@.tags.length() == 1", ["cherry"]),
    ],
)
def test_filters(filter_: str, names: list[str]) -> None:
    assert select(f"$.items[?({filter_})].name") == names


def test_filter_comparisons_between_strings_and_numbers_follow_jayway() -> None:
    """Ordering compares numbers with numbers and strings with strings: mixed, it is false.
    Equality compares a number and a string by value (Jayway's ``NumberNode.equals``)."""
    assert select("$.items[?(@.price < 10)].name") == ["apple"]  # "9" is a string
    assert select("$.items[?(@.price < '99')].name") == ["cherry"]
    assert select("$.items[?(@.price == 9)].name") == ["cherry"]
    assert select("$.items[?(@.price == '12')].name") == ["bean"]


def test_a_missing_key_in_a_filter_matches_no_comparison_but_inequality() -> None:
    assert select("$.items[?(@.OU < 5)].name") == ["apple", "bean"]
    assert select("$.items[?(@.OU != 1)].name") == ["bean", "cherry"]
    assert select("$.items[?(@.nope.deeper == 1)]") == []


def test_a_filter_on_an_object_tests_the_object_itself() -> None:
    """``$.[?(@.OU > 0)]`` is valid ASL (AWS accepts it): on an object the filter applies to
    the object, so the result is that object in a list, or an empty list."""
    assert select("$.owner[?(@.OU > 0)]") == [STORE["owner"]]
    assert select("$.[?(@.OU > 0)]", STORE["owner"]) == [STORE["owner"]]
    assert select("$.[?(@.OU > 5)]", STORE["owner"]) == []


def test_the_validator_accepts_what_the_evaluator_evaluates() -> None:
    for path in ("$.[?(@.OU > 0)]", "$.items[?(@.name =~ /a.*/i && @.OU in [0, 1])]", "$..x"):
        definition = {
            "StartAt": "P",
            "States": {"P": {"Type": "Pass", "InputPath": path, "End": True}},
        }
        parse_definition(definition)


@pytest.mark.parametrize(
    "path",
    [
        "$.a[",
        "$.a[?(@.x >)]",
        "$.a[?@.x]",
        "$.a[1:2:3]",
        "$.a[?(@.x =~ 'not a regex')]",
        "$.a[?(@.x =~ /(/)]",
        "$..",
        "$.a['x'",
        "$.a[?(5)]",
    ],
)
def test_malformed_paths_are_refused_by_compiler_and_validator_alike(path: str) -> None:
    with pytest.raises(ExpressionSyntaxError):
        compile_path(path)
    definition = {"StartAt": "P", "States": {"P": {"Type": "Pass", "InputPath": path, "End": True}}}
    with pytest.raises(ASLValidationError) as caught:
        parse_definition(definition)
    assert caught.value.problems[0].code == "INVALID_JSONPATH"


def test_deep_scan_and_filters_are_iterative_on_deep_documents() -> None:
    deep: Any = {"x": 1}
    for _ in range(1000):
        deep = {"a": [deep]}
    started = time.perf_counter()
    assert select("$..x", deep) == [1]
    assert len(select("$..a[?(@.x == 1)]", deep)) == 1
    assert time.perf_counter() - started < 5


_CHARS = st.sampled_from(list("$@.[]()*?,:'\"=<>!&|~/ 0123abxy-"))


@settings(max_examples=300, deadline=None)
@given(st.lists(_CHARS, max_size=24).map(lambda chars: "$" + "".join(chars)))
def test_any_text_compiles_or_is_a_syntax_error_and_evaluates_or_is_an_aws_error(
    text: str,
) -> None:
    try:
        path = compile_path(text)
    except ExpressionSyntaxError:
        return
    try:
        path.evaluate(STORE)
    except EvaluationError as exc:
        assert exc.error.startswith("States.")


@pytest.mark.parametrize(
    "path", ["$.items[*].itemValue", "$.item.items[1:5].itemValue", "$.item.items[:1]"]
)
def test_a_missing_key_before_an_indefinite_step_is_no_match_not_an_error(path: str) -> None:
    """Jayway alone would raise "Missing property in path $['items']" here (the path is still
    definite at that step); AWS gives an empty list: recorded on AWS,
    test_json_path_array_wildcard_or_slice_with_no_input in jsonpath.jsonl."""
    assert select(path, {}) == []
