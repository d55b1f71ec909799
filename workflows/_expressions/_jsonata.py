"""JSONata (``{% ... %}``) expressions: syntax checking and evaluation with jsonata-python.

A JSONata-mode field (``Arguments``, ``Output``, ``Assign``, ``Items``, ``Condition``...) is a
JSON value whose strings may be ``{% %}`` expressions, at any depth. It is compiled once; each
evaluation binds ``$states`` (input, context, result, errorOutput), the workflow variables and
the functions AWS adds to JSONata (``$partition``, ``$range``, ``$hash``, ``$random``,
``$uuid``, ``$parse``).

jsonata-python is imported when the first ``{% %}`` expression is compiled (see
``_libraries``): a definition without one needs no JSONata library.
"""

from __future__ import annotations

import functools
import random
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from stepsaga.workflows._expressions._bounds import (
    JSONATA_DEPTH_LIMIT,
    JSONATA_TIME_LIMIT_SECONDS,
    BoundedPattern,
    ExpressionTimeout,
)
from stepsaga.workflows._expressions._errors import EvaluationError, ExpressionSyntaxError
from stepsaga.workflows._expressions._intrinsics import (
    ArgumentRuleError,
    array_partition,
    array_range,
    hash_text,
)
from stepsaga.workflows._expressions._json_text import compact_json, json_type
from stepsaga.workflows._expressions._json_value import (
    JsonValueError,
    check_json_value,
    load_json_text,
)
from stepsaga.workflows._expressions._libraries import load
from stepsaga.workflows._expressions._scope import EvaluationScope
from stepsaga.workflows.facts import STATES_QUERY_EVALUATION_ERROR, STATES_RUNTIME

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
    runtime = _runtime()
    try:
        return runtime.compile(body, runtime.regex_engine)
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
        return load_json_text(text, "the argument")
    except JsonValueError as exc:
        raise EvaluationError(
            STATES_RUNTIME,
            f"The function $parse failed: the argument is not valid JSON text ({exc.reason})",
        ) from None


class _Runtime:
    """jsonata-python, as the compiled expressions use it, with the functions AWS adds.

    Attributes:
        compile: compiles an expression body (``jsonata.Jsonata``).
        function: wraps a Python callable as a JSONata function (``Jsonata.JLambda``).
        null: JSONata's null (apart from None, which jsonata-python reads as "undefined").
        convert_nulls: turns JSONata's nulls in a result back into None.
        static_functions: ``$partition``, ``$range``, ``$hash`` and ``$parse``.
    """

    __slots__ = (
        "compile",
        "convert_nulls",
        "format_millis",
        "frame",
        "function",
        "null",
        "regex_engine",
        "static_functions",
    )

    def __init__(self) -> None:
        jsonata = load("jsonata", "jsonata-python", "JSONata expressions")
        utils = load("jsonata.utils", "jsonata-python", "JSONata expressions").Utils
        functions = load("jsonata.functions", "jsonata-python", "JSONata expressions").Functions
        default_engine = load(
            "jsonata.regex_engine", "jsonata-python", "JSONata expressions"
        ).default_regex_engine
        self.compile: Callable[[str, Any], Any] = jsonata.Jsonata
        self.function: Callable[[Callable[..., Any]], Any] = jsonata.Jsonata.JLambda
        self.frame: Callable[[Any], Any] = jsonata.Jsonata.Frame
        self.null: Any = utils.NULL_VALUE
        self.convert_nulls: Callable[[Any], Any] = utils.convert_nulls
        self.format_millis: Callable[[int, Any, Any], Any] = functions.datetime_from_millis

        def regex_engine(pattern: str, flags: Any) -> BoundedPattern:
            # Every JSONata regex literal, matched under a time limit.
            return BoundedPattern(default_engine(pattern, flags))

        self.regex_engine = regex_engine
        create_sequence = utils.create_sequence

        def range_sequence(args: list[Any]) -> Any:
            # AWS's $range yields a JSONata sequence, so a one-number range collapses to that
            # number (recorded: $range(1, 9, 9) is 1), whereas $partition yields a plain array.
            sequence = create_sequence()
            sequence.extend(array_range(args))
            return sequence

        self.static_functions: dict[str, Any] = {
            "partition": self.function(_aws_function(array_partition, "partition")),
            "range": self.function(_aws_function(range_sequence, "range")),
            "hash": self.function(_aws_function(hash_text, "hash")),
            "parse": self.function(_parse),
        }

    def scope_functions(self, scope: EvaluationScope) -> dict[str, Any]:
        """The functions that read the scope: ``$random``, ``$uuid``, ``$now``, ``$millis``.

        ``$random`` and ``$uuid`` draw from the scope's random source, ``$now`` and ``$millis``
        read its clock (the engine's virtual one).
        """
        source = scope.random
        instant = scope.now if scope.now is not None else datetime.now(UTC)
        # One instant for the whole evaluation, as JSONata takes it once per evaluate().
        millis = int(instant.timestamp() * 1000)
        format_millis = self.format_millis

        def random_number(*seed: Any) -> float:
            # With a seed the sequence is reproducible on its own; without, it follows the scope.
            return (random.Random(seed[0]) if seed else source).random()

        def new_uuid() -> str:
            return str(uuid.UUID(int=source.getrandbits(128), version=4))

        def now(picture: Any = None, timezone: Any = None) -> Any:
            return format_millis(millis, picture, timezone)

        return {
            "random": self.function(random_number),
            "uuid": self.function(new_uuid),
            "now": self.function(now),
            "millis": self.function(lambda: millis),
        }


@functools.cache
def _runtime() -> _Runtime:
    """The runtime, built on the first JSONata expression compiled.

    Raises:
        MissingQueryLibraryError: jsonata-python is not installed.
    """
    return _Runtime()


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
    convert_nulls = _runtime().convert_nulls
    shown = body.strip()

    frame_of = _runtime().frame

    def evaluate(bindings: Bindings) -> Any:
        # A fresh frame per evaluation carries the time box, so its clock and depth start here.
        frame = frame_of(None)
        frame.set_runtime_bounds(int(JSONATA_TIME_LIMIT_SECONDS * 1000), JSONATA_DEPTH_LIMIT)
        for name, value in bindings.items():
            frame.bind(name, value)
        try:
            result = compiled.evaluate(bindings["states"].get("input"), frame)
        except EvaluationError:
            raise
        except ExpressionTimeout as exc:
            raise _failure(shown, where, f"threw an error during evaluation: {exc}") from None
        except Exception as exc:  # any failure inside JSONata is the expression's failure
            raise _failure(shown, where, f"threw an error during evaluation: {exc}") from None
        if result is None:
            raise _failure(shown, where, "returned nothing (undefined).")
        result = convert_nulls(result)
        try:
            check_json_value(result, "the result")
        except JsonValueError as exc:
            # A function or a regex is a JSONata value but not JSON: AWS fails the field.
            where_in = f" (at {exc.pointer})" if exc.pointer else ""
            reason = f"returned a function or a regular expression, which is not JSON{where_in}."
            raise _failure(shown, where, reason) from None
        return result

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

    __slots__ = ("_evaluate", "_runtime", "field", "is_constant", "source")

    def __init__(self, source: Any, field: str = "Output") -> None:
        self.source = source
        self.field = field
        self._evaluate, self.is_constant = _compile_value(source, field)
        # Loaded by the expressions just compiled; a constant needs no JSONata at all.
        self._runtime = None if self.is_constant else _runtime()

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
        runtime = self._runtime
        if runtime is None:
            return self.source
        scope = scope if scope is not None else EvaluationScope()
        # A variable holding JSON null is JSONata's null, not "undefined": jsonata-python
        # reads a bound None as undefined, which AWS would report as "returned nothing".
        null = runtime.null
        bindings: Bindings = {
            name: null if value is None else value for name, value in scope.variables.items()
        }
        bindings.update(runtime.static_functions)
        bindings.update(runtime.scope_functions(scope))
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
