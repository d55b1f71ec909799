"""Payload templates (Parameters, ResultSelector, ItemSelector, Assign) with ``.$`` keys."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stepsaga.workflows._expressions import (
    EvaluationError,
    EvaluationScope,
    ExpressionSyntaxError,
    compile_template,
)
from tests.expressions.test_paths import existing_routes, path_text, read

SCOPE = EvaluationScope(
    context={"Execution": {"Id": "arn:exec", "Input": {"k": 1}}, "State": {"Name": "S"}},
    variables={"total": 42, "order": {"id": "o-1"}},
    random=random.Random(1),
)


def test_dollar_keys_select_from_input_context_and_variables() -> None:
    template = compile_template(
        {
            "static": {"nested": [1, {"x": "y"}]},
            "fromInput.$": "$.a",
            "whole.$": "$",
            "exec.$": "$$.Execution.Id",
            "var.$": "$total",
            "varField.$": "$order.id",
            "nested": {"deep.$": "$.b[0]", "list": [{"in.$": "$.a"}, 3]},
            "call.$": "States.Format('{}-{}', $.a, $total)",
        }
    )
    data = {"a": "A", "b": [True]}
    assert template.evaluate(data, SCOPE) == {
        "static": {"nested": [1, {"x": "y"}]},
        "fromInput": "A",
        "whole": data,
        "exec": "arn:exec",
        "var": 42,
        "varField": "o-1",
        "nested": {"deep": True, "list": [{"in": "A"}, 3]},
        "call": "A-42",
    }


def test_key_order_follows_the_template() -> None:
    result = compile_template({"z": 1, "a.$": "$.v", "m": 2}).evaluate({"v": 0})
    assert list(result) == ["z", "a", "m"]


def test_constant_templates_are_recognised() -> None:
    assert compile_template({"a": [1, {"b": 2}]}).is_constant
    assert not compile_template({"a": [1, {"b.$": "$"}]}).is_constant
    assert compile_template("plain").evaluate(None) == "plain"


def test_indefinite_path_yields_a_list() -> None:
    result = compile_template({"ids.$": "$.items[*].id"}).evaluate(
        {"items": [{"id": 1}, {"id": 2}]}
    )
    assert result == {"ids": [1, 2]}


def test_missing_path_is_reported_as_aws_words_it_for_parameters() -> None:
    # As recorded on AWS (Pass state, Parameters {"value.$": "$.no_such_jsonpath"}); the
    # recording hides the input text behind a placeholder, which is the compact JSON here.
    template = compile_template({"value.$": "$.no_such_jsonpath"})
    with pytest.raises(EvaluationError) as caught:
        template.evaluate({"int-literal": 0})
    assert caught.value.error == "States.Runtime"
    assert caught.value.cause == (
        "The JSONPath '$.no_such_jsonpath' specified for the field 'value.$' could not be found "
        "in the input '{\"int-literal\":0}'"
    )


def test_missing_path_inside_an_intrinsic_names_the_field() -> None:
    with pytest.raises(EvaluationError) as caught:
        compile_template({"n.$": "States.ArrayLength($.nope)"}).evaluate({})
    assert "'n.$'" in caught.value.cause


def test_intrinsic_failure_propagates_with_its_cause() -> None:
    with pytest.raises(EvaluationError) as caught:
        compile_template({"n.$": "States.ArrayGetItem($.a, 5)"}).evaluate({"a": []})
    assert caught.value.error == "States.Runtime"
    assert "States.ArrayGetItem($.a, 5)" in caught.value.cause


@pytest.mark.parametrize(
    "template",
    [
        {"a.$": 1},
        {"a.$": "no dollar"},
        {"a": {"b.$": "States.Nope()"}},
        {"list": [{"x.$": "$.a[?("}]},
        {"a.$": None},
    ],
)
def test_malformed_dynamic_values_are_refused_at_compile_time(template: Any) -> None:
    with pytest.raises(ExpressionSyntaxError):
        compile_template(template, field="ResultSelector")


def test_error_names_the_field_and_key() -> None:
    with pytest.raises(ExpressionSyntaxError) as caught:
        compile_template({"a": {"b.$": "nope"}}, field="ItemSelector")
    assert caught.value.field is not None
    assert "ItemSelector" in caught.value.field
    assert "b.$" in caught.value.field


def test_evaluation_does_not_modify_the_input() -> None:
    data = {"a": {"x": 1}}
    result = compile_template({"copy.$": "$.a", "k": 1}).evaluate(data)
    assert data == {"a": {"x": 1}}
    assert result == {"copy": {"x": 1}, "k": 1}


# --- property ------------------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(existing_routes(), st.text(min_size=1, max_size=5), st.integers(-3, 3))
def test_dollar_keys_equal_a_plain_reading_and_constants_stay_as_written(
    case: tuple[Any, list[str | int]], key: str, constant: int
) -> None:
    # GIVEN a template with one ".$" entry pointing at an existing node and one constant
    doc, route = case
    template = compile_template({f"{key}.$": path_text(route), "constant": [constant]})
    # WHEN it is evaluated THEN the entry holds that node and the constant is unchanged
    result = template.evaluate(doc)
    expected_value = read(doc, route)
    if key == "constant":
        assert result == {"constant": [constant]}
    else:
        assert result == {key: expected_value, "constant": [constant]}
