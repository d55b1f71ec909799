"""Paths and reference paths: reading, writing with creation of missing nodes, AWS's failures."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stepsaga.workflows._expressions import (
    EvaluationError,
    EvaluationScope,
    ExpressionSyntaxError,
    PathNotFoundError,
    compile_path,
    compile_reference_path,
)

DOC = {"a": {"b": [{"c d": 5}, 6]}, "it's": 1, "list": [1, 2, 3], "n": None}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$", DOC),
        ("$.a.b[0]['c d']", 5),
        ("$['a']['b'][1]", 6),
        ('$["a"].b[1]', 6),
        ("$['it\\'s']", 1),
        ("$.list[-1]", 3),
        ("$.n", None),
    ],
)
def test_definite_path_selects_one_node(path: str, expected: Any) -> None:
    assert compile_path(path).evaluate(DOC) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$.list[*]", [1, 2, 3]),
        ("$.list[1:]", [2, 3]),
        ("$..b", [[{"c d": 5}, 6]]),
        ("$.a.b[?(@['c d'] > 1)]", [{"c d": 5}]),
    ],
)
def test_indefinite_path_returns_list_of_matches(path: str, expected: Any) -> None:
    assert compile_path(path).evaluate(DOC) == expected


def test_indefinite_path_with_no_match_is_an_empty_list_not_an_error() -> None:
    assert compile_path("$.nothing[*]").evaluate(DOC) == []


def test_missing_node_is_reported_with_aws_wording_and_jayway_path() -> None:
    # GIVEN a path to a key the input lacks
    path = compile_path("$.NoSuchInputPath")
    # WHEN it is evaluated THEN the cause is what AWS records for InputPath/OutputPath
    with pytest.raises(PathNotFoundError) as caught:
        path.evaluate({"int-literal": 0})
    assert caught.value.error == "States.Runtime"
    assert caught.value.cause == (
        "Invalid path '$.NoSuchInputPath' : No results for path: $['NoSuchInputPath']"
    )


def test_normalized_form_quotes_keys_and_keeps_indexes() -> None:
    assert compile_path("$.a.b[0]['c d']").normalized == "$['a']['b'][0]['c d']"


def test_index_into_an_object_or_key_into_an_array_selects_nothing() -> None:
    with pytest.raises(PathNotFoundError):
        compile_path("$.a[0]").evaluate(DOC)
    with pytest.raises(PathNotFoundError):
        compile_path("$.list.x").evaluate(DOC)
    with pytest.raises(PathNotFoundError):
        compile_path("$.list[3]").evaluate(DOC)


def test_context_and_variable_roots() -> None:
    scope = EvaluationScope(context={"Execution": {"Id": "arn:x"}}, variables={"order": {"id": 7}})
    assert compile_path("$$.Execution.Id").evaluate(DOC, scope) == "arn:x"
    assert compile_path("$$").evaluate(DOC, scope) == scope.context
    assert compile_path("$order.id").evaluate(DOC, scope) == 7
    assert compile_path("$order").evaluate(DOC, scope) == {"id": 7}
    assert compile_path("$order").root == "variable"


def test_undefined_variable_is_a_runtime_error() -> None:
    with pytest.raises(EvaluationError) as caught:
        compile_path("$missing.x").evaluate(DOC, EvaluationScope())
    assert caught.value.error == "States.Runtime"
    assert "missing" in caught.value.cause


def test_exists_reports_presence_without_raising() -> None:
    assert compile_path("$.n").exists(DOC)
    assert not compile_path("$.zz").exists(DOC)
    assert not compile_path("$undefined").exists(DOC, EvaluationScope())


@pytest.mark.parametrize("text", ["a.b", "", "$.a[?(", "$.a.*.[", "$[", "$.a['b"])
def test_malformed_paths_are_refused_at_compile_time(text: str) -> None:
    with pytest.raises(ExpressionSyntaxError) as caught:
        compile_path(text)
    assert caught.value.expression == text


@pytest.mark.parametrize("text", ["$.a[*]", "$..a", "$.a[1:2]", "$.a[?(@.b)]"])
def test_reference_path_refuses_indefinite_paths(text: str) -> None:
    compile_path(text)  # a valid path...
    with pytest.raises(ExpressionSyntaxError):  # ...but not a reference path
        compile_reference_path(text)


def test_set_creates_missing_objects_and_leaves_the_target_untouched() -> None:
    target = {"keep": [1], "a": {"x": 1}}
    before = copy.deepcopy(target)
    result = compile_reference_path("$.a.b.c").set(target, "v")
    assert result == {"keep": [1], "a": {"x": 1, "b": {"c": "v"}}}
    assert target == before
    assert result["keep"] is target["keep"]  # untouched branches are shared, not copied


def test_set_at_root_replaces_everything() -> None:
    assert compile_reference_path("$").set({"a": 1}, [1]) == [1]


def test_set_replaces_an_existing_array_element() -> None:
    assert compile_reference_path("$.l[1]").set({"l": [0, 0]}, 9) == {"l": [0, 9]}


@pytest.mark.parametrize(
    ("path", "target", "step"),
    [
        ("$.a.b", {"a": "string"}, "b"),
        ("$.x", [{"messageId": "1"}], "x"),
        ("$.l[5]", {"l": [0]}, "5"),
        ("$.a[0]", {"a": {}}, "0"),
    ],
)
def test_set_through_a_non_object_is_a_reference_path_conflict(
    path: str, target: Any, step: str
) -> None:
    # GIVEN a ResultPath that goes through a node which is not an object
    with pytest.raises(EvaluationError) as caught:
        compile_reference_path(path).set(target, 1)
    # THEN AWS's error names the step it could not apply and the whole input, as compact JSON
    assert caught.value.error == "States.ReferencePathConflict"
    assert caught.value.cause == (
        f'Unable to apply step "{step}" to input {json.dumps(target, separators=(",", ":"))}'
    )


def test_get_of_a_missing_node_names_the_first_missing_step() -> None:
    # e.g. a Map's ItemsPath "$.discovery.objects" on an input without "objects"
    data = {"discovery": {"statusCode": 500}}
    with pytest.raises(PathNotFoundError) as caught:
        compile_reference_path("$.discovery.objects.items").get(data)
    assert caught.value.error == "States.ReferencePathConflict"
    assert caught.value.cause == (
        'Unable to apply step "objects" to input {"discovery":{"statusCode":500}}'
    )


def test_set_refuses_context_and_variable_roots() -> None:
    with pytest.raises(ExpressionSyntaxError):
        compile_reference_path("$$.Execution").set({}, 1)


# --- properties ----------------------------------------------------------------------------

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
keys = st.text(
    alphabet=st.characters(blacklist_characters="\\", codec="utf-8"), min_size=1, max_size=6
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=3),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(keys, children, max_size=3),
    max_leaves=12,
)
documents = st.dictionaries(keys, json_values, max_size=4)


def path_text(route: list[str | int]) -> str:
    parts = ["$"]
    for key in route:
        if isinstance(key, int):
            parts.append(f"[{key}]")
        elif _IDENT.match(key):
            parts.append(f".{key}")
        else:
            parts.append("['" + key.replace("'", "\\'") + "']")
    return "".join(parts)


@st.composite
def existing_routes(draw: st.DrawFn) -> tuple[Any, list[str | int]]:
    doc = draw(documents)
    route: list[str | int] = []
    node: Any = doc
    while draw(st.booleans()):
        if isinstance(node, dict) and node:
            key = draw(st.sampled_from(sorted(node)))
            route.append(key)
            node = node[key]
        elif isinstance(node, list) and node:
            index = draw(st.integers(0, len(node) - 1))
            route.append(index)
            node = node[index]
        else:
            break
    return doc, route


def read(doc: Any, route: list[str | int]) -> Any:
    for key in route:
        doc = doc[key]
    return doc


@settings(max_examples=60, deadline=None)
@given(existing_routes())
def test_compile_path_agrees_with_a_plain_reading(case: tuple[Any, list[str | int]]) -> None:
    doc, route = case
    assert compile_path(path_text(route)).evaluate(doc) == read(doc, route)


def reference_set(doc: Any, route: list[str | int], value: Any) -> Any:
    """The spec read literally: copy everything, walk down creating objects, assign."""
    if not route:
        return value
    result = copy.deepcopy(doc)
    node = result
    for key in route[:-1]:
        if isinstance(key, str) and key not in node:
            node[key] = {}
        node = node[key]
    node[route[-1]] = value
    return result


@settings(max_examples=60, deadline=None)
@given(existing_routes(), st.lists(keys, max_size=2), json_values)
def test_set_then_get_returns_the_value_and_changes_nothing_else(
    case: tuple[Any, list[str | int]], extra: list[str], value: Any
) -> None:
    doc, route = case
    # Extra keys may go below a non-object node: then AWS refuses, and so must we.
    full: list[str | int] = [*route, *extra]
    path = compile_reference_path(path_text(full))
    before = copy.deepcopy(doc)
    try:
        expected = reference_set(doc, full, value)
    except (TypeError, IndexError, KeyError):
        with pytest.raises(EvaluationError):
            path.set(doc, value)
        return
    if extra and not isinstance(read(doc, route), dict):
        with pytest.raises(EvaluationError):
            path.set(doc, value)
        return
    result = path.set(doc, value)
    assert path.get(result) == value
    assert result == expected
    assert doc == before


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$.list.length()", 3),
        ("$.list[*].length()", 3),
        ("$.a.length()", 1),
        ("$.list.sum()", 6.0),
        ("$.list.min()", 1.0),
        ("$.list.max()", 3.0),
        ("$.list.avg()", 2.0),
        ("$.list.first()", 1),
        ("$.list.last()", 3),
        ("$.a.keys()", ["b"]),
    ],
)
def test_jayway_functions_at_the_end_of_a_path(path: str, expected: Any) -> None:
    assert compile_path(path).evaluate(DOC) == expected


def test_function_on_the_wrong_type_is_a_runtime_error_and_never_a_reference_path() -> None:
    with pytest.raises(EvaluationError) as caught:
        compile_path("$.n.length()").evaluate(DOC)
    assert caught.value.error == "States.Runtime"
    with pytest.raises(ExpressionSyntaxError):
        compile_reference_path("$.list.length()")
