"""Parsing: JSON text or a mapping → models, with every structural problem turned into a Problem."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, cast

from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from stepsaga.workflows._expressions import (
    JsonValueError,
    check_json_value,
    load_json_text,
    pointer_of,
)
from stepsaga.workflows.asl._models import (
    _OPERAND_KEY,
    _OPERATOR_KEY,
    STATE_TYPES,
    QueryLanguage,
    State,
    StateMachine,
)
from stepsaga.workflows.asl._problems import ASLValidationError, Problem, json_kind
from stepsaga.workflows.asl._validate import validate as _validate_machine
from stepsaga.workflows.asl._validate import validate_state as _validate_state
from stepsaga.workflows.facts import CHOICE_OPERATORS

__all__ = ("parse_definition", "parse_state")

_STATE_ADAPTER: Final[TypeAdapter[State]] = TypeAdapter(State)

_KINDS: Final = {
    "string_type": "a string",
    "int_type": "an integer",
    "float_type": "a number",
    "bool_type": "a boolean",
    "list_type": "an array",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "none_required": "null",
}


def _locate(error: ErrorDetails, raw: Any) -> tuple[list[str | int], Any, Any]:
    """Follow a pydantic error location through the raw input.

    Returns the JSON pointer tokens, the raw value there (or None) and its parent object.
    Location items that are not in the input (discriminator tags, union member names) are
    skipped; a missing field is kept as the last token.
    """
    tokens: list[str | int] = []
    node, parent = raw, None
    loc = error["loc"]
    for index, item in enumerate(loc):
        if isinstance(node, Mapping) and isinstance(item, str):
            if item in (_OPERATOR_KEY, _OPERAND_KEY):
                item = next((key for key in node if key in CHOICE_OPERATORS), item)
            if item in node:
                tokens.append(item)
                node, parent = node[item], node
                continue
            if index == len(loc) - 1 and error["type"] == "missing":
                tokens.append(item)
                parent, node = node, None
        elif isinstance(node, list) and isinstance(item, int) and 0 <= item < len(node):
            tokens.append(item)
            node, parent = node[item], node
    return tokens, node, parent


_CONTAINERS: Final = {
    "Retry": "in Retry entries",
    "Catch": "in Catch entries",
    "Choices": "in Choice rules",
    "And": "in Choice rules",
    "Or": "in Choice rules",
    "Not": "in Choice rules",
    "ItemProcessor": "in a Map's ItemProcessor",
    "Iterator": "in a Map's Iterator",
    "Branches": "in a Parallel branch",
    "ProcessorConfig": "in ProcessorConfig",
    "ItemReader": "in ItemReader",
    "ReaderConfig": "in ReaderConfig",
    "ItemBatcher": "in ItemBatcher",
    "ResultWriter": "in ResultWriter",
}


def _where(parent: Any, tokens: list[str | int]) -> str:
    """Where an unknown field sits, in the words of the ASL documentation."""
    if isinstance(parent, Mapping) and isinstance(parent.get("Type"), str):
        return f"by {parent['Type']} states"
    if len(tokens) == 1:
        return "at the top level of a state machine"
    for token in reversed(tokens[:-1]):
        if isinstance(token, str) and token in _CONTAINERS:
            return _CONTAINERS[token]
    return "here"


def _problems_from(exc: ValidationError, raw: Any, prefix: tuple[str | int, ...]) -> list[Problem]:
    problems: dict[str, Problem] = {}
    expected_kinds: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False):
        tokens, value, parent = _locate(error, raw)
        kind = error["type"]
        if kind in ("union_tag_invalid", "union_tag_not_found"):
            tokens.append("Type")
            values = ", ".join(STATE_TYPES)
            message = f"The field 'Type' should have one of these values: [{values}]"
            if kind == "union_tag_not_found":
                message = f"Field 'Type' is required; it should be one of [{values}]"
        elif kind == "missing":
            message = f"Field '{tokens[-1]}' is required"
            if isinstance(parent, Mapping) and isinstance(parent.get("Type"), str):
                message += f" in {parent['Type']} states"
        elif kind == "extra_forbidden":
            message = f"Field '{tokens[-1]}' is not supported {_where(parent, tokens)}"
        elif kind == "literal_error":
            message = f"Value must be one of {error.get('ctx', {}).get('expected', '')}"
        elif kind in ("recursion_loop", "recursion_depth_exceeded"):
            # pydantic's own bound on nested models, reached before JSON's 1,000 levels when
            # Map and Parallel states nest a hundred deep or a JSON value two hundred.
            message = (
                "The definition nests too deeply for stepsaga to read: pydantic, which checks "
                "its structure, stops at about a hundred nested Map or Parallel states"
            )
        elif kind in _KINDS:
            pointer = pointer_of(prefix + tuple(tokens))
            expected_kinds.setdefault(pointer, []).append(_KINDS[kind])
            wanted = " or ".join(dict.fromkeys(expected_kinds[pointer]))
            message = f"Expected {wanted}, got {json_kind(value)}"
        else:
            message = error["msg"]
        pointer = pointer_of(prefix + tuple(tokens))
        problems[pointer + "\0" + kind.split("_")[-1]] = Problem(pointer, message)
    return list(problems.values())


def _load(source: object) -> dict[str, Any]:
    if isinstance(source, Mapping):
        loaded: Any = dict(source)
        try:
            check_json_value(loaded, "the definition")
        except JsonValueError as exc:
            raise ASLValidationError([Problem(exc.pointer, exc.reason)]) from None
        return cast("dict[str, Any]", loaded)
    if not isinstance(source, str | bytes | bytearray):
        message = (
            f"A definition must be JSON text or a mapping (a JSON object), got {json_kind(source)}"
        )
        raise ASLValidationError([Problem("", message)])
    if not source or not source.strip():
        raise ASLValidationError([Problem("", "The definition is empty", "MISSING_DESCRIPTION")])
    duplicates: dict[int, list[str]] = {}

    def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                duplicates.setdefault(id(result), []).append(key)
            result[key] = value
        return result

    try:
        loaded = load_json_text(source, "the definition", object_pairs_hook=pairs_hook)
    except JsonValueError as exc:
        message = f"Invalid JSON: {exc.reason}"
        raise ASLValidationError(
            [Problem(exc.pointer, message, "INVALID_JSON_DESCRIPTION")]
        ) from None
    if not isinstance(loaded, dict):
        message = f"A definition must be a JSON object, got {json_kind(loaded)}"
        raise ASLValidationError([Problem("", message)])
    if duplicates:
        raise ASLValidationError(_duplicate_problems(loaded, duplicates))
    return loaded


def _duplicate_problems(root: Any, duplicates: dict[int, list[str]]) -> list[Problem]:
    problems: list[Problem] = []

    def walk(node: Any, tokens: tuple[str | int, ...]) -> None:
        if isinstance(node, dict):
            for key in duplicates.get(id(node), ()):
                if tokens and tokens[-1] == "States":
                    message = f"State name '{key}' is used more than once"
                    problems.append(
                        Problem(pointer_of((*tokens, key)), message, "DUPLICATE_STATE_NAME")
                    )
                else:
                    message = f"Field '{key}' appears more than once in the same object"
                    problems.append(Problem(pointer_of((*tokens, key)), message))
            for key, value in node.items():
                walk(value, (*tokens, key))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, (*tokens, index))

    walk(root, ())
    return problems


def parse_definition(
    source: str | bytes | Mapping[str, Any], *, validate: bool = True
) -> StateMachine:
    """Parse a state machine definition and, unless told not to, validate it.

    Args:
        source: the definition as JSON text or as an already decoded mapping.
        validate: when False, only the structure is checked (field names and JSON types per
            state type); graph, query-language and expression rules are skipped.

    Returns:
        The typed state machine; ``to_dict()`` gives back a mapping equal to ``source``.

    Raises:
        ASLValidationError: listing every problem found, each with its JSON pointer.
        ImportError: validating a JSONata expression or a complex JSONPath (a filter, a
            wildcard...) needs a query library this install lacks; the message says what to
            install (``pip install 'stepsaga[local]'``).
    """
    raw = _load(source)
    try:
        machine = StateMachine.model_validate(raw)
    except ValidationError as exc:
        raise ASLValidationError(_problems_from(exc, raw, ())) from None
    if validate:
        problems = _validate_machine(machine)
        if problems:
            raise ASLValidationError(problems)
    return machine


def parse_state(
    source: str | bytes | Mapping[str, Any],
    *,
    query_language: QueryLanguage = "JSONPath",
    validate: bool = True,
) -> State:
    """Parse a single state (as the TestState API receives one) and validate it on its own.

    Transition targets are not checked, as there is no graph around the state.

    Args:
        source: the state as JSON text or as a decoded mapping.
        query_language: the language in force when the state sets no ``QueryLanguage``.
        validate: when False, only the structure is checked.

    Raises:
        ASLValidationError: listing every problem found, each with its JSON pointer.
        ImportError: a query library is missing, as for :func:`parse_definition`.
    """
    raw = _load(source)
    try:
        state = _STATE_ADAPTER.validate_python(raw)
    except ValidationError as exc:
        raise ASLValidationError(_problems_from(exc, raw, ())) from None
    if validate:
        problems = _validate_state(state, query_language)
        if problems:
            raise ASLValidationError(problems)
    return state
