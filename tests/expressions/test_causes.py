"""The causes AWS writes when a path selects nothing, per field, text for text.

The engine prefixes each with "An error occurred while executing the state '<name>' (entered
at the event id #<n>). "; these are the expression side's part. Where each text comes from:

- InputPath / OutputPath and a Parameters ``.$`` key: recorded on AWS
  (tests/conformance/recordings/jsonpath.jsonl, the ``NoSuchInputPath``, ``NoSuchOutputPath``
  and ``no_such_jsonpath`` executions);
- ResultSelector: the same payload-template rule as Parameters (AWS documents them as one
  template syntax: https://docs.aws.amazon.com/step-functions/latest/dg/input-output-inputpath-params.html);
- ItemsPath and ResultPath: ``States.ReferencePathConflict``, 'Unable to apply step "<key>" to
  input <JSON>', as AWS users quote it from their failed executions;
- Fail's ErrorPath / CausePath: the payload-template wording naming the field, as AWS's own
  Step Functions Local writes it (the AWS pages are silent).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from stepsaga.workflows._expressions import (
    EvaluationError,
    compile_field_template,
    compile_path,
    compile_reference_path,
    compile_template,
)
from tests.conformance import records


def _failure(call: Any) -> EvaluationError:
    with pytest.raises(EvaluationError) as caught:
        call()
    return caught.value


def _recorded_causes() -> set[str]:
    prefix_end = "). "
    causes = set()
    for record in records("jsonpath.jsonl"):
        for event in record["history"] or []:
            details = event.get("executionFailedEventDetails")
            if details and details.get("error") == "States.Runtime":
                cause = details["cause"]
                causes.add(cause[cause.index(prefix_end) + len(prefix_end) :])
    return causes


@pytest.mark.parametrize("field", ["InputPath", "OutputPath"])
def test_input_and_output_path(field: str) -> None:
    name = f"NoSuch{field}"
    error = _failure(lambda: compile_path(f"$.{name}").evaluate({"other": 1}))
    assert error.error == "States.Runtime"
    assert error.cause == f"Invalid path '$.{name}' : No results for path: $['{name}']"
    assert error.cause in _recorded_causes()


def test_a_nested_and_an_indexed_path_are_quoted_in_bracket_notation() -> None:
    error = _failure(lambda: compile_path("$.a.b[2]['c d']").evaluate({"a": {"b": []}}))
    assert (
        error.cause == "Invalid path '$.a.b[2]['c d']' : No results for path: $['a']['b'][2]['c d']"
    )


@pytest.mark.parametrize("field", ["Parameters", "ResultSelector", "ItemSelector"])
def test_a_payload_template_key(field: str) -> None:
    template = compile_template({"value.$": "$.no_such_jsonpath", "kept": 1}, field)
    data = {"input": "<json-input:1>"}
    error = _failure(lambda: template.evaluate(data))
    assert error.error == "States.Runtime"
    assert error.cause == (
        "The JSONPath '$.no_such_jsonpath' specified for the field 'value.$' could not be "
        f"found in the input '{json.dumps(data, separators=(',', ':'))}'"
    )


def test_the_recorded_template_cause_is_this_wording() -> None:
    recorded = (
        "The JSONPath '$.no_such_jsonpath' specified for the field 'value.$' could not be found "
        "in the input '<json-input:1>'"
    )
    assert recorded in _recorded_causes()


def test_a_nested_template_names_the_key_of_its_own_object() -> None:
    template = compile_template({"outer": {"inner.$": "$.x"}})
    error = _failure(lambda: template.evaluate({}))
    assert "specified for the field 'inner.$'" in error.cause


def test_a_path_inside_an_intrinsic_names_the_key_that_holds_the_call() -> None:
    template = compile_template({"v.$": "States.Format('{}', $.missing)"})
    error = _failure(lambda: template.evaluate({"a": 1}))
    assert error.cause == (
        "The JSONPath '$.missing' specified for the field 'v.$' could not be found in the "
        "input '{\"a\":1}'"
    )


@pytest.mark.parametrize("field", ["ErrorPath", "CausePath"])
def test_fail_error_and_cause_paths_name_their_field(field: str) -> None:
    error = _failure(lambda: compile_field_template("$.nope", field).evaluate({"other": 1}))
    assert error.error == "States.Runtime"
    assert error.cause == (
        f"The JSONPath '$.nope' specified for the field '{field}' could not be found in the "
        "input '{\"other\":1}'"
    )


def test_fail_fields_take_intrinsics_and_give_the_value_itself() -> None:
    template = compile_field_template("States.Format('E{}', $.n)", "ErrorPath")
    assert template.evaluate({"n": 1}) == "E1"
    assert compile_field_template("$.e", "ErrorPath").evaluate({"e": "Boom"}) == "Boom"


def test_items_path_names_the_first_missing_step_and_the_whole_input() -> None:
    path = compile_reference_path("$.discovery.objects")
    data = {"discovery": {"statusCode": 500}}
    error = _failure(lambda: path.get(data))
    assert error.error == "States.ReferencePathConflict"
    assert error.cause == 'Unable to apply step "objects" to input {"discovery":{"statusCode":500}}'


def test_result_path_through_a_non_object_is_a_reference_path_conflict() -> None:
    error = _failure(lambda: compile_reference_path("$.a.b").set({"a": "text"}, 1))
    assert error.error == "States.ReferencePathConflict"
    assert error.cause == 'Unable to apply step "b" to input {"a":"text"}'
