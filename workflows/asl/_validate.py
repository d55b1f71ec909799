"""Semantic validation of a parsed definition: graph, query-language and expression rules.

The structure (field names and JSON types) is checked by the models; this module checks what a
schema cannot: transitions, reachability, fields that the query language in force forbids,
the syntax of paths, intrinsic functions and ``{% %}`` expressions, and the value ranges AWS
enforces. Every rule reports a :class:`Problem` naming the JSON pointer of the offending value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

from stepsaga.workflows import facts
from stepsaga.workflows._expressions import (
    ExpressionSyntaxError,
    check_jsonata,
    compile_path,
    compile_reference_path,
    is_intrinsic,
    parse_intrinsic,
    parse_timestamp,
    pointer_of,
    strip_jsonata,
)
from stepsaga.workflows.asl._models import (
    AslModel,
    Catcher,
    ChoiceRule,
    ChoiceState,
    FailState,
    MapState,
    ParallelState,
    PassState,
    QueryLanguage,
    Retrier,
    State,
    StateGraph,
    StateMachine,
    SucceedState,
    TaskState,
    WaitState,
)
from stepsaga.workflows.asl._problems import Problem, json_kind

__all__ = ("validate", "validate_state")

Tokens = tuple[str | int, ...]

_VARIABLE_NAME: Final = re.compile(r"[^\W\d]\w*")

# Fields that exist only in one query language: (python attribute, ASL name, hint).
_JSONPATH_ONLY: Final = (
    ("input_path", "InputPath", "use Arguments or Output with a {% %} expression"),
    ("parameters", "Parameters", "use Arguments"),
    ("result_selector", "ResultSelector", "use Output"),
    ("result_path", "ResultPath", "use Output (and Assign) to combine input and result"),
    ("output_path", "OutputPath", "use Output"),
    ("items_path", "ItemsPath", "use Items"),
    ("timeout_seconds_path", "TimeoutSecondsPath", "use TimeoutSeconds with a {% %} expression"),
    (
        "heartbeat_seconds_path",
        "HeartbeatSecondsPath",
        "use HeartbeatSeconds with a {% %} expression",
    ),
    ("seconds_path", "SecondsPath", "use Seconds with a {% %} expression"),
    ("timestamp_path", "TimestampPath", "use Timestamp with a {% %} expression"),
    ("error_path", "ErrorPath", "use Error with a {% %} expression"),
    ("cause_path", "CausePath", "use Cause with a {% %} expression"),
    ("max_concurrency_path", "MaxConcurrencyPath", "use MaxConcurrency with a {% %} expression"),
    (
        "tolerated_failure_count_path",
        "ToleratedFailureCountPath",
        "use ToleratedFailureCount with a {% %} expression",
    ),
    (
        "tolerated_failure_percentage_path",
        "ToleratedFailurePercentagePath",
        "use ToleratedFailurePercentage with a {% %} expression",
    ),
)
_JSONATA_ONLY: Final = (
    ("arguments", "Arguments", "use Parameters"),
    ("output", "Output", "use OutputPath or ResultSelector"),
    ("items", "Items", "use ItemsPath"),
)


def _transitions(state: State) -> Iterator[tuple[str, Tokens]]:
    """Every state name ``state`` may go to, with the pointer tokens (relative) that name it."""
    if isinstance(state, ChoiceState):
        for index, rule in enumerate(state.choices):
            if rule.next is not None:
                yield rule.next, ("Choices", index, "Next")
        if state.default is not None:
            yield state.default, ("Default",)
        return
    if (
        isinstance(state, TaskState | PassState | WaitState | ParallelState | MapState)
        and state.next is not None
    ):
        yield state.next, ("Next",)
    if isinstance(state, TaskState | ParallelState | MapState):
        for index, catcher in enumerate(state.catch):
            yield catcher.next, ("Catch", index, "Next")


def _is_terminal(state: State) -> bool:
    if isinstance(state, SucceedState | FailState):
        return True
    if isinstance(state, ChoiceState):
        return False
    return state.end


class _Checker:
    """Collects problems while walking one definition."""

    def __init__(self, top_language: QueryLanguage) -> None:
        self.top_language: QueryLanguage = top_language
        self.problems: list[Problem] = []
        # state name -> pointer tokens of the graph that defines it (first definition wins)
        self.scopes: dict[str, Tokens] = {}

    def add(self, tokens: Tokens, message: str, code: str = "SCHEMA_VALIDATION_FAILED") -> None:
        self.problems.append(Problem(pointer_of(tokens), message, code))

    # --- names and graphs -------------------------------------------------------------------

    def collect_names(self, graph: StateGraph, at: Tokens) -> None:
        # This graph's names are registered before any nested graph's, so that a name reused
        # inside a branch is the one reported, not the outer state the user reads first.
        for name in graph.states:
            if name in self.scopes:
                where = pointer_of((*self.scopes[name], "States", name))
                self.add(
                    (*at, "States", name),
                    f"State name '{name}' is already used at {where}; state names must be unique "
                    "across the whole state machine, branches and Map bodies included",
                    "DUPLICATE_STATE_NAME",
                )
            else:
                self.scopes[name] = at
        for name, state in graph.states.items():
            for child, child_at in _children(state, (*at, "States", name)):
                self.collect_names(child, child_at)

    def graph(self, graph: StateGraph, at: Tokens, scope: str) -> None:
        states = graph.states
        if not states:
            self.add((*at, "States"), f"Value cannot be empty: {scope} needs at least one state")
        if graph.start_at not in states:
            self.missing_target((*at, "StartAt"), "StartAt", graph.start_at, at, scope)
        for name, state in states.items():
            state_at = (*at, "States", name)
            if not name:
                self.add(state_at, "A state name cannot be empty", "INVALID_STATE_NAME")
            elif len(name) > facts.MAX_STATE_NAME_LENGTH:
                self.add(
                    state_at,
                    f"State name is {len(name)} characters long; the limit is "
                    f"{facts.MAX_STATE_NAME_LENGTH}",
                    "INVALID_STATE_NAME",
                )
            self.state(state, state_at)
            for target, rel in _transitions(state):
                if target not in states:
                    self.missing_target((*state_at, *rel), str(rel[-1]), target, at, scope)
        if states and not any(_is_terminal(state) for state in states.values()):
            self.add(
                (*at, "States"),
                f"{scope[0].upper()}{scope[1:]} has no terminal state: give one state "
                '"End": true, or add a Succeed or Fail state',
                "MISSING_END_STATE",
            )
        self.reachability(graph, at)

    def missing_target(
        self, tokens: Tokens, field: str, target: str, at: Tokens, scope: str
    ) -> None:
        elsewhere = self.scopes.get(target)
        if elsewhere is not None and elsewhere != at:
            where = pointer_of((*elsewhere, "States", target))
            message = (
                f"{field} names '{target}', which is defined at {where}, outside {scope}; "
                "a transition cannot leave a Parallel branch or a Map body, nor enter one"
            )
        else:
            message = f"{field} names '{target}', which is not a state of {scope}"
        self.add(tokens, message, "MISSING_TRANSITION_TARGET")

    def reachability(self, graph: StateGraph, at: Tokens) -> None:
        states = graph.states
        if graph.start_at not in states:
            return
        seen = {graph.start_at}
        pending = [graph.start_at]
        while pending:
            for target, _ in _transitions(states[pending.pop()]):
                if target in states and target not in seen:
                    seen.add(target)
                    pending.append(target)
        for name in states:
            if name not in seen:
                self.add(
                    (*at, "States", name),
                    f"State '{name}' cannot be reached from StartAt '{graph.start_at}'; "
                    "remove it or add a transition to it",
                    "UNREACHABLE_STATE",
                )

    # --- states -----------------------------------------------------------------------------

    def state(self, state: State, at: Tokens) -> None:
        language = state.query_language or self.top_language
        if state.query_language == "JSONPath" and self.top_language == "JSONata":
            self.add(
                (*at, "QueryLanguage"),
                "A state cannot use JSONPath when the state machine's QueryLanguage is JSONata",
            )
        self.language_fields(state, at, language)
        if isinstance(state, TaskState | PassState | WaitState | ParallelState | MapState):
            if state.next is not None and state.end:
                self.add((*at, "End"), "A state cannot have both 'Next' and \"End\": true")
            elif state.next is None and not state.end:
                self.add(at, "A state needs either 'Next' or \"End\": true")
        if isinstance(state, TaskState | PassState | WaitState | ParallelState | MapState):
            self.assign(state.assign, (*at, "Assign"), language)
        if isinstance(state, ChoiceState):
            self.assign(state.assign, (*at, "Assign"), language)
        if language == "JSONPath":
            self.io_paths(state, at)
        elif not isinstance(state, FailState) and state.has("output"):
            self.jsonata_template(state.output, (*at, "Output"))
        if isinstance(state, TaskState):
            self.task(state, at, language)
        elif isinstance(state, PassState):
            if language == "JSONPath" and state.has("parameters"):
                self.payload_template(state.parameters, (*at, "Parameters"))
        elif isinstance(state, WaitState):
            self.wait(state, at, language)
        elif isinstance(state, ChoiceState):
            self.choice(state, at, language)
        elif isinstance(state, FailState):
            self.fail(state, at, language)
        elif isinstance(state, ParallelState):
            self.parallel(state, at, language)
        elif isinstance(state, MapState):
            self.map(state, at, language)

    def language_fields(self, model: AslModel, at: Tokens, language: QueryLanguage) -> None:
        if language == "JSONata":
            for field, name, hint in _JSONPATH_ONLY:
                if model.has(field):
                    self.add(
                        (*at, name),
                        f"Field '{name}' is not supported in JSONata states; {hint}",
                    )
        else:
            for field, name, hint in _JSONATA_ONLY:
                if model.has(field):
                    self.add(
                        (*at, name),
                        f"Field '{name}' needs QueryLanguage JSONata; in JSONPath states {hint}",
                    )

    def io_paths(self, state: State, at: Tokens) -> None:
        if isinstance(state, FailState):
            return
        for field, name in (("input_path", "InputPath"), ("output_path", "OutputPath")):
            value = getattr(state, field)
            if state.has(field) and value is not None:
                self.path(value, (*at, name), name)
        if (
            isinstance(state, TaskState | PassState | ParallelState | MapState)
            and state.has("result_path")
            and state.result_path is not None
        ):
            self.reference_path(state.result_path, (*at, "ResultPath"), "ResultPath")
        if isinstance(state, TaskState | ParallelState | MapState) and state.has("result_selector"):
            self.payload_template(state.result_selector, (*at, "ResultSelector"))

    def task(self, state: TaskState, at: Tokens, language: QueryLanguage) -> None:
        resource = state.resource
        if not (resource.startswith("arn:") or "${" in resource):
            self.add(
                (*at, "Resource"),
                f"Resource '{resource}' is not an ARN (arn:aws:states:::service:api, "
                "a Lambda function ARN, an activity ARN, or a ${placeholder})",
                "INVALID_RESOURCE",
            )
        self.payload(state, "parameters", "arguments", at, language)
        if state.has("credentials"):
            self.template(state.credentials, (*at, "Credentials"), language)
        self.seconds(state.timeout_seconds, (*at, "TimeoutSeconds"), "TimeoutSeconds", language)
        self.seconds(
            state.heartbeat_seconds, (*at, "HeartbeatSeconds"), "HeartbeatSeconds", language
        )
        self.exclusive(
            state,
            at,
            ("timeout_seconds", "TimeoutSeconds"),
            ("timeout_seconds_path", "TimeoutSecondsPath"),
        )
        self.exclusive(
            state,
            at,
            ("heartbeat_seconds", "HeartbeatSeconds"),
            ("heartbeat_seconds_path", "HeartbeatSecondsPath"),
        )
        if language == "JSONPath":
            for field, name in (
                ("timeout_seconds_path", "TimeoutSecondsPath"),
                ("heartbeat_seconds_path", "HeartbeatSecondsPath"),
            ):
                value = getattr(state, field)
                if value is not None:
                    self.reference_path(value, (*at, name), name)
        timeout, heartbeat = state.timeout_seconds, state.heartbeat_seconds
        if isinstance(timeout, int) and isinstance(heartbeat, int) and heartbeat >= timeout > 0:
            self.add(
                (*at, "HeartbeatSeconds"),
                f"HeartbeatSeconds ({heartbeat}) must be smaller than TimeoutSeconds ({timeout})",
            )
        self.retries(state.retry, (*at, "Retry"))
        self.catches(state.catch, (*at, "Catch"), language)

    def payload(
        self,
        model: AslModel,
        jsonpath_field: str,
        jsonata_field: str,
        at: Tokens,
        language: QueryLanguage,
    ) -> None:
        """Check ``Parameters`` (JSONPath) or ``Arguments`` (JSONata) of ``model``."""
        if language == "JSONPath" and model.has(jsonpath_field):
            self.payload_template(getattr(model, jsonpath_field), (*at, "Parameters"))
        if language == "JSONata" and model.has(jsonata_field):
            self.jsonata_template(getattr(model, jsonata_field), (*at, "Arguments"))

    def exclusive(
        self, model: AslModel, at: Tokens, first: tuple[str, str], second: tuple[str, str]
    ) -> None:
        if model.has(first[0]) and model.has(second[0]):
            self.add(
                (*at, second[1]),
                f"'{first[1]}' and '{second[1]}' cannot both be set; keep one",
            )

    def seconds(
        self, value: int | str | None, at: Tokens, name: str, language: QueryLanguage
    ) -> None:
        if value is None:
            return
        if isinstance(value, str):
            self.number_expression(value, at, name, language)
        elif not 1 <= value <= facts.MAX_SECONDS_OR_ATTEMPTS:
            self.add(
                at,
                f"{name} must be a positive integer "
                f"(1 to {facts.MAX_SECONDS_OR_ATTEMPTS}), got {value}",
            )

    def number_expression(self, value: str, at: Tokens, name: str, language: QueryLanguage) -> None:
        if language == "JSONPath":
            self.add(
                at,
                f"{name} must be a number in JSONPath states, got a string "
                f"(use {name}Path for a value read from the input)",
            )
        elif strip_jsonata(value) is None:
            self.add(at, f"{name} must be a number or a {{% %}} JSONata expression, got '{value}'")
        else:
            self.jsonata(value, at)

    def wait(self, state: WaitState, at: Tokens, language: QueryLanguage) -> None:
        present = [
            name
            for field, name in (
                ("seconds", "Seconds"),
                ("timestamp", "Timestamp"),
                ("seconds_path", "SecondsPath"),
                ("timestamp_path", "TimestampPath"),
            )
            if state.has(field)
        ]
        if len(present) != 1:
            self.add(
                at if not present else (*at, present[-1]),
                "A Wait state needs exactly one of Seconds, Timestamp, SecondsPath, TimestampPath"
                + (f"; it has {', '.join(present)}" if present else ""),
            )
        if isinstance(state.seconds, str):
            self.number_expression(state.seconds, (*at, "Seconds"), "Seconds", language)
        elif state.seconds is not None and not 0 <= state.seconds <= facts.MAX_SECONDS_OR_ATTEMPTS:
            self.add(
                (*at, "Seconds"),
                f"Seconds must be an integer from 0 to {facts.MAX_SECONDS_OR_ATTEMPTS}, "
                f"got {state.seconds}",
            )
        if state.timestamp is not None:
            if language == "JSONata" and strip_jsonata(state.timestamp) is not None:
                self.jsonata(state.timestamp, (*at, "Timestamp"))
            elif parse_timestamp(state.timestamp) is None:
                self.add(
                    (*at, "Timestamp"),
                    f"Timestamp '{state.timestamp}' is not an RFC 3339 timestamp "
                    "such as 2026-01-31T08:00:00Z",
                )
        if language == "JSONPath":
            for field, name in (
                ("seconds_path", "SecondsPath"),
                ("timestamp_path", "TimestampPath"),
            ):
                value = getattr(state, field)
                if value is not None:
                    self.reference_path(value, (*at, name), name)

    def fail(self, state: FailState, at: Tokens, language: QueryLanguage) -> None:
        self.exclusive(state, at, ("error", "Error"), ("error_path", "ErrorPath"))
        self.exclusive(state, at, ("cause", "Cause"), ("cause_path", "CausePath"))
        for field, name in (("error", "Error"), ("cause", "Cause")):
            value = getattr(state, field)
            if language == "JSONata" and isinstance(value, str):
                self.jsonata_template(value, (*at, name))
        if language == "JSONPath":
            for field, name in (("error_path", "ErrorPath"), ("cause_path", "CausePath")):
                value = getattr(state, field)
                if value is not None:
                    self.path_or_intrinsic(value, (*at, name), name)

    # --- Choice -----------------------------------------------------------------------------

    def choice(self, state: ChoiceState, at: Tokens, language: QueryLanguage) -> None:
        if not state.choices:
            self.add(
                (*at, "Choices"), "Value cannot be empty: a Choice state needs at least one rule"
            )
        for index, rule in enumerate(state.choices):
            rule_at = (*at, "Choices", index)
            if rule.next is None:
                self.add(rule_at, "A top-level Choice rule needs 'Next'")
            self.rule(rule, rule_at, language, top=True)

    def rule(self, rule: ChoiceRule, at: Tokens, language: QueryLanguage, *, top: bool) -> None:
        if not top:
            for field, name in (("next", "Next"), ("assign", "Assign"), ("output", "Output")):
                if rule.has(field):
                    self.add((*at, name), f"'{name}' is only allowed on a top-level Choice rule")
        if top:
            self.assign(rule.assign, (*at, "Assign"), language)
            if rule.has("output"):
                if language == "JSONata":
                    self.jsonata_template(rule.output, (*at, "Output"))
                else:
                    self.add((*at, "Output"), "Field 'Output' needs QueryLanguage JSONata")
        if language == "JSONata":
            for field, name in (
                ("variable", "Variable"),
                ("operator", rule.operator or ""),
                ("and_", "And"),
                ("or_", "Or"),
                ("not_", "Not"),
            ):
                if rule.has(field):
                    self.add(
                        (*at, name),
                        f"Field '{name}' is not supported in JSONata Choice rules; use Condition",
                    )
            if rule.condition is None:
                self.add(at, "A JSONata Choice rule needs 'Condition'")
            elif isinstance(rule.condition, str):
                if strip_jsonata(rule.condition) is None:
                    self.add(
                        (*at, "Condition"),
                        "Condition must be a {% %} JSONata expression or a boolean",
                    )
                else:
                    self.jsonata(rule.condition, (*at, "Condition"))
            return
        if rule.has("condition"):
            self.add((*at, "Condition"), "Field 'Condition' needs QueryLanguage JSONata")
        kinds = [
            name
            for present, name in (
                (rule.operator is not None, rule.operator or ""),
                (rule.and_ is not None, "And"),
                (rule.or_ is not None, "Or"),
                (rule.not_ is not None, "Not"),
            )
            if present
        ]
        if len(kinds) != 1:
            self.add(
                at,
                "A Choice rule needs exactly one comparison operator, 'And', 'Or' or 'Not'"
                + (f"; it has {', '.join(kinds)}" if kinds else ""),
            )
        if rule.operator is not None:
            self.comparison(rule, at)
        elif rule.variable is not None:
            self.add((*at, "Variable"), "'Variable' needs a comparison operator beside it")
        for name, group in (("And", rule.and_), ("Or", rule.or_)):
            if group is None:
                continue
            if not group:
                self.add((*at, name), f"Value cannot be empty: '{name}' needs at least one rule")
            for index, nested in enumerate(group):
                self.rule(nested, (*at, name, index), language, top=False)
        if rule.not_ is not None:
            self.rule(rule.not_, (*at, "Not"), language, top=False)

    def comparison(self, rule: ChoiceRule, at: Tokens) -> None:
        operator = rule.operator or ""
        operand_at = (*at, operator)
        if rule.variable is None:
            self.add(at, f"A Choice rule with '{operator}' needs 'Variable'")
        else:
            self.path(rule.variable, (*at, "Variable"), "Variable")
        operand = rule.operand
        if operator.endswith("Path"):
            if not isinstance(operand, str):
                self.add(operand_at, f"{operator} takes a path string, got {json_kind(operand)}")
            else:
                self.path(operand, operand_at, operator)
        elif operator.startswith("Is") or operator == "BooleanEquals":
            if not isinstance(operand, bool):
                self.add(operand_at, f"{operator} takes true or false, got {json_kind(operand)}")
        elif operator.startswith("Numeric"):  # the ...Path forms are handled above
            if isinstance(operand, bool) or not isinstance(operand, int | float):
                self.add(operand_at, f"{operator} takes a number, got {json_kind(operand)}")
        elif not isinstance(operand, str):
            self.add(operand_at, f"{operator} takes a string, got {json_kind(operand)}")

    # --- Parallel and Map -------------------------------------------------------------------

    def parallel(self, state: ParallelState, at: Tokens, language: QueryLanguage) -> None:
        if not state.branches:
            self.add((*at, "Branches"), "Value cannot be empty: a Parallel state needs a branch")
        self.payload(state, "parameters", "arguments", at, language)
        self.retries(state.retry, (*at, "Retry"))
        self.catches(state.catch, (*at, "Catch"), language)
        for index, branch in enumerate(state.branches):
            self.graph(branch, (*at, "Branches", index), f"branch {index} of this Parallel state")

    def map(self, state: MapState, at: Tokens, language: QueryLanguage) -> None:
        if state.item_processor is not None and state.iterator is not None:
            self.add((*at, "Iterator"), "'ItemProcessor' and 'Iterator' cannot both be set")
        processor = state.processor
        mode = "INLINE"
        if processor is None:
            self.add(at, "A Map state needs 'ItemProcessor'")
        else:
            body = "ItemProcessor" if state.item_processor is not None else "Iterator"
            config = processor.processor_config
            if config is not None:
                mode = config.mode
                config_at = (*at, body, "ProcessorConfig")
                if config.mode not in ("INLINE", "DISTRIBUTED"):
                    self.add(
                        (*config_at, "Mode"),
                        f"Mode must be INLINE or DISTRIBUTED, got '{config.mode}'",
                    )
                if config.execution_type is not None and config.execution_type not in (
                    "STANDARD",
                    "EXPRESS",
                ):
                    self.add(
                        (*config_at, "ExecutionType"),
                        f"ExecutionType must be STANDARD or EXPRESS, got '{config.execution_type}'",
                    )
                elif config.mode == "DISTRIBUTED" and config.execution_type is None:
                    self.add(
                        config_at, "A DISTRIBUTED Map needs 'ExecutionType' (STANDARD or EXPRESS)"
                    )
            self.graph(processor, (*at, body), "this Map's item processor")
        if mode != "DISTRIBUTED":
            for field, name in (
                ("item_reader", "ItemReader"),
                ("item_batcher", "ItemBatcher"),
                ("result_writer", "ResultWriter"),
            ):
                if state.has(field):
                    self.add((*at, name), f"'{name}' needs ProcessorConfig Mode DISTRIBUTED")
        self.exclusive(state, at, ("parameters", "Parameters"), ("item_selector", "ItemSelector"))
        self.exclusive(
            state,
            at,
            ("max_concurrency", "MaxConcurrency"),
            ("max_concurrency_path", "MaxConcurrencyPath"),
        )
        self.exclusive(
            state,
            at,
            ("tolerated_failure_count", "ToleratedFailureCount"),
            ("tolerated_failure_count_path", "ToleratedFailureCountPath"),
        )
        self.exclusive(
            state,
            at,
            ("tolerated_failure_percentage", "ToleratedFailurePercentage"),
            ("tolerated_failure_percentage_path", "ToleratedFailurePercentagePath"),
        )
        if language == "JSONPath":
            if state.has("items_path"):
                self.reference_path(state.items_path, (*at, "ItemsPath"), "ItemsPath")
            if state.has("parameters"):
                self.payload_template(state.parameters, (*at, "Parameters"))
            if state.has("item_selector"):
                self.payload_template(state.item_selector, (*at, "ItemSelector"))
            for field, name in (
                ("max_concurrency_path", "MaxConcurrencyPath"),
                ("tolerated_failure_count_path", "ToleratedFailureCountPath"),
                ("tolerated_failure_percentage_path", "ToleratedFailurePercentagePath"),
            ):
                value = getattr(state, field)
                if value is not None:
                    self.reference_path(value, (*at, name), name)
        else:
            if state.has("items"):
                if isinstance(state.items, str):
                    self.jsonata_template(state.items, (*at, "Items"))
                elif not isinstance(state.items, list):
                    self.add(
                        (*at, "Items"),
                        "Items must be an array or a {% %} expression, "
                        f"got {json_kind(state.items)}",
                    )
                else:
                    self.jsonata_template(state.items, (*at, "Items"))
            if state.has("item_selector"):
                self.jsonata_template(state.item_selector, (*at, "ItemSelector"))
        self.bounded(
            state.max_concurrency, (*at, "MaxConcurrency"), "MaxConcurrency", language, 0, None
        )
        self.bounded(
            state.tolerated_failure_count,
            (*at, "ToleratedFailureCount"),
            "ToleratedFailureCount",
            language,
            0,
            None,
        )
        self.bounded(
            state.tolerated_failure_percentage,
            (*at, "ToleratedFailurePercentage"),
            "ToleratedFailurePercentage",
            language,
            0,
            100,
        )
        if state.label is not None and len(state.label) > facts.MAX_LABEL_LENGTH:
            self.add((*at, "Label"), f"Label is longer than {facts.MAX_LABEL_LENGTH} characters")
        self.distributed_parts(state, at, language)
        self.retries(state.retry, (*at, "Retry"))
        self.catches(state.catch, (*at, "Catch"), language)

    def bounded(
        self,
        value: int | float | str | None,
        at: Tokens,
        name: str,
        language: QueryLanguage,
        low: int,
        high: int | None,
    ) -> None:
        if value is None:
            return
        if isinstance(value, str):
            self.number_expression(value, at, name, language)
        elif value < low or (high is not None and value > high):
            limit = f"between {low} and {high}" if high is not None else f"{low} or more"
            self.add(at, f"{name} must be {limit}, got {value}")

    def distributed_parts(self, state: MapState, at: Tokens, language: QueryLanguage) -> None:
        reader = state.item_reader
        if reader is not None:
            self.language_fields(reader, (*at, "ItemReader"), language)
            self.payload(reader, "parameters", "arguments", (*at, "ItemReader"), language)
            config = reader.reader_config
            if config is not None:
                config_at = (*at, "ItemReader", "ReaderConfig")
                self.bounded(
                    config.max_items, (*config_at, "MaxItems"), "MaxItems", language, 0, None
                )
                if config.max_items_path is not None:
                    if language == "JSONata":
                        self.add(
                            (*config_at, "MaxItemsPath"),
                            "Field 'MaxItemsPath' is not supported in JSONata states; use MaxItems",
                        )
                    else:
                        self.reference_path(
                            config.max_items_path, (*config_at, "MaxItemsPath"), "MaxItemsPath"
                        )
        writer = state.result_writer
        if writer is not None:
            self.language_fields(writer, (*at, "ResultWriter"), language)
            self.payload(writer, "parameters", "arguments", (*at, "ResultWriter"), language)
        batcher = state.item_batcher
        if batcher is not None:
            batcher_at = (*at, "ItemBatcher")
            for field, name in (
                ("max_items_per_batch", "MaxItemsPerBatch"),
                ("max_input_bytes_per_batch", "MaxInputBytesPerBatch"),
            ):
                self.bounded(getattr(batcher, field), (*batcher_at, name), name, language, 1, None)
                path = getattr(batcher, field + "_path")
                if path is not None:
                    self.reference_path(path, (*batcher_at, name + "Path"), name + "Path")
            if batcher.has("batch_input"):
                self.template(batcher.batch_input, (*batcher_at, "BatchInput"), language)

    # --- Retry and Catch --------------------------------------------------------------------

    def error_equals(self, errors: list[str], at: Tokens, is_last: bool, what: str) -> None:
        if not errors:
            self.add(at, f"Value cannot be empty: a {what} needs at least one error name")
        if facts.STATES_ALL in errors:
            if len(errors) > 1:
                self.add(at, f"'{facts.STATES_ALL}' must appear alone in ErrorEquals")
            elif not is_last:
                self.add(at, f"A {what} matching '{facts.STATES_ALL}' must be the last one")

    def retries(self, retriers: list[Retrier], at: Tokens) -> None:
        for index, retrier in enumerate(retriers):
            here = (*at, index)
            self.error_equals(
                retrier.error_equals, (*here, "ErrorEquals"), index == len(retriers) - 1, "retrier"
            )
            if not 1 <= retrier.interval_seconds <= facts.MAX_SECONDS_OR_ATTEMPTS:
                self.add(
                    (*here, "IntervalSeconds"),
                    f"IntervalSeconds must be between 1 and {facts.MAX_SECONDS_OR_ATTEMPTS}, "
                    f"got {retrier.interval_seconds}",
                )
            if not 0 <= retrier.max_attempts <= facts.MAX_SECONDS_OR_ATTEMPTS:
                self.add(
                    (*here, "MaxAttempts"),
                    f"MaxAttempts must be between 0 and {facts.MAX_SECONDS_OR_ATTEMPTS}, "
                    f"got {retrier.max_attempts}",
                )
            if retrier.backoff_rate < 1:
                self.add(
                    (*here, "BackoffRate"),
                    f"BackoffRate must be 1.0 or more, got {retrier.backoff_rate}",
                )
            delay = retrier.max_delay_seconds
            if delay is not None and not 1 <= delay <= facts.MAX_DELAY_SECONDS:
                self.add(
                    (*here, "MaxDelaySeconds"),
                    f"MaxDelaySeconds must be between 1 and {facts.MAX_DELAY_SECONDS}, got {delay}",
                )
            if retrier.jitter_strategy not in facts.JITTER_STRATEGIES:
                self.add(
                    (*here, "JitterStrategy"),
                    f"JitterStrategy must be FULL or NONE, got '{retrier.jitter_strategy}'",
                )

    def catches(self, catchers: list[Catcher], at: Tokens, language: QueryLanguage) -> None:
        for index, catcher in enumerate(catchers):
            here = (*at, index)
            self.error_equals(
                catcher.error_equals, (*here, "ErrorEquals"), index == len(catchers) - 1, "catcher"
            )
            self.assign(catcher.assign, (*here, "Assign"), language)
            if language == "JSONata":
                if catcher.has("result_path"):
                    self.add(
                        (*here, "ResultPath"),
                        "Field 'ResultPath' is not supported in JSONata states; use Output",
                    )
                if catcher.has("output"):
                    self.jsonata_template(catcher.output, (*here, "Output"))
            else:
                if catcher.has("output"):
                    self.add(
                        (*here, "Output"),
                        "Field 'Output' needs QueryLanguage JSONata; use ResultPath",
                    )
                if catcher.result_path is not None and catcher.has("result_path"):
                    self.reference_path(catcher.result_path, (*here, "ResultPath"), "ResultPath")

    # --- variables and templates ------------------------------------------------------------

    def assign(self, assign: Mapping[str, Any] | None, at: Tokens, language: QueryLanguage) -> None:
        if assign is None:
            return
        for key in assign:
            name = key[:-2] if language == "JSONPath" and key.endswith(".$") else key
            if not _VARIABLE_NAME.fullmatch(name) or len(name) > facts.MAX_VARIABLE_NAME_LENGTH:
                self.add(
                    (*at, key),
                    f"'{name}' is not a valid variable name: use a letter or '_' followed by "
                    f"letters, digits or '_' (at most {facts.MAX_VARIABLE_NAME_LENGTH} characters)",
                )
        self.template(dict(assign), at, language)

    def template(self, value: Any, at: Tokens, language: QueryLanguage) -> None:
        if language == "JSONPath":
            self.path_template(value, at)
        else:
            self.jsonata_template(value, at)

    def payload_template(self, value: Any, at: Tokens) -> None:
        """Check a JSONPath payload template field: a JSON object whose ``.$`` keys are valid.

        https://states-language.net/spec.html#payload-template: "The value of "Parameters" MUST
        be a Payload Template ... a JSON object"; the same holds for ResultSelector and
        ItemSelector.
        """
        if not isinstance(value, dict):
            field = str(at[-1])
            self.add(
                at, f"{field} must be a JSON object (a payload template), got {json_kind(value)}"
            )
            return
        self.path_template(value, at)

    def path_template(self, value: Any, at: Tokens) -> None:
        """Check every ``"key.$"`` of a JSONPath payload template, at any depth."""
        if isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, str) and key.endswith(".$"):
                    if isinstance(item, str):
                        self.path_or_intrinsic(item, (*at, key), key)
                    else:
                        self.add(
                            (*at, key),
                            f"The value of '{key}' must be a path or an intrinsic function "
                            f"string, got {json_kind(item)}",
                        )
                else:
                    self.path_template(item, (*at, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self.path_template(item, (*at, index))

    def jsonata_template(self, value: Any, at: Tokens) -> None:
        """Check every ``{% %}`` string of a JSONata-mode value, at any depth."""
        if isinstance(value, str):
            if value.lstrip().startswith("{%"):
                if strip_jsonata(value) is None:
                    self.add(at, "A JSONata expression must end with '%}'", "INVALID_JSONATA")
                else:
                    self.jsonata(value, at)
        elif isinstance(value, dict):
            for key, item in value.items():
                self.jsonata_template(item, (*at, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self.jsonata_template(item, (*at, index))

    # --- expressions ------------------------------------------------------------------------

    def jsonata(self, text: str, at: Tokens) -> None:
        try:
            check_jsonata(text)
        except ExpressionSyntaxError as exc:
            self.add(at, f"Invalid JSONata expression: {exc.message}", "INVALID_JSONATA")

    def path(self, text: str, at: Tokens, field: str) -> None:
        try:
            compile_path(text)
        except ExpressionSyntaxError as exc:
            self.add(at, f"{field} is not a valid JSONPath: {exc.message}", "INVALID_JSONPATH")

    def reference_path(self, text: str, at: Tokens, field: str) -> None:
        try:
            path = compile_reference_path(text)
        except ExpressionSyntaxError as exc:
            self.add(
                at,
                f"{field} is not a valid reference path: {exc.message}",
                "INVALID_REFERENCE_PATH",
            )
            return
        if field == "ResultPath" and path.root != "input":
            self.add(
                at,
                f"ResultPath must start with '$' (the state's data), got '{text}'",
                "INVALID_REFERENCE_PATH",
            )

    def path_or_intrinsic(self, text: str, at: Tokens, field: str) -> None:
        if is_intrinsic(text):
            try:
                parse_intrinsic(text)
            except ExpressionSyntaxError as exc:
                self.add(
                    at,
                    f"{field} is not a valid intrinsic function call: {exc.message}",
                    "INVALID_INTRINSIC_FUNCTION",
                )
        else:
            self.path(text, at, field)


def _children(state: State, at: Tokens) -> Iterator[tuple[StateGraph, Tokens]]:
    if isinstance(state, ParallelState):
        for index, branch in enumerate(state.branches):
            yield branch, (*at, "Branches", index)
    elif isinstance(state, MapState):
        if state.item_processor is not None:
            yield state.item_processor, (*at, "ItemProcessor")
        if state.iterator is not None:
            yield state.iterator, (*at, "Iterator")


def validate(machine: StateMachine) -> list[Problem]:
    """Check the rules a schema cannot express; an empty list means AWS would accept it.

    Args:
        machine: a parsed definition (see :func:`stepsaga.workflows.asl.parse_definition`).

    Returns:
        Every problem found, each naming the JSON pointer of the offending value.
    """
    checker = _Checker(machine.query_language)
    checker.collect_names(machine, ())
    if (
        machine.timeout_seconds is not None
        and not 1 <= machine.timeout_seconds <= facts.MAX_SECONDS_OR_ATTEMPTS
    ):
        checker.add(
            ("TimeoutSeconds",),
            f"TimeoutSeconds must be a positive integer (1 to {facts.MAX_SECONDS_OR_ATTEMPTS}), "
            f"got {machine.timeout_seconds}",
        )
    checker.graph(machine, (), "the state machine")
    return checker.problems


def validate_state(state: State, query_language: QueryLanguage = "JSONPath") -> list[Problem]:
    """Check one state on its own (its transitions are not resolved).

    Args:
        state: a parsed state.
        query_language: the language in force when the state sets none.
    """
    checker = _Checker(query_language)
    for child, child_at in _children(state, ()):
        checker.collect_names(child, child_at)
    checker.state(state, ())
    return checker.problems
