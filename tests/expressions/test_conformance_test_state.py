"""AWS's TestState inspection data, step by step, against this package.

TestState at DEBUG/TRACE level reports a state's data after InputPath, Parameters,
ResultSelector and ResultPath, for a given input, context object, variables and (mocked) task
result: each recorded step checks paths, templates (including ``$$`` and variables) and reference
paths on real AWS answers.
"""

from __future__ import annotations

import json
import re
from typing import Any

from stepsaga.workflows._expressions import (
    EvaluationError,
    EvaluationScope,
    compile_path,
    compile_reference_path,
    compile_template,
)
from tests.conformance import find_state, parsed, records

_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT[0-9:.]+Z")


def normalised(value: Any) -> Any:
    """Apply the recorder's placeholders (partition, region, dates, Lambda name) to our value."""
    text = json.dumps(value)
    text = text.replace("arn:aws:", "arn:<partition>:").replace("us-east-1", "<region>")
    text = text.replace("lambda_func_00000001", "<lambda_function_name>")
    return json.loads(_TIMESTAMP.sub("date", text))


def steps(state: dict[str, Any], request: dict[str, Any], inspection: dict[str, Any]) -> Any:
    """Yield (inspection field, our value) for each processing step AWS reported."""
    scope = EvaluationScope(
        context=json.loads(request.get("context") or "{}"),
        variables=json.loads(request.get("variables") or "{}"),
    )
    data = json.loads(request.get("input") or "{}")
    input_path = state.get("InputPath", "$")
    effective = {} if input_path is None else compile_path(input_path).evaluate(data, scope)
    yield "afterInputPath", effective
    if "Parameters" in state:
        yield "afterParameters", compile_template(state["Parameters"]).evaluate(effective, scope)
    if "result" not in inspection:
        return
    result = parsed(inspection["result"])
    if "ResultSelector" in state:
        selector = compile_template(state["ResultSelector"], "ResultSelector")
        result = selector.evaluate(result, scope)
        yield "afterResultSelector", result
    result_path = state.get("ResultPath", "$")
    output = data if result_path is None else compile_reference_path(result_path).set(data, result)
    yield "afterResultPath", output


def test_inspection_data_of_jsonpath_states_matches_each_step() -> None:
    compared = 0
    mismatches: list[str] = []
    for record in records("test_state.jsonl"):
        response, request = record["response"], record["request"]
        if not isinstance(response, dict) or "inspectionData" not in response:
            continue
        definition = request["definition"]
        if "JSONata" in json.dumps(definition):
            continue
        name = request.get("stateName") or definition.get("StartAt")
        state = definition if "Type" in definition else find_state(definition, name)
        assert state is not None
        inspection = response["inspectionData"]
        try:
            for field, ours in steps(state, request, inspection):
                if field in inspection:
                    compared += 1
                    expected = parsed(inspection[field])
                    if normalised(ours) != expected:
                        mismatches.append(f"{record['id']} {field}: {expected!r} != {ours!r}")
        except EvaluationError as exc:
            mismatches.append(f"{record['id']}: unexpected {exc}")
    assert compared >= 40
    assert mismatches == [], "\n".join(mismatches)
