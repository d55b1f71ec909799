"""JSONata (``{% ... %}``) expressions: syntax checking and evaluation with jsonata-python.

A JSONata-mode field (``Arguments``, ``Output``, ``Assign``, ``Items``, ``Condition``...) is a
JSON value whose strings may be ``{% %}`` expressions, at any depth. It is compiled once; each
evaluation binds ``$states`` (input, context, result, errorOutput), the workflow variables and
the functions AWS adds to JSONata (``$partition``, ``$range``, ``$hash``, ``$random``,
``$uuid``, ``$parse``).
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Final

import jsonata
from jsonata.utils import Utils as _JsonataUtils

from workflows.expressions._errors import EvaluationError, ExpressionSyntaxError
from workflows.expressions._intrinsics import (
    RUNTIME,
    ArgumentRuleError,
    array_partition,
    array_range,
    hash_text,
)
from workflows.expressions._scope import Scope

QUERY_EVALUATION_ERROR: Final = "States.QueryEvaluationError"

Bindings = dict[str, Any]
_Evaluator = Callable[[Bindings], Any]


def strip_jsonata(text: str) -> str | None:
    """Return the body of a ``{% ... %}`` string, or None when ``text`` is not one."""
    stripped = text.strip()
    if len(stripped) >= 4 and stripped.startswith("{%") and stripped.endswith("%}"):
        return stripped[2:-2]
    return None


def compile_jsonata(text: str) -> Any:
    """Compile a JSONata expression (a ``{% %}`` string or its bare body).

    Returns:
        The compiled jsonata-python expression.

    Raises:
        ExpressionSyntaxError: the expression is empty or malformed.
    """
    body = strip_jsonata(text)
    if body is None:
        body = text
    if not body.strip():
        raise ExpressionSyntaxError("empty JSONata expression", expression=text)
    try:
        return jsonata.Jsonata(body)
    except Exception as exc:  # jsonata-python raises JException and plain errors alike
        raise ExpressionSyntaxError(
            f"malformed JSONata expression ({exc})", expression=text
        ) from exc


def check_jsonata(text: str) -> None:
    """Validate a JSONata expression (a ``{% %}`` string or its bare body).

    Raises:
        ExpressionSyntaxError: the expression is empty or malformed.
    """
    compile_jsonata(text)


def _aws_function(function: Callable[[list[Any]], Any], name: str) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        try:
            return function(list(args))
        except ArgumentRuleError as exc:
            raise EvaluationError(RUNTIME, f"The function ${name} failed: {exc}") from None

    return call


def _parse(text: Any) -> Any:
    if not isinstance(text, str):
        raise EvaluationError(RUNTIME, "The function $parse failed: the argument must be a string")
    try:
        return json.loads(text)
    except ValueError:
        raise EvaluationError(
            RUNTIME, f"The function $parse failed: the argument is not valid JSON text: {text}"
        ) from None


def _range_sequence(args: list[Any]) -> Any:
    # AWS's $range yields a JSONata sequence, so a one-number range collapses to that number
    # (recorded: $range(1, 9, 9) is 1), whereas $partition yields a plain array.
    sequence = _JsonataUtils.create_sequence()
    sequence.extend(array_range(args))
    return sequence


_STATIC_FUNCTIONS: Final[dict[str, Any]] = {
    "partition": jsonata.Jsonata.JLambda(_aws_function(array_partition, "partition")),
    "range": jsonata.Jsonata.JLambda(_aws_function(_range_sequence, "range")),
    "hash": jsonata.Jsonata.JLambda(_aws_function(hash_text, "hash")),
    "parse": jsonata.Jsonata.JLambda(_parse),
}


def _scope_functions(scope: Scope) -> dict[str, Any]:
    source = scope.random

    def random_number(*seed: Any) -> float:
        # With a seed the sequence is reproducible on its own; without, it follows the scope.
        return (random.Random(seed[0]) if seed else source).random()

    def new_uuid() -> str:
        return str(uuid.UUID(int=source.getrandbits(128), version=4))

    return {
        "random": jsonata.Jsonata.JLambda(random_number),
        "uuid": jsonata.Jsonata.JLambda(new_uuid),
    }


def _expression(text: str, body: str, where: str) -> _Evaluator:
    try:
        compiled = jsonata.Jsonata(body)
    except Exception as exc:  # jsonata-python raises JException and plain errors alike
        raise ExpressionSyntaxError(
            f"malformed JSONata expression ({exc})", expression=text, field=where
        ) from exc
    # Keep JSONata's null apart from "undefined" (None), which AWS reports as an error.
    compiled.set_output_convert_nulls(False)
    shown = body.strip()

    def evaluate(bindings: Bindings) -> Any:
        try:
            result = compiled.evaluate(bindings["states"].get("input"), bindings)
        except EvaluationError:
            raise
        except Exception as exc:  # any failure inside JSONata is the expression's failure
            raise EvaluationError(
                QUERY_EVALUATION_ERROR,
                f"The JSONata expression '{shown}' specified for the field '{where}' threw an "
                f"error during evaluation: {exc}",
            ) from None
        if result is None:
            raise EvaluationError(
                QUERY_EVALUATION_ERROR,
                f"The JSONata expression '{shown}' specified for the field '{where}' returned "
                "nothing (undefined).",
            )
        return _JsonataUtils.convert_nulls(result)

    return evaluate


def _compile_value(value: Any, where: str) -> tuple[_Evaluator, bool]:
    if isinstance(value, str):
        body = strip_jsonata(value)
        if body is None:
            return (lambda _bindings: value), True
        if not body.strip():
            raise ExpressionSyntaxError("empty JSONata expression", expression=value, field=where)
        return _expression(value, body, where), False
    if isinstance(value, dict):
        parts = [(key, *_compile_value(item, f"{where}/{key}")) for key, item in value.items()]
        if all(constant for _, _, constant in parts):
            return (lambda _bindings: value), True
        items = tuple((key, evaluate) for key, evaluate, _ in parts)
        return (lambda bindings: {key: ev(bindings) for key, ev in items}), False
    if isinstance(value, list):
        compiled = [_compile_value(item, f"{where}/{index}") for index, item in enumerate(value)]
        if all(constant for _, constant in compiled):
            return (lambda _bindings: value), True
        evaluators = tuple(evaluate for evaluate, _ in compiled)
        return (lambda bindings: [ev(bindings) for ev in evaluators]), False
    return (lambda _bindings: value), True


class JsonataTemplate:
    """A compiled JSONata-mode field value.

    Attributes:
        field: the ASL field it came from (``"Output"``, ``"Arguments"``, ``"Assign"``...).
        source: the value as written.
        is_constant: True when no ``{% %}`` expression occurs in it.
    """

    __slots__ = ("_evaluate", "field", "is_constant", "source")

    def __init__(self, source: Any, field: str = "Output") -> None:
        self.source = source
        self.field = field
        self._evaluate, self.is_constant = _compile_value(source, field)

    def evaluate(self, states: Mapping[str, Any], scope: Scope | None = None) -> Any:
        """Evaluate with ``$states`` bound to ``states`` and the scope's variables bound.

        Args:
            states: the ``$states`` object: ``input``, ``context`` and, where the state has
                them, ``result`` and ``errorOutput``.
            scope: the workflow variables and the random source of ``$random``/``$uuid``.

        Raises:
            EvaluationError: ``States.QueryEvaluationError`` when an expression fails or
                returns nothing (undefined), with AWS's cause naming the field, e.g.
                ``Output/result``.
        """
        if self.is_constant:
            return self.source
        scope = scope if scope is not None else Scope()
        bindings: Bindings = dict(scope.variables)
        bindings.update(_STATIC_FUNCTIONS)
        bindings.update(_scope_functions(scope))
        bindings["states"] = states
        return self._evaluate(bindings)

    def __repr__(self) -> str:
        return f"JsonataTemplate({self.source!r}, field={self.field!r})"


def compile_jsonata_template(value: Any, field: str = "Output") -> JsonataTemplate:
    """Compile a JSONata-mode field value whose strings may be ``{% %}`` expressions.

    Args:
        value: the field's value as written in the definition.
        field: the field name, used in causes (nested keys are appended: ``Output/result``).

    Raises:
        ExpressionSyntaxError: an expression is empty or malformed.
    """
    return JsonataTemplate(value, field)
