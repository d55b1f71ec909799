"""Every definition AWS accepted in the conformance recordings parses, validates, round-trips.

The recordings are real AWS executions (``tests/conformance/recordings/README.md``): if AWS ran a
definition, the validator must accept it, and emitting the parsed model must give it back.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from stepsaga.workflows.asl import ASLValidationError, parse_definition, parse_state
from tests.conformance import MISSING, conformance_dir, records

FILES = ("jsonpath", "jsonata", "choice_operators", "services", "test_state")


CORPUS = conformance_dir()
needs_corpus = pytest.mark.skipif(CORPUS is None, reason=MISSING)


def _refused_as_invalid(record: dict[str, Any]) -> str | None:
    """AWS's message when it refused the TestState call's definition itself, else None."""
    error = record["response"].get("Error")
    if isinstance(error, dict) and error.get("Code") == "InvalidDefinition":
        message = str(error.get("Message", ""))
        if "SCHEMA_VALIDATION_FAILED" in message:
            return message
    return None


def _accepted_definitions() -> Iterator[tuple[str, dict[str, Any]]]:
    if CORPUS is None:
        return
    for name in FILES:
        for record in records(f"{name}.jsonl"):
            if name == "test_state":
                if _refused_as_invalid(record) is None:
                    yield record["id"], record["request"]["definition"]
                continue
            yield record["id"], record["definition"]
            machines = (record.get("setup") or {}).get("state_machines") or {}
            for arn, machine in machines.items():
                yield f"{record['id']}@{arn}", machine["definition"]


def _cases() -> list[Any]:
    cases = list(_accepted_definitions())
    if not cases:
        return [pytest.param(None, None, marks=needs_corpus, id="no-corpus")]
    return [
        pytest.param(ident, definition, id=f"{index}")
        for index, (ident, definition) in enumerate(cases)
    ]


@pytest.mark.parametrize(("ident", "definition"), _cases())
def test_definition_aws_accepted_parses_validates_and_round_trips(
    ident: str, definition: dict[str, Any]
) -> None:
    # GIVEN a definition AWS accepted and ran
    try:
        # WHEN it is parsed with full validation
        if "StartAt" in definition:
            machine = parse_definition(definition)
            # THEN emitting it gives back exactly the input, as a mapping and as JSON text
            assert machine.to_dict() == definition
            assert parse_definition(machine.to_json()).to_dict() == definition
        else:
            assert parse_state(definition).to_dict() == definition
    except ASLValidationError as exc:
        pytest.fail(f"{ident}: AWS accepted this definition but the validator refused it:\n{exc}")


@needs_corpus
def test_corpus_covers_every_state_type_and_both_query_languages() -> None:
    # The round-trip test above only means something if the corpus exercises the whole model.
    types: set[str] = set()
    languages: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("Type"), str):
                types.add(node["Type"])
            if isinstance(node.get("QueryLanguage"), str):
                languages.add(node["QueryLanguage"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for _, definition in _accepted_definitions():
        walk(definition)
    assert types >= {"Task", "Wait", "Pass", "Succeed", "Fail", "Choice", "Parallel", "Map"}
    assert languages >= {"JSONPath", "JSONata"}


@needs_corpus
def test_definitions_aws_refused_are_refused_at_the_same_pointer() -> None:
    # GIVEN the TestState calls AWS refused with SCHEMA_VALIDATION_FAILED
    refused = [
        (record["request"]["definition"], message)
        for record in records("test_state.jsonl")
        if (message := _refused_as_invalid(record)) is not None
    ]
    assert refused, "the corpus holds refused definitions; did its layout change?"
    for definition, message in refused:
        aws_pointer = message.rsplit(" at ", 1)[1].rstrip("'")
        # WHEN the validator checks them
        with pytest.raises(ASLValidationError) as caught:
            if "StartAt" in definition:
                parse_definition(definition)
            else:
                parse_state(definition)
        # THEN it refuses them at the pointer AWS named (a lone state has no /States/<name>)
        pointers = [problem.pointer for problem in caught.value.problems]
        assert any(aws_pointer.endswith(pointer) and pointer for pointer in pointers), (
            aws_pointer,
            pointers,
        )
