"""Every Pass state AWS ran in the JSONPath recordings, re-evaluated with this package.

A Pass state is pure input/output processing (InputPath, Parameters, Result, ResultPath,
OutputPath), so each recorded PassStateEntered/PassStateExited pair checks paths, reference
paths, templates and intrinsic functions against real AWS, and each Pass state that failed the
execution checks the error name and cause.
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
from tests.conformance import entered_states, parsed, records

# Recorded causes hide some text behind placeholders such as '<json-input:1>'.
_PLACEHOLDER = re.compile(r"<json-input:\d+>")
# ...and UUIDs behind '<uuid:N>', numbered in order of appearance.
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def with_uuid_placeholders(value: Any) -> Any:
    seen: dict[str, str] = {}

    def replace(match: re.Match[str]) -> str:
        return seen.setdefault(match.group(0), f"<uuid:{len(seen) + 1}>")

    return json.loads(_UUID.sub(replace, json.dumps(value)))


def run_pass(state: dict[str, Any], data: Any, scope: EvaluationScope) -> Any:
    """JSONPath-mode Pass processing, in the order the ASL specification gives."""
    input_path = state.get("InputPath", "$")
    effective = {} if input_path is None else compile_path(input_path).evaluate(data, scope)
    if "Parameters" in state:
        effective = compile_template(state["Parameters"]).evaluate(effective, scope)
    result = state.get("Result", effective)
    result_path = state.get("ResultPath", "$")
    output = data if result_path is None else compile_reference_path(result_path).set(data, result)
    output_path = state.get("OutputPath", "$")
    return {} if output_path is None else compile_path(output_path).evaluate(output, scope)


_STATE_PREFIX = re.compile(
    r"An error occurred while executing the state '[^']*' \(entered at the event id #\d+\)\. "
)


def cause_matches(recorded: str, ours: str) -> bool:
    """Compare our cause with AWS's, minus the prefix the engine adds, up to placeholders."""
    body = _STATE_PREFIX.sub("", recorded, count=1)
    pattern = ".*".join(re.escape(part) for part in _PLACEHOLDER.split(body))
    return re.fullmatch(pattern, ours, re.DOTALL) is not None


def test_pass_states_reproduce_aws_outputs_and_failures() -> None:
    compared = failures_compared = 0
    mismatches: list[str] = []
    for record in records("jsonpath.jsonl"):
        # Outputs the recorder replaced (random numbers) cannot be compared.
        replaced = any("output" in (t.get("jsonpath") or "") for t in record["transformers"])
        history = record["history"]
        if replaced:
            continue
        for index, entered, state, variables in entered_states(record, "PassStateEntered"):
            if "$$" in json.dumps(state):
                continue  # the context object holds values the recorder replaced
            scope = EvaluationScope(variables=variables)
            try:
                ours: Any = run_pass(state, parsed(entered["input"]), scope)
                error: EvaluationError | None = None
            except EvaluationError as exc:
                ours, error = None, exc
            exited = next(
                (
                    e
                    for e in history[index + 1 :]
                    if e["type"] == "PassStateExited"
                    and e["stateExitedEventDetails"]["name"] == entered["name"]
                ),
                None,
            )
            label = f"{record['id']} / {entered['name']}"
            if exited is not None:
                compared += 1
                expected = parsed(exited["stateExitedEventDetails"]["output"])
                if "<uuid:" in json.dumps(expected):
                    ours = with_uuid_placeholders(ours)
                if error is not None or ours != expected:
                    mismatches.append(f"{label}: expected {expected!r}, got {ours!r} {error}")
                continue
            failed = next(e for e in history if e["type"] == "ExecutionFailed")
            recorded = failed["executionFailedEventDetails"]
            failures_compared += 1
            if error is None or error.error != recorded["error"]:
                mismatches.append(f"{label}: expected {recorded}, got {ours!r} {error}")
            elif not cause_matches(recorded["cause"], error.cause):
                mismatches.append(f"{label}: cause {recorded['cause']!r} vs {error.cause!r}")
    assert compared >= 200
    assert failures_compared >= 3
    assert mismatches == [], "\n".join(mismatches)
