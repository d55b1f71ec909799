"""JSONPath for ASL: paths (``InputPath``, ``.$`` values) and reference paths (``ResultPath``).

A path is compiled once. The common case, a chain of object keys and array indexes, becomes a
tuple walked by a tight loop; the rest of Jayway JsonPath's grammar (what AWS uses: wildcards,
filters, slices, deep scans, index and property lists) is ``_jsonpath``'s, and, as in Jayway,
such an *indefinite* path yields a list of every match.

Three roots exist in JSONPath mode: ``$`` (the document being processed), ``$$`` (the context
object) and ``$name`` (the workflow variable ``name``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final, Literal

from stepsaga.workflows._expressions._errors import EvaluationError, ExpressionSyntaxError
from stepsaga.workflows._expressions._json_text import compact_json
from stepsaga.workflows._expressions._jsonpath import UNDEFINED, CompiledSteps, parse_steps
from stepsaga.workflows._expressions._scope import EvaluationScope
from stepsaga.workflows.facts import STATES_REFERENCE_PATH_CONFLICT, STATES_RUNTIME

RootKind = Literal["input", "context", "variable"]
Key = str | int

_VARIABLE_ROOT: Final = re.compile(r"\$([^\W\d]\w*)")
# A dotted member name: anything up to the next separator or JSONPath operator character.
_DOT_NAME: Final = re.compile(r"[^.\[\]'\"()*?@,:\s]+")
_BRACKET_INDEX: Final = re.compile(r"\[\s*(-?\d+)\s*\]")
_BRACKET_NAME: Final = re.compile(r"""\[\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\s*\]""")


class PathNotFoundError(EvaluationError):
    """A definite path selected nothing.

    By default ``error``/``cause`` are AWS's for ``InputPath``/``OutputPath``; reference paths
    (:meth:`ReferencePath.get`) and ``.$`` template keys word it their own way, built from
    ``path`` and ``normalized``.

    Attributes:
        path: the path as written.
        normalized: the path in Jayway's bracket notation, e.g. ``$['a'][0]``.
    """

    def __init__(
        self,
        path: str,
        normalized: str,
        *,
        error: str = STATES_RUNTIME,
        cause: str | None = None,
    ) -> None:
        if cause is None:
            cause = f"Invalid path '{path}' : No results for path: {normalized}"
        super().__init__(error, cause)
        self.path = path
        self.normalized = normalized


def _split_root(text: str) -> tuple[RootKind, str | None, str]:
    """Split ``text`` into its root kind, variable name and the rest of the path."""
    if text.startswith("$$"):
        return "context", None, text[2:]
    match = _VARIABLE_ROOT.match(text)
    if match is not None:
        return "variable", match.group(1), text[match.end() :]
    if text.startswith("$"):
        return "input", None, text[1:]
    raise ExpressionSyntaxError("a path must start with '$'", expression=text)


def _simple_keys(rest: str) -> tuple[Key, ...] | None:
    """Parse ``rest`` as a chain of ``.name``, ``['name']`` and ``[index]``; None if not simple."""
    keys: list[Key] = []
    pos = 0
    end = len(rest)
    while pos < end:
        char = rest[pos]
        if char == "." and rest.startswith("[", pos + 1):
            pos += 1  # Jayway reads "$.[0]" and "$.['x']" as "$[0]" and "$['x']"
        elif char == ".":
            match = _DOT_NAME.match(rest, pos + 1)
            if match is None:
                return None
            keys.append(match.group(0))
            pos = match.end()
        elif char == "[":
            index = _BRACKET_INDEX.match(rest, pos)
            if index is not None:
                keys.append(int(index.group(1)))
                pos = index.end()
                continue
            name = _BRACKET_NAME.match(rest, pos)
            if name is None:
                return None
            # As in Jayway, a backslash only escapes the quote character that delimits the name.
            if name.group(1) is not None:
                keys.append(name.group(1).replace("\\'", "'"))
            else:
                keys.append(name.group(2).replace('\\"', '"'))
            pos = name.end()
        else:
            return None
    return tuple(keys)


def _normalized(keys: tuple[Key, ...]) -> str:
    parts = ["$"]
    for key in keys:
        parts.append(f"[{key}]" if isinstance(key, int) else f"['{key}']")
    return "".join(parts)


_MISSING: Final = object()


def _identity(node: Any) -> Any:
    return node


def _first(data: Any, _scope: EvaluationScope | None) -> Any:
    return data


Selector = Callable[[Any, "EvaluationScope | None"], Any]
_EMPTY_SCOPE: Final = EvaluationScope()
_LOOKUP_ERRORS: Final = (KeyError, IndexError, TypeError)


def _key_walker(text: str, keys: tuple[Key, ...]) -> Callable[[Any], Any]:
    """A closure following ``keys`` from a node, raising PathNotFoundError on a missing step.

    Subscripting does the work and a failed lookup is the exception, which is the fast case in
    CPython; the only extra check is that an integer step applies to a list (a string would
    otherwise be indexed by character).
    """
    normalized = _normalized(keys)
    if all(isinstance(key, str) for key in keys):
        if len(keys) == 1:
            (only,) = keys

            def walk_one(node: Any) -> Any:
                try:
                    return node[only]
                except _LOOKUP_ERRORS:
                    raise PathNotFoundError(text, normalized) from None

            return walk_one
        if len(keys) == 2:
            first, second = keys

            def walk_two(node: Any) -> Any:
                try:
                    return node[first][second]
                except _LOOKUP_ERRORS:
                    raise PathNotFoundError(text, normalized) from None

            return walk_two

        def walk_keys(node: Any) -> Any:
            try:
                for key in keys:
                    node = node[key]
                return node
            except _LOOKUP_ERRORS:
                raise PathNotFoundError(text, normalized) from None

        return walk_keys

    def walk_mixed(node: Any) -> Any:
        try:
            for key in keys:
                if key.__class__ is int and node.__class__ is not list:
                    raise KeyError(key)
                node = node[key]
            return node
        except _LOOKUP_ERRORS:
            raise PathNotFoundError(text, normalized) from None

    return walk_mixed


def _steps_walker(text: str, steps: CompiledSteps) -> Callable[[Any], Any]:
    """The closure for a path the key walker cannot take (``_jsonpath``'s Jayway grammar)."""
    if not steps.definite:
        return lambda node: steps.matches(node, node)
    normalized = "$" + steps.normalized

    def walk_definite(node: Any) -> Any:
        found = steps.select(node, node)
        if found is UNDEFINED:
            raise PathNotFoundError(text, normalized)
        return found

    return walk_definite


# Jayway JSONPath functions, applied to what the rest of the path selects.
_FUNCTION: Final = re.compile(r"\.(length|size|sum|min|max|avg|stddev|keys|first|last)\(\)\s*\Z")


def _with_function(walk: Callable[[Any], Any], name: str, text: str) -> Callable[[Any], Any]:
    def fail(value: Any) -> EvaluationError:
        kind = type(value).__name__ if value is not None else "null"
        return EvaluationError(
            STATES_RUNTIME, f"Invalid path '{text}': {name}() cannot be applied to {kind}"
        )

    def apply(node: Any) -> Any:
        value = walk(node)
        if name in ("length", "size"):
            if isinstance(value, list | dict | str):
                return len(value)
            raise fail(value)
        if name == "keys":
            if isinstance(value, dict):
                return list(value)
            raise fail(value)
        if not isinstance(value, list) or not value:
            raise fail(value)
        if name == "first":
            return value[0]
        if name == "last":
            return value[-1]
        numbers = [v for v in value if isinstance(v, int | float) and not isinstance(v, bool)]
        if len(numbers) != len(value):
            raise fail(value)
        # Jayway computes these in doubles.
        if name == "sum":
            return float(sum(numbers))
        if name == "min":
            return float(min(numbers))
        if name == "max":
            return float(max(numbers))
        mean = sum(numbers) / len(numbers)
        if name == "avg":
            return float(mean)
        return float((sum((v - mean) ** 2 for v in numbers) / len(numbers)) ** 0.5)

    return apply


class Path:
    """A compiled JSONPath, evaluated against a document and a scope.

    A *definite* path (keys and indexes only) returns the single node it selects and raises
    :class:`PathNotFoundError` when there is none; an *indefinite* one returns the list of all
    matches (possibly empty), as Jayway JSONPath does on AWS.

    Attributes:
        text: the path as written.
        root: ``"input"`` (``$``), ``"context"`` (``$$``) or ``"variable"`` (``$name``).
        variable: the variable name when ``root == "variable"``.
        keys: the keys of a definite path, None for an indefinite one (or one that ends with
            a function).
        function: the Jayway function the path ends with (``length``, ``sum``...), if any.
    """

    __slots__ = ("_select", "_steps", "function", "keys", "root", "text", "variable")

    def __init__(self, text: str) -> None:
        if not isinstance(text, str):
            raise ExpressionSyntaxError("a path must be a string", expression=repr(text))
        stripped = text.strip()
        self.text = text
        self.root, self.variable, rest = _split_root(stripped)
        function = _FUNCTION.search(rest)
        if function is not None:
            rest = rest[: function.start()]
        self.function = function.group(1) if function is not None else None
        self.keys = _simple_keys(rest)
        walk: Callable[[Any], Any]
        self._steps: CompiledSteps | None = None
        if self.keys is None:
            steps = parse_steps(rest, text)
            self._steps = steps
            walk = _steps_walker(text, steps)
        elif self.keys:
            walk = _key_walker(text, self.keys)
        else:
            walk = _identity
        if self.function is not None:
            walk = _with_function(walk, self.function, text)
            self.keys = None  # a computed value: it cannot be written to
        self._select = self._selector(walk)

    def _selector(self, walk: Callable[[Any], Any]) -> Selector:
        if self.root == "input":
            if walk is _identity:
                return _first
            return lambda data, _scope: walk(data)
        if self.root == "context":
            return lambda _data, scope: walk((scope or _EMPTY_SCOPE).context)
        assert self.variable is not None
        name: str = self.variable
        text = self.text

        def variable(_data: Any, scope: EvaluationScope | None) -> Any:
            variables = (scope or _EMPTY_SCOPE).variables
            try:
                value = variables[name]
            except KeyError:
                raise EvaluationError(
                    STATES_RUNTIME,
                    f"Invalid path '{text}': The variable '{name}' is not defined.",
                ) from None
            return walk(value)

        return variable

    @property
    def normalized(self) -> str:
        """The path in Jayway's bracket notation (``$['a'][0]``), as AWS quotes it in causes."""
        if self.keys is not None:
            return _normalized(self.keys)
        return "$" + self._steps.normalized if self._steps is not None else self.text

    @property
    def definite(self) -> bool:
        """Whether the path selects one value (Jayway's definite path) rather than a list."""
        return self.keys is not None or (
            self._steps is not None and self._steps.definite and self.function is None
        )

    def evaluate(self, data: Any, scope: EvaluationScope | None = None) -> Any:
        """Select from ``data`` (or the context / a variable, depending on the root).

        Args:
            data: the JSON document ``$`` refers to.
            scope: the context object and variables; only needed for ``$$`` and ``$name``.

        Returns:
            The selected node (shared, not copied), or the list of matches of an
            indefinite path.

        Raises:
            PathNotFoundError: a definite path selects nothing.
            EvaluationError: a variable the path names is not defined.
        """
        return self._select(data, scope)

    def exists(self, data: Any, scope: EvaluationScope | None = None) -> bool:
        """Whether the path selects something (``IsPresent``)."""
        try:
            found = self._select(data, scope)
        except EvaluationError:  # includes PathNotFoundError
            return False
        return self.definite or self.function is not None or bool(found)

    def __repr__(self) -> str:
        return f"Path({self.text!r})"


def _conflict_cause(key: Key, target: Any) -> str:
    # AWS's wording, as users quote it from failed executions (ItemsPath, ResultPath).
    return f'Unable to apply step "{key}" to input {compact_json(target)}'


class ReferencePath(Path):
    """A path that identifies a single node, so it can be written to (``ResultPath``).

    Raises:
        ExpressionSyntaxError: at construction, when the text is not a reference path.
    """

    __slots__ = ()

    def __init__(self, text: str) -> None:
        super().__init__(text)
        if self.keys is None:
            raise ExpressionSyntaxError(
                "a reference path may only use '.name', \"['name']\" and '[index]' steps",
                expression=text,
            )

    def get(self, data: Any, scope: EvaluationScope | None = None) -> Any:
        """Read the node the path identifies (``ItemsPath`` and the other ``*Path`` fields).

        Raises:
            PathNotFoundError: with AWS's ``States.ReferencePathConflict`` and cause
                ``Unable to apply step "<key>" to input <JSON>``, naming the first step that
                does not exist.
            EvaluationError: a variable the path names is not defined.
        """
        try:
            return self._select(data, scope)
        except PathNotFoundError:
            if self.root == "input":
                whole = data
            elif self.root == "context":
                whole = (scope or _EMPTY_SCOPE).context
            else:
                whole = (scope or _EMPTY_SCOPE).variables[self.variable or ""]
            assert self.keys is not None
            node = whole
            for key in self.keys:
                try:
                    if isinstance(key, int) and not isinstance(node, list):
                        raise KeyError(key)
                    node = node[key]
                except _LOOKUP_ERRORS:
                    raise PathNotFoundError(
                        self.text,
                        self.normalized,
                        error=STATES_REFERENCE_PATH_CONFLICT,
                        cause=_conflict_cause(key, whole),
                    ) from None
            raise

    def set(self, target: Any, value: Any) -> Any:
        """Return ``target`` with ``value`` placed at this path, creating missing objects.

        ``target`` is not modified: the containers along the path are shallow-copied, the rest
        of the document is shared.

        Raises:
            EvaluationError: ``States.ReferencePathConflict`` (AWS's name; the language also
                reserves ``States.ResultPathMatchFailure``) when a node on the path is not an
                object, or an index is out of range, so the value cannot be placed.
            ExpressionSyntaxError: the path's root is not ``$``.
        """
        if self.root != "input":
            raise ExpressionSyntaxError(
                "only a path rooted at '$' can be written to", expression=self.text
            )
        keys = self.keys
        assert keys is not None
        if not keys:
            return value
        return self._set(target, keys, 0, value, target)

    def _set(self, node: Any, keys: tuple[Key, ...], depth: int, value: Any, whole: Any) -> Any:
        key = keys[depth]
        last = depth == len(keys) - 1
        if isinstance(key, str):
            if node is _MISSING:
                node = {}
            elif not isinstance(node, dict):
                raise self._conflict(key, whole)
            copy = dict(node)
            copy[key] = (
                value if last else self._set(node.get(key, _MISSING), keys, depth + 1, value, whole)
            )
            return copy
        if not isinstance(node, list) or key < -len(node) or key >= len(node):
            raise self._conflict(key, whole)
        items = list(node)
        items[key] = value if last else self._set(node[key], keys, depth + 1, value, whole)
        return items

    def _conflict(self, key: Key, target: Any) -> EvaluationError:
        return EvaluationError(STATES_REFERENCE_PATH_CONFLICT, _conflict_cause(key, target))

    def __repr__(self) -> str:
        return f"ReferencePath({self.text!r})"


def compile_path(text: str) -> Path:
    """Compile a JSONPath-mode path (``$...``, ``$$...`` or ``$name...``).

    Raises:
        ExpressionSyntaxError: the text is not a valid path.
    """
    return Path(text)


def compile_reference_path(text: str) -> ReferencePath:
    """Compile a reference path: a path that identifies one node (``$.a.b[0]['c d']``).

    Raises:
        ExpressionSyntaxError: the text is not a valid reference path.
    """
    return ReferencePath(text)
