"""Data flow: how a state reads its input and builds its output, in either query language.

JSONPath states filter their input (``InputPath``), build a payload (``Parameters``), shape the
result (``ResultSelector``), place it (``ResultPath``) and filter the output (``OutputPath``);
JSONata states evaluate ``Arguments``, ``Output`` and ``Assign`` over ``$states``. Each
language is one object, :data:`JSONPATH` or :data:`JSONATA`, with the same methods; a state's
plan holds the one it is written in, so the states themselves are written once.

The numeric fields states read at run time (``TimeoutSecondsPath``, ``MaxConcurrency`` ...)
are checked here too, with AWS's error texts.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from stepsaga.infra.local.stepfunctions._history import to_json
from stepsaga.workflows import facts
from stepsaga.workflows._expressions import (
    EvaluationError,
    EvaluationScope,
    JsonataTemplate,
    Path,
    parse_timestamp,
)

if TYPE_CHECKING:
    from stepsaga.infra.local.stepfunctions._steps import ChoiceCase, StateStep

KEEP: Final = object()
"""A path field left at ``$`` (or absent): the value passes through."""


def filter_path(path: Any, data: Any, scope: EvaluationScope) -> Any:
    """Apply InputPath or OutputPath: ``$`` (or absent) keeps ``data``, null gives ``{}``."""
    if path is KEEP:
        return data
    if path is None:
        return {}
    return path.evaluate(data, scope)


def place_result(path: Any, raw_input: Any, result: Any) -> Any:
    """Apply ResultPath: ``$`` (or absent) gives ``result``, null keeps the input."""
    if path is KEEP:
        return result
    if path is None:
        return raw_input
    return path.set(raw_input, result)


def error_output(error: str | None, cause: str | None) -> dict[str, Any]:
    """What a Catcher receives: ``{"Error", "Cause"}`` as AWS builds it.

    A timeout's cause is "" rather than absent; a failure naming no error at all
    (``SendTaskFailure`` without one) shows both as null.
    """
    if error is None:
        return {"Error": None, "Cause": cause}
    if cause is None and error in (facts.STATES_TIMEOUT, facts.STATES_HEARTBEAT_TIMEOUT):
        cause = ""
    output: dict[str, Any] = {"Error": error}
    if cause is not None:
        output["Cause"] = cause
    return output


class QueryLanguage:
    """The data flow of one query language (see the module docstring)."""

    name = ""

    def input(self, step: StateStep, data: Any, scope: EvaluationScope) -> Any:
        """What the state's own logic reads (its Choice rules, Wait fields, Map items)."""
        raise NotImplementedError

    def arguments(self, step: StateStep, data: Any, scope: EvaluationScope) -> Any:
        """The payload a Task, Parallel or Pass works on (InputPath + Parameters, or Arguments)."""
        raise NotImplementedError

    def value(self, field: Any, data: Any, scope: EvaluationScope) -> Any:
        """Evaluate a field read at run time (a ``*Path`` field, or its JSONata expression)."""
        raise NotImplementedError

    def output(
        self, step: StateStep, data: Any, result: Any, scope: EvaluationScope
    ) -> tuple[Any, Any]:
        """The state's output and its variable assignments (None: none), from its result."""
        raise NotImplementedError

    def pass_result(self, step: StateStep, data: Any, scope: EvaluationScope) -> Any:
        """A Pass state's result (its ``Result``, else its payload)."""
        raise NotImplementedError

    def choice_output(
        self,
        step: StateStep,
        rule: ChoiceCase | None,
        data: Any,
        effective: Any,
        scope: EvaluationScope,
    ) -> tuple[Any, Any]:
        """A Choice state's output and assignments, once ``rule`` (None: the Default) matched.

        ``effective`` is what the rules were tested on (:meth:`input` of ``data``).
        """
        raise NotImplementedError

    def caught(
        self, catcher: Any, data: Any, error: dict[str, Any], scope: EvaluationScope
    ) -> tuple[Any, Any]:
        """The output and assignments of a Catcher given the state's input and the error."""
        raise NotImplementedError

    def credentials(self, step: Any, data: Any, scope: EvaluationScope) -> Any:
        """A Task's ``Credentials``, evaluated."""
        raise NotImplementedError

    def fail_fields(self, step: Any, data: Any, scope: EvaluationScope) -> tuple[Any, Any]:
        """A Fail state's error and cause."""
        raise NotImplementedError

    def map_items(self, step: Any, data: Any, scope: EvaluationScope) -> tuple[Any, list[Any]]:
        """A Map's effective input and the items it iterates over."""
        raise NotImplementedError

    def map_item(
        self, step: Any, effective: Any, index: int, item: Any, scope: EvaluationScope
    ) -> Any:
        """One iteration's input (the item, or the ItemSelector built for it)."""
        selector = step.item_selector
        if selector is None:
            return item
        context = dict(scope.context) if scope.context else {}
        context["Map"] = {"Item": {"Index": index, "Value": item}}
        item_scope = EvaluationScope(
            context=context, variables=scope.variables, random=scope.random, now=scope.now
        )
        return self._select_item(selector, effective, context, item_scope)

    def _select_item(
        self, selector: Any, effective: Any, context: Any, scope: EvaluationScope
    ) -> Any:
        raise NotImplementedError


class _JsonPath(QueryLanguage):
    name = "JSONPath"

    def input(self, step: StateStep, data: Any, scope: EvaluationScope) -> Any:
        return filter_path(step.input_path, data, scope)

    def arguments(self, step: StateStep, data: Any, scope: EvaluationScope) -> Any:
        effective = filter_path(step.input_path, data, scope)
        if step.parameters is not None:
            effective = step.parameters.evaluate(effective, scope)
        return effective

    def value(self, field: Any, data: Any, scope: EvaluationScope) -> Any:
        return field.evaluate(data, scope)

    def output(
        self, step: StateStep, data: Any, result: Any, scope: EvaluationScope
    ) -> tuple[Any, Any]:
        if step.result_selector is not None:
            result = step.result_selector.evaluate(result, scope)
        assigned = None if step.assign is None else step.assign.evaluate(result, scope)
        placed = place_result(step.result_path, data, result)
        return filter_path(step.output_path, placed, scope), assigned

    def pass_result(self, step: StateStep, data: Any, scope: EvaluationScope) -> Any:
        effective = filter_path(step.input_path, data, scope)
        if step.parameters is not None:  # evaluated (and may fail) even beside a Result
            effective = step.parameters.evaluate(effective, scope)
        return effective if step.result is KEEP else step.result

    def choice_output(
        self,
        step: StateStep,
        rule: ChoiceCase | None,
        data: Any,
        effective: Any,
        scope: EvaluationScope,
    ) -> tuple[Any, Any]:
        assigned = None if step.assign is None else step.assign.evaluate(effective, scope)
        if rule is not None and rule.assign is not None:
            extra = rule.assign.evaluate(effective, scope)
            assigned = extra if assigned is None else {**assigned, **extra}
        return filter_path(step.output_path, effective, scope), assigned

    def caught(
        self, catcher: Any, data: Any, error: dict[str, Any], scope: EvaluationScope
    ) -> tuple[Any, Any]:
        assigned = None if catcher.assign is None else catcher.assign.evaluate(error, scope)
        return place_result(catcher.result_path, data, error), assigned

    def credentials(self, step: Any, data: Any, scope: EvaluationScope) -> Any:
        return step.credentials.evaluate(filter_path(step.input_path, data, scope), scope)

    def fail_fields(self, step: Any, data: Any, scope: EvaluationScope) -> tuple[Any, Any]:
        error, cause = step.error, step.cause
        if step.error_path is not None:
            error = step.error_path.evaluate(data, scope)
        if step.cause_path is not None:
            cause = step.cause_path.evaluate(data, scope)
        return error, cause

    def map_items(self, step: Any, data: Any, scope: EvaluationScope) -> tuple[Any, list[Any]]:
        effective = filter_path(step.input_path, data, scope)
        items = effective if step.items_path is KEEP else step.items_path.get(effective, scope)
        if not isinstance(items, list):
            path = "$" if step.items_path is KEEP else step.items_path.text
            raise EvaluationError(
                facts.STATES_RUNTIME, f'Reference path "{path}" must point to array.'
            )
        return effective, items

    def _select_item(
        self, selector: Any, effective: Any, context: Any, scope: EvaluationScope
    ) -> Any:
        return selector.evaluate(effective, scope)


class _Jsonata(QueryLanguage):
    name = "JSONata"

    @staticmethod
    def states(data: Any, scope: EvaluationScope, **extra: Any) -> dict[str, Any]:
        """``$states``: input, context, and result or errorOutput where the state has them."""
        return {"input": data, "context": scope.context, **extra}

    def input(self, step: StateStep, data: Any, scope: EvaluationScope) -> Any:
        return data

    def arguments(self, step: StateStep, data: Any, scope: EvaluationScope) -> Any:
        if step.parameters is None:
            return data
        return step.parameters.evaluate(self.states(data, scope), scope)

    def value(self, field: Any, data: Any, scope: EvaluationScope) -> Any:
        return field.evaluate(self.states(data, scope), scope)

    def output(
        self, step: StateStep, data: Any, result: Any, scope: EvaluationScope
    ) -> tuple[Any, Any]:
        states = self.states(data, scope, result=result)
        assigned = None if step.assign is None else step.assign.evaluate(states, scope)
        output = result if step.output is None else step.output.evaluate(states, scope)
        return output, assigned

    def pass_result(self, step: StateStep, data: Any, scope: EvaluationScope) -> Any:
        return data

    def choice_output(
        self,
        step: StateStep,
        rule: ChoiceCase | None,
        data: Any,
        effective: Any,
        scope: EvaluationScope,
    ) -> tuple[Any, Any]:
        states = self.states(data, scope)
        assigned = None if step.assign is None else step.assign.evaluate(states, scope)
        template = step.output
        if rule is not None:
            if rule.assign is not None:
                extra = rule.assign.evaluate(states, scope)
                assigned = extra if assigned is None else {**assigned, **extra}
            if rule.output is not None:
                template = rule.output
        output = data if template is None else template.evaluate(states, scope)
        return output, assigned

    def caught(
        self, catcher: Any, data: Any, error: dict[str, Any], scope: EvaluationScope
    ) -> tuple[Any, Any]:
        states = self.states(data, scope, errorOutput=error)
        assigned = None if catcher.assign is None else catcher.assign.evaluate(states, scope)
        output = error if catcher.output is None else catcher.output.evaluate(states, scope)
        return output, assigned

    def credentials(self, step: Any, data: Any, scope: EvaluationScope) -> Any:
        return self.value(step.credentials, data, scope)

    def fail_fields(self, step: Any, data: Any, scope: EvaluationScope) -> tuple[Any, Any]:
        error, cause = step.error, step.cause
        if step.error_path is not None:
            error = self.value(step.error_path, data, scope)
        if step.cause_path is not None:
            cause = self.value(step.cause_path, data, scope)
        return error, cause

    def map_items(self, step: Any, data: Any, scope: EvaluationScope) -> tuple[Any, list[Any]]:
        template = step.items_path
        if template is KEEP or template is None:
            if not isinstance(data, list):
                raise EvaluationError(
                    facts.STATES_QUERY_EVALUATION_ERROR,
                    f"Map state input must be an array but was: {to_json(data)}",
                )
            return data, data
        items = self.value(template, data, scope)
        if not isinstance(items, list):
            raise template.unexpected_type(items, "array")
        return data, items

    def _select_item(
        self, selector: Any, effective: Any, context: Any, scope: EvaluationScope
    ) -> Any:
        return selector.evaluate({"input": effective, "context": context}, scope)


JSONPATH: Final[QueryLanguage] = _JsonPath()
JSONATA: Final[QueryLanguage] = _Jsonata()


# -- values read at run time -------------------------------------------------------------------


def field_text(field: Any) -> str:
    """How a cause quotes a field: a path's text, or a JSONata field's expression."""
    if isinstance(field, JsonataTemplate):
        return field.expression
    if isinstance(field, Path):
        return field.text
    return str(field)


def show(value: Any) -> str:
    """A value as a cause quotes it: text as is, anything else as JSON."""
    return value if isinstance(value, str) else to_json(value)


def wait_until(value: Any) -> datetime | None:
    """A Wait timestamp (the format Choice's timestamp rules accept), to the microsecond."""
    parsed = parse_timestamp(value)
    if parsed is None:
        return None
    instant, fraction = parsed
    return instant + timedelta(microseconds=int(fraction * 1_000_000))


def as_int(value: Any) -> int | None:
    """An integer from a JSON number or numeric text, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return None
    return None


def count_field(value: Any, field: Any, name: str) -> int:
    """A count read at run time (MaxConcurrencyPath ...), or AWS's error naming the field."""
    parsed = as_int(value)
    if parsed is None:
        raise EvaluationError(
            facts.STATES_RUNTIME,
            f'The {name} field refers to value "{show(value)}" which is not a valid integer: '
            f"{field_text(field)}",
        )
    return parsed


def percentage_field(value: Any, field: Any) -> float:
    """ToleratedFailurePercentage(Path) read at run time."""
    parsed: float | None = None
    if not isinstance(value, bool) and isinstance(value, int | float | str):
        try:
            parsed = float(value)
        except ValueError:
            parsed = None
    if parsed is None:
        raise EvaluationError(
            facts.STATES_RUNTIME,
            f'The ToleratedFailurePercentagePath field refers to value "{show(value)}" which is '
            f"not a valid float: {field_text(field)}",
        )
    if not 0 <= parsed <= 100:
        raise EvaluationError(
            facts.STATES_RUNTIME, "ToleratedFailurePercentage must be between 0 and 100."
        )
    return parsed


def positive_int(value: Any, name: str) -> int:
    """TimeoutSecondsPath / HeartbeatSecondsPath read at run time."""
    parsed = as_int(value)
    if parsed is None or parsed <= 0:
        raise EvaluationError(
            facts.STATES_RUNTIME,
            f"The {name} field must be a positive integer, got: {json.dumps(value)}",
        )
    return parsed
