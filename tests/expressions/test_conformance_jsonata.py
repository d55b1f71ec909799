"""JSONata-mode Pass states and Choice conditions AWS ran, re-evaluated with this package."""

from __future__ import annotations

import json
from typing import Any

from stepsaga.workflows._expressions import (
    EvaluationError,
    EvaluationScope,
    compile_jsonata_template,
)
from tests.conformance import entered_states, parsed, records


def _language(record: dict[str, Any], state: dict[str, Any]) -> str:
    return str(state.get("QueryLanguage", record["definition"].get("QueryLanguage", "JSONPath")))


def test_pass_outputs_assignments_and_failures_match_aws() -> None:
    compared = 0
    mismatches: list[str] = []
    for record in records("jsonata.jsonl"):
        if any("output" in (t.get("jsonpath") or "") for t in record["transformers"]):
            continue  # the recorder replaced the values we would compare
        history = record["history"]
        for index, entered, state, variables in entered_states(record, "PassStateEntered"):
            if _language(record, state) != "JSONata" or "context" in json.dumps(state):
                continue  # the context object holds values the recorder replaced
            states = {"input": parsed(entered["input"])}
            scope = EvaluationScope(variables=variables)
            outcome = next(
                e
                for e in history[index + 1 :]
                if e["type"] in ("PassStateExited", "ExecutionFailed")
            )
            label = f"{record['id']} / {entered['name']}"
            compared += 1
            try:
                output = states["input"]
                if "Output" in state:
                    output = compile_jsonata_template(state["Output"], "Output").evaluate(
                        states, scope
                    )
                assigned = {}
                if "Assign" in state:
                    assigned = compile_jsonata_template(state["Assign"], "Assign").evaluate(
                        states, scope
                    )
            except EvaluationError as exc:
                failed = outcome.get("executionFailedEventDetails")
                if (
                    failed is None
                    or failed["error"] != exc.error
                    or not failed["cause"].endswith(exc.cause)
                ):
                    mismatches.append(f"{label}: {exc} vs {failed}")
                continue
            exited = outcome.get("stateExitedEventDetails")
            if exited is None:
                mismatches.append(f"{label}: AWS failed, we produced {output!r}")
                continue
            expected_assigned = {
                name: parsed(value)
                for name, value in (exited.get("assignedVariables") or {}).items()
            }
            if output != parsed(exited["output"]) or assigned != expected_assigned:
                mismatches.append(f"{label}: {output!r} {assigned!r} vs {exited}")
    assert compared >= 70
    assert mismatches == [], "\n".join(mismatches)


def test_choice_conditions_match_aws() -> None:
    compared = 0
    mismatches: list[str] = []
    for record in records("jsonata.jsonl"):
        history = record["history"]
        for index, entered, state, variables in entered_states(record, "ChoiceStateEntered"):
            if _language(record, state) != "JSONata":
                continue
            taken = next(
                (e for e in history[index + 2 :] if e["type"].endswith("StateEntered")), None
            )
            if taken is None:
                continue
            states = {"input": parsed(entered["input"])}
            scope = EvaluationScope(variables=variables)
            chosen = state.get("Default")
            for rule in state["Choices"]:
                condition = compile_jsonata_template(rule["Condition"], "Condition")
                if condition.evaluate(states, scope) is True:
                    chosen = rule["Next"]
                    break
            compared += 1
            if chosen != taken["stateEnteredEventDetails"]["name"]:
                mismatches.append(f"{record['id']} / {entered['name']}: {chosen}")
    assert compared >= 3
    assert mismatches == []
