"""JSON values rendered as text the way AWS Step Functions (a JVM service) renders them.

``States.JsonToString`` writes compact JSON (Jackson: no spaces, keys in document order,
doubles as Java prints them); ``States.Format`` interpolates values as Java's ``toString`` does
(``{a=1, b=[x, y]}`` for objects, ``null`` for null). Both are pinned by AWS recordings.

Also the RFC 6901 JSON pointers with which the validator and the engine name a definition's
fields (``/States/Charge/Retry/0``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from decimal import Decimal
from typing import Any


def pointer_of(tokens: Iterable[str | int]) -> str:
    """Build an RFC 6901 JSON pointer from tokens: ``["States", "A/B"]`` → ``/States/A~1B``."""
    # "~" is escaped before "/" so that a "~1" the user wrote survives.
    return "".join("/" + str(token).replace("~", "~0").replace("/", "~1") for token in tokens)


def java_double(value: float) -> str:
    """Render a float as ``Double.toString`` does (``1.0``, ``1.1``, ``1.0E20``, ``1.0E-5``)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    magnitude = abs(value)
    if value == 0 or 1e-3 <= magnitude < 1e7:
        text = repr(value)
        return text if ("." in text or "e" in text) else text + ".0"
    # Scientific notation from the shortest round-tripping digits (those repr() chooses).
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    assert isinstance(exponent, int)
    text = "".join(str(d) for d in digits)
    mantissa = text[0] + "." + (text[1:] or "0")
    power = exponent + len(text) - 1
    return f"{'-' if sign else ''}{mantissa}E{power}"


def _scalar_text(value: Any) -> str | None:
    """null, booleans and numbers, written alike by Java's JSON and its ``toString``."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        return java_double(value)
    if isinstance(value, int):
        return str(value)
    return None


def json_type(value: Any) -> str:
    """The JSON type name of ``value`` as AWS words it: null, boolean, number, string..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def compact_json(value: Any) -> str:
    """Serialise ``value`` as compact JSON with Java's double notation."""
    scalar = _scalar_text(value)
    if scalar is not None:
        return scalar
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        items = (
            f"{json.dumps(str(k), ensure_ascii=False)}:{compact_json(v)}" for k, v in value.items()
        )
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(compact_json(item) for item in value) + "]"
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def java_text(value: Any) -> str:
    """Render ``value`` as Java's ``toString`` of its parsed form (what ``States.Format`` shows)."""
    scalar = _scalar_text(value)
    if scalar is not None:
        return scalar
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={java_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(java_text(item) for item in value) + "]"
    return str(value)
