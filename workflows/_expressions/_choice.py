"""Choice rules (JSONPath mode): comparison operators, ``Is*`` tests and ``And``/``Or``/``Not``.

AWS's type rules: an operator only matches a value of its own type (``StringEquals`` on a
number, ``NumericEquals`` on a boolean, ``TimestampEquals`` on a non-timestamp string are all
simply false, never errors). A ``Variable`` that selects nothing is a ``States.Runtime`` error
("... condition path references an invalid value."), except under ``IsPresent``. Timestamps
are compared as instants, to the nanosecond.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from stepsaga.workflows._expressions._errors import EvaluationError, ExpressionSyntaxError
from stepsaga.workflows._expressions._paths import Path, PathNotFoundError
from stepsaga.workflows._expressions._scope import EvaluationScope
from stepsaga.workflows.facts import CHOICE_OPERATORS, STATES_RUNTIME

Test = Callable[[Any, EvaluationScope], bool]

# RFC 3339's date-time with the ASL restrictions (an uppercase T and Z). An offset's hours run
# 00-23 and its minutes 00-59 (RFC 3339 section 5.6); datetime would read "+05:60" as +06:00.
_TIMESTAMP: Final = re.compile(
    r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?"
    r"(Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)\Z"
)
_RULE_KEYS: Final = frozenset({"Next", "Comment", "Assign", "Output", "Variable"})
# The operand types a comparison operator starts with (`NumericLessThan`...).
_TYPES: Final = ("String", "Numeric", "Boolean", "Timestamp")


def parse_timestamp(value: Any) -> tuple[datetime, Decimal] | None:
    """Parse an ISO-8601 extended date-time with offset, as AWS accepts it; None if it is not one.

    Returns:
        The instant to the second (timezone-aware) and the fraction of a second, so instants
        compare exactly even beyond microseconds.
    """
    if not isinstance(value, str):
        return None
    match = _TIMESTAMP.match(value)
    if match is None:
        return None
    base, fraction, offset = match.groups()
    try:
        instant = datetime.fromisoformat(base + ("+00:00" if offset == "Z" else offset))
    except ValueError:
        return None
    return instant, Decimal("0." + fraction) if fraction else Decimal(0)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class _WildcardPattern:
    r"""A StringMatches pattern: ``*`` matches any run of characters, ``\*`` and ``\\`` escape.

    Matching is a greedy scan over the literal segments between stars, each found with
    ``str.find`` at the leftmost place it fits: for ``*`` wildcards the leftmost fit of each
    segment is always a safe choice, so no backtracking (and no regex, whose backtracking takes
    exponential time on ``*a*a*a*b``) is needed, and the time is linear in the text for each
    segment.
    """

    __slots__ = ("_segments", "_starred")

    def __init__(self, pattern: str) -> None:
        segments: list[str] = []
        current: list[str] = []
        starred = False
        i = 0
        while i < len(pattern):
            char = pattern[i]
            if char == "\\" and i + 1 < len(pattern):
                current.append(pattern[i + 1])
                i += 2
                continue
            if char == "*":
                segments.append("".join(current))
                current = []
                starred = True
            else:
                current.append(char)
            i += 1
        segments.append("".join(current))
        # Without a star the pattern is one literal; with stars, segments[0] is the prefix,
        # segments[-1] the suffix and the others float in between.
        self._segments = tuple(segments)
        self._starred = starred

    def fullmatch(self, text: str) -> bool:
        segments = self._segments
        if not self._starred:
            return text == segments[0]
        prefix, suffix = segments[0], segments[-1]
        if len(prefix) + len(suffix) > len(text):
            return False
        if not text.startswith(prefix) or not text.endswith(suffix):
            return False
        position = len(prefix)
        end = len(text) - len(suffix)
        for segment in segments[1:-1]:
            if not segment:
                continue
            found = text.find(segment, position, end)
            if found < 0:
                return False
            position = found + len(segment)
        return True


def _compare(kind: str, cmp: str) -> Callable[[Any, Any], bool]:
    """A comparison of a value against an operand of ``kind``; false on a type mismatch."""
    relation: Callable[[Any, Any], bool] = {
        "Equals": lambda a, b: a == b,
        "LessThan": lambda a, b: a < b,
        "GreaterThan": lambda a, b: a > b,
        "LessThanEquals": lambda a, b: a <= b,
        "GreaterThanEquals": lambda a, b: a >= b,
    }[cmp]
    if kind == "String":
        return lambda v, o: isinstance(v, str) and isinstance(o, str) and relation(v, o)
    if kind == "Numeric":
        return lambda v, o: _is_number(v) and _is_number(o) and relation(v, o)
    if kind == "Boolean":
        return lambda v, o: isinstance(v, bool) and isinstance(o, bool) and relation(v, o)

    def timestamps(value: Any, operand: Any) -> bool:
        left = parse_timestamp(value)
        right = parse_timestamp(operand)
        return left is not None and right is not None and relation(left, right)

    return timestamps


class CompiledChoiceRule:
    """A compiled Choice rule.

    Attributes:
        next: the state to go to when a top-level rule matches (None for nested rules).
        source: the rule as written.
    """

    __slots__ = ("_test", "next", "source")

    def __init__(self, rule: Mapping[str, Any], *, top_level: bool = True) -> None:
        self.source = rule
        nxt = rule.get("Next")
        if top_level and not isinstance(nxt, str):
            raise ExpressionSyntaxError(
                "a top-level Choice rule needs a string 'Next'", expression=repr(dict(rule))
            )
        self.next: str | None = nxt if top_level else None
        self._test = _compile_rule(rule)

    def matches(self, data: Any, scope: EvaluationScope | None = None) -> bool:
        """Whether the rule holds for ``data`` (the Choice state's effective input).

        Raises:
            EvaluationError: ``States.Runtime`` when ``Variable`` (or a ``*Path`` operand)
                selects nothing.
        """
        return self._test(data, scope if scope is not None else _EMPTY_SCOPE)

    def __repr__(self) -> str:
        return f"CompiledChoiceRule({dict(self.source)!r})"


_EMPTY_SCOPE = EvaluationScope()


def _fail(message: str, rule: Mapping[str, Any]) -> ExpressionSyntaxError:
    return ExpressionSyntaxError(message, expression=repr(dict(rule)), field="Choices")


def _compile_rule(rule: Mapping[str, Any]) -> Test:
    if not isinstance(rule, Mapping):
        raise ExpressionSyntaxError("a Choice rule must be an object", expression=repr(rule))
    operators = [key for key in rule if key not in _RULE_KEYS]
    if len(operators) != 1:
        raise _fail(
            f"a Choice rule needs exactly one operator, found {sorted(operators) or 'none'}", rule
        )
    operator = operators[0]
    operand = rule[operator]
    if operator in ("And", "Or"):
        if "Variable" in rule:
            raise _fail(f"{operator} does not take a Variable", rule)
        if not isinstance(operand, list) or not operand:
            raise _fail(f"{operator} needs a non-empty array of rules", rule)
        tests = tuple(_compile_rule(sub) for sub in operand)
        if operator == "And":
            return lambda data, scope: all(test(data, scope) for test in tests)
        return lambda data, scope: any(test(data, scope) for test in tests)
    if operator == "Not":
        if "Variable" in rule:
            raise _fail("Not does not take a Variable", rule)
        if not isinstance(operand, Mapping):
            raise _fail("Not needs one rule (an object)", rule)
        inner = _compile_rule(operand)
        return lambda data, scope: not inner(data, scope)
    if operator not in CHOICE_OPERATORS:
        raise _fail(f"unknown Choice operator {operator!r}", rule)
    variable_text = rule.get("Variable")
    if not isinstance(variable_text, str):
        raise _fail(f"{operator} needs a string 'Variable' path", rule)
    try:
        variable = Path(variable_text)
    except ExpressionSyntaxError as exc:
        raise ExpressionSyntaxError(
            exc.message, expression=variable_text, field="Variable"
        ) from exc
    return _compile_data_test(operator, operand, variable, rule)


def _condition_selector(path: Path) -> Callable[[Any, EvaluationScope], Any]:
    """The path's selector, failing with AWS's wording for a Choice condition path."""
    select = path._select
    cause = (
        f"Invalid path '{path.text}': "
        "The choice state's condition path references an invalid value."
    )

    def selected(data: Any, scope: EvaluationScope) -> Any:
        try:
            return select(data, scope)
        except PathNotFoundError:
            raise EvaluationError(STATES_RUNTIME, cause) from None

    return selected


def _compile_data_test(
    operator: str, operand: Any, variable: Path, rule: Mapping[str, Any]
) -> Test:
    select = _condition_selector(variable)
    if operator.startswith("Is"):
        if not isinstance(operand, bool):
            raise _fail(f"{operator} takes true or false", rule)
        if operator == "IsPresent":
            exists = variable.exists
            return lambda data, scope: exists(data, scope) is operand
        check: Callable[[Any], bool] = {
            "IsNull": lambda v: v is None,
            "IsNumeric": _is_number,
            "IsString": lambda v: isinstance(v, str),
            "IsBoolean": lambda v: isinstance(v, bool),
            "IsTimestamp": lambda v: parse_timestamp(v) is not None,
        }[operator]
        return lambda data, scope: check(select(data, scope)) is operand
    if operator == "StringMatches":
        if not isinstance(operand, str):
            raise _fail("StringMatches takes a string pattern", rule)
        pattern = _WildcardPattern(operand)

        def matches(data: Any, scope: EvaluationScope) -> bool:
            value = select(data, scope)
            return isinstance(value, str) and pattern.fullmatch(value)

        return matches
    by_path = operator.endswith("Path")
    base = operator[:-4] if by_path else operator
    kind = next(k for k in _TYPES if base.startswith(k))
    compare = _compare(kind, base[len(kind) :])
    if by_path:
        if not isinstance(operand, str):
            raise _fail(f"{operator} takes a path string", rule)
        try:
            operand_path = Path(operand)
        except ExpressionSyntaxError as exc:
            raise ExpressionSyntaxError(exc.message, expression=operand, field=operator) from exc
        select_operand = _condition_selector(operand_path)
        return lambda data, scope: compare(select(data, scope), select_operand(data, scope))
    _check_operand(kind, operator, operand, rule)
    return lambda data, scope: compare(select(data, scope), operand)


def _check_operand(kind: str, operator: str, operand: Any, rule: Mapping[str, Any]) -> None:
    valid = {
        "String": isinstance(operand, str),
        "Numeric": _is_number(operand),
        "Boolean": isinstance(operand, bool),
        "Timestamp": parse_timestamp(operand) is not None,
    }[kind]
    if not valid:
        wanted = {
            "String": "a string",
            "Numeric": "a number",
            "Boolean": "true or false",
            "Timestamp": "an ISO-8601 timestamp with offset",
        }[kind]
        raise _fail(f"{operator} takes {wanted}, got {operand!r}", rule)


def compile_choice_rule(rule: Mapping[str, Any], *, top_level: bool = True) -> CompiledChoiceRule:
    """Compile one entry of a Choice state's ``Choices`` (JSONPath mode).

    Args:
        rule: the rule as written (``{"Variable": "$.x", "NumericEquals": 1, "Next": "A"}``).
        top_level: whether the rule is a direct entry of ``Choices`` (and so needs ``Next``).

    Raises:
        ExpressionSyntaxError: unknown or missing operator, wrong operand type, bad path.
    """
    return CompiledChoiceRule(rule, top_level=top_level)
