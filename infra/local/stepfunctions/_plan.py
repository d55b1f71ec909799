"""A definition compiled into an execution plan: states resolved to objects, paths parsed once.

Nothing here is validated per step: the ASL model (``workflows.asl``) validates a definition
once, then :func:`compile_graph` turns it into plain objects the interpreter walks.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from infra.local.stepfunctions import _expr
from infra.local.stepfunctions._errors import ALL, DefinitionError

_ENTERED: Final = {
    "Pass": "PassStateEntered",
    "Task": "TaskStateEntered",
    "Choice": "ChoiceStateEntered",
    "Wait": "WaitStateEntered",
    "Succeed": "SucceedStateEntered",
    "Fail": "FailStateEntered",
    "Parallel": "ParallelStateEntered",
    "Map": "MapStateEntered",
}

_KEEP: Final = object()  # a path field left at its default "$": pass the value through


class Retrier:
    """One ``Retry`` entry."""

    __slots__ = (
        "backoff_rate",
        "errors",
        "interval",
        "jitter_full",
        "matches_all",
        "max_attempts",
        "max_delay",
    )

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.errors: frozenset[str] = frozenset(spec.get("ErrorEquals", ()))
        self.matches_all = ALL in self.errors
        self.interval = float(spec.get("IntervalSeconds", 1))
        self.max_attempts = int(spec.get("MaxAttempts", 3))
        self.backoff_rate = float(spec.get("BackoffRate", 2.0))
        max_delay = spec.get("MaxDelaySeconds")
        self.max_delay: float | None = None if max_delay is None else float(max_delay)
        self.jitter_full = spec.get("JitterStrategy") == "FULL"


class Catcher:
    """One ``Catch`` entry."""

    __slots__ = ("assign", "errors", "matches_all", "next_name", "next_state", "result_path")

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.errors: frozenset[str] = frozenset(spec.get("ErrorEquals", ()))
        self.matches_all = ALL in self.errors
        self.next_name: str = spec["Next"]
        self.next_state: State | None = None
        self.result_path = _result_path(spec)
        self.assign = _assign(spec)


class State:
    """A compiled state; the fields a type does not use stay None."""

    __slots__ = (
        "assign",
        "catchers",
        "definition",
        "end",
        "entered_type",
        "exited_type",
        "input_path",
        "kind",
        "name",
        "next_name",
        "next_state",
        "output_path",
        "parameters",
        "pointer",
        "result",
        "result_path",
        "result_selector",
        "retriers",
        "uses_context",
    )

    def __init__(self, name: str, spec: Mapping[str, Any], pointer: str) -> None:
        self.name = name
        self.kind: str = spec["Type"]
        self.pointer = pointer
        self.definition = spec
        self.entered_type = _ENTERED[self.kind]
        self.exited_type = self.entered_type.replace("Entered", "Exited")
        self.next_name: str | None = spec.get("Next")
        self.next_state: State | None = None
        self.end = bool(spec.get("End", False))
        self.input_path = _path_field(spec, "InputPath")
        self.output_path = _path_field(spec, "OutputPath")
        self.parameters = _template_field(spec, "Parameters")
        self.result_selector = _template_field(spec, "ResultSelector")
        self.result_path = _result_path(spec)
        self.result: Any = spec.get("Result", _KEEP)
        self.assign = _assign(spec)
        self.retriers = tuple(Retrier(r) for r in spec.get("Retry", ()))
        self.catchers = tuple(Catcher(c) for c in spec.get("Catch", ()))
        # Building the context object ($$) costs; only states that mention it get one.
        self.uses_context = "$$" in json.dumps(spec)


class TaskState(State):
    """A Task state."""

    __slots__ = ("heartbeat", "heartbeat_path", "resource", "timeout", "timeout_path")

    def __init__(self, name: str, spec: Mapping[str, Any], pointer: str) -> None:
        super().__init__(name, spec, pointer)
        self.resource: str = spec["Resource"]
        self.timeout: int | None = spec.get("TimeoutSeconds")
        self.timeout_path = _optional_path(spec, "TimeoutSecondsPath")
        self.heartbeat: int | None = spec.get("HeartbeatSeconds")
        self.heartbeat_path = _optional_path(spec, "HeartbeatSecondsPath")


class ChoiceState(State):
    """A Choice state."""

    __slots__ = ("choices", "default_name", "default_state")

    def __init__(self, name: str, spec: Mapping[str, Any], pointer: str) -> None:
        super().__init__(name, spec, pointer)
        self.choices: list[tuple[Any, str, Any, State | None]] = []
        for rule in spec.get("Choices", ()):
            self.choices.append((_expr.choice_rule(rule), rule["Next"], _assign(rule), None))
        self.default_name: str | None = spec.get("Default")
        self.default_state: State | None = None


class WaitState(State):
    """A Wait state."""

    __slots__ = ("seconds", "seconds_path", "timestamp", "timestamp_path")

    def __init__(self, name: str, spec: Mapping[str, Any], pointer: str) -> None:
        super().__init__(name, spec, pointer)
        self.seconds: int | None = spec.get("Seconds")
        self.seconds_path = _optional_path(spec, "SecondsPath")
        self.timestamp: str | None = spec.get("Timestamp")
        self.timestamp_path = _optional_path(spec, "TimestampPath")


class FailState(State):
    """A Fail state."""

    __slots__ = ("cause", "cause_path", "error", "error_path")

    def __init__(self, name: str, spec: Mapping[str, Any], pointer: str) -> None:
        super().__init__(name, spec, pointer)
        self.error: str | None = spec.get("Error")
        self.cause: str | None = spec.get("Cause")
        # ErrorPath/CausePath may hold a path or an intrinsic function: a one-key template
        # evaluates both.
        self.error_path = _single(spec, "ErrorPath")
        self.cause_path = _single(spec, "CausePath")


class ParallelState(State):
    """A Parallel state."""

    __slots__ = ("branches",)

    def __init__(self, name: str, spec: Mapping[str, Any], pointer: str) -> None:
        super().__init__(name, spec, pointer)
        self.branches = tuple(
            compile_graph(branch, f"{pointer}/Branches/{i}")
            for i, branch in enumerate(spec.get("Branches", ()))
        )


class MapState(State):
    """A Map state (inline or distributed)."""

    __slots__ = (
        "distributed",
        "item_selector",
        "items_path",
        "label",
        "max_concurrency",
        "max_concurrency_path",
        "processor",
        "tolerated_count",
        "tolerated_count_path",
        "tolerated_percentage",
        "tolerated_percentage_path",
    )

    def __init__(self, name: str, spec: Mapping[str, Any], pointer: str) -> None:
        super().__init__(name, spec, pointer)
        for later in ("ItemReader", "ItemBatcher", "ResultWriter"):
            if later in spec:
                raise DefinitionError(
                    f"Map {later} is not supported by the local engine yet (items come from "
                    "the state input)",
                    pointer=f"{pointer}/{later}",
                )
        processor_key = "ItemProcessor" if "ItemProcessor" in spec else "Iterator"
        processor = spec.get(processor_key)
        if processor is None:
            raise DefinitionError("a Map state needs an ItemProcessor", pointer=pointer)
        self.processor = compile_graph(processor, f"{pointer}/{processor_key}")
        config = processor.get("ProcessorConfig") or {}
        self.distributed = config.get("Mode") == "DISTRIBUTED"
        self.label: str | None = spec.get("Label")
        self.items_path = _path_field(spec, "ItemsPath")
        selector_key = "ItemSelector" if "ItemSelector" in spec else "Parameters"
        self.item_selector = _template_field(spec, selector_key)
        self.parameters = None  # Map's Parameters is the legacy name of ItemSelector
        self.max_concurrency: int = spec.get("MaxConcurrency", 0)
        self.max_concurrency_path = _optional_path(spec, "MaxConcurrencyPath")
        self.tolerated_count: int | None = spec.get("ToleratedFailureCount")
        self.tolerated_count_path = _optional_path(spec, "ToleratedFailureCountPath")
        self.tolerated_percentage: float | None = spec.get("ToleratedFailurePercentage")
        self.tolerated_percentage_path = _optional_path(spec, "ToleratedFailurePercentagePath")


_KINDS: Final[dict[str, type[State]]] = {
    "Pass": State,
    "Succeed": State,
    "Task": TaskState,
    "Choice": ChoiceState,
    "Wait": WaitState,
    "Fail": FailState,
    "Parallel": ParallelState,
    "Map": MapState,
}


class Graph:
    """A ``StartAt`` + ``States`` pair: the whole machine, a Parallel branch or a Map processor.

    Attributes:
        start: the first state.
        states: every state by name.
        timeout_seconds: the top-level TimeoutSeconds, when set.
    """

    __slots__ = ("start", "states", "timeout_seconds")

    def __init__(self, start: State, states: dict[str, State], timeout: int | None) -> None:
        self.start = start
        self.states = states
        self.timeout_seconds = timeout


def compile_graph(spec: Mapping[str, Any], pointer: str = "") -> Graph:
    """Compile a definition (or a branch / item processor) into a :class:`Graph`.

    Raises:
        DefinitionError: the definition uses what this engine cannot run (e.g. JSONata), or a
            transition names a state that does not exist.
    """
    if spec.get("QueryLanguage") == "JSONata":
        raise DefinitionError(
            "JSONata query language is not supported by the local engine yet",
            pointer=f"{pointer}/QueryLanguage",
        )
    raw_states = spec.get("States")
    if not isinstance(raw_states, Mapping) or not raw_states:
        raise DefinitionError("a state machine needs States", pointer=f"{pointer}/States")
    states: dict[str, State] = {}
    for name, state_spec in raw_states.items():
        state_pointer = f"{pointer}/States/{_escape(name)}"
        if state_spec.get("QueryLanguage") == "JSONata":
            raise DefinitionError(
                "JSONata query language is not supported by the local engine yet",
                pointer=f"{state_pointer}/QueryLanguage",
            )
        kind = _KINDS.get(state_spec.get("Type", ""))
        if kind is None:
            raise DefinitionError(
                f"unknown state type {state_spec.get('Type')!r}", pointer=f"{state_pointer}/Type"
            )
        try:
            states[name] = kind(name, state_spec, state_pointer)
        except DefinitionError:
            raise
        except Exception as exc:  # expression syntax errors carry no pointer of ours
            raise DefinitionError(str(exc), pointer=state_pointer) from exc
    for state in states.values():
        state.next_state = _resolve(states, state.next_name, f"{state.pointer}/Next")
        for catcher in state.catchers:
            catcher.next_state = _resolve(states, catcher.next_name, f"{state.pointer}/Catch")
        if isinstance(state, ChoiceState):
            state.choices = [
                (rule, nxt, assign, _resolve(states, nxt, f"{state.pointer}/Choices"))
                for rule, nxt, assign, _ in state.choices
            ]
            state.default_state = _resolve(states, state.default_name, f"{state.pointer}/Default")
    start = states.get(spec.get("StartAt", ""))
    if start is None:
        raise DefinitionError(
            f"StartAt names no state: {spec.get('StartAt')!r}", pointer=f"{pointer}/StartAt"
        )
    return Graph(start, states, spec.get("TimeoutSeconds"))


def _resolve(states: dict[str, State], name: str | None, pointer: str) -> State | None:
    if name is None:
        return None
    state = states.get(name)
    if state is None:
        raise DefinitionError(f"no state named {name!r}", pointer=pointer)
    return state


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def _path_field(spec: Mapping[str, Any], key: str) -> Any:
    """A path field: ``_KEEP`` for ``$``/absent, None for JSON null, else a compiled path."""
    if key not in spec:
        return _KEEP
    text = spec[key]
    if text is None:
        return None
    if text == "$":
        return _KEEP
    return _expr.path(text)


def _optional_path(spec: Mapping[str, Any], key: str) -> Any:
    text = spec.get(key)
    return None if text is None else _expr.path(text)


def _result_path(spec: Mapping[str, Any]) -> Any:
    """ResultPath: ``_KEEP`` for ``$`` (the result replaces the input), None to discard it."""
    if "ResultPath" not in spec:
        return _KEEP
    text = spec["ResultPath"]
    if text is None:
        return None
    if text == "$":
        return _KEEP
    return _expr.reference_path(text)


def _template_field(spec: Mapping[str, Any], key: str) -> Any:
    if key not in spec:
        return None
    return _expr.template(spec[key], key)


def _assign(spec: Mapping[str, Any]) -> Any:
    if "Assign" not in spec:
        return None
    return _expr.template(spec["Assign"], "Assign")


def _single(spec: Mapping[str, Any], key: str) -> Any:
    if key not in spec:
        return None
    return _expr.template({"value.$": spec[key]}, key)


KEEP: Final = _KEEP
