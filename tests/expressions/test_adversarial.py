"""Adversarial expressions and documents: compile, or refuse with a syntax error; evaluate, or
fail with an AWS error name; and always end.

Every example runs under a generous wall-clock guard (a hang detector, not a speed test): the
guard's ExpressionTimeout is not an allowed outcome, so a hang fails the test.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stepsaga.workflows._expressions import (
    EvaluationError,
    EvaluationScope,
    ExpressionSyntaxError,
    JsonValueError,
    check_json_value,
    compile_choice_rule,
    compile_jsonata_template,
    compile_path,
    compile_template,
    load_json_text,
)
from stepsaga.workflows._expressions._bounds import time_limit
from stepsaga.workflows._expressions._intrinsic_syntax import ARITY
from stepsaga.workflows._expressions._json_text import canonical_json, compact_json, java_text
from stepsaga.workflows.facts import (
    CHOICE_OPERATORS,
    STATES_QUERY_EVALUATION_ERROR,
    STATES_REFERENCE_PATH_CONFLICT,
    STATES_RUNTIME,
)

# jsonata-python raises the interpreter's recursion limit when it is first imported; importing it
# before any example runs keeps hypothesis's own bookkeeping of that limit consistent.
compile_jsonata_template("{% 1 %}")

AWS_ERRORS = {STATES_RUNTIME, STATES_QUERY_EVALUATION_ERROR, STATES_REFERENCE_PATH_CONFLICT}
HANG_SECONDS = 30.0
SUITE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@contextmanager
def no_hang() -> Iterator[None]:
    with time_limit(HANG_SECONDS):
        yield


def compiles_and_evaluates(compile_: Callable[[], Any], evaluate: Callable[[Any], Any]) -> None:
    with no_hang():
        try:
            compiled = compile_()
        except ExpressionSyntaxError:
            return
        try:
            evaluate(compiled)
        except EvaluationError as exc:
            assert exc.error in AWS_ERRORS, exc


# --- documents ------------------------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**1200), max_value=10**1200)
    | st.floats()
    | st.text(alphabet=st.characters(codec=None), max_size=20)
)
documents = st.recursive(
    scalars | st.sets(st.integers(), max_size=2) | st.tuples(st.integers()) | st.binary(max_size=3),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=4) | st.integers(), children, max_size=4)
    ),
    max_leaves=20,
)


def nested(depth: int, leaf: Any) -> Any:
    value = leaf
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


@SUITE
@given(documents)
def test_any_python_value_is_json_or_a_json_value_error(value: Any) -> None:
    with no_hang():
        try:
            check_json_value(value)
        except JsonValueError:
            return
        text = compact_json(value)
        assert load_json_text(text) is not None or text == "null"
        java_text(value)
        canonical_json(value)


@SUITE
@given(st.integers(min_value=0, max_value=3000), scalars)
def test_deep_documents_are_checked_written_and_read_without_recursion(
    depth: int, leaf: Any
) -> None:
    value = nested(depth, leaf)
    with no_hang():
        try:
            check_json_value(value)
        except JsonValueError as exc:
            assert depth > 1000 or "nests deeper" not in exc.reason
            return
        text = compact_json(value)
        load_json_text(text)
        canonical_json(value)


@SUITE
@given(st.text(alphabet='[]{}":,0123456789.eE-+ntruefalsNI\\u', max_size=60))
def test_any_text_is_json_or_a_json_value_error(text: str) -> None:
    with no_hang():
        try:
            value = load_json_text(text)
        except JsonValueError:
            return
        check_json_value(value)  # what it reads, it accepts


def test_a_huge_payload_is_checked_and_written_in_bounded_time() -> None:
    payload = {"items": [{"id": i, "name": f"item-{i}", "tags": ["a", "b"]} for i in range(20_000)]}
    with no_hang():
        check_json_value(payload)
        assert load_json_text(compact_json(payload)) == payload


# --- StringMatches ----------------------------------------------------------------------------


@SUITE
@given(
    st.text(alphabet="ab*\\", min_size=0, max_size=40),
    st.integers(min_value=0, max_value=20_000),
    st.sampled_from(["a", "ab", "b"]),
)
def test_adversarial_string_matches_patterns_end(pattern: str, length: int, unit: str) -> None:
    rule = compile_choice_rule({"Variable": "$.s", "StringMatches": pattern, "Next": "X"})
    text = (unit * length)[:length]
    with no_hang():
        assert rule.matches({"s": text}) in (True, False)


# --- JSONPath ---------------------------------------------------------------------------------

PATH_PIECES = [
    ".a",
    ".b",
    "..a",
    ".*",
    "[*]",
    "[0]",
    "[-1]",
    "[0,1]",
    "[1:]",
    "[:2]",
    "['a','b']",
    "[?(@.a > 1)]",
    "[?(@.a == 'x' || @.b)]",
    "[?(@.a =~ /x.*/)]",
    "[?(@.a in [1,2])]",
    "[?(!@.b)]",
    "[?(@.a size 2)]",
    "[?(@.b empty false)]",
    "[?(@ > 1)]",
    ".length()",
    "[",
    "]",
    "(",
    ")",
    "'",
    ".",
    "?",
    "@",
    "$",
    ",",
    ":",
    " ",
]
json_documents = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.sampled_from(["x", "xy", ""]),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(["a", "b", "c"]), children, max_size=3)
    ),
    max_leaves=12,
)


@SUITE
@given(
    st.sampled_from(["$", "$$", "$var"]),
    st.lists(st.sampled_from(PATH_PIECES), max_size=6),
    json_documents,
)
def test_random_jsonpath(root: str, pieces: list[str], document: Any) -> None:
    scope = EvaluationScope(context={"a": document}, variables={"var": document})
    compiles_and_evaluates(
        lambda: compile_path(root + "".join(pieces)),
        lambda path: (path.evaluate(document, scope), path.exists(document, scope)),
    )


# --- intrinsic functions ----------------------------------------------------------------------

literals = st.sampled_from(
    [
        "0",
        "1",
        "-1",
        "1.5",
        "2147483647",
        "99999999999999999999",
        "1e308",
        "true",
        "null",
        "''",
        "'a,b'",
        "'\\\\{}'",
        "'{}'",
        "'MD5'",
        "'SHA-256'",
        "'[1,2]'",
        "'{\"a\": 1}'",
        "$",
        "$.a",
        "$.b",
        "$.a[0]",
        "$$.a",
        "$var",
        "$.missing",
    ]
)


def calls(depth: int) -> st.SearchStrategy[str]:
    argument = literals if depth == 0 else literals | calls(depth - 1)
    return st.builds(
        lambda name, args: f"{name}({', '.join(args)})",
        st.sampled_from(sorted(ARITY)),
        st.lists(argument, max_size=4),
    )


@SUITE
@given(calls(2), json_documents)
def test_random_intrinsic_calls(call: str, document: Any) -> None:
    data = {"a": document, "b": [document, "x"]}
    scope = EvaluationScope(context={"a": document}, variables={"var": document})
    compiles_and_evaluates(
        lambda: compile_template({"v.$": call}), lambda template: template.evaluate(data, scope)
    )


# --- Choice rules -----------------------------------------------------------------------------


@SUITE
@given(
    st.sampled_from(sorted(CHOICE_OPERATORS)),
    json_documents | st.sampled_from(["$.a", "2016-03-14T01:59:00Z", "*x*"]),
    json_documents,
)
def test_random_choice_rules(operator: str, operand: Any, document: Any) -> None:
    compiles_and_evaluates(
        lambda: compile_choice_rule({"Variable": "$.a", operator: operand, "Next": "X"}),
        lambda rule: rule.matches({"a": document}),
    )


# --- JSONata ----------------------------------------------------------------------------------

JSONATA_PIECES = [
    "$states.input",
    ".a",
    "[0]",
    "+",
    "-",
    "*",
    "/",
    "&",
    "=",
    "!=",
    "and",
    "or",
    " ",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ":",
    ",",
    "1",
    "'x'",
    "$sum",
    "$count",
    "$string",
    "$match",
    "/a+/",
    "$partition",
    "$range",
    "$hash",
    "$parse",
    "$random()",
    "$uuid()",
    "$now()",
    "function($x){$x}",
    "~>",
    "..",
    "?",
    "true",
    "null",
]


@SUITE
@given(st.lists(st.sampled_from(JSONATA_PIECES), min_size=1, max_size=8), json_documents)
def test_random_jsonata(pieces: list[str], document: Any) -> None:
    compiles_and_evaluates(
        lambda: compile_jsonata_template("{% " + "".join(pieces) + " %}"),
        lambda template: template.evaluate({"input": {"a": document}}),
    )


@SUITE
@given(st.text(alphabet=string.printable, max_size=30))
def test_any_text_as_jsonata(text: str) -> None:
    compiles_and_evaluates(
        lambda: compile_jsonata_template("{%" + text + "%}"),
        lambda template: template.evaluate({"input": {}}),
    )
