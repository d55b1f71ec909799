"""Assertions on the path an execution took: the states it entered, in order, and those it did not.

Each takes an engine `Execution` or a `LocalService` run (`ServiceRun`). The path is read from
the history (`...StateEntered` events, in order), as `ServiceRun.path` is; `scope=` keeps the
states of one graph only (`""` the top level, `"/States/P/Branches/0"` a Parallel branch,
`"/States/M/ItemProcessor"` a Map body), which needs the definition the execution ran
(`Execution.definition`). When the definition is known, every state name given is checked
against it, so a misspelt name fails loudly instead of passing `assert_not_visited`.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from types import EllipsisType
from typing import TYPE_CHECKING, Any, Final

from stepsaga.testing._graphs import canonical_scope, state_scopes

if TYPE_CHECKING:
    from stepsaga.infra.local.service import ServiceRun
    from stepsaga.infra.local.stepfunctions import Execution

__all__ = ("assert_not_visited", "assert_path", "assert_visited", "path_of")

# Around the state a failure points at, this many states are listed on each side.
_CONTEXT: Final = 10
# A path longer than this is shown with its middle elided.
_ARROW_STATES: Final = 30


def path_of(run: Execution | ServiceRun, *, scope: str | None = None) -> tuple[str, ...]:
    """The names of the states `run` entered, in order.

    Args:
        run: An engine `Execution`, or a `ServiceRun` from `LocalService.execute`.
        scope: Only the states of this graph (`""`: the top level); None: every state.

    Raises:
        ValueError: `scope` is given but the definition is unknown, or names no graph of it.
    """
    return _Subject(run, scope).path


def assert_path(
    run: Execution | ServiceRun,
    expected: Sequence[str | EllipsisType],
    *,
    scope: str | None = None,
) -> None:
    """Assert that `run` entered exactly the states `expected`, in order.

    `...` in `expected` stands for any states, none included:
    `assert_path(run, ["Begin", "ReserveStock", ...])` checks how the path starts,
    `[..., "CompensateReserveStock", ..., "Failed"]` that a state comes before the end.

    Args:
        run: An engine `Execution`, or a `ServiceRun` from `LocalService.execute`.
        expected: The state names, in order, with `...` where any states may come.
        scope: Compare the path of this graph only (`""`: the top level); None: every state.

    Raises:
        AssertionError: The path differs; the message shows the expected and actual paths and
            points at the first state where they part.
        ValueError: A name is not a state of the definition (or of `scope`), or `scope` is
            unknown.
    """
    if isinstance(expected, str):
        raise TypeError("expected must be a sequence of state names, not one string")
    subject = _Subject(run, scope)
    subject.check_names([name for name in expected if isinstance(name, str)])
    path = subject.path
    if not any(item is ... for item in expected):
        names = [name for name in expected if isinstance(name, str)]
        difference = _first_difference(names, path)
        if difference is not None:
            reason = _exact_reason(names, path, difference)
            raise AssertionError(f"{subject.header(reason)}\n{_table(names, path, difference)}")
        return
    failure = _match(expected, path)
    if failure is not None:
        index, reason = failure
        lines = [
            subject.header(reason),
            f"expected: {_arrow(['…' if item is ... else str(item) for item in expected])}",
            *_listing(path, index),
        ]
        raise AssertionError("\n".join(lines))


def assert_visited(run: Execution | ServiceRun, *states: str, scope: str | None = None) -> None:
    """Assert that `run` entered every one of `states` (in any order).

    Raises:
        AssertionError: Some were never entered; the message names them and shows the path.
        ValueError: No state is named, a name is not a state of the definition (or of
            `scope`), or `scope` is unknown.
    """
    subject = _Subject(run, scope)
    subject.check_names(_named(states, "assert_visited"))
    missing = [name for name in dict.fromkeys(states) if name not in subject.path]
    if missing:
        reason = f"never entered: {', '.join(repr(name) for name in missing)}"
        raise AssertionError(f"{subject.header(reason)}\npath: {_arrow(subject.path)}")


def assert_not_visited(run: Execution | ServiceRun, *states: str, scope: str | None = None) -> None:
    """Assert that `run` entered none of `states`.

    Raises:
        AssertionError: Some were entered; the message says where in the path.
        ValueError: No state is named, a name is not a state of the definition (or of
            `scope`), or `scope` is unknown.
    """
    subject = _Subject(run, scope)
    subject.check_names(_named(states, "assert_not_visited"))
    path = subject.path
    entered = [
        f"{name!r} (state #{path.index(name) + 1})"
        for name in dict.fromkeys(states)
        if name in path
    ]
    if entered:
        reason = f"entered, but should not have been: {', '.join(entered)}"
        raise AssertionError(f"{subject.header(reason)}\npath: {_arrow(path)}")


class _Subject:
    """The execution asserted on: its path (of one scope, maybe) and its definition's names."""

    def __init__(self, run: Any, scope: str | None) -> None:
        # A ServiceRun holds its execution, and its path already read from the history.
        execution = getattr(run, "execution", run)
        path = getattr(run, "path", None)
        if path is None:
            history = getattr(execution, "history", None)
            if history is None:
                raise TypeError(f"expected an Execution or a ServiceRun, got {type(run).__name__}")
            path = [
                event["stateEnteredEventDetails"]["name"]
                for event in history
                if event["type"].endswith("StateEntered")
            ]
        self.execution = execution
        self.scope = None if scope is None else canonical_scope(scope)
        definition = getattr(execution, "definition", None)
        self.scopes: dict[str, str] | None = (
            None if definition is None else state_scopes(definition)
        )
        if self.scope is not None:
            if self.scopes is None:
                raise ValueError(
                    "scope= needs the definition the execution ran (Execution.definition); "
                    "this execution has none"
                )
            known = sorted(set(self.scopes.values()))
            if self.scope not in known:
                raise ValueError(
                    f"scope {scope!r} is no graph of this state machine; its scopes are "
                    f"{', '.join(repr(s) for s in known)}"
                )
            path = [name for name in path if self.scopes.get(name) == self.scope]
        self.path: tuple[str, ...] = tuple(path)

    def check_names(self, names: Sequence[str]) -> None:
        """Refuse names that are not states of the definition (or of the scope), when known."""
        if self.scopes is None:
            return
        for name in names:
            where = self.scopes.get(name)
            if where is None:
                close = difflib.get_close_matches(name, list(self.scopes), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ValueError(f"{name!r} is not a state of this state machine{hint}")
            if self.scope is not None and where != self.scope:
                raise ValueError(f"{name!r} is in scope {where!r}, not in scope {self.scope!r}")

    def header(self, reason: str) -> str:
        """The first line of a failure: what is wrong, the scope, the execution's outcome."""
        where = "" if self.scope is None else f" (scope {self.scope!r})"
        status = getattr(self.execution, "status", None)
        error = getattr(self.execution, "error", None)
        outcome = "" if status is None else f"; the execution {status}"
        if error:
            outcome += f" with {error}"
        return f"path{where}: {reason}{outcome}"


def _named(states: Sequence[str], function: str) -> Sequence[str]:
    if not states:
        raise ValueError(f"{function} needs at least one state name")
    for name in states:
        if not isinstance(name, str):
            raise TypeError(f"{function} takes state names, got {type(name).__name__}")
    return states


def _first_difference(expected: Sequence[str], actual: Sequence[str]) -> int | None:
    for index, (want, got) in enumerate(zip(expected, actual, strict=False)):
        if want != got:
            return index
    if len(expected) != len(actual):
        return min(len(expected), len(actual))
    return None


def _exact_reason(expected: Sequence[str], actual: Sequence[str], index: int) -> str:
    if index >= len(actual):
        return (
            f"ended after {len(actual)} states; expected {expected[index]!r} as state #{index + 1}"
        )
    if index >= len(expected):
        return (
            f"goes on past the {len(expected)} expected states: state #{index + 1} is "
            f"{actual[index]!r}"
        )
    return f"differs at state #{index + 1}: expected {expected[index]!r}, got {actual[index]!r}"


def _table(expected: Sequence[str], actual: Sequence[str], mark: int) -> str:
    """Expected and actual paths side by side, numbered, the first difference marked `>`."""
    rows = max(len(expected), len(actual))
    first, last = max(0, mark - _CONTEXT), min(rows, mark + _CONTEXT + 1)
    width = max([len("expected"), *(len(name) for name in expected[first:last])])
    digits = len(str(rows))
    lines = [f"    {'#'.rjust(digits)}  {'expected'.ljust(width)}  actual"]
    if first:
        lines.append(f"    {'…'.rjust(digits)}  ({first} states before)")
    for i in range(first, last):
        want = expected[i] if i < len(expected) else ""
        got = actual[i] if i < len(actual) else ""
        marker = ">" if i == mark else " "
        lines.append(f"  {marker} {str(i + 1).rjust(digits)}  {want.ljust(width)}  {got}".rstrip())
    if last < rows:
        lines.append(f"    {'…'.rjust(digits)}  ({rows - last} states after)")
    return "\n".join(lines)


def _listing(path: Sequence[str], mark: int) -> list[str]:
    """The actual path, numbered, with the state a failure points at marked `>`."""
    if not path:
        return ["actual: (no state entered)"]
    mark = min(mark, len(path) - 1)
    first, last = max(0, mark - _CONTEXT), min(len(path), mark + _CONTEXT + 1)
    digits = len(str(len(path)))
    lines = [f"actual ({len(path)} states):"]
    if first:
        lines.append(f"    {'…'.rjust(digits)}  ({first} states before)")
    for i in range(first, last):
        lines.append(f"  {'>' if i == mark else ' '} {str(i + 1).rjust(digits)}  {path[i]}")
    if last < len(path):
        lines.append(f"    {'…'.rjust(digits)}  ({len(path) - last} states after)")
    return lines


def _match(pattern: Sequence[str | EllipsisType], path: Sequence[str]) -> tuple[int, str] | None:
    """Where `path` stops fitting `pattern` (a state index and why), None when it fits.

    `pattern` is literal runs of names separated by `...`: the first run is anchored at the
    start, the last at the end, each run between found leftmost (which is optimal when every
    gap may hold any states).
    """
    runs: list[list[str]] = [[]]
    for item in pattern:
        if isinstance(item, str):
            runs[-1].append(item)
        else:
            runs.append([])
    first, *middle, last = runs
    for i, name in enumerate(first):
        if i >= len(path):
            return i, f"ended after {len(path)} states; expected {name!r} as state #{i + 1}"
        if path[i] != name:
            return i, f"differs at state #{i + 1}: expected {name!r}, got {path[i]!r}"
    position = len(first)
    for run in middle:
        if not run:
            continue
        found = _find(path, run, position)
        if found is None:
            after = f"after state #{position}" if position else "anywhere"
            return position, f"expected {_arrow(run)} {after}; it is not there"
        position = found + len(run)
    if last:
        start = len(path) - len(last)
        if start < position:
            return position, (
                f"expected {_arrow(last)} after state #{position}; the path ends at state "
                f"#{len(path)}"
            )
        if list(path[start:]) != last:
            return (
                start,
                f"expected it to end with {_arrow(last)}; it ends with {_arrow(path[start:])}",
            )
    return None


def _find(path: Sequence[str], run: Sequence[str], start: int) -> int | None:
    for i in range(start, len(path) - len(run) + 1):
        if list(path[i : i + len(run)]) == list(run):
            return i
    return None


def _arrow(path: Sequence[str]) -> str:
    if not path:
        return "(no state entered)"
    if len(path) <= _ARROW_STATES:
        return " → ".join(path)
    half = _ARROW_STATES // 3
    hidden = len(path) - 2 * half
    return f"{' → '.join(path[:half])} → … ({hidden} more) … → {' → '.join(path[-half:])}"
