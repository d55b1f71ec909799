"""JSONata syntax checking of ``{% %}`` expressions."""

from __future__ import annotations

import random
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from stepsaga.workflows._expressions import (
    EvaluationError,
    EvaluationScope,
    ExpressionSyntaxError,
    check_jsonata,
    compile_jsonata_template,
    strip_jsonata,
)
from stepsaga.workflows._expressions._jsonata import compile_jsonata


@pytest.mark.parametrize(
    "text",
    [
        "{% $states.input.a + 1 %}",
        "{% $map($states.input.items, function($v) { $v * 2 }) %}",
        "{% {'foo': 'bar'} %}",
        "{%$x%}",
        "$states.input",
    ],
)
def test_valid_expressions_pass(text: str) -> None:
    check_jsonata(text)


@pytest.mark.parametrize("text", ["{% ( %}", "{% %}", "{% $f( %}", "{% 'unterminated %}", ""])
def test_malformed_expressions_are_refused_with_the_text(text: str) -> None:
    with pytest.raises(ExpressionSyntaxError) as caught:
        check_jsonata(text)
    assert caught.value.expression == text


# AWS evaluates a string only when it starts with "{%" and ends with "%}"; recorded on AWS
# (jsonata.jsonl, BASE_LITERALS): " {% states.input %} " comes out of Output unchanged.
PADDED = [" {% $states.input.n %} ", "  {%$x%}", "{% $x %}\n", " {% ( %} "]


@pytest.mark.parametrize("text", PADDED)
def test_a_padded_expression_is_a_literal_to_the_syntax_check(text: str) -> None:
    check_jsonata(text)  # a literal string is valid whatever it holds
    with pytest.raises(ExpressionSyntaxError) as caught:
        compile_jsonata(text)  # ...but it is no expression to compile
    assert "literal" in caught.value.message


def test_a_padded_expression_is_a_literal_when_evaluated_at_any_depth() -> None:
    written = {"top": PADDED[0], "nested": [PADDED[1], {"deep": PADDED[3]}], "n": "{% 1 + 1 %}"}
    template = compile_jsonata_template(written, "Output")
    assert template.evaluate(STATES) == {
        "top": PADDED[0],
        "nested": [PADDED[1], {"deep": PADDED[3]}],
        "n": 2,
    }
    assert compile_jsonata_template(PADDED[0], "Output").is_constant


def test_strip_recognises_only_wrapped_text() -> None:
    assert strip_jsonata("{% 1 %}") == " 1 "
    assert strip_jsonata("plain") is None
    assert strip_jsonata("{% unclosed") is None


# --- evaluation ----------------------------------------------------------------------------

STATES = {"input": {"n": 2, "items": [1, 2, 3], "nothing": None}, "context": {"Execution": {}}}


def test_expressions_at_any_depth_see_states_and_variables() -> None:
    template = compile_jsonata_template(
        {"sum": "{% $sum($states.input.items) %}", "nested": ["{% $limit * 2 %}", "plain"]},
        "Output",
    )
    result = template.evaluate(STATES, EvaluationScope(variables={"limit": 5}))
    assert result == {"sum": 6, "nested": [10, "plain"]}


def test_null_is_a_value_but_undefined_is_aws_query_evaluation_error() -> None:
    assert compile_jsonata_template("{% $states.input.nothing %}").evaluate(STATES) is None
    with pytest.raises(EvaluationError) as caught:
        compile_jsonata_template({"result": "{% $doesNotExist %}"}, "Output").evaluate(STATES)
    assert caught.value.error == "States.QueryEvaluationError"
    # AWS's recorded cause names the nested field and the expression's body
    assert caught.value.cause == (
        "The JSONata expression '$doesNotExist' specified for the field 'Output/result' "
        "returned nothing (undefined)."
    )
    # ...and the engine records that nested field as the EvaluationFailed event's location
    assert caught.value.field == "Output/result"


def test_a_field_of_the_wrong_type_is_reported_in_aws_words() -> None:
    # Recorded on AWS (jsonata.jsonl, MAP_STATE_ITEMS_VARIABLE): Items that evaluate to null.
    template = compile_jsonata_template("{%  $ItemsVar  %}", "Items")
    error = template.unexpected_type(None, "array")
    assert error.error == "States.QueryEvaluationError"
    assert error.field == "Items"
    assert error.cause == (
        "The JSONata expression '$ItemsVar' specified for the field 'Items' returned an "
        "unexpected result type. Expected 'array', but was 'null' for value: null"
    )
    mixed = compile_jsonata_template({"a": "{% 1.5 %}"}, "Items")
    assert mixed.unexpected_type({"a": 1.5}, "array").cause.endswith(
        "'{\"a\":\"{% 1.5 %}\"}' specified for the field 'Items' returned an unexpected result "
        "type. Expected 'array', but was 'object' for value: {\"a\":1.5}"
    )


@pytest.mark.parametrize("assigned", [None, [None, 1], {"a": None}])
def test_a_variable_holding_null_is_null_not_undefined(assigned: Any) -> None:
    # Recorded on AWS: Items "{% $ItemsVar %}" with $ItemsVar null yields null (the Map then
    # fails on the type), not "returned nothing (undefined)".
    template = compile_jsonata_template("{% $ItemsVar %}", "Items")
    assert template.evaluate(STATES, EvaluationScope(variables={"ItemsVar": assigned})) == assigned
    combined = compile_jsonata_template("{% [$ItemsVar = null, $exists($ItemsVar)] %}")
    assert combined.evaluate(STATES, EvaluationScope(variables={"ItemsVar": None})) == [True, True]


def test_failing_expression_is_a_query_evaluation_error_naming_the_field() -> None:
    with pytest.raises(EvaluationError) as caught:
        compile_jsonata_template("{% $notAFunction() %}", "Arguments").evaluate(STATES)
    assert caught.value.error == "States.QueryEvaluationError"
    assert "'Arguments'" in caught.value.cause


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("$partition([1, 2, 3], 2)", [[1, 2], [3]]),
        ("$partition([0], 5)", [[0]]),
        ("$range(0, 9, 3)", [0, 3, 6, 9]),
        ("$range(1, 9, 9)", 1),  # a JSONata sequence of one collapses, as recorded on AWS
        ("$hash('input data', 'MD5')", "812f45842bc6d66ee14572ce20db8e86"),
        ("$parse('{\"a\": [1]}')", {"a": [1]}),
    ],
)
def test_aws_jsonata_functions(expression: str, expected: Any) -> None:
    assert compile_jsonata_template("{% " + expression + " %}").evaluate(STATES) == expected


def test_random_and_uuid_follow_the_scope_random_source() -> None:
    template = compile_jsonata_template({"r": "{% $random() %}", "u": "{% $uuid() %}"})
    first = template.evaluate(STATES, EvaluationScope(random=random.Random(3)))
    again = template.evaluate(STATES, EvaluationScope(random=random.Random(3)))
    assert first == again
    assert 0 <= first["r"] < 1
    assert uuid.UUID(first["u"]).version == 4


def test_aws_function_argument_errors_are_runtime_errors() -> None:
    with pytest.raises(EvaluationError) as caught:
        compile_jsonata_template("{% $partition([1], 0) %}").evaluate(STATES)
    assert caught.value.error == "States.Runtime"


def test_constant_values_are_returned_as_written() -> None:
    template = compile_jsonata_template({"a": [1, "x"]}, "Output")
    assert template.is_constant
    assert template.evaluate(STATES) == {"a": [1, "x"]}


def test_malformed_nested_expression_is_refused_with_its_field() -> None:
    with pytest.raises(ExpressionSyntaxError) as caught:
        compile_jsonata_template({"a": {"b": "{% ( %}"}}, "Arguments")
    assert caught.value.field == "Arguments/a/b"


# --- evaluation is bounded, yields JSON, and reads the scope's clock ----------------------------
# AWS: a JSONata expression that fails is States.QueryEvaluationError
# (https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html, "Errors").


def _evaluate(text: str, scope: EvaluationScope | None = None) -> Any:
    return compile_jsonata_template(text).evaluate({"input": {}}, scope)


def _query_error(text: str) -> EvaluationError:
    with pytest.raises(EvaluationError) as caught:
        _evaluate(text)
    assert caught.value.error == "States.QueryEvaluationError"
    assert caught.value.field == "Output"
    return caught.value


@pytest.fixture
def short_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    from stepsaga.workflows._expressions import _bounds, _jsonata, _jsonpath

    monkeypatch.setattr(_jsonata, "JSONATA_TIME_LIMIT_SECONDS", 0.3)
    monkeypatch.setattr(_bounds, "REGEX_TIME_LIMIT_SECONDS", 0.3)
    monkeypatch.setattr(_jsonpath, "REGEX_TIME_LIMIT_SECONDS", 0.3)


@pytest.mark.usefixtures("short_limits")
@pytest.mark.parametrize(
    "text",
    [
        "{% ($f := function($n) { $f($n + 1) }; $f(0)) %}",  # recursion without end
        "{% ($f := function($n) { $n > 1e15 ? $n : $f($n + 1) }; $f(0)) %}",  # a tail loop
        "{% ($f := function($n) { 1 + $f($n + 1) }; $f(0)) %}",  # a deepening one
    ],
)
def test_a_runaway_program_ends_in_a_query_evaluation_error(text: str) -> None:
    started = time.perf_counter()
    error = _query_error(text)
    assert "threw an error during evaluation" in error.cause
    assert time.perf_counter() - started < 5


@pytest.mark.usefixtures("short_limits")
@pytest.mark.parametrize("function", ["$match", "$contains", "$split", "$replace"])
def test_a_catastrophic_regex_ends_in_a_query_evaluation_error(function: str) -> None:
    extra = ", 'x'" if function == "$replace" else ""
    text = f"{{% {function}('{'a' * 40}!', /(a+)+$/{extra}) %}}"
    started = time.perf_counter()
    error = _query_error(text)
    assert "ran longer than 0.3 seconds" in error.cause
    assert time.perf_counter() - started < 5


def test_regexes_still_match_within_the_bound() -> None:
    assert _evaluate("{% $match('ab12', /[0-9]+/).match %}") == "12"
    assert _evaluate("{% $replace('a-b-c', /-/, '+') %}") == "a+b+c"
    assert _evaluate("{% $split('a1b2c', /[0-9]/) %}") == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("{% function($x) { $x } %}", ""),
        ("{% /ab+c/ %}", ""),
        ("{% {'f': $uppercase} %}", " (at /f)"),
        ("{% [1, $lowercase] %}", " (at /1)"),
    ],
)
def test_an_output_that_is_not_json_is_a_query_evaluation_error(text: str, where: str) -> None:
    error = _query_error(text)
    assert error.cause.endswith(
        f"returned a function or a regular expression, which is not JSON{where}."
    )


def test_now_and_millis_read_the_scope_clock() -> None:
    """``$now()`` and ``$millis()`` give the instant the evaluation runs at: the engine's
    virtual clock, which it sets as ``EvaluationScope.now``."""
    instant = datetime(2030, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC)
    scope = EvaluationScope(now=instant)
    assert _evaluate("{% $now() %}", scope) == "2030-01-02T03:04:05.678Z"
    assert _evaluate("{% $millis() %}", scope) == 1_893_553_445_678
    assert _evaluate("{% $now('[Y0001]-[M01]-[D01]') %}", scope) == "2030-01-02"
    assert _evaluate("{% $now() = $now() %}", scope) is True


def test_without_a_scope_clock_now_is_the_wall_clock() -> None:
    before = int(time.time() * 1000)
    millis = _evaluate("{% $millis() %}")
    assert before - 1000 <= millis <= int(time.time() * 1000) + 1000


@pytest.mark.usefixtures("short_limits")
def test_a_catastrophic_regex_in_a_jsonpath_filter_is_a_runtime_error() -> None:
    from stepsaga.workflows._expressions import compile_path

    path = compile_path("$.items[?(@.s =~ /(a+)+$/)]")
    with pytest.raises(EvaluationError) as caught:
        path.evaluate({"items": [{"s": "a" * 40 + "!"}]})
    assert caught.value.error == "States.Runtime"
    assert "ran longer than 0.3 seconds" in caught.value.cause
