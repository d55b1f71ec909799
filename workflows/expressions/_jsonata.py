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

from stepsaga.workflows.expressions._errors import EvaluationError, ExpressionSyntaxError
from stepsaga.workflows.expressions._intrinsics import (
    ArgumentRuleError,
    array_partition,
    array_range,
    hash_text,
)
from stepsaga.workflows.expressions._json_text import compact_json, json_type
from stepsaga.workflows.expressions._scope import EvaluationScope
from stepsaga.workflows.facts import STATES_QUERY_EVALUATION_ERROR, STATES_RUNTIME

_NULL: Final = _JsonataUtils.NULL_VALUE

Bindings = dict[str, Any]
_Evaluator = Callable[[Bindings], Any]


def _body(text: str) -> str | None:
    """The body of ``text`` when AWS evaluates it as JSONata, else None.

    AWS evaluates a string only when it starts with ``{%`` and ends with ``%}``, exactly:
    ``" {% x %} "``, with whitespace around, is a literal string.
    """
    if len(text) >= 4 and text.startswith("{%") and text.endswith("%}"):
        return text[2:-2]
    return None


def strip_jsonata(text: str) -> str | None:
    """Return the body of text written as a ``{% ... %}`` expression, or None when it is not.

    Whitespace around the braces is ignored: this tells what an author meant to write (a
    validator uses it to word its findings). AWS evaluates only text that is exactly
    ``{% ... %}``, and so do :func:`check_jsonata` and :func:`compile_jsonata_template`.
    """
    return _body(text.strip())


def _compiled(body: str, text: str, field: str | None = None) -> Any:
    if not body.strip():
        raise ExpressionSyntaxError("empty JSONata expression", expression=text, field=field)
    try:
        return jsonata.Jsonata(body)
    except Exception as exc:  # jsonata-python raises JException and plain errors alike
        raise ExpressionSyntaxError(
            f"malformed JSONata expression ({exc})", expression=text, field=field
        ) from exc


def compile_jsonata(text: str) -> Any:
    """Compile a JSONata expression (a ``{% %}`` string or its bare body).

    Returns:
        The compiled jsonata-python expression.

    Raises:
        ExpressionSyntaxError: the expression is empty or malformed, or it is a ``{% %}``
            string with whitespace around it, which AWS takes as a literal, not an expression.
    """
    body = _body(text)
    if body is None:
        if strip_jsonata(text) is not None:
            raise ExpressionSyntaxError(
                "not a JSONata expression: AWS evaluates '{% %}' only when the text starts and "
                "ends with it, so with whitespace around it this is a literal string",
                expression=text,
            )
        body = text
    return _compiled(body, text)


def check_jsonata(text: str) -> None:
    """Validate a JSONata-mode string: a ``{% %}`` expression, or a bare JSONata body.

    A ``{% %}`` string with whitespace around it is a literal to AWS, so it always passes.

    Raises:
        ExpressionSyntaxError: the expression is empty or malformed.
    """
    if _body(text) is None and strip_jsonata(text) is not None:
        return
    compile_jsonata(text)


def _aws_function(function: Callable[[list[Any]], Any], name: str) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        try:
            return function(list(args))
        except ArgumentRuleError as exc:
            raise EvaluationError(STATES_RUNTIME, f"The function ${name} failed: {exc}") from None

    return call


def _parse(text: Any) -> Any:
    if not isinstance(text, str):
        raise EvaluationError(
            STATES_RUNTIME, "The function $parse failed: the argument must be a string"
        )
    try:
        return json.loads(text)
    except ValueError:
        raise EvaluationError(
            STATES_RUNTIME,
            f"The function $parse failed: the argument is not valid JSON text: {text}",
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


def _scope_functions(scope: EvaluationScope) -> dict[str, Any]:
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


def _failure(shown: str, where: str, what: str) -> EvaluationError:
    return EvaluationError(
        STATES_QUERY_EVALUATION_ERROR,
        f"The JSONata expression '{shown}' specified for the field '{where}' {what}",
        field=where,
    )


def _expression(text: str, body: str, where: str) -> _Evaluator:
    compiled = _compiled(body, text, where)
    # Keep JSONata's null apart from "undefined" (None), which AWS reports as an error.
    compiled.set_output_convert_nulls(False)
    shown = body.strip()

    def evaluate(bindings: Bindings) -> Any:
        try:
            result = compiled.evaluate(bindings["states"].get("input"), bindings)
        except EvaluationError:
            raise
        except Exception as exc:  # any failure inside JSONata is the expression's failure
            raise _failure(shown, where, f"threw an error during evaluation: {exc}") from None
        if result is None:
            raise _failure(shown, where, "returned nothing (undefined).")
        return _JsonataUtils.convert_nulls(result)

    return evaluate


def _compile_value(value: Any, where: str) -> tuple[_Evaluator, bool]:
    if isinstance(value, str):
        body = _body(value)
        if body is None:
            return (lambda _bindings: value), True
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
        is_constant: True when no string in it is a ``{% %}`` expression (AWS's rule: one
            that starts with ``{%`` and ends with ``%}``; with whitespace around, a literal).
    """

    __slots__ = ("_evaluate", "field", "is_constant", "source")

    def __init__(self, source: Any, field: str = "Output") -> None:
        self.source = source
        self.field = field
        self._evaluate, self.is_constant = _compile_value(source, field)

    def evaluate(self, states: Mapping[str, Any], scope: EvaluationScope | None = None) -> Any:
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
        scope = scope if scope is not None else EvaluationScope()
        # A variable holding JSON null is JSONata's null, not "undefined": jsonata-python
        # reads a bound None as undefined, which AWS would report as "returned nothing".
        bindings: Bindings = {
            name: _NULL if value is None else value for name, value in scope.variables.items()
        }
        bindings.update(_STATIC_FUNCTIONS)
        bindings.update(_scope_functions(scope))
        bindings["states"] = states
        return self._evaluate(bindings)

    @property
    def expression(self) -> str:
        """The expression as AWS quotes it in causes: the body of a ``{% %}`` string, trimmed.

        A value that is not one expression (an object or array holding some) is quoted as
        compact JSON.
        """
        body = _body(self.source) if isinstance(self.source, str) else None
        return compact_json(self.source) if body is None else body.strip()

    def unexpected_type(self, value: Any, expected: str) -> EvaluationError:
        """The error AWS reports when this field evaluates to the wrong JSON type.

        Args:
            value: what the field evaluated to.
            expected: the JSON type the field needs, e.g. ``"array"`` for a Map's ``Items``.
        """
        return _failure(
            self.expression,
            self.field,
            f"returned an unexpected result type. Expected '{expected}', but was "
            f"'{json_type(value)}' for value: {compact_json(value)}",
        )

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
