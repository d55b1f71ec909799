"""Is this a JSON value Step Functions accepts? One checker for every caller.

A caller's data reaches the engine as Python values (``run(definition, {...})``), as JSON text
(an execution input, a ``.jsonl`` recording, a definition file) or from an expression
(``States.StringToJson``, ``$parse``). Python and its ``json`` module accept much that AWS's
JSON does not: sets, tuples and bytes; ``NaN`` and ``Infinity``; strings holding lone
surrogates, which no UTF-8 text can carry; integers of any length; nesting that exhausts the
interpreter's stack. :func:`check_json_value` and :func:`load_json_text` refuse all of these
with a :class:`JsonValueError` naming where the offending value sits (a JSON pointer), so a
caller sees a sentence, never a traceback from deep inside the engine.

Both walk the value iteratively: a document nested to the limit costs no recursion.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any, Final

from stepsaga.workflows._expressions._json_text import pointer_of
from stepsaga.workflows.facts import MAX_JSON_DEPTH, MAX_JSON_NUMBER_LENGTH

# The smallest integer with more digits than MAX_JSON_NUMBER_LENGTH allows (its sign aside).
_TOO_LONG: Final = 10**MAX_JSON_NUMBER_LENGTH
# An integer below this many bits has fewer decimal digits than the limit: no big comparison.
_SAFE_BITS: Final = int((MAX_JSON_NUMBER_LENGTH - 1) * math.log2(10))
# Frames json.loads and its hooks use besides one per level of nesting.
_DECODER_FRAMES: Final = 50
# A message shows this much of a pointer (one into a deeply nested value is thousands long).
_POINTER_SHOWN: Final = 120


class JsonValueError(ValueError):
    """A value is not JSON that Step Functions accepts.

    Attributes:
        pointer: RFC 6901 pointer to the offending value inside the whole (``""`` for the
            whole value itself), e.g. ``"/items/3"``.
        reason: what is wrong there, e.g. ``"a set is not a JSON value"``.
        what: what the whole value is, as the caller named it (``"the execution input"``).
    """

    def __init__(self, what: str, pointer: str, reason: str) -> None:
        shown = pointer if len(pointer) <= _POINTER_SHOWN else pointer[:_POINTER_SHOWN] + "…"
        where = f" at {shown}" if pointer else ""
        super().__init__(f"{what} is not valid JSON{where}: {reason}")
        self.what = what
        self.pointer = pointer
        self.reason = reason


def _string_problem(text: str) -> str | None:
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return (
            f"the string holds a lone surrogate (U+{ord(text[exc.start]):04X} at index "
            f"{exc.start}), which UTF-8 text cannot carry"
        )
    return None


def _number_problem(value: int | float) -> str | None:
    if isinstance(value, float):
        if math.isfinite(value):
            return None
        return f"{value!r} is not a JSON number (JSON has no NaN or Infinity)"
    if value.bit_length() < _SAFE_BITS or -_TOO_LONG < value < _TOO_LONG:
        return None
    return (
        f"an integer of more than {MAX_JSON_NUMBER_LENGTH} digits is longer than a JSON "
        "number may be"
    )


def _kind(value: Any) -> str:
    return f"a Python {type(value).__name__}"


def check_json_value(value: Any, what: str = "the value") -> None:
    """Check that ``value`` is a JSON value Step Functions accepts.

    JSON values are ``dict`` (with ``str`` keys), ``list``, ``str``, ``int``, ``float``,
    ``bool`` and ``None``; strings and keys must be encodable as UTF-8, numbers finite and at
    most :data:`~stepsaga.workflows.facts.MAX_JSON_NUMBER_LENGTH` digits long, and the nesting
    at most :data:`~stepsaga.workflows.facts.MAX_JSON_DEPTH` levels deep.

    Args:
        value: the value to check.
        what: how an error names the whole value, e.g. ``"the execution input"``.

    Raises:
        JsonValueError: naming the first offending value found and its JSON pointer.
    """
    if _plainly_json(value):
        return
    # Something is wrong: walk again, keeping each value's place, to name where.
    # Each entry: (value, depth of the containers around it, its token, its parent's entry).
    pending: list[tuple[Any, int, str | int | None, Any]] = [(value, 0, None, None)]
    while pending:
        entry = pending.pop()
        node, depth, _token, _parent = entry
        problem: str | None = None
        if node is None or node is True or node is False:
            continue
        if isinstance(node, str):
            problem = _string_problem(node)
        elif isinstance(node, int | float):
            problem = _number_problem(node)
        elif isinstance(node, dict | list):
            if depth >= MAX_JSON_DEPTH:
                problem = f"the value nests deeper than {MAX_JSON_DEPTH} objects and arrays"
            elif isinstance(node, dict):
                for key, item in node.items():
                    if not isinstance(key, str):
                        problem = f"an object key must be a string, not {_kind(key)} ({key!r})"
                        break
                    child = (item, depth + 1, key, entry)
                    key_problem = _string_problem(key)
                    if key_problem is not None:
                        reason = "the key " + key_problem.removeprefix("the string ")
                        raise JsonValueError(what, _pointer(child), reason)
                    pending.append(child)
            else:
                pending.extend((item, depth + 1, index, entry) for index, item in enumerate(node))
        else:
            problem = f"{_kind(node)} is not a JSON value"
        if problem is not None:
            raise JsonValueError(what, _pointer(entry), problem)


def _plainly_json(value: Any) -> bool:
    """Whether ``value`` is certainly fine: a fast walk of exact JSON types only.

    False means "look closer" (a problem, or a subclass of a JSON type), never a verdict.
    """
    pending = [(value, 0)]
    pop, push = pending.pop, pending.append
    while pending:
        node, depth = pop()
        kind = type(node)
        if kind is str:
            if not node.isascii() and _string_problem(node) is not None:
                return False
        elif kind is dict:
            if depth >= MAX_JSON_DEPTH:
                return False
            for key, item in node.items():
                if type(key) is not str or (not key.isascii() and _string_problem(key)):
                    return False
                push((item, depth + 1))
        elif kind is list:
            if depth >= MAX_JSON_DEPTH:
                return False
            for item in node:
                push((item, depth + 1))
        elif kind is int:
            if node.bit_length() >= _SAFE_BITS and _number_problem(node) is not None:
                return False
        elif kind is float:
            if not math.isfinite(node):
                return False
        elif node is not None and kind is not bool:
            return False
    return True


def _pointer(entry: Any) -> str:
    tokens: list[str | int] = []
    while entry is not None and entry[3] is not None:
        tokens.append(entry[2])
        entry = entry[3]
    # A message must be printable: a lone surrogate in a key is shown as its escape.
    pointer = pointer_of(reversed(tokens))
    return pointer.encode("utf-8", "backslashreplace").decode("utf-8")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number (JSON has no NaN or Infinity)")


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_JSON_NUMBER_LENGTH:
        raise ValueError(
            f"a number of {len(text.lstrip('-'))} digits is longer than the "
            f"{MAX_JSON_NUMBER_LENGTH} a JSON number may have"
        )
    return int(text)


def _bounded_float(text: str) -> float:
    if len(text) > MAX_JSON_NUMBER_LENGTH:
        raise ValueError(
            f"a number of {len(text)} characters is longer than the "
            f"{MAX_JSON_NUMBER_LENGTH} a JSON number may have"
        )
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is beyond the range of a JSON number (a double)")
    return value


def decode_utf8(data: bytes, what: str) -> str:
    """Decode ``data`` as UTF-8 text (a leading byte-order mark is dropped).

    Raises:
        JsonValueError: the bytes are not UTF-8, naming the offset of the first bad byte.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise JsonValueError(
            what,
            "",
            f"it is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})",
        ) from None


def load_json_text(text: str | bytes | bytearray, what: str = "the text", **hooks: Any) -> Any:
    """Parse JSON text into a value :func:`check_json_value` accepts.

    Args:
        text: the JSON text, or UTF-8 bytes of it.
        what: how an error names the text, e.g. ``"the execution input"``.
        **hooks: passed to :func:`json.loads` (e.g. ``object_pairs_hook``).

    Raises:
        JsonValueError: the text is not JSON (the reason gives line and column), holds
            ``NaN``/``Infinity``, a number too long, a lone surrogate, or nests too deeply.
    """
    if isinstance(text, bytes | bytearray):
        text = decode_utf8(bytes(text), what)
    # json's decoder recurses once per level, within the interpreter's recursion limit: it is
    # raised for the call by enough for the deepest value allowed, wherever the caller stands.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(limit + MAX_JSON_DEPTH + _DECODER_FRAMES)
    try:
        value = json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_int=_bounded_int,
            parse_float=_bounded_float,
            **hooks,
        )
    except json.JSONDecodeError as exc:
        raise JsonValueError(
            what, "", f"{exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise JsonValueError(
            what, "", f"the text nests deeper than {MAX_JSON_DEPTH} objects and arrays"
        ) from None
    except ValueError as exc:
        raise JsonValueError(what, "", str(exc)) from None
    finally:
        sys.setrecursionlimit(limit)
    check_json_value(value, what)
    return value
