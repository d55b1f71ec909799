"""Every expression in every definition AWS accepted compiles here too.

The recordings are definitions AWS ran, so none of their paths, templates, intrinsic calls,
Choice rules or JSONata expressions may be refused as malformed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from stepsaga.workflows._expressions import (
    ExpressionSyntaxError,
    check_jsonata,
    compile_choice_rule,
    compile_path,
    compile_reference_path,
    compile_template,
    is_intrinsic,
    parse_intrinsic,
    strip_jsonata,
)
from tests.conformance import records

FILES = ("jsonpath.jsonl", "jsonata.jsonl", "services.jsonl", "test_state.jsonl")
_TEMPLATES = ("Parameters", "ResultSelector", "ItemSelector", "Assign")


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def check_state(state: dict[str, Any], language: str, seen: Counter[str]) -> None:
    language = state.get("QueryLanguage", language)
    for field, value in state.items():
        if language == "JSONata":
            for text in strings(value):
                if strip_jsonata(text) is not None:
                    check_jsonata(text)
                    seen["jsonata"] += 1
        elif field in ("InputPath", "OutputPath") and isinstance(value, str):
            compile_path(value)
            seen["path"] += 1
        elif field.endswith("Path") and isinstance(value, str):
            if is_intrinsic(value):
                parse_intrinsic(value)
            else:
                compile_reference_path(value)
            seen["reference path"] += 1
        elif field in _TEMPLATES:
            compile_template(value, field)
            seen["template"] += 1
        elif field == "Choices":
            for rule in value:
                compile_choice_rule(rule)
                seen["choice rule"] += 1
        elif field == "Catch":
            for catcher in value:
                if isinstance(catcher.get("ResultPath"), str):
                    compile_reference_path(catcher["ResultPath"])
                if "Assign" in catcher:
                    compile_template(catcher["Assign"], "Assign")
                seen["catcher"] += 1
    for branch in state.get("Branches") or []:
        check_graph(branch, language, seen)
    for key in ("ItemProcessor", "Iterator"):
        if key in state:
            check_graph(state[key], language, seen)


def check_graph(graph: dict[str, Any], language: str, seen: Counter[str]) -> None:
    language = graph.get("QueryLanguage", language)
    for state in graph["States"].values():
        check_state(state, language, seen)


def definitions(record: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if isinstance(record.get("definition"), dict):
        yield record["definition"]
    request = record.get("request") or {}
    if isinstance(request.get("definition"), dict):
        yield request["definition"]
    for machine in (record.get("setup") or {}).get("state_machines") or []:
        if isinstance(machine, dict) and isinstance(machine.get("definition"), dict):
            yield machine["definition"]


@pytest.mark.parametrize("name", FILES)
def test_every_recorded_expression_compiles(name: str) -> None:
    seen: Counter[str] = Counter()
    refused: list[str] = []
    for record in records(name):
        for definition in definitions(record):
            try:
                if "States" in definition:
                    check_graph(definition, "JSONPath", seen)
                elif "Type" in definition:  # TestState of a single state
                    check_state(definition, "JSONPath", seen)
            except ExpressionSyntaxError as exc:
                refused.append(f"{record['id']}: {exc}")
    assert refused == []
    assert sum(seen.values()) > 0
