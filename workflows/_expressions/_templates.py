"""Payload templates: ``Parameters``, ``ResultSelector``, ``ItemSelector`` and ``Assign``.

A template is a JSON value in which an object key ending in ``.$`` holds a path (``$``, ``$$``
or ``$name``) or an intrinsic function call; the key, without its ``.$``, receives the value
selected or computed. A template is compiled once into a closure tree; constant subtrees are
built once and shared by every evaluation, so callers must treat results as immutable (copy
before modifying in place).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stepsaga.workflows._expressions._errors import EvaluationError, ExpressionSyntaxError
from stepsaga.workflows._expressions._intrinsic_syntax import is_intrinsic, parse_intrinsic
from stepsaga.workflows._expressions._intrinsics import compile_intrinsic
from stepsaga.workflows._expressions._json_text import compact_json
from stepsaga.workflows._expressions._paths import Path, PathNotFoundError
from stepsaga.workflows._expressions._scope import EvaluationScope
from stepsaga.workflows.facts import STATES_RUNTIME

Evaluator = Callable[[Any, EvaluationScope], Any]


class Template:
    """A compiled payload template.

    Attributes:
        field: the ASL field the template came from (``"Parameters"``, ``"Assign"``...).
        source: the template as written.
        is_constant: True when the template has no ``.$`` key anywhere.
    """

    __slots__ = ("_evaluate", "field", "is_constant", "source")

    def __init__(self, source: Any, field: str = "Parameters") -> None:
        self.source = source
        self.field = field
        evaluate, constant = _compile(source, field)
        self.is_constant = constant
        self._evaluate = evaluate

    def evaluate(self, data: Any, scope: EvaluationScope | None = None) -> Any:
        """Build the payload from ``data`` (``$``) and ``scope`` (``$$``, variables).

        Raises:
            EvaluationError: ``States.Runtime`` when a path selects nothing or an intrinsic
                function fails, with AWS's cause text.
        """
        return self._evaluate(data, scope if scope is not None else _EMPTY_SCOPE)

    def __repr__(self) -> str:
        return f"Template({self.source!r}, field={self.field!r})"


_EMPTY_SCOPE = EvaluationScope()


def _constant(value: Any) -> Evaluator:
    return lambda _data, _scope: value


def _dynamic(key: str, text: Any, field: str) -> Evaluator:
    if not isinstance(text, str):
        raise ExpressionSyntaxError(
            f"the value of {key!r} must be a string holding a path or an intrinsic function",
            expression=repr(text),
            field=field,
        )
    if is_intrinsic(text):
        try:
            call = parse_intrinsic(text)
        except ExpressionSyntaxError as exc:
            raise ExpressionSyntaxError(
                exc.message, expression=text, field=f"{field}/{key}"
            ) from exc
        return compile_intrinsic(call)
    try:
        path = Path(text)
    except ExpressionSyntaxError as exc:
        raise ExpressionSyntaxError(exc.message, expression=text, field=f"{field}/{key}") from exc
    return path._select  # the closure itself: the object builder reports a missing path


def _not_found(path: str, key: str, data: Any) -> EvaluationError:
    return EvaluationError(
        STATES_RUNTIME,
        f"The JSONPath '{path}' specified for the field '{key}' could not be found in the input "
        f"'{compact_json(data)}'",
    )


def _object_builder(parts: tuple[tuple[str, Evaluator, str], ...]) -> Evaluator:
    def build(data: Any, scope: EvaluationScope) -> Any:
        result: dict[str, Any] = {}
        written = ""
        try:
            for key, evaluate, written in parts:  # noqa: B007 (read by the except clause)
                result[key] = evaluate(data, scope)
        except PathNotFoundError as exc:
            # Raised by this object's own ".$" entry (nested objects convert theirs): AWS names
            # the key as written and the path, even when the path is an intrinsic's argument.
            raise _not_found(exc.path, written, data) from None
        return result

    return build


def _compile(source: Any, field: str) -> tuple[Evaluator, bool]:
    """Compile ``source``; return its evaluator and whether it is constant."""
    if isinstance(source, dict):
        parts: list[tuple[str, Evaluator, str]] = []
        constant = True
        for key, value in source.items():
            if key.endswith(".$"):
                parts.append((key[:-2], _dynamic(key, value, field), key))
                constant = False
            else:
                evaluate, is_constant = _compile(value, field)
                parts.append((key, evaluate, key))
                constant = constant and is_constant
        if constant:
            return _constant(source), True
        return _object_builder(tuple(parts)), False
    if isinstance(source, list):
        compiled = [_compile(item, field) for item in source]
        if all(is_constant for _, is_constant in compiled):
            return _constant(source), True
        evaluators = tuple(evaluate for evaluate, _ in compiled)
        return (lambda data, scope: [ev(data, scope) for ev in evaluators]), False
    return _constant(source), True


class FieldTemplate:
    """One path or intrinsic call that fills a whole field: a Fail state's ErrorPath/CausePath.

    It evaluates to the value itself, and a path that selects nothing fails with the cause AWS
    writes for such a field, naming the field (``The JSONPath '$.x' specified for the field
    'ErrorPath' could not be found in the input '{...}'``).

    Attributes:
        field: the ASL field, e.g. ``"ErrorPath"``.
        source: the path or intrinsic call as written.
    """

    __slots__ = ("_evaluate", "field", "source")

    def __init__(self, source: str, field: str) -> None:
        self.source = source
        self.field = field
        self._evaluate = _dynamic(field, source, field)

    def evaluate(self, data: Any, scope: EvaluationScope | None = None) -> Any:
        """The value the path selects or the call computes from ``data``.

        Raises:
            EvaluationError: ``States.Runtime``, naming the field when the path selects nothing.
        """
        try:
            return self._evaluate(data, scope if scope is not None else _EMPTY_SCOPE)
        except PathNotFoundError as exc:
            raise _not_found(exc.path, self.field, data) from None

    def __repr__(self) -> str:
        return f"FieldTemplate({self.source!r}, field={self.field!r})"


def compile_field_template(text: str, field: str) -> FieldTemplate:
    """Compile a field holding one path or intrinsic call (Fail's ErrorPath and CausePath).

    Raises:
        ExpressionSyntaxError: the text is neither a path nor an intrinsic function call.
    """
    return FieldTemplate(text, field)


def compile_template(value: Any, field: str = "Parameters") -> Template:
    """Compile a payload template (Parameters, ResultSelector, ItemSelector, Assign).

    Args:
        value: the template as it appears in the definition.
        field: the ASL field name, used in error messages.

    Raises:
        ExpressionSyntaxError: a ``.$`` value is not a string, or not a valid path or intrinsic
            function call.
    """
    return Template(value, field)
