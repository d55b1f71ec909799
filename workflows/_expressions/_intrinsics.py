"""Evaluation of the 18 intrinsic functions, with AWS's argument rules.

A parsed call is compiled once into a closure tree: literal arguments are constants, path
arguments are compiled paths, nested calls are closures. AWS reports every intrinsic function
failure as ``States.Runtime`` (``States.IntrinsicFailure`` is reserved by the language but not
raised); the cause names the function and the rule that was broken. The engine prefixes causes
with "An error occurred while executing the state ..." as it does for every runtime error.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import random
import uuid
from collections.abc import Callable
from typing import Any, Final

from stepsaga.workflows._expressions._errors import EvaluationError
from stepsaga.workflows._expressions._intrinsic_syntax import (
    IntrinsicCall,
    LiteralArgument,
    PathArgument,
)
from stepsaga.workflows._expressions._json_text import (
    canonical_json,
    compact_json,
    java_text,
    json_type,
)
from stepsaga.workflows._expressions._json_value import JsonValueError, load_json_text
from stepsaga.workflows._expressions._scope import EvaluationScope
from stepsaga.workflows.facts import (
    MAX_INTRINSIC_ARRAY_RANGE,
    MAX_INTRINSIC_INPUT_CHARS,
    STATES_RUNTIME,
)

Evaluator = Callable[[Any, EvaluationScope], Any]

_INT32_MIN: Final = -(2**31)
_INT32_MAX: Final = 2**31 - 1
_HASHES: Final[dict[str, str]] = {
    "MD5": "md5",
    "SHA-1": "sha1",
    "SHA-256": "sha256",
    "SHA-384": "sha384",
    "SHA-512": "sha512",
}


class ArgumentRuleError(Exception):
    """Raised inside a function body; turned into an EvaluationError naming the call."""


def _string(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ArgumentRuleError(
            f"{what} must be a string, but was {json_type(value)}: {compact_json(value)}"
        )
    return value


def _array(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise ArgumentRuleError(
            f"{what} must be an array, but was {json_type(value)}: {compact_json(value)}"
        )
    return value


def _integer(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ArgumentRuleError(
            f"{what} must be an integer, but was {json_type(value)}: {compact_json(value)}"
        )
    if isinstance(value, float):
        if not value.is_integer():
            raise ArgumentRuleError(f"{what} must be an integer, but was {compact_json(value)}")
        return int(value)
    return value


def _java_round(value: int | float) -> int:
    # Math.round: half-way values round towards positive infinity (-1.5 -> -1, 2.5 -> 3).
    return value if isinstance(value, int) else math.floor(value + 0.5)


def _rounded(value: Any, what: str) -> int:
    """A number argument AWS rounds to the nearest integer (ArrayRange, MathRandom, MathAdd)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ArgumentRuleError(
            f"{what} must be a number, but was {json_type(value)}: {compact_json(value)}"
        )
    return _java_round(value)


def _format(args: list[Any], raw_template: str) -> str:
    values = args[1:]
    out: list[str] = []
    used = 0
    i = 0
    length = len(raw_template)
    while i < length:
        char = raw_template[i]
        if char == "\\" and i + 1 < length:
            out.append(raw_template[i + 1])
            i += 2
            continue
        if char == "{" and i + 1 < length and raw_template[i + 1] == "}":
            if used >= len(values):
                raise ArgumentRuleError(
                    f"the template has more placeholders than the {len(values)} argument(s) given"
                )
            out.append(java_text(values[used]))
            used += 1
            i += 2
            continue
        out.append(char)
        i += 1
    if used != len(values):
        raise ArgumentRuleError(
            f"the template has {used} placeholder(s) but {len(values)} argument(s) were given"
        )
    return "".join(out)


def _string_to_json(args: list[Any]) -> Any:
    # AWS parses an empty or blank string, and null, to null (recorded on AWS by LocalStack's
    # test_string_to_json: "" and " " give null).
    if args[0] is None:
        return None
    text = _string(args[0], "the argument")
    if not text.strip():
        return None
    try:
        return load_json_text(text, "the argument")
    except JsonValueError as exc:
        raise ArgumentRuleError(f"the argument is not valid JSON text ({exc.reason})") from None


def array_partition(args: list[Any]) -> list[Any]:
    """``States.ArrayPartition`` (and JSONata's ``$partition``): chunks of a given size."""
    items = _array(args[0], "the first argument")
    size = _integer(args[1], "the chunk size")
    if size <= 0:
        raise ArgumentRuleError(f"the chunk size must be greater than 0, but was {size}")
    return [items[i : i + size] for i in range(0, len(items), size)]


def _array_contains(args: list[Any]) -> bool:
    items = _array(args[0], "the first argument")
    key = canonical_json(args[1])
    return any(canonical_json(item) == key for item in items)


def array_range(args: list[Any]) -> list[int]:
    """``States.ArrayRange`` (and ``$range``): start to end inclusive, at most 1000 items.

    Non-integer arguments are rounded to the nearest integer, as AWS documents.
    """
    start = _rounded(args[0], "the first argument")
    end = _rounded(args[1], "the second argument")
    step = _rounded(args[2], "the step")
    if step == 0:
        raise ArgumentRuleError("the step must not be 0")
    count = max(0, (end - start) // step + 1)
    if count > MAX_INTRINSIC_ARRAY_RANGE:
        raise ArgumentRuleError(
            f"the array would contain {count} items, more than the maximum of "
            f"{MAX_INTRINSIC_ARRAY_RANGE}"
        )
    return [start + i * step for i in range(count)]


def _array_get_item(args: list[Any]) -> Any:
    items = _array(args[0], "the first argument")
    index = _integer(args[1], "the index")
    if index < 0 or index >= len(items):
        raise ArgumentRuleError(
            f"the index {index} is out of bounds for an array of length {len(items)}"
        )
    return items[index]


def _array_unique(args: list[Any]) -> list[Any]:
    seen: set[Any] = set()
    unique: list[Any] = []
    for item in _array(args[0], "the argument"):
        key = canonical_json(item)
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique


def _base64_encode(args: list[Any]) -> str:
    text = _string(args[0], "the argument")
    if len(text) > MAX_INTRINSIC_INPUT_CHARS:
        raise ArgumentRuleError(
            f"the input must be at most {MAX_INTRINSIC_INPUT_CHARS} characters long"
        )
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _base64_decode(args: list[Any]) -> str:
    text = _string(args[0], "the argument")
    if len(text) > MAX_INTRINSIC_INPUT_CHARS:
        raise ArgumentRuleError(
            f"the input must be at most {MAX_INTRINSIC_INPUT_CHARS} characters long"
        )
    try:
        return base64.b64decode(text.encode("ascii"), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError) as exc:
        raise ArgumentRuleError(f"the argument is not valid Base64 text: {text}") from exc


def hash_text(args: list[Any]) -> str:
    """``States.Hash`` (and ``$hash``): hex digest of the UTF-8 text with a named algorithm."""
    text = _string(args[0], "the input data")
    if len(text) > MAX_INTRINSIC_INPUT_CHARS:
        raise ArgumentRuleError(
            f"the input must be at most {MAX_INTRINSIC_INPUT_CHARS} characters long"
        )
    algorithm = _string(args[1], "the algorithm")
    name = _HASHES.get(algorithm)
    if name is None:
        raise ArgumentRuleError(
            f"the algorithm {algorithm!r} is not supported; use one of {', '.join(_HASHES)}"
        )
    return hashlib.new(name, text.encode("utf-8")).hexdigest()


def _json_merge(args: list[Any]) -> dict[str, Any]:
    first, second, deep = args
    if not isinstance(first, dict):
        raise ArgumentRuleError(f"the first argument must be an object, but was {json_type(first)}")
    if not isinstance(second, dict):
        raise ArgumentRuleError(
            f"the second argument must be an object, but was {json_type(second)}"
        )
    if deep is not False:
        raise ArgumentRuleError(
            "the third argument must be the boolean false (only shallow merges exist)"
        )
    merged = dict(first)
    merged.update(second)
    return merged


def _math_add(args: list[Any]) -> int:
    total = 0
    for position, value in zip(("first", "second"), args, strict=True):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ArgumentRuleError(
                f"the {position} argument must be a number, but was {json_type(value)}"
            )
        rounded = _java_round(value)
        if not _INT32_MIN <= rounded <= _INT32_MAX:
            raise ArgumentRuleError(
                f"the {position} argument {compact_json(value)} is out of integer range"
            )
        total += rounded
    # AWS documents the arguments' range, not what a sum beyond it gives; a wrapped Java int
    # would be a silently wrong number, so such a sum fails instead.
    if not _INT32_MIN <= total <= _INT32_MAX:
        raise ArgumentRuleError(
            f"the sum {total} is out of integer range ({_INT32_MIN} to {_INT32_MAX})"
        )
    return total


def _math_random(args: list[Any], scope: EvaluationScope) -> int:
    # AWS rounds a non-integer start or end to the nearest integer.
    start = _rounded(args[0], "the start")
    end = _rounded(args[1], "the end")
    if start >= end:
        raise ArgumentRuleError(f"the start ({start}) must be less than the end ({end})")
    source = scope.random if len(args) < 3 else random.Random(_integer(args[2], "the seed"))
    return source.randrange(start, end)


def _string_split(args: list[Any]) -> list[str]:
    text = _string(args[0], "the first argument")
    separators = _string(args[1], "the separator")
    # Every character of the separator splits, and empty tokens are dropped (StringTokenizer).
    tokens: list[str] = []
    current: list[str] = []
    for char in text:
        if char in separators:
            if current:
                tokens.append("".join(current))
                current = []
        else:
            current.append(char)
    if current:
        tokens.append("".join(current))
    return tokens


def _uuid(scope: EvaluationScope) -> str:
    return str(uuid.UUID(int=scope.random.getrandbits(128), version=4))


_SIMPLE: Final[dict[str, Callable[[list[Any]], Any]]] = {
    "States.StringToJson": _string_to_json,
    "States.JsonToString": lambda args: compact_json(args[0]),
    "States.Array": list,
    "States.ArrayPartition": array_partition,
    "States.ArrayContains": _array_contains,
    "States.ArrayRange": array_range,
    "States.ArrayGetItem": _array_get_item,
    "States.ArrayLength": lambda args: len(_array(args[0], "the argument")),
    "States.ArrayUnique": _array_unique,
    "States.Base64Encode": _base64_encode,
    "States.Base64Decode": _base64_decode,
    "States.Hash": hash_text,
    "States.JsonMerge": _json_merge,
    "States.MathAdd": _math_add,
    "States.StringSplit": _string_split,
}


def _argument(arg: LiteralArgument | PathArgument | IntrinsicCall) -> Evaluator:
    if isinstance(arg, LiteralArgument):
        value = arg.value
        return lambda _data, _scope: value
    if isinstance(arg, PathArgument):
        return arg.path._select
    return compile_intrinsic(arg)


def compile_intrinsic(call: IntrinsicCall) -> Evaluator:
    """Compile a parsed call into ``evaluator(data, scope) -> value``.

    Raises (when evaluated):
        EvaluationError: ``States.Runtime`` when an argument breaks the function's rules;
            :class:`~workflows.expressions.PathNotFoundError` when a path argument selects
            nothing.
    """
    name = call.name
    arguments = [_argument(arg) for arg in call.args]
    text = call.text

    def fail(exc: ArgumentRuleError) -> EvaluationError:
        return EvaluationError(STATES_RUNTIME, f"The function {text} failed: {exc}")

    if name == "States.Format":
        first = call.args[0]
        raw = first.raw if isinstance(first, LiteralArgument) and first.raw is not None else None

        def format_(data: Any, scope: EvaluationScope) -> Any:
            args = [evaluate(data, scope) for evaluate in arguments]
            try:
                template = raw if raw is not None else _string(args[0], "the template")
                return _format(args, template)
            except ArgumentRuleError as exc:
                raise fail(exc) from None

        return format_
    if name == "States.MathRandom":

        def math_random(data: Any, scope: EvaluationScope) -> Any:
            args = [evaluate(data, scope) for evaluate in arguments]
            try:
                return _math_random(args, scope)
            except ArgumentRuleError as exc:
                raise fail(exc) from None

        return math_random
    if name == "States.UUID":
        return lambda _data, scope: _uuid(scope)
    function = _SIMPLE[name]

    def simple(data: Any, scope: EvaluationScope) -> Any:
        args = [evaluate(data, scope) for evaluate in arguments]
        try:
            return function(args)
        except ArgumentRuleError as exc:
            raise fail(exc) from None

    return simple
