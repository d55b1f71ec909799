"""JSONPath as AWS evaluates it: Jayway JsonPath's grammar and results, in one implementation.

AWS Step Functions evaluates JSONPath with Jayway JsonPath (Java). This module parses and
evaluates every path the simple key walker of ``_paths`` does not take: wildcards, deep scans
(``..``), slices, index and property lists, filters (``[?(...)]``), and Jayway's tolerance of a
dot before a bracket (``$.[0]`` is ``$[0]``, ``$.['x']`` is ``$['x']``). The validator and the
engine both compile paths through ``_paths.Path``, so what one accepts the other evaluates.

Jayway's results, which AWS returns:

- a *definite* path (names and single indexes only, or a property list at the end) gives one
  value, and no value is an error; ``$['a','b']`` at the end merges the properties that exist
  into one object (``{"a": 1, "b": 2}``), it is not a list;
- an *indefinite* path (a wildcard, deep scan, slice, filter, index list, or a property list
  before the end) gives the list of every match, in document order, possibly empty; a missing
  key or a node of the wrong type on the way simply contributes nothing.

Filters: ``@`` is the current item (``$`` the whole document); ``&&``, ``||``, ``!`` and
parentheses; ``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``, ``=~`` (a ``/regex/flags`` that
must match the whole string), ``in``, ``nin``, ``subsetof``, ``anyof``, ``noneof``,
``contains``, ``size`` and ``empty``; a bare path tests that the path exists. As in Jayway,
numbers compare with numbers and strings with strings (a mixed ``<`` is false), ``==``
compares a number and a string by value (``5 == '5'``), and a missing path equals nothing (so
``!=`` holds). A filter on an array tests each element; on an object, the object itself.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from stepsaga.workflows._expressions._bounds import (
    REGEX_TIME_LIMIT_SECONDS,
    ExpressionTimeout,
    time_limit,
)
from stepsaga.workflows._expressions._errors import EvaluationError, ExpressionSyntaxError
from stepsaga.workflows.facts import STATES_RUNTIME

# A dotted member name: anything up to the next separator or JSONPath operator character; in a
# filter, comparison and logical operators end a name too.
_DOT_NAME: Final = re.compile(r"[^.\[\]'\"()*?@,:\s]+")
_FILTER_DOT_NAME: Final = re.compile(r"[^.\[\]'\"()*?@,:\s!=<>&|]+")
_INTEGER: Final = re.compile(r"-?\d+")
_NUMBER: Final = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_WORD_OPERATORS: Final = ("subsetof", "anyof", "noneof", "contains", "empty", "size", "nin", "in")
_SYMBOL_OPERATORS: Final = ("==", "!=", "<=", ">=", "=~", "<", ">")
_REGEX_FLAGS: Final = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}
# What the evaluator yields for a definite path that selects nothing.
UNDEFINED: Final[Any] = type("Undefined", (), {"__repr__": lambda self: "UNDEFINED"})()


# --- tokens -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Property:
    names: tuple[str, ...]

    def definite(self, is_leaf: bool) -> bool:
        return len(self.names) == 1 or is_leaf

    def text(self) -> str:
        return "[" + ",".join("'" + name.replace("'", "\\'") + "'" for name in self.names) + "]"


@dataclass(frozen=True, slots=True)
class _Index:
    indexes: tuple[int, ...]

    def definite(self, is_leaf: bool) -> bool:
        return len(self.indexes) == 1

    def text(self) -> str:
        return "[" + ",".join(str(index) for index in self.indexes) + "]"


@dataclass(frozen=True, slots=True)
class _Slice:
    start: int | None
    end: int | None

    def definite(self, is_leaf: bool) -> bool:
        return False

    def text(self) -> str:
        start = "" if self.start is None else str(self.start)
        end = "" if self.end is None else str(self.end)
        return f"[{start}:{end}]"


@dataclass(frozen=True, slots=True)
class _Wildcard:
    def definite(self, is_leaf: bool) -> bool:
        return False

    def text(self) -> str:
        return "[*]"


@dataclass(frozen=True, slots=True)
class _Scan:
    def definite(self, is_leaf: bool) -> bool:
        return False

    def text(self) -> str:
        return ".."


@dataclass(frozen=True, slots=True)
class _Filter:
    test: Callable[[Any, Any], bool]
    source: str

    def definite(self, is_leaf: bool) -> bool:
        return False

    def text(self) -> str:
        return f"[?({self.source})]"


_Token = _Property | _Index | _Slice | _Wildcard | _Scan | _Filter


# --- parsing ----------------------------------------------------------------------------------


class _PathParser:
    """A recursive-descent parser over one path text (paths nested in filters included)."""

    def __init__(self, text: str, expression: str, *, depth: int = 0) -> None:
        self.text = text
        self.expression = expression
        self.pos = 0
        self.depth = depth

    def fail(self, message: str) -> ExpressionSyntaxError:
        return ExpressionSyntaxError(
            f"malformed JSONPath: {message} at position {self.pos}", expression=self.expression
        )

    def peek(self, literal: str) -> bool:
        return self.text.startswith(literal, self.pos)

    def spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    # -- path steps --

    def steps(self, *, stop: str = "") -> list[_Token]:
        """Parse steps until the end of the text or a character of ``stop`` (inside filters)."""
        tokens: list[_Token] = []
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char in stop or (stop and (char.isspace() or char == "(")):
                break
            if text.startswith("..", self.pos):
                self.pos += 2
                tokens.append(_Scan())
                if self.pos < len(text) and text[self.pos] == "[":
                    tokens.append(self.bracket())
                elif self.peek("*"):
                    self.pos += 1
                    tokens.append(_Wildcard())
                else:
                    tokens.append(_Property((self.name(),)))
            elif char == ".":
                self.pos += 1
                if self.peek("["):  # Jayway reads "$.[0]" as "$[0]"
                    tokens.append(self.bracket())
                elif self.peek("*"):
                    self.pos += 1
                    tokens.append(_Wildcard())
                else:
                    tokens.append(_Property((self.name(),)))
            elif char == "[":
                tokens.append(self.bracket())
            else:
                raise self.fail(f"unexpected {char!r}")
        return tokens

    def name(self) -> str:
        match = (_FILTER_DOT_NAME if self.depth else _DOT_NAME).match(self.text, self.pos)
        if match is None:
            raise self.fail("expected a name after '.'")
        self.pos = match.end()
        return match.group(0)

    def bracket(self) -> _Token:
        self.pos += 1  # "["
        self.spaces()
        if self.peek("?"):
            self.pos += 1
            self.spaces()
            if not self.peek("("):
                raise self.fail("expected '(' after '?'")
            start = self.pos + 1
            self.pos = start
            test = self.expression_or()
            self.spaces()
            if not self.peek(")"):
                raise self.fail("expected ')' to close the filter")
            source = self.text[start : self.pos].strip()
            self.pos += 1
            token: _Token = _Filter(test, source)
        elif self.peek("*"):
            self.pos += 1
            token = _Wildcard()
        elif self.peek("'") or self.peek('"'):
            names = [self.quoted()]
            self.spaces()
            while self.peek(","):
                self.pos += 1
                self.spaces()
                if not (self.peek("'") or self.peek('"')):
                    raise self.fail("expected a quoted name after ','")
                names.append(self.quoted())
                self.spaces()
            token = _Property(tuple(names))
        else:
            token = self.indexes()
        self.spaces()
        if not self.peek("]"):
            raise self.fail("expected ']'")
        self.pos += 1
        return token

    def quoted(self) -> str:
        quote = self.text[self.pos]
        self.pos += 1
        out: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            # As in Jayway, a backslash escapes the quote character (and itself); any other
            # backslash is kept as written.
            if (
                char == "\\"
                and self.pos + 1 < len(self.text)
                and self.text[self.pos + 1]
                in (
                    quote,
                    "\\",
                )
            ):
                out.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            if char == quote:
                self.pos += 1
                return "".join(out)
            out.append(char)
            self.pos += 1
        raise self.fail("unterminated quoted name")

    def integer(self) -> int | None:
        self.spaces()
        match = _INTEGER.match(self.text, self.pos)
        if match is None:
            return None
        self.pos = match.end()
        return int(match.group(0))

    def indexes(self) -> _Token:
        first = self.integer()
        self.spaces()
        if self.peek(":"):
            self.pos += 1
            end = self.integer()
            if first is None and end is None:
                raise self.fail("a slice needs a start or an end")
            self.spaces()
            if self.peek(":"):
                raise self.fail("slices take no step")
            return _Slice(first, end)
        if first is None:
            raise self.fail("expected an index, a slice, '*', a quoted name or a filter")
        found = [first]
        self.spaces()
        while self.peek(","):
            self.pos += 1
            index = self.integer()
            if index is None:
                raise self.fail("expected an index after ','")
            found.append(index)
            self.spaces()
        return _Index(tuple(found))

    # -- filter expressions --

    def expression_or(self) -> Callable[[Any, Any], bool]:
        left = self.expression_and()
        self.spaces()
        while self.peek("||"):
            self.pos += 2
            right = self.expression_and()
            left = _either(left, right)
            self.spaces()
        return left

    def expression_and(self) -> Callable[[Any, Any], bool]:
        left = self.expression_unary()
        self.spaces()
        while self.peek("&&"):
            self.pos += 2
            right = self.expression_unary()
            left = _both(left, right)
            self.spaces()
        return left

    def expression_unary(self) -> Callable[[Any, Any], bool]:
        self.spaces()
        if self.peek("!") and not self.peek("!="):
            self.pos += 1
            inner = self.expression_unary()
            return lambda item, root: not inner(item, root)
        if self.peek("("):
            self.pos += 1
            inner = self.expression_or()
            self.spaces()
            if not self.peek(")"):
                raise self.fail("expected ')'")
            self.pos += 1
            return inner
        left = self.operand()
        self.spaces()
        operator = self.operator()
        if operator is None:
            if not isinstance(left, _PathOperand):
                raise self.fail("a filter term without an operator must be a path")
            return left.exists
        right = self.operand()
        return _relation(operator, left, right, self)

    def operator(self) -> str | None:
        for symbol in _SYMBOL_OPERATORS:
            if self.peek(symbol):
                self.pos += len(symbol)
                return symbol
        for word in _WORD_OPERATORS:
            end = self.pos + len(word)
            if self.text.startswith(word, self.pos) and (
                end >= len(self.text) or not self.text[end].isalnum()
            ):
                self.pos = end
                return word
        return None

    def operand(self) -> _Operand:
        self.spaces()
        text = self.text
        if self.pos >= len(text):
            raise self.fail("expected a value or a path")
        char = text[self.pos]
        if char in "@$":
            return self.path_operand()
        if char in "'\"":
            return _Literal(self.quoted())
        if char == "/":
            return self.regex()
        if char in "[{":
            return _Literal(self.json_literal())
        number = _NUMBER.match(text, self.pos)
        if number is not None:
            self.pos = number.end()
            return _Literal(_number(number.group(0)))
        for word, value in (("true", True), ("false", False), ("null", None)):
            if text.startswith(word, self.pos):
                self.pos += len(word)
                return _Literal(value)
        raise self.fail(f"unexpected {char!r} in a filter")

    def path_operand(self) -> _PathOperand:
        root = self.text[self.pos]
        self.pos += 1
        if self.depth >= _MAX_FILTER_NESTING:
            raise self.fail(f"filters nest deeper than {_MAX_FILTER_NESTING} levels")
        nested = _PathParser(self.text, self.expression, depth=self.depth + 1)
        nested.pos = self.pos
        tokens = nested.steps(stop=")!=<>&|,]")
        function = None
        match = _FUNCTION_CALL.match(self.text, nested.pos)
        if match is not None and tokens and isinstance(tokens[-1], _Property):
            # "@.name.length()": the dot-name reader took the function's name.
            name = tokens[-1].names[0]
            if name in _FUNCTIONS:
                tokens.pop()
                function = name
                nested.pos = match.end()
        self.pos = nested.pos
        return _PathOperand(root == "$", compile_steps(tokens), function)

    def regex(self) -> _Literal:
        start = self.pos + 1
        index = start
        while index < len(self.text):
            if self.text[index] == "\\":
                index += 2
                continue
            if self.text[index] == "/":
                break
            index += 1
        else:
            raise self.fail("unterminated regular expression")
        pattern = self.text[start:index]
        index += 1
        flags = 0
        while index < len(self.text) and self.text[index] in _REGEX_FLAGS:
            flags |= _REGEX_FLAGS[self.text[index]]
            index += 1
        self.pos = index
        try:
            return _Literal(re.compile(pattern, flags))
        except re.error as exc:
            raise self.fail(f"invalid regular expression ({exc})") from None

    def json_literal(self) -> Any:
        try:
            value, end = json.JSONDecoder().raw_decode(self.text, self.pos)
        except (ValueError, RecursionError):
            # Jayway also takes single-quoted strings in array literals: ['a', 'b'].
            value, end = self.single_quoted_array()
        self.pos = end
        return value

    def single_quoted_array(self) -> tuple[Any, int]:
        if not self.peek("["):
            raise self.fail("malformed JSON literal")
        self.pos += 1
        items: list[Any] = []
        self.spaces()
        while not self.peek("]"):
            operand = self.operand()
            if not isinstance(operand, _Literal):
                raise self.fail("an array literal holds values, not paths")
            items.append(operand.value)
            self.spaces()
            if self.peek(","):
                self.pos += 1
                self.spaces()
            elif not self.peek("]"):
                raise self.fail("expected ',' or ']' in an array literal")
        return items, self.pos + 1


_MAX_FILTER_NESTING: Final = 32
_FUNCTIONS: Final = frozenset(("length", "size", "min", "max", "avg", "stddev", "sum", "keys"))
_FUNCTION_CALL: Final = re.compile(r"\(\s*\)")


def _number(text: str) -> int | float:
    if any(char in text for char in ".eE"):
        return float(text)
    return int(text)


# --- filter terms -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Literal:
    value: Any

    def value_at(self, item: Any, root: Any) -> Any:
        return self.value


@dataclass(frozen=True, slots=True)
class _PathOperand:
    absolute: bool
    compiled: CompiledSteps
    function: str | None

    def value_at(self, item: Any, root: Any) -> Any:
        value = self.compiled.select(root if self.absolute else item, root)
        if self.function is None or value is UNDEFINED:
            return value
        return _apply_function(self.function, value)

    def exists(self, item: Any, root: Any) -> bool:
        value = self.value_at(item, root)
        if self.compiled.definite:
            return value is not UNDEFINED
        return bool(value)


_Operand = _Literal | _PathOperand


def _apply_function(name: str, value: Any) -> Any:
    if name in ("length", "size"):
        return len(value) if isinstance(value, list | dict | str) else UNDEFINED
    if name == "keys":
        return list(value) if isinstance(value, dict) else UNDEFINED
    if not isinstance(value, list) or not value or not all(_is_number(v) for v in value):
        return UNDEFINED
    if name == "sum":
        return float(sum(value))
    if name == "min":
        return float(min(value))
    if name == "max":
        return float(max(value))
    mean = sum(value) / len(value)
    if name == "avg":
        return float(mean)
    return float((sum((v - mean) ** 2 for v in value) / len(value)) ** 0.5)


def _either(
    left: Callable[[Any, Any], bool], right: Callable[[Any, Any], bool]
) -> Callable[[Any, Any], bool]:
    return lambda item, root: left(item, root) or right(item, root)


def _both(
    left: Callable[[Any, Any], bool], right: Callable[[Any, Any], bool]
) -> Callable[[Any, Any], bool]:
    return lambda item, root: left(item, root) and right(item, root)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if _is_number(value) else Decimal(value.strip())
    except (InvalidOperation, ValueError):
        return None


def _java_string(value: Any) -> str:
    # BigDecimal's toString of a JSON number, as Jayway compares a string with a number.
    return str(value) if not isinstance(value, float) or not value.is_integer() else repr(value)


def _equals(left: Any, right: Any) -> bool:
    """Jayway's ``==``: numbers by value, a string and a number as the left side reads them."""
    if left is UNDEFINED or right is UNDEFINED:
        return False
    if _is_number(left) and (_is_number(right) or isinstance(right, str)):
        other = _decimal(right)
        return other is not None and Decimal(str(left)) == other
    if isinstance(left, str) and _is_number(right):
        return left == _java_string(right)
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left is right
    if isinstance(left, list | dict) or isinstance(right, list | dict):
        return _same_json(left, right)
    return type(left) is type(right) and left == right


def _same_json(left: Any, right: Any) -> bool:
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(_same_json, left, right))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_same_json(left[k], right[k]) for k in left)
    if _is_number(left) and _is_number(right):
        return bool(left == right)
    return type(left) is type(right) and left == right


def _ordered(left: Any, right: Any) -> int | None:
    """-1, 0 or 1 when ``left`` and ``right`` are both numbers or both strings, else None."""
    if _is_number(left) and _is_number(right):
        return int(left > right) - int(left < right)
    if isinstance(left, str) and isinstance(right, str):
        return int(left > right) - int(left < right)
    return None


def _text_of(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if _is_number(value):
        return _java_string(value)
    return None


def _relation(
    operator: str, left: _Operand, right: _Operand, parser: _PathParser
) -> Callable[[Any, Any], bool]:
    if operator == "=~" and not (
        isinstance(right, _Literal) and isinstance(right.value, re.Pattern)
    ):
        raise parser.fail("'=~' takes a /regular expression/")
    compare: Callable[[Any, Any], bool]
    if operator == "==":
        compare = _equals
    elif operator == "!=":

        def compare(a: Any, b: Any) -> bool:
            return not _equals(a, b)

    elif operator in ("<", "<=", ">", ">="):
        wanted = {"<": (-1,), "<=": (-1, 0), ">": (1,), ">=": (1, 0)}[operator]

        def compare(a: Any, b: Any) -> bool:
            return _ordered(a, b) in wanted

    elif operator == "=~":

        def compare(a: Any, b: Any) -> bool:
            text = _text_of(a)
            if text is None:
                return False
            try:
                with time_limit(REGEX_TIME_LIMIT_SECONDS):
                    return b.fullmatch(text) is not None
            except ExpressionTimeout as exc:
                raise EvaluationError(
                    STATES_RUNTIME, f"The regular expression /{b.pattern}/ of a filter: {exc}"
                ) from None

    elif operator in ("in", "nin"):
        member = operator == "in"

        def compare(a: Any, b: Any) -> bool:
            if not isinstance(b, list) or a is UNDEFINED:
                return False
            return any(_equals(a, item) for item in b) is member

    elif operator in ("subsetof", "anyof", "noneof"):

        def compare(a: Any, b: Any) -> bool:
            if not isinstance(a, list) or not isinstance(b, list):
                return False
            hits = [any(_equals(x, y) for y in b) for x in a]
            if operator == "subsetof":
                return all(hits)
            return any(hits) if operator == "anyof" else not any(hits)

    elif operator == "contains":

        def compare(a: Any, b: Any) -> bool:
            if isinstance(a, str) and isinstance(b, str):
                return b in a
            return isinstance(a, list) and any(_equals(item, b) for item in a)

    elif operator == "size":

        def compare(a: Any, b: Any) -> bool:
            if not _is_number(b) or not isinstance(a, str | list | dict):
                return False
            return len(a) == int(b)

    else:  # "empty"

        def compare(a: Any, b: Any) -> bool:
            if not isinstance(b, bool) or not isinstance(a, str | list | dict):
                return False
            return (len(a) == 0) is b

    left_value, right_value = left.value_at, right.value_at
    return lambda item, root: compare(left_value(item, root), right_value(item, root))


# --- evaluation -------------------------------------------------------------------------------


def _descendants(node: Any) -> Iterator[Any]:
    """``node`` and everything inside it, in document order (pre-order), without recursion."""
    pending = [node]
    while pending:
        current = pending.pop()
        yield current
        if isinstance(current, dict):
            pending.extend(reversed(list(current.values())))
        elif isinstance(current, list):
            pending.extend(reversed(current))


def _apply(token: _Token, node: Any, root: Any, is_leaf: bool) -> Iterator[Any]:
    if isinstance(token, _Property):
        if not isinstance(node, dict):
            return
        if len(token.names) > 1 and is_leaf:
            # Jayway merges a property list at the end of a path into one object.
            yield {name: node[name] for name in token.names if name in node}
            return
        for name in token.names:
            if name in node:
                yield node[name]
    elif isinstance(token, _Index):
        if isinstance(node, list):
            for index in token.indexes:
                if -len(node) <= index < len(node):
                    yield node[index]
    elif isinstance(token, _Slice):
        if isinstance(node, list):
            yield from node[token.start : token.end]
    elif isinstance(token, _Wildcard):
        if isinstance(node, dict):
            yield from node.values()
        elif isinstance(node, list):
            yield from node
    elif isinstance(token, _Filter):
        test = token.test
        if isinstance(node, list):
            for item in node:
                if test(item, root):
                    yield item
        elif isinstance(node, dict) and test(node, root):
            yield node


class CompiledSteps:
    """The steps after a path's root, compiled.

    Attributes:
        definite: whether the steps select at most one value (Jayway's definite path).
        normalized: the steps in Jayway's bracket notation (``['a'][*]``).
    """

    __slots__ = ("_tokens", "definite", "normalized")

    def __init__(self, tokens: list[_Token]) -> None:
        self._tokens = tuple(tokens)
        last = len(tokens) - 1
        self.definite = all(
            token.definite(index == last) for index, token in enumerate(tokens)
        ) and not any(isinstance(token, _Scan) for token in tokens)
        self.normalized = "".join(token.text() for token in tokens)

    def matches(self, node: Any, root: Any) -> list[Any]:
        """Every value the steps select from ``node``, in document order."""
        current = [node]
        tokens = self._tokens
        index = 0
        while index < len(tokens):
            token = tokens[index]
            if isinstance(token, _Scan):
                index += 1
                after = tokens[index]
                is_leaf = index == len(tokens) - 1
                current = [
                    found
                    for start in current
                    for inner in _descendants(start)
                    for found in _apply(after, inner, root, is_leaf)
                ]
            else:
                is_leaf = index == len(tokens) - 1
                current = [
                    found for item in current for found in _apply(token, item, root, is_leaf)
                ]
            index += 1
        return current

    def select(self, node: Any, root: Any) -> Any:
        """The value of a definite path (or :data:`UNDEFINED`); the list of an indefinite one."""
        found = self.matches(node, root)
        if self.definite:
            return found[0] if found else UNDEFINED
        return found


def compile_steps(tokens: list[_Token]) -> CompiledSteps:
    """Compile parsed steps."""
    return CompiledSteps(tokens)


def parse_steps(rest: str, expression: str) -> CompiledSteps:
    """Parse and compile the steps after a path's root (``rest`` of ``$.a[*]`` is ``.a[*]``).

    Raises:
        ExpressionSyntaxError: the steps are not JSONPath Jayway reads.
    """
    parser = _PathParser(rest, expression)
    tokens = parser.steps()
    if tokens and isinstance(tokens[-1], _Scan):
        raise parser.fail("'..' must be followed by a name, '*' or a bracket")
    return CompiledSteps(tokens)
