r"""Parsing of intrinsic function calls: ``States.Format('{} items', $.count)``.

Arguments are string literals in single quotes (backslash escapes ``\'``, ``\{``, ``\}``,
``\\``), numbers, ``true``/``false``/``null``, paths (``$``, ``$$``, ``$name``) and nested
calls. The call is checked against the function's arity when it is parsed, so a definition with
``States.MathAdd(1)`` is refused before it runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from stepsaga.workflows._expressions._errors import ExpressionSyntaxError
from stepsaga.workflows._expressions._paths import Path
from stepsaga.workflows.facts import MAX_INTRINSIC_CALLS

# name -> (minimum, maximum) number of arguments; None = unbounded.
ARITY: Final[dict[str, tuple[int, int | None]]] = {
    "States.Format": (1, None),
    "States.StringToJson": (1, 1),
    "States.JsonToString": (1, 1),
    "States.Array": (0, None),
    "States.ArrayPartition": (2, 2),
    "States.ArrayContains": (2, 2),
    "States.ArrayRange": (3, 3),
    "States.ArrayGetItem": (2, 2),
    "States.ArrayLength": (1, 1),
    "States.ArrayUnique": (1, 1),
    "States.Base64Encode": (1, 1),
    "States.Base64Decode": (1, 1),
    "States.Hash": (2, 2),
    "States.JsonMerge": (3, 3),
    "States.MathRandom": (2, 3),
    "States.MathAdd": (2, 2),
    "States.StringSplit": (2, 2),
    "States.UUID": (0, 0),
}

_NAME: Final = re.compile(r"States\.[A-Za-z0-9]+")
_NUMBER: Final = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_KEYWORD: Final = re.compile(r"(true|false|null)\b")


@dataclass(frozen=True, slots=True)
class LiteralArgument:
    r"""A literal argument.

    Attributes:
        value: the decoded value (str, int, float, bool or None).
        raw: for strings, the text between the quotes with escapes kept, which
            ``States.Format`` needs to tell ``\{`` from a ``{}`` placeholder.
    """

    value: Any
    raw: str | None = None


@dataclass(frozen=True, slots=True)
class PathArgument:
    """A path argument, evaluated against the state's input, context or variables."""

    path: Path


@dataclass(frozen=True, slots=True)
class IntrinsicCall:
    """A parsed intrinsic function call.

    Attributes:
        name: the function name, e.g. ``"States.Format"``.
        args: the arguments, in order.
        text: the call as written.
    """

    name: str
    args: tuple[LiteralArgument | PathArgument | IntrinsicCall, ...]
    text: str


Argument = LiteralArgument | PathArgument | IntrinsicCall


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.calls = 0

    def fail(self, message: str) -> ExpressionSyntaxError:
        return ExpressionSyntaxError(
            f"malformed intrinsic function call: {message} at position {self.pos}",
            expression=self.text,
        )

    def skip_spaces(self) -> None:
        text = self.text
        while self.pos < len(text) and text[self.pos].isspace():
            self.pos += 1

    def call(self) -> IntrinsicCall:
        start = self.pos
        # Counted before the arguments are read, which also bounds the parser's recursion.
        self.calls += 1
        if self.calls > MAX_INTRINSIC_CALLS:
            raise ExpressionSyntaxError(
                f"a field may hold at most {MAX_INTRINSIC_CALLS} intrinsic function calls",
                expression=self.text,
            )
        match = _NAME.match(self.text, self.pos)
        if match is None:
            raise self.fail("expected a function name such as States.Format")
        name = match.group(0)
        if name not in ARITY:
            raise ExpressionSyntaxError(f"unknown intrinsic function {name}", expression=self.text)
        self.pos = match.end()
        self.skip_spaces()
        if self.pos >= len(self.text) or self.text[self.pos] != "(":
            raise self.fail("expected '('")
        self.pos += 1
        args: list[Argument] = []
        self.skip_spaces()
        if self.pos < len(self.text) and self.text[self.pos] == ")":
            self.pos += 1
        else:
            while True:
                self.skip_spaces()
                args.append(self.argument())
                self.skip_spaces()
                if self.pos >= len(self.text):
                    raise self.fail("expected ')'")
                char = self.text[self.pos]
                self.pos += 1
                if char == ")":
                    break
                if char != ",":
                    raise self.fail("expected ',' or ')'")
        low, high = ARITY[name]
        if len(args) < low or (high is not None and len(args) > high):
            expected = (
                str(low)
                if low == high
                else f"at least {low}"
                if high is None
                else (f"{low} to {high}")
            )
            raise ExpressionSyntaxError(
                f"{name} takes {expected} argument(s), got {len(args)}", expression=self.text
            )
        return IntrinsicCall(name, tuple(args), self.text[start : self.pos])

    def argument(self) -> Argument:
        text = self.text
        if self.pos >= len(text):
            raise self.fail("expected an argument")
        char = text[self.pos]
        if char == "'":
            return self.string()
        if char == "$":
            return PathArgument(self.path())
        if text.startswith("States.", self.pos):
            return self.call()
        number = _NUMBER.match(text, self.pos)
        if number is not None:
            self.pos = number.end()
            literal = number.group(0)
            is_int = not any(c in literal for c in ".eE")
            return LiteralArgument(int(literal) if is_int else float(literal))
        keyword = _KEYWORD.match(text, self.pos)
        if keyword is not None:
            self.pos = keyword.end()
            return LiteralArgument({"true": True, "false": False, "null": None}[keyword.group(1)])
        raise self.fail("expected a string, number, boolean, null, path or function call")

    def string(self) -> LiteralArgument:
        text = self.text
        self.pos += 1
        start = self.pos
        decoded: list[str] = []
        while self.pos < len(text):
            char = text[self.pos]
            if char == "\\":
                if self.pos + 1 >= len(text):
                    break
                decoded.append(text[self.pos + 1])
                self.pos += 2
                continue
            if char == "'":
                raw = text[start : self.pos]
                self.pos += 1
                return LiteralArgument("".join(decoded), raw)
            decoded.append(char)
            self.pos += 1
        raise self.fail("unterminated string literal")

    def path(self) -> Path:
        # A path ends at the first ',' or ')' outside brackets, parentheses and quotes.
        text = self.text
        start = self.pos
        depth = 0
        quote: str | None = None
        while self.pos < len(text):
            char = text[self.pos]
            if quote is not None:
                if char == "\\":
                    self.pos += 1
                elif char == quote:
                    quote = None
            elif char in "'\"":
                quote = char
            elif char in "[(":
                depth += 1
            elif char in "])":
                if depth == 0:
                    break
                depth -= 1
            elif char == "," and depth == 0:
                break
            self.pos += 1
        source = text[start : self.pos].strip()
        try:
            return Path(source)
        except ExpressionSyntaxError as exc:
            raise ExpressionSyntaxError(exc.message, expression=self.text) from exc


def parse_intrinsic(text: str) -> IntrinsicCall:
    """Parse an intrinsic function call such as ``States.Format('Hi {}', $.name)``.

    Raises:
        ExpressionSyntaxError: the call is malformed, names an unknown function or has the
            wrong number of arguments.
    """
    parser = _Parser(text.strip())
    call = parser.call()
    parser.skip_spaces()
    if parser.pos != len(parser.text):
        raise parser.fail("unexpected text after the call")
    return call


def is_intrinsic(text: str) -> bool:
    """Whether a ``.$`` value is an intrinsic function call rather than a path."""
    return text.lstrip().startswith("States.")
