"""A definition's states, the graphs (`States` objects) that hold them, and their JSON pointers.

Shared by the path assertions (which scope a state lives in) and the coverage (every state and
every transition a definition allows). State names are unique across a whole state machine,
branches and Map bodies included (AWS refuses a definition that reuses one), so a name alone
tells which graph a state belongs to.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stepsaga.workflows.asl import State, StateGraph, StateMachine

__all__ = ("canonical_scope", "escape", "state_scopes", "walk")


def escape(token: str) -> str:
    """A JSON pointer token (RFC 6901): a state name may hold `~` or `/`."""
    return token.replace("~", "~0").replace("/", "~1")


def _children(at: str, state: State) -> list[tuple[str, StateGraph]]:
    """The graphs a state holds, with their scopes: a Parallel's branches, a Map's body."""
    # Imported here: the plugin module imports this one, and the ASL model (pydantic) is only
    # needed once a definition is walked.
    from stepsaga.workflows.asl import MapState, ParallelState

    if isinstance(state, ParallelState):
        return [(f"{at}/Branches/{i}", branch) for i, branch in enumerate(state.branches)]
    if isinstance(state, MapState) and state.processor is not None:
        field = "ItemProcessor" if state.item_processor is not None else "Iterator"
        return [(f"{at}/{field}", state.processor)]
    return []


def walk(definition: StateMachine) -> Iterator[tuple[str, str, State]]:
    """Every state of `definition` as (scope, name, state), depth first in definition order.

    A Parallel's or a Map's inner states come right after it, as a reader meets them.
    """
    yield from _walk("", definition)


def _walk(scope: str, graph: StateGraph) -> Iterator[tuple[str, str, State]]:
    for name, state in graph.states.items():
        yield scope, name, state
        for child_scope, child in _children(f"{scope}/States/{escape(name)}", state):
            yield from _walk(child_scope, child)


def state_scopes(definition: StateMachine) -> dict[str, str]:
    """State name to the scope of the graph that holds it (canonical: see `canonical_scope`)."""
    return {name: canonical_scope(scope) for scope, name, _ in walk(definition)}


def canonical_scope(scope: str) -> str:
    """`scope` with each legacy `Iterator` field spelled `ItemProcessor`.

    A Map body is the same graph whichever field the definition wrote, and an engine may name
    either in a transition's scope; comparing canonical scopes makes them one.
    """
    tokens = scope.split("/")
    # The tokens after the leading "" repeat: "States", a state name, a field ("Branches" and
    # an index, or "ItemProcessor" / "Iterator").
    i = 1
    while i + 2 < len(tokens):
        if tokens[i + 2] == "Iterator":
            tokens[i + 2] = "ItemProcessor"
        i += 4 if tokens[i + 2] == "Branches" else 3
    return "/".join(tokens)
