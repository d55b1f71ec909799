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


def _write(
    value: Any,
    scalar: Any,
    text: Any,
    key: Any,
    comma: str,
    colon: str,
    *,
    sort_keys: bool = False,
) -> str:
    """Serialise ``value`` without recursion (a value may nest 1,000 levels deep).

    ``scalar`` renders null, booleans and numbers, ``text`` a string value, ``key`` an object
    key; ``comma`` separates items and ``colon`` a key from its value.
    """
    out: list[str] = []
    # A stack of (iterator over a container's items, whether it is an object, first item?).
    stack: list[tuple[Any, bool, list[bool]]] = []
    node: Any = value
    while True:
        if isinstance(node, dict):
            out.append("{")
            pairs = sorted(node.items(), key=_first_item) if sort_keys else node.items()
            stack.append((iter(pairs), True, [True]))
        elif isinstance(node, list | tuple):
            out.append("[")
            stack.append((iter(node), False, [True]))
        else:
            rendered = scalar(node)
            if rendered is None:
                if not isinstance(node, str):
                    raise TypeError(f"not a JSON value: {type(node).__name__}")
                rendered = text(node)
            out.append(rendered)
        # Find the next value to write, closing every container that is done.
        while stack:
            items, is_object, first = stack[-1]
            item = next(items, _DONE)
            if item is _DONE:
                stack.pop()
                out.append("}" if is_object else "]")
                continue
            if not first[0]:
                out.append(comma)
            first[0] = False
            if is_object:
                out.append(key(item[0]) + colon)
                node = item[1]
            else:
                node = item
            break
        else:
            return "".join(out)


_DONE: Any = object()


def _first_item(pair: tuple[Any, Any]) -> Any:
    return pair[0]


def _canonical_scalar(value: Any) -> str | None:
    # 1 and 1.0 are the same JSON number; a float with a fraction keeps its shortest digits.
    if isinstance(value, float) and not isinstance(value, bool) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return repr(value)
    return _scalar_text(value)


def canonical_json(value: Any) -> str:
    """A text under which JSON-equal values coincide: keys sorted, ``1`` and ``1.0`` alike.

    What ``States.ArrayContains`` and ``States.ArrayUnique`` compare: flat strings, so values
    nested a thousand levels deep compare without recursion.
    """
    return _write(
        value,
        _canonical_scalar,
        _json_string,
        lambda k: _json_string(str(k)),
        ",",
        ":",
        sort_keys=True,
    )


def _json_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def compact_json(value: Any) -> str:
    """Serialise ``value`` as compact JSON with Java's double notation."""
    return _write(value, _scalar_text, _json_string, lambda k: _json_string(str(k)), ",", ":")


def java_text(value: Any) -> str:
    """Render ``value`` as Java's ``toString`` of its parsed form (what ``States.Format`` shows)."""
    return _write(value, _scalar_text, str, lambda k: str(k), ", ", "=")
