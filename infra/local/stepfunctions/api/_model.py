"""botocore's Step Functions service model: the contract every request is checked against.

The model (``botocore/data/stepfunctions/<version>/service-2.json``, shipped with boto3) names
each operation's input and output shapes, their required members, types, lengths, ranges,
enums and patterns. :func:`check_request` holds a request body to its operation's input shape
and refuses it as AWS does: a member of the wrong JSON type is a ``SerializationException``;
everything else (a missing member, a value out of its range) is one ``ValidationException``
listing every violation in AWS's words::

    2 validation errors detected: Value null at 'roleArn' failed to satisfy constraint: Member
    must not be null; Value 'x...x' at 'name' failed to satisfy constraint: Member must have
    length less than or equal to 80

Members the model does not know are ignored, as AWS ignores them. :func:`check_response`
holds an answer to its output shape the same way (the tests use it on every answer).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from stepsaga.infra.local.stepfunctions.api._errors import (
    SerializationException,
    UnknownOperationException,
    ValidationException,
)

_REDACTED: Final = "*** Sensitive Data Redacted ***"
# What a JSON value of each model type must be (bool is an int in Python: checked apart).
_INTEGERS: Final = frozenset({"integer", "long"})
_NUMBERS: Final = frozenset({"float", "double"})


@functools.cache
def service_model() -> Mapping[str, Any]:
    """The Step Functions service model boto3 ships (loaded once)."""
    from botocore.loaders import Loader

    model: Mapping[str, Any] = Loader().load_service_model("stepfunctions", "service-2")
    return model


@functools.cache
def operation_names() -> frozenset[str]:
    """Every operation the model defines (``StartExecution`` ...)."""
    return frozenset(service_model()["operations"])


def check_request(operation: str, body: Any) -> None:
    """Refuse ``body`` as AWS would, if it does not fit ``operation``'s input shape.

    Raises:
        UnknownOperationException: the model has no such operation.
        SerializationException: the body is not an object, or a member has the wrong JSON type.
        ValidationException: members are missing or out of their range (all of them listed).
    """
    op = service_model()["operations"].get(operation)
    if op is None:
        raise UnknownOperationException(operation)
    if not isinstance(body, dict):
        raise SerializationException("the request body must be a JSON object")
    violations: list[str] = []
    if "input" in op:
        _check(op["input"]["shape"], body, "", violations, wire=True)
    if violations:
        raise ValidationException(_summary(violations))


def check_response(operation: str, body: Any) -> list[str]:
    """What is wrong with ``body`` as ``operation``'s answer (empty when it fits the model).

    Timestamps may be datetimes (as the dispatcher builds them) or epoch seconds.
    """
    op = service_model()["operations"][operation]
    problems: list[str] = []
    if "output" not in op:
        return [] if body == {} else ["an operation without output answers {}"]
    try:
        _check(op["output"]["shape"], body, "", problems, wire=False)
    except SerializationException as exc:
        problems.append(exc.message)
    return problems


def _summary(violations: list[str]) -> str:
    count = len(violations)
    noun = "error" if count == 1 else "errors"
    return f"{count} validation {noun} detected: " + "; ".join(violations)


#: The payload shapes (execution input and output, task output, TestState's data): their
#: length limits are bytes of UTF-8, not characters ("Length constraints apply to the payload
#: size, and are expressed as bytes in UTF-8 encoding",
#: https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html).
_PAYLOAD_SHAPES: Final = frozenset({"SensitiveData", "SensitiveDataJobInput"})


def _check(shape_name: str, value: Any, path: str, out: list[str], *, wire: bool) -> None:
    shapes = service_model()["shapes"]
    shape = shapes[shape_name]
    kind = shape["type"]
    if kind == "structure":
        if not isinstance(value, dict):
            _wrong_type(path, "an object", value)
        for member in shape.get("required", ()):
            if value.get(member) is None:
                out.append(
                    f"Value null at '{_join(path, member)}' failed to satisfy constraint: "
                    "Member must not be null"
                )
        for member, spec in shape.get("members", {}).items():
            item = value.get(member)
            if item is not None:
                _check(spec["shape"], item, _join(path, member), out, wire=wire)
        return
    if kind == "list":
        if not isinstance(value, list):
            _wrong_type(path, "an array", value)
        _length(shape, value, len(value), path, out)
        member_shape = shape["member"]["shape"]
        for index, item in enumerate(value, start=1):
            if item is None:
                out.append(
                    f"Value null at '{path}.{index}.member' failed to satisfy constraint: "
                    "Member must not be null"
                )
            else:
                _check(member_shape, item, f"{path}.{index}.member", out, wire=wire)
        return
    if kind == "map":
        if not isinstance(value, dict):
            _wrong_type(path, "an object", value)
        _length(shape, value, len(value), path, out)
        for key, item in value.items():
            _check(shape["key"]["shape"], key, f"{path}.{key}.key", out, wire=wire)
            if item is not None:
                _check(shape["value"]["shape"], item, f"{path}.{key}.value", out, wire=wire)
        return
    if kind == "string":
        if not isinstance(value, str):
            _wrong_type(path, "a string", value)
        length = len(value)
        if shape_name in _PAYLOAD_SHAPES:
            length = len(value.encode("utf-8", "surrogatepass"))
        _length(shape, value, length, path, out)
        enum = shape.get("enum")
        if enum is not None and value not in enum:
            out.append(
                f"{_value(shape, value, path)} failed to satisfy constraint: Member must "
                f"satisfy enum value set: [{', '.join(enum)}]"
            )
        pattern = _pattern(shape.get("pattern"))
        if pattern is not None and not pattern.fullmatch(value):
            out.append(
                f"{_value(shape, value, path)} failed to satisfy constraint: Member must "
                f"satisfy regular expression pattern: {shape['pattern']}"
            )
        return
    if kind in _INTEGERS or kind in _NUMBERS:
        allowed = (int,) if kind in _INTEGERS else (int, float)
        if isinstance(value, bool) or not isinstance(value, allowed):
            _wrong_type(path, "an integer" if kind in _INTEGERS else "a number", value)
        if "min" in shape and value < shape["min"]:
            out.append(
                f"{_value(shape, value, path)} failed to satisfy constraint: Member must "
                f"have value greater than or equal to {shape['min']}"
            )
        if "max" in shape and value > shape["max"]:
            out.append(
                f"{_value(shape, value, path)} failed to satisfy constraint: Member must "
                f"have value less than or equal to {shape['max']}"
            )
        return
    if kind == "boolean":
        if not isinstance(value, bool):
            _wrong_type(path, "a boolean", value)
        return
    if kind == "timestamp":
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if not numeric and (wire or not isinstance(value, datetime)):
            _wrong_type(path, "a timestamp (epoch seconds)", value)
        return
    if kind == "blob" and not isinstance(value, str):
        _wrong_type(path, "base64 text", value)


def _length(shape: Mapping[str, Any], value: Any, length: int, path: str, out: list[str]) -> None:
    if "min" in shape and length < shape["min"]:
        out.append(
            f"{_value(shape, value, path)} failed to satisfy constraint: Member must have "
            f"length greater than or equal to {shape['min']}"
        )
    if "max" in shape and length > shape["max"]:
        out.append(
            f"{_value(shape, value, path)} failed to satisfy constraint: Member must have "
            f"length less than or equal to {shape['max']}"
        )


def _value(shape: Mapping[str, Any], value: Any, path: str) -> str:
    # AWS never echoes a sensitive member (definitions, inputs, task tokens) in an error.
    shown = _REDACTED if shape.get("sensitive") else _render(value)
    return f"Value '{shown}' at '{path}'"


def _render(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_render(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}={_render(item)}" for key, item in value.items()) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _wrong_type(path: str, expected: str, value: Any) -> None:
    raise SerializationException(
        f"the value at '{path or '(the request)'}' must be {expected}, not {_json_type(value)}"
    )


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "null"


def _join(path: str, member: str) -> str:
    return f"{path}.{member}" if path else member


@functools.cache
def _pattern(pattern: str | None) -> re.Pattern[str] | None:
    """The model's (Java) regular expression in Python's dialect; None when there is none."""
    if pattern is None:
        return None
    # The one Java construct the Step Functions model uses that Python lacks.
    translated = pattern.replace(r"\p{ASCII}", r"[\x00-\x7f]")
    try:
        return re.compile(translated)
    except re.error:  # a construct Python cannot read: the length checks still apply
        return None
