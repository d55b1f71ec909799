"""A definition compiled into an execution plan: states resolved to objects, paths parsed once.

Nothing here is validated per step: the ASL model (``stepsaga.workflows.asl``) validates a
definition once, then :func:`compile_plan` turns it into plain objects the interpreter walks.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from stepsaga.infra.local.stepfunctions._errors import DefinitionError
from stepsaga.workflows._expressions import (
    JsonataTemplate,
    Path,
    Template,
    compile_choice_rule,
    compile_jsonata_template,
    compile_path,
    compile_reference_path,
    compile_template,
    pointer_of,
    strip_jsonata,
)
from stepsaga.workflows.facts import STATES_ALL

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

Payload = Template | JsonataTemplate | None
"""A payload built per run: a JSONPath template or a JSONata field (None when absent)."""
Dynamic = Path | JsonataTemplate | None
"""A value read per run: a JSONPath ``*Path`` field or a JSONata expression (None when absent)."""

_KEEP: Final = object()  # a path field left at its default "$": pass the value through


class RetrierPlan:
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
        self.matches_all = STATES_ALL in self.errors
        self.interval = float(spec.get("IntervalSeconds", 1))
        self.max_attempts = int(spec.get("MaxAttempts", 3))
        self.backoff_rate = float(spec.get("BackoffRate", 2.0))
        max_delay = spec.get("MaxDelaySeconds")
        self.max_delay: float | None = None if max_delay is None else float(max_delay)
        self.jitter_full = spec.get("JitterStrategy") == "FULL"


class CatcherPlan:
    """One ``Catch`` entry."""

    __slots__ = (
        "assign",
        "errors",
        "matches_all",
        "next_name",
        "next_state",
        "output",
        "result_path",
    )

    def __init__(self, spec: Mapping[str, Any], jsonata: bool) -> None:
        self.errors: frozenset[str] = frozenset(spec.get("ErrorEquals", ()))
        self.matches_all = STATES_ALL in self.errors
        self.next_name: str = spec["Next"]
        self.next_state: StatePlan | None = None
        if jsonata:
            self.result_path: Any = _KEEP
            self.output: JsonataTemplate | None = _jsonata_field(spec, "Output")
            self.assign: Payload = _jsonata_field(spec, "Assign")
        else:
            self.result_path = _result_path(spec)
            self.output = None
            self.assign = _assign(spec)


class StatePlan:
    """A compiled state; the fields a type does not use stay None."""

    __slots__ = (
        "assign",
        "catchers",
        "definition",
        "end",
        "entered_type",
        "exited_type",
        "input_path",
        "jsonata",
        "kind",
        "name",
        "next_name",
        "next_state",
        "output",
        "output_path",
        "parameters",
        "pointer",
        "result",
        "result_path",
        "result_selector",
        "retriers",
        "uses_context",
    )

    def __init__(self, name: str, spec: Mapping[str, Any], pointer: str, jsonata: bool) -> None:
        self.name = name
        self.kind: str = spec["Type"]
        self.pointer = pointer
        self.definition = spec
        self.jsonata = jsonata
        self.entered_type = _ENTERED[self.kind]
        self.exited_type = self.entered_type.replace("Entered", "Exited")
        self.next_name: str | None = spec.get("Next")
        self.next_state: StatePlan | None = None
        self.end = bool(spec.get("End", False))
        self.retriers = tuple(RetrierPlan(r) for r in spec.get("Retry", ()))
        self.catchers = tuple(CatcherPlan(c, jsonata) for c in spec.get("Catch", ()))
        self.result: Any = spec.get("Result", _KEEP)
        self.input_path: Any = _KEEP
        self.output_path: Any = _KEEP
        self.result_path: Any = _KEEP
        self.parameters: Payload = None
        self.result_selector: Template | None = None
        if jsonata:
            # JSONata states: Arguments (in `parameters`), Output and Assign templates over
            # $states; the context object is always bound.
            self.parameters = _jsonata_field(spec, "Arguments")
            self.output: JsonataTemplate | None = _jsonata_field(spec, "Output")
            self.assign: Payload = _jsonata_field(spec, "Assign")
            self.uses_context = True
            return
        self.output = None
        self.input_path = _path_field(spec, "InputPath")
        self.output_path = _path_field(spec, "OutputPath")
        self.parameters = _template_field(spec, "Parameters")
        self.result_selector = _template_field(spec, "ResultSelector")
        self.result_path = _result_path(spec)
        self.assign = _assign(spec)
        # Building the context object ($$) costs; only states that mention it get one.
        self.uses_context = "$$" in json.dumps(spec)


class TaskPlan(StatePlan):
    """A Task state."""

    __slots__ = (
        "credentials",
        "heartbeat",
        "heartbeat_path",
        "resource",
        "timeout",
        "timeout_path",
    )

    def __init__(self, name: str, spec: Mapping[str, Any], pointer: str, jsonata: bool) -> None:
        super().__init__(name, spec, pointer, jsonata)
        self.resource: str = spec["Resource"]
        self.timeout: Any = spec.get("TimeoutSeconds")
        self.timeout_path: Dynamic = _optional_path(spec, "TimeoutSecondsPath")
        self.heartbeat: Any = spec.get("HeartbeatSeconds")
        self.heartbeat_path: Dynamic = _optional_path(spec, "HeartbeatSecondsPath")
        if jsonata:
            # an expression in place of a number: evaluate it like a path
            self.timeout_path = _jsonata_value(spec, "TimeoutSeconds")
            self.timeout = None if self.timeout_path is not None else self.timeout
            self.heartbeat_path = _jsonata_value(spec, "HeartbeatSeconds")
            self.heartbeat = None if self.heartbeat_path is not None else self.heartbeat
            self.credentials: Payload = _jsonata_field(spec, "Credentials")
        else:
            self.credentials = _template_field(spec, "Credentials")


class ChoicePlan(StatePlan):
    """A Choice state."""

    __slots__ = ("choices", "default_name", "default_state")

    def __init__(self, name: str, spec: Mapping[str, Any], pointer: str, jsonata: bool) -> None:
        super().__init__(name, spec, pointer, jsonata)
        # (rule, next name, Assign, Output (JSONata), next state)
        self.choices: list[tuple[Any, str, Any, Any, StatePlan | None]] = []
        for index, rule in enumerate(spec.get("Choices", ())):
            if jsonata:
                condition = compile_jsonata_template(
                    rule.get("Condition"), f"Choices[{index}]/Condition"
                )
                self.choices.append(
                    (
                        condition,
                        rule["Next"],
                        _jsonata_field(rule, "Assign"),
                        _jsonata_field(rule, "Output"),
                        None,
                    )
                )
            else:
                self.choices.append(
                    (compile_choice_rule(rule), rule["Next"], _assign(rule), None, None)
                )
        self.default_name: str | None = spec.get("Default")
        self.default_state: StatePlan | None = None


class WaitPlan(StatePlan):
    """A Wait state."""

    __slots__ = ("seconds", "seconds_path", "timestamp", "timestamp_path")

    def __init__(self, name: str, spec: Mapping[str, Any], pointer: str, jsonata: bool) -> None:
        super().__init__(name, spec, pointer, jsonata)
        self.seconds: Any = spec.get("Seconds")
        self.seconds_path: Dynamic = _optional_path(spec, "SecondsPath")
        self.timestamp: Any = spec.get("Timestamp")
        self.timestamp_path: Dynamic = _optional_path(spec, "TimestampPath")
        if jsonata:
            self.seconds_path = _jsonata_value(spec, "Seconds")
            if self.seconds_path is not None:
                self.seconds = None
            self.timestamp_path = _jsonata_value(spec, "Timestamp")
            if self.timestamp_path is not None:
                self.timestamp = None


class FailPlan(StatePlan):
    """A Fail state."""

    __slots__ = ("cause", "cause_path", "error", "error_path")

    def __init__(self, name: str, spec: Mapping[str, Any], pointer: str, jsonata: bool) -> None:
        super().__init__(name, spec, pointer, jsonata)
        self.error: str | None = spec.get("Error")
        self.cause: str | None = spec.get("Cause")
        if jsonata:
            self.error_path: Payload = _jsonata_value(spec, "Error")
            self.cause_path: Payload = _jsonata_value(spec, "Cause")
            return
        # ErrorPath/CausePath may hold a path or an intrinsic function: a one-key template
        # evaluates both.
        self.error_path = _single(spec, "ErrorPath")
        self.cause_path = _single(spec, "CausePath")


class ParallelPlan(StatePlan):
    """A Parallel state."""

    __slots__ = ("branches",)

    def __init__(
        self, name: str, spec: Mapping[str, Any], pointer: str, jsonata: bool, language: str
    ) -> None:
        super().__init__(name, spec, pointer, jsonata)
        self.branches = tuple(
            compile_plan(branch, f"{pointer}/Branches/{i}", language)
            for i, branch in enumerate(spec.get("Branches", ()))
        )


class MapPlan(StatePlan):
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

    def __init__(
        self, name: str, spec: Mapping[str, Any], pointer: str, jsonata: bool, language: str
    ) -> None:
        super().__init__(name, spec, pointer, jsonata)
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
        self.processor = compile_plan(processor, f"{pointer}/{processor_key}", language)
        config = processor.get("ProcessorConfig") or {}
        self.distributed = config.get("Mode") == "DISTRIBUTED"
        self.label: str | None = spec.get("Label")
        self.items_path: Any = _path_field(spec, "ItemsPath")
        selector_key = "ItemSelector" if "ItemSelector" in spec else "Parameters"
        self.item_selector: Payload = None if jsonata else _template_field(spec, selector_key)
        self.parameters = None  # Map's Parameters is the legacy name of ItemSelector
        self.max_concurrency: int = spec.get("MaxConcurrency", 0)
        self.max_concurrency_path: Dynamic = _optional_path(spec, "MaxConcurrencyPath")
        self.tolerated_count: int | None = spec.get("ToleratedFailureCount")
        self.tolerated_count_path: Dynamic = _optional_path(spec, "ToleratedFailureCountPath")
        self.tolerated_percentage: float | None = spec.get("ToleratedFailurePercentage")
        self.tolerated_percentage_path: Dynamic = _optional_path(
            spec, "ToleratedFailurePercentagePath"
        )
        if jsonata:
            self.items_path = _jsonata_field(spec, "Items")
            self.item_selector = _jsonata_field(spec, "ItemSelector")
            self.max_concurrency_path = _jsonata_value(spec, "MaxConcurrency")
            if self.max_concurrency_path is not None:
                self.max_concurrency = 0
            self.tolerated_count_path = _jsonata_value(spec, "ToleratedFailureCount")
            if self.tolerated_count_path is not None:
                self.tolerated_count = None
            self.tolerated_percentage_path = _jsonata_value(spec, "ToleratedFailurePercentage")
            if self.tolerated_percentage_path is not None:
                self.tolerated_percentage = None


_KINDS: Final[dict[str, type[StatePlan]]] = {
    "Pass": StatePlan,
    "Succeed": StatePlan,
    "Task": TaskPlan,
    "Choice": ChoicePlan,
    "Wait": WaitPlan,
    "Fail": FailPlan,
    "Parallel": ParallelPlan,
    "Map": MapPlan,
}


class GraphPlan:
    """A ``StartAt`` + ``States`` pair: the whole machine, a Parallel branch or a Map processor.

    Attributes:
        start: the first state.
        states: every state by name.
        timeout_seconds: the top-level TimeoutSeconds, when set.
    """

    __slots__ = ("start", "states", "timeout_seconds")

    def __init__(self, start: StatePlan, states: dict[str, StatePlan], timeout: int | None) -> None:
        self.start = start
        self.states = states
        self.timeout_seconds = timeout


def compile_plan(
    spec: Mapping[str, Any], pointer: str = "", language: str = "JSONPath"
) -> GraphPlan:
    """Compile a definition (or a branch / item processor) into a :class:`GraphPlan`.

    Args:
        spec: the definition, or a Parallel branch / Map item processor.
        pointer: the JSON pointer of ``spec`` in the whole definition.
        language: the query language states use unless they name one (the machine's
            ``QueryLanguage``, JSONPath by default).

    Raises:
        DefinitionError: the definition uses what this engine cannot run, or a transition
            names a state that does not exist.
    """
    language = spec.get("QueryLanguage", language)
    raw_states = spec.get("States")
    if not isinstance(raw_states, Mapping) or not raw_states:
        raise DefinitionError("a state machine needs States", pointer=f"{pointer}/States")
    states: dict[str, StatePlan] = {}
    for name, state_spec in raw_states.items():
        state_pointer = pointer + pointer_of(("States", name))
        state_language = state_spec.get("QueryLanguage", language)
        jsonata = state_language == "JSONata"
        kind = _KINDS.get(state_spec.get("Type", ""))
        if kind is None:
            raise DefinitionError(
                f"unknown state type {state_spec.get('Type')!r}", pointer=f"{state_pointer}/Type"
            )
        try:
            if kind is ParallelPlan or kind is MapPlan:
                states[name] = kind(name, state_spec, state_pointer, jsonata, language)
            else:
                states[name] = kind(name, state_spec, state_pointer, jsonata)
        except DefinitionError:
            raise
        except Exception as exc:  # expression syntax errors carry no pointer of ours
            raise DefinitionError(str(exc), pointer=state_pointer) from exc
    for state in states.values():
        state.next_state = _resolve(states, state.next_name, f"{state.pointer}/Next")
        for catcher in state.catchers:
            catcher.next_state = _resolve(states, catcher.next_name, f"{state.pointer}/Catch")
        if isinstance(state, ChoicePlan):
            state.choices = [
                (rule, nxt, assign, output, _resolve(states, nxt, f"{state.pointer}/Choices"))
                for rule, nxt, assign, output, _ in state.choices
            ]
            state.default_state = _resolve(states, state.default_name, f"{state.pointer}/Default")
    start = states.get(spec.get("StartAt", ""))
    if start is None:
        raise DefinitionError(
            f"StartAt names no state: {spec.get('StartAt')!r}", pointer=f"{pointer}/StartAt"
        )
    return GraphPlan(start, states, spec.get("TimeoutSeconds"))


def _jsonata_field(spec: Mapping[str, Any], key: str) -> JsonataTemplate | None:
    """A JSONata-mode field (Output, Arguments, Assign, Items...): a template, or None."""
    if key not in spec:
        return None
    return compile_jsonata_template(spec[key], key)


def _jsonata_value(spec: Mapping[str, Any], key: str) -> JsonataTemplate | None:
    """A field that holds a literal or a ``{% %}`` expression: a template for the expression.

    Text written as an expression gets a template even when AWS takes it as a literal
    (whitespace around the braces), so that it is checked like any evaluated value.
    """
    value = spec.get(key)
    if isinstance(value, str) and strip_jsonata(value) is not None:
        return compile_jsonata_template(value, key)
    return None


def _resolve(states: dict[str, StatePlan], name: str | None, pointer: str) -> StatePlan | None:
    if name is None:
        return None
    state = states.get(name)
    if state is None:
        raise DefinitionError(f"no state named {name!r}", pointer=pointer)
    return state


def _path_field(spec: Mapping[str, Any], key: str) -> Any:
    """A path field: ``_KEEP`` for ``$``/absent, None for JSON null, else a compiled path."""
    if key not in spec:
        return _KEEP
    text = spec[key]
    if text is None:
        return None
    if text == "$":
        return _KEEP
    return compile_path(text)


def _optional_path(spec: Mapping[str, Any], key: str) -> Path | None:
    text = spec.get(key)
    return None if text is None else compile_path(text)


def _result_path(spec: Mapping[str, Any]) -> Any:
    """ResultPath: ``_KEEP`` for ``$`` (the result replaces the input), None to discard it."""
    if "ResultPath" not in spec:
        return _KEEP
    text = spec["ResultPath"]
    if text is None:
        return None
    if text == "$":
        return _KEEP
    return compile_reference_path(text)


def _template_field(spec: Mapping[str, Any], key: str) -> Template | None:
    if key not in spec:
        return None
    return compile_template(spec[key], key)


def _assign(spec: Mapping[str, Any]) -> Template | None:
    if "Assign" not in spec:
        return None
    return compile_template(spec["Assign"], "Assign")


def _single(spec: Mapping[str, Any], key: str) -> Template | None:
    if key not in spec:
        return None
    return compile_template({"value.$": spec[key]}, key)


KEEP: Final = _KEEP
