"""Step Functions coverage: which states and transitions of each definition the tests exercised.

A definition's *possible* transitions are read from its model: each state's `Next` or `End`,
a Choice's `Default` and each of its rules, each catcher and each retrier, in every graph
(Parallel branches and Map bodies included); a `Succeed` or `Fail` state ends its graph. The
engine reports the transitions each execution *took* (`Execution.transitions`); the coverage
of a definition is the share of its possible transitions taken at least once, and of its states
entered at least once.

The collector runs in each pytest process; under pytest-xdist every worker sends its counts
(`CoverageCollector.to_payload`, plain JSON) to the controller, which merges them
(`CoverageCollector.merge_payload`) and reports once.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Protocol

from stepsaga.testing._graphs import canonical_scope, escape, walk

if TYPE_CHECKING:
    from stepsaga.workflows.asl import StateMachine

__all__ = (
    "CoverageCollector",
    "CoverageReport",
    "DefinitionCoverage",
    "ExecutionLike",
    "TransitionLike",
    "possible_transitions",
)

# The state machine name the engine's facade gives a run that names none: executions under it
# may run any definition, so they are told apart by definition, not by name.
UNNAMED_MACHINE: Final = "stepsaga-local"
# The JSON report's layout; a change that breaks its readers bumps it.
JSON_VERSION: Final = 1
# The terminal lists this many definitions (the JSON report lists all of them).
TABLE_ROWS: Final = 50

Key = tuple[str, str, str]
"""A possible transition: (canonical scope, source state, via)."""


class TransitionLike(Protocol):
    """One transition an execution took (`stepsaga.infra.local.stepfunctions.Transition`)."""

    @property
    def scope(self) -> str:
        """The JSON pointer of the graph the source state lives in (`""`: the top level)."""

    @property
    def source(self) -> str:
        """The state left."""

    @property
    def target(self) -> str | None:
        """The state entered next; None when the source ended its graph or the execution."""

    @property
    def via(self) -> str:
        """`Next`, `Default`, `Choices/<i>`, `Catch/<i>`, `Retry/<i>`, `End` or `Fail`."""


class ExecutionLike(Protocol):
    """What the coverage reads of a closed execution (`...stepfunctions.Execution`)."""

    @property
    def state_machine_arn(self) -> str:
        """The ARN of the state machine it ran."""

    @property
    def definition(self) -> StateMachine:
        """The definition it ran."""

    @property
    def transitions(self) -> Sequence[TransitionLike]:
        """The transitions it took, in order."""


@dataclass(frozen=True, slots=True)
class _Site:
    """A transition a definition allows, and where it is written."""

    key: Key
    target: str | None
    pointer: str  # of the field that writes it (the state itself for Succeed / Fail)

    @property
    def text(self) -> str:
        """`pointer → target`, as the report lists a transition."""
        if self.key[2].startswith("Retry/"):
            return f"{self.pointer} → {self.key[1]} (retry)"
        return f"{self.pointer} → {self.target if self.target is not None else '(end)'}"


@dataclass(frozen=True, slots=True)
class _Plan:
    """What recording an execution needs of its definition, computed once per definition."""

    digest: str
    start_at: str
    comment: str | None
    states: dict[tuple[str, str], str]  # (canonical scope, name) -> pointer
    sites: dict[Key, _Site]
    terminal: frozenset[tuple[str, str]]  # (canonical scope, name) of Succeed / Fail states


def possible_transitions(definition: StateMachine) -> list[_Site]:
    """Every transition `definition` allows, state by state in definition order."""
    return list(_plan(definition).sites.values())


def _plan(definition: StateMachine) -> _Plan:
    from stepsaga.workflows.asl import ChoiceState, FailState, SucceedState

    states: dict[tuple[str, str], str] = {}
    sites: dict[Key, _Site] = {}
    terminal: set[tuple[str, str]] = set()

    def add(scope: str, source: str, via: str, target: str | None, pointer: str) -> None:
        key = (canonical_scope(scope), source, via)
        sites[key] = _Site(key, target, pointer)

    for scope, name, state in walk(definition):
        at = f"{scope}/States/{escape(name)}"
        states[(canonical_scope(scope), name)] = at
        if isinstance(state, SucceedState | FailState):
            terminal.add((canonical_scope(scope), name))
            add(scope, name, "End", None, at)
            continue
        if isinstance(state, ChoiceState):
            for i, rule in enumerate(state.choices):
                add(scope, name, f"Choices/{i}", rule.next, f"{at}/Choices/{i}")
            if state.default is not None:
                add(scope, name, "Default", state.default, f"{at}/Default")
            continue
        for i, _ in enumerate(getattr(state, "retry", ())):
            add(scope, name, f"Retry/{i}", name, f"{at}/Retry/{i}")
        for i, catcher in enumerate(getattr(state, "catch", ())):
            add(scope, name, f"Catch/{i}", catcher.next, f"{at}/Catch/{i}")
        if state.next is not None:
            add(scope, name, "Next", state.next, f"{at}/Next")
        else:
            add(scope, name, "End", None, f"{at}/End")
    canonical = json.dumps(
        definition.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return _Plan(
        digest=hashlib.sha256(canonical.encode()).hexdigest()[:8],
        start_at=definition.start_at,
        comment=definition.comment,
        states=states,
        sites=sites,
        terminal=frozenset(terminal),
    )


def machine_name(state_machine_arn: str) -> str | None:
    """The state machine's name in an ARN, None for the engine's default (unnamed) one."""
    _, found, rest = state_machine_arn.partition(":stateMachine:")
    name = rest.split(":", 1)[0] if found else ""
    return None if not name or name == UNNAMED_MACHINE else name


@dataclass
class DefinitionCoverage:
    """The coverage of one definition: what it allows and how often each part was exercised.

    Attributes:
        key: How the definition is identified: its state machine's name, or, when it ran
            unnamed, the short hash of its canonical JSON.
        name: The state machine's name; None when it ran unnamed.
        digests: The short hashes of the definitions run under this key (more than one when a
            named machine ran several versions: their states and transitions are united).
        start_at: The definition's `StartAt`.
        comment: The definition's `Comment`.
        executions: How many executions ran it.
        states: (scope, state) to its JSON pointer and the number of executions that entered it.
        transitions: (scope, source, via) to the transition and the number of times it was taken.
    """

    key: str
    name: str | None
    start_at: str
    comment: str | None
    digests: set[str] = field(default_factory=set)
    executions: int = 0
    states: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)
    transitions: dict[Key, tuple[_Site, int]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The definition as the report names it."""
        if self.name is not None:
            versions = len(self.digests)
            return self.name if versions < 2 else f"{self.name} ({versions} versions)"
        comment = ""
        if self.comment:
            short = self.comment if len(self.comment) <= 30 else f"{self.comment[:29]}…"
            comment = f", {short!r}"
        return f"{self.key} (StartAt {self.start_at}{comment})"

    @property
    def states_covered(self) -> int:
        """How many of its states were entered."""
        return sum(1 for _, count in self.states.values() if count)

    @property
    def transitions_covered(self) -> int:
        """How many of its possible transitions were taken."""
        return sum(1 for _, count in self.transitions.values() if count)

    @property
    def transition_percent(self) -> float:
        """The share of its possible transitions taken, in percent."""
        return _percent(self.transitions_covered, len(self.transitions))

    def missed_states(self) -> list[str]:
        """The pointers of the states never entered, in definition order."""
        return [pointer for pointer, count in self.states.values() if not count]

    def missed_transitions(self) -> list[str]:
        """The transitions never taken (`pointer → target`), in definition order."""
        return [site.text for site, count in self.transitions.values() if not count]

    def _add_plan(self, plan: _Plan) -> None:
        if plan.digest in self.digests:
            return
        self.digests.add(plan.digest)
        for state, pointer in plan.states.items():
            self.states.setdefault(state, (pointer, 0))
        for key, site in plan.sites.items():
            self.transitions.setdefault(key, (site, 0))

    def to_json(self) -> dict[str, Any]:
        """The definition's entry in the JSON report."""
        return {
            "key": self.key,
            "name": self.name,
            "label": self.label,
            "digests": sorted(self.digests),
            "start_at": self.start_at,
            "comment": self.comment,
            "executions": self.executions,
            "states": _ratio(self.states_covered, len(self.states)),
            "transitions": _ratio(self.transitions_covered, len(self.transitions)),
            "missed_states": self.missed_states(),
            "missed_transitions": self.missed_transitions(),
            "state_counts": [
                {"pointer": pointer, "scope": scope, "state": name, "executions": count}
                for (scope, name), (pointer, count) in self.states.items()
            ],
            "transition_counts": [
                {
                    "pointer": site.pointer,
                    "scope": site.key[0],
                    "source": site.key[1],
                    "via": site.key[2],
                    "target": site.target,
                    "taken": count,
                }
                for site, count in self.transitions.values()
            ],
        }


class CoverageCollector:
    """Counts, per definition, the states entered and the transitions taken by executions.

    `record` may be called from several threads at once (a service's executions run on the
    test's threads).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._definitions: dict[str, DefinitionCoverage] = {}
        # id(definition) -> (definition, plan): the definition is held so that its id stays
        # its own; models are immutable, so a plan stays right for it.
        self._plans: dict[int, tuple[object, _Plan]] = {}
        self._scopes: dict[str, str] = {}  # a transition's scope -> its canonical spelling
        self.errors: list[str] = []

    def record(self, execution: ExecutionLike) -> None:
        """Count one closed execution.

        Never raises: coverage must not fail the test whose execution it watches. A problem is
        kept in :attr:`errors` and shown with the report.
        """
        try:
            with self._lock:
                self._record(execution)
        except Exception as error:  # reported with the summary instead
            with self._lock:
                if len(self.errors) < 10:
                    self.errors.append(f"{type(error).__name__}: {error}")

    def _record(self, execution: ExecutionLike) -> None:
        definition = execution.definition
        cached = self._plans.get(id(definition))
        if cached is None or cached[0] is not definition:
            cached = (definition, _plan(definition))
            self._plans[id(definition)] = cached
        plan = cached[1]
        name = machine_name(execution.state_machine_arn)
        key = name if name is not None else plan.digest
        coverage = self._definitions.get(key)
        if coverage is None:
            coverage = DefinitionCoverage(key, name, plan.start_at, plan.comment)
            self._definitions[key] = coverage
        coverage._add_plan(plan)
        coverage.executions += 1
        entered = {("", plan.start_at)}
        transitions = coverage.transitions
        scopes = self._scopes
        for transition in execution.transitions:
            scope = scopes.get(transition.scope)
            if scope is None:
                scope = scopes[transition.scope] = canonical_scope(transition.scope)
            source = transition.source
            entered.add((scope, source))
            target = transition.target
            if target is not None:
                entered.add((scope, target))
                via = transition.via
            elif (scope, source) in plan.terminal:
                via = "End"  # a Succeed or Fail state ends its graph, whatever the engine calls it
            else:
                via = transition.via
            site_key = (scope, source, via)
            counted = transitions.get(site_key)
            if counted is not None:
                transitions[site_key] = (counted[0], counted[1] + 1)
            # else: an uncaught failure (`Fail`) is not a transition the definition writes.
        states = coverage.states
        for state in entered:
            known = states.get(state)
            if known is not None:
                states[state] = (known[0], known[1] + 1)

    # -- between processes ------------------------------------------------------------------

    def to_payload(self) -> dict[str, Any]:
        """The counts as plain JSON, for pytest-xdist to carry from a worker to the controller."""
        with self._lock:
            return {
                "errors": list(self.errors),
                "definitions": [
                    {
                        "key": c.key,
                        "name": c.name,
                        "start_at": c.start_at,
                        "comment": c.comment,
                        "digests": sorted(c.digests),
                        "executions": c.executions,
                        "states": [
                            [scope, name, pointer, count]
                            for (scope, name), (pointer, count) in c.states.items()
                        ],
                        "transitions": [
                            [*site.key, site.target, site.pointer, count]
                            for site, count in c.transitions.values()
                        ],
                    }
                    for c in self._definitions.values()
                ],
            }

    def merge_payload(self, payload: dict[str, Any]) -> None:
        """Add the counts of another collector's :meth:`to_payload`."""
        with self._lock:
            self.errors.extend(payload.get("errors", ()))
            for entry in payload.get("definitions", ()):
                self._merge(entry)

    def _merge(self, entry: dict[str, Any]) -> None:
        coverage = self._definitions.get(entry["key"])
        if coverage is None:
            coverage = DefinitionCoverage(
                entry["key"], entry["name"], entry["start_at"], entry["comment"]
            )
            self._definitions[coverage.key] = coverage
        coverage.digests.update(entry["digests"])
        coverage.executions += entry["executions"]
        for scope, name, pointer, count in entry["states"]:
            _, before = coverage.states.get((scope, name), (pointer, 0))
            coverage.states[(scope, name)] = (pointer, before + count)
        for scope, source, via, target, pointer, count in entry["transitions"]:
            key = (scope, source, via)
            site, before = coverage.transitions.get(key, (_Site(key, target, pointer), 0))
            coverage.transitions[key] = (site, before + count)

    def report(self) -> CoverageReport:
        """The coverage so far, definitions ordered named first (by name), then by hash."""
        with self._lock:
            ordered = sorted(
                self._definitions.values(), key=lambda c: (c.name is None, c.key.lower(), c.key)
            )
            return CoverageReport(tuple(ordered), tuple(self.errors))


@dataclass(frozen=True, slots=True)
class CoverageReport:
    """The coverage of every definition executed, as the plugin reports it.

    Attributes:
        definitions: Each definition's coverage.
        errors: Problems met while recording executions (an execution that could not be read).
    """

    definitions: tuple[DefinitionCoverage, ...]
    errors: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The JSON report (`--sfn-coverage-json`)."""
        states = [(c.states_covered, len(c.states)) for c in self.definitions]
        transitions = [(c.transitions_covered, len(c.transitions)) for c in self.definitions]
        return {
            "version": JSON_VERSION,
            "totals": {
                "definitions": len(self.definitions),
                "executions": sum(c.executions for c in self.definitions),
                "states": _ratio(*_sum(states)),
                "transitions": _ratio(*_sum(transitions)),
            },
            "definitions": [c.to_json() for c in self.definitions],
            "errors": list(self.errors),
        }

    def below(self, percent: float) -> list[DefinitionCoverage]:
        """The definitions whose transition coverage is below `percent`."""
        return [c for c in self.definitions if c.transition_percent < percent]

    def lines(self) -> list[str]:
        """The terminal report: a table, then what each definition missed."""
        if not self.definitions:
            return ["no Step Functions execution was observed", *self._error_lines()]
        shown = self.definitions[:TABLE_ROWS]
        rows = [
            (
                c.label,
                str(c.executions),
                _cell(c.states_covered, len(c.states)),
                _cell(c.transitions_covered, len(c.transitions)),
            )
            for c in shown
        ]
        total = (
            "TOTAL",
            str(sum(c.executions for c in self.definitions)),
            _cell(*_sum((c.states_covered, len(c.states)) for c in self.definitions)),
            _cell(*_sum((c.transitions_covered, len(c.transitions)) for c in self.definitions)),
        )
        header = ("definition", "executions", "states", "transitions")
        widths = [max(len(row[i]) for row in (header, *rows, total)) for i in range(4)]

        def line(row: Sequence[str]) -> str:
            first, *rest = row
            return "  ".join(
                [first.ljust(widths[0])]
                + [c.rjust(w) for c, w in zip(rest, widths[1:], strict=True)]
            ).rstrip()

        out = [line(header), *(line(row) for row in rows)]
        if len(self.definitions) > len(shown):
            out.append(f"... {len(self.definitions) - len(shown)} more in the JSON report")
        out.append(line(total))
        for coverage in shown:
            missed_states = coverage.missed_states()
            missed = coverage.missed_transitions()
            if not missed_states and not missed:
                continue
            out.append("")
            if missed_states:
                out.append(f"{coverage.label}: never entered:")
                out.extend(f"  {pointer}" for pointer in missed_states)
            if missed:
                out.append(f"{coverage.label}: never taken:")
                out.extend(f"  {text}" for text in missed)
        return [*out, *self._error_lines()]

    def _error_lines(self) -> list[str]:
        return [f"could not record an execution: {error}" for error in self.errors]


def _sum(pairs: Iterable[tuple[int, int]]) -> tuple[int, int]:
    covered = total = 0
    for c, t in pairs:
        covered += c
        total += t
    return covered, total


def _percent(covered: int, total: int) -> float:
    return 100.0 if total == 0 else 100.0 * covered / total


def _shown_percent(covered: int, total: int) -> int:
    """A whole percentage that reads 100 only when all is covered and 0 only when nothing is."""
    value = _percent(covered, total)
    if covered < total:
        return max(1 if covered else 0, min(99, math.floor(value)))
    return 100


def _cell(covered: int, total: int) -> str:
    return f"{covered}/{total} {_shown_percent(covered, total):>3}%"


def _ratio(covered: int, total: int) -> dict[str, Any]:
    return {"covered": covered, "total": total, "percent": round(_percent(covered, total), 2)}
