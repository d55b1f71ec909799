"""A validated state machine compiled into an execution plan: steps resolved, paths parsed once.

The plan is built from the ASL model (``stepsaga.workflows.asl.StateMachine``), which has
validated the definition already: nothing here is validated per run. Each state becomes the
step of its kind (``_steps``, ``_task_step``, ``_map_parallel``) with its expressions compiled
for its query language, and every edge of the graph carries the :class:`Transition` an
execution records when it takes it.
"""

from __future__ import annotations

import json
from typing import Any, Final

from stepsaga.infra.local.stepfunctions._dataflow import JSONATA, JSONPATH, KEEP, QueryLanguage
from stepsaga.infra.local.stepfunctions._errors import DefinitionError
from stepsaga.infra.local.stepfunctions._map_parallel import MapStep, ParallelStep
from stepsaga.infra.local.stepfunctions._observe import Transition
from stepsaga.infra.local.stepfunctions._steps import (
    CatchRule,
    ChoiceCase,
    ChoiceStep,
    FailStep,
    JsonataCondition,
    PassStep,
    RetryRule,
    StateStep,
    SucceedStep,
    WaitStep,
)
from stepsaga.infra.local.stepfunctions._task_step import TaskStep
from stepsaga.workflows._expressions import (
    JsonataTemplate,
    Path,
    ReferencePath,
    Template,
    compile_choice_rule,
    compile_jsonata_template,
    compile_path,
    compile_reference_path,
    compile_template,
    pointer_of,
    strip_jsonata,
)
from stepsaga.workflows.asl import (
    AslModel,
    ChoiceState,
    FailState,
    MapState,
    ParallelState,
    PassState,
    StateGraph,
    StateMachine,
    SucceedState,
    TaskState,
    WaitState,
)

_STEP_OF: Final[dict[type[AslModel], type[StateStep]]] = {
    PassState: PassStep,
    SucceedState: SucceedStep,
    FailState: FailStep,
    ChoiceState: ChoiceStep,
    WaitState: WaitStep,
    TaskState: TaskStep,
    ParallelState: ParallelStep,
    MapState: MapStep,
}


class StepGraph:
    """A ``StartAt`` + ``States`` pair compiled: the machine, a Parallel branch, a Map body.

    Attributes:
        pointer: the JSON pointer of the graph ("" for the machine).
        start: the first step.
        steps: every step by name.
    """

    __slots__ = ("pointer", "start", "steps")

    def __init__(self, pointer: str, start: StateStep, steps: dict[str, StateStep]) -> None:
        self.pointer = pointer
        self.start = start
        self.steps = steps


class MachinePlan:
    """A whole state machine, compiled.

    Attributes:
        machine: the validated model it was compiled from (``Execution.definition``).
        graph: the top-level graph.
        timeout_seconds: the machine's TimeoutSeconds, when set.
    """

    __slots__ = ("graph", "machine", "timeout_seconds")

    def __init__(self, machine: StateMachine, graph: StepGraph) -> None:
        self.machine = machine
        self.graph = graph
        self.timeout_seconds = machine.timeout_seconds


def compile_machine(machine: StateMachine) -> MachinePlan:
    """Compile a validated state machine into its plan.

    Raises:
        DefinitionError: the machine uses what this engine cannot run (Map ItemReader ...), or
            (for a model built without validation) a transition names no state.
    """
    return MachinePlan(machine, _graph(machine, "", machine.query_language))


def compile_state(name: str, model: AslModel, default_language: str) -> StateStep:
    """Compile one state on its own, as TestState runs it: its transitions stay names.

    ``next``, the catchers' and the Choice rules' edges are not resolved (the states they
    name need not exist); ``next_name``, ``CatchRule.next_name`` and ``ChoiceCase.next_name``
    say where the state would go. Parallel branches and Map item processors are compiled
    whole.

    Args:
        name: the state's name.
        model: the validated state.
        default_language: the query language in force when the state sets none.

    Raises:
        DefinitionError: the state uses what this engine cannot run (Map ItemReader ...).
    """
    written = getattr(model, "query_language", None) or default_language
    language = JSONATA if written == "JSONata" else JSONPATH
    pointer = pointer_of(("States", name))
    try:
        return _step(name, model, pointer, "", language, default_language)
    except DefinitionError:
        raise
    except Exception as exc:  # expression syntax errors carry no pointer of ours
        raise DefinitionError(str(exc), pointer=pointer) from exc


def _graph(graph: StateGraph, pointer: str, default_language: str) -> StepGraph:
    steps: dict[str, StateStep] = {}
    models: dict[str, Any] = {}
    for name, model in graph.states.items():
        state_pointer = pointer + pointer_of(("States", name))
        language = JSONATA if (model.query_language or default_language) == "JSONata" else JSONPATH
        try:
            steps[name] = _step(name, model, state_pointer, pointer, language, default_language)
        except DefinitionError:
            raise
        except Exception as exc:  # expression syntax errors carry no pointer of ours
            raise DefinitionError(str(exc), pointer=state_pointer) from exc
        models[name] = model
    for name, step in steps.items():
        _resolve_edges(step, models[name], steps)
    start = steps.get(graph.start_at)
    if start is None:
        raise DefinitionError(
            f"StartAt names no state: {graph.start_at!r}", pointer=f"{pointer}/StartAt"
        )
    return StepGraph(pointer, start, steps)


def _step(
    name: str, model: Any, pointer: str, scope: str, language: QueryLanguage, default: str
) -> StateStep:
    step = _STEP_OF[type(model)](name, model.type, pointer, scope, language)
    jsonata = language is JSONATA
    if jsonata:
        _jsonata_data_flow(step, model)
    else:
        _jsonpath_data_flow(step, model)
        # Building the context object ($$) costs; only states that mention it get one.
        step.uses_context = "$$" in json.dumps(model.to_dict())
    step.next_name = getattr(model, "next", None)
    step.retriers = tuple(
        RetryRule(
            retrier.error_equals,
            float(retrier.interval_seconds),
            retrier.max_attempts,
            float(retrier.backoff_rate),
            None if retrier.max_delay_seconds is None else float(retrier.max_delay_seconds),
            retrier.jitter_strategy == "FULL",
            Transition(scope, name, name, f"Retry/{index}"),
        )
        for index, retrier in enumerate(getattr(model, "retry", ()))
    )
    step.catchers = tuple(_catcher(catcher, jsonata) for catcher in getattr(model, "catch", ()))
    if isinstance(step, TaskStep):
        _task(step, model, jsonata)
    elif isinstance(step, ChoiceStep):
        _choice(step, model, jsonata)
    elif isinstance(step, WaitStep):
        step.seconds, step.seconds_path = _number(
            model.seconds, model.seconds_path, jsonata, "Seconds"
        )
        step.timestamp, step.timestamp_path = _number(
            model.timestamp, model.timestamp_path, jsonata, "Timestamp"
        )
    elif isinstance(step, FailStep):
        _fail(step, model, jsonata)
    elif isinstance(step, ParallelStep):
        step.branches = tuple(
            _graph(branch, f"{pointer}/Branches/{index}", default)
            for index, branch in enumerate(model.branches)
        )
    elif isinstance(step, MapStep):
        _map(step, model, pointer, jsonata, default)
    return step


# -- data flow per query language -------------------------------------------------------------


def _jsonpath_data_flow(step: StateStep, model: Any) -> None:
    step.input_path = _path(getattr(model, "input_path", "$"))
    step.output_path = _path(getattr(model, "output_path", "$"))
    step.result_path = _result_path(getattr(model, "result_path", "$"))
    step.parameters = _template(model, "parameters", "Parameters")
    step.result_selector = _template(model, "result_selector", "ResultSelector")
    step.assign = _template(model, "assign", "Assign")
    if model.has("result"):
        step.result = model.result


def _jsonata_data_flow(step: StateStep, model: Any) -> None:
    # JSONata states: Arguments (in `parameters`), Output and Assign over $states.
    step.parameters = _jsonata(model, "arguments", "Arguments")
    step.output = _jsonata(model, "output", "Output")
    step.assign = _jsonata(model, "assign", "Assign")


def _catcher(model: Any, jsonata: bool) -> CatchRule:
    catcher = CatchRule(model.error_equals, model.next)
    if jsonata:
        catcher.output = _jsonata(model, "output", "Output")
        catcher.assign = _jsonata(model, "assign", "Assign")
    else:
        catcher.result_path = _result_path(model.result_path)
        catcher.assign = _template(model, "assign", "Assign")
    return catcher


# -- each kind's own fields -------------------------------------------------------------------


def _task(step: TaskStep, model: TaskState, jsonata: bool) -> None:
    step.set_resource(model.resource)
    step.timeout, step.timeout_path = _number(
        model.timeout_seconds, model.timeout_seconds_path, jsonata, "TimeoutSeconds"
    )
    step.heartbeat, step.heartbeat_path = _number(
        model.heartbeat_seconds, model.heartbeat_seconds_path, jsonata, "HeartbeatSeconds"
    )
    if jsonata:
        step.credentials = _jsonata(model, "credentials", "Credentials")
    else:
        step.credentials = _template(model, "credentials", "Credentials")


def _choice(step: ChoiceStep, model: ChoiceState, jsonata: bool) -> None:
    cases = []
    for index, rule in enumerate(model.choices):
        if jsonata:
            condition = compile_jsonata_template(rule.condition, f"Choices[{index}]/Condition")
            test: Any = JsonataCondition(condition)
            case = ChoiceCase(
                test,
                rule.next or "",
                _jsonata(rule, "assign", "Assign"),
                _jsonata(rule, "output", "Output"),
            )
        else:
            test = compile_choice_rule(rule.to_dict())
            case = ChoiceCase(test, rule.next or "", _template(rule, "assign", "Assign"), None)
        cases.append(case)
    step.cases = tuple(cases)
    step.default_name = model.default


def _fail(step: FailStep, model: FailState, jsonata: bool) -> None:
    step.error, step.cause = model.error, model.cause
    if jsonata:
        step.error_path = _jsonata_value(model.error, "Error")
        step.cause_path = _jsonata_value(model.cause, "Cause")
        return
    # ErrorPath/CausePath may hold a path or an intrinsic function: a one-key template
    # evaluates both.
    if model.error_path is not None:
        step.error_path = compile_template({"value.$": model.error_path}, "ErrorPath")
    if model.cause_path is not None:
        step.cause_path = compile_template({"value.$": model.cause_path}, "CausePath")


def _map(step: MapStep, model: MapState, pointer: str, jsonata: bool, default: str) -> None:
    for later, present in (
        ("ItemReader", model.item_reader),
        ("ItemBatcher", model.item_batcher),
        ("ResultWriter", model.result_writer),
    ):
        if present is not None:
            raise DefinitionError(
                f"Map {later} is not supported by the local engine yet (items come from "
                "the state input)",
                pointer=f"{pointer}/{later}",
            )
    processor = model.processor
    if processor is None:
        raise DefinitionError("a Map state needs an ItemProcessor", pointer=pointer)
    processor_key = "ItemProcessor" if model.item_processor is not None else "Iterator"
    step.processor = _graph(processor, f"{pointer}/{processor_key}", default)
    config = processor.processor_config
    step.distributed = config is not None and config.mode == "DISTRIBUTED"
    step.label = model.label
    step.parameters = None  # a Map's Parameters is the legacy name of its ItemSelector
    if jsonata:
        step.items_path = _jsonata(model, "items", "Items")
        step.item_selector = _jsonata(model, "item_selector", "ItemSelector")
    else:
        step.items_path = _path(model.items_path)
        selector = "item_selector" if model.has("item_selector") else "parameters"
        field = "ItemSelector" if selector == "item_selector" else "Parameters"
        step.item_selector = _template(model, selector, field)
    concurrency, step.max_concurrency_path = _number(
        model.max_concurrency, model.max_concurrency_path, jsonata, "MaxConcurrency"
    )
    step.max_concurrency = concurrency or 0
    step.tolerated_count, step.tolerated_count_path = _number(
        model.tolerated_failure_count,
        model.tolerated_failure_count_path,
        jsonata,
        "ToleratedFailureCount",
    )
    step.tolerated_percentage, step.tolerated_percentage_path = _number(
        model.tolerated_failure_percentage,
        model.tolerated_failure_percentage_path,
        jsonata,
        "ToleratedFailurePercentage",
    )


# -- edges ------------------------------------------------------------------------------------


def _resolve_edges(step: StateStep, model: Any, steps: dict[str, StateStep]) -> None:
    scope, name = step.scope, step.name
    if step.next_name is not None:
        target = _target(steps, step.next_name, f"{step.pointer}/Next")
        step.next = (target, Transition(scope, name, step.next_name, "Next"))
    for index, catcher in enumerate(step.catchers):
        target = _target(steps, catcher.next_name, f"{step.pointer}/Catch/{index}/Next")
        catcher.edge = (target, Transition(scope, name, catcher.next_name, f"Catch/{index}"))
    if isinstance(step, ChoiceStep):
        for index, case in enumerate(step.cases):
            target = _target(steps, case.next_name, f"{step.pointer}/Choices/{index}/Next")
            case.edge = (target, Transition(scope, name, case.next_name, f"Choices/{index}"))
        if step.default_name is not None:
            target = _target(steps, step.default_name, f"{step.pointer}/Default")
            step.default = (target, Transition(scope, name, step.default_name, "Default"))


def _target(steps: dict[str, StateStep], name: str, pointer: str) -> StateStep:
    step = steps.get(name)
    if step is None:
        raise DefinitionError(f"no state named {name!r}", pointer=pointer)
    return step


# -- fields -----------------------------------------------------------------------------------


def _path(text: str | None) -> Any:
    """A path field: KEEP for ``$``, None for JSON null, else a compiled path."""
    if text is None:
        return None
    if text == "$":
        return KEEP
    return compile_path(text)


def _result_path(text: str | None) -> Any:
    """ResultPath: KEEP for ``$`` (the result replaces the input), None to discard it."""
    if text is None:
        return None
    if text == "$":
        return KEEP
    result: ReferencePath = compile_reference_path(text)
    return result


def _template(model: AslModel, attribute: str, field: str) -> Template | None:
    if not model.has(attribute):
        return None
    return compile_template(getattr(model, attribute), field)


def _jsonata(model: AslModel, attribute: str, field: str) -> JsonataTemplate | None:
    """A JSONata-mode field (Output, Arguments, Assign, Items...): a template, or None."""
    if not model.has(attribute):
        return None
    return compile_jsonata_template(getattr(model, attribute), field)


def _jsonata_value(value: Any, field: str) -> JsonataTemplate | None:
    """A field holding a literal or a ``{% %}`` expression: a template for the expression.

    Text written as an expression gets a template even when AWS takes it as a literal
    (whitespace around the braces), so that it is checked like any evaluated value.
    """
    if isinstance(value, str) and strip_jsonata(value) is not None:
        return compile_jsonata_template(value, field)
    return None


def _number(
    literal: Any, path: str | None, jsonata: bool, field: str
) -> tuple[Any, Path | JsonataTemplate | None]:
    """A field read as a literal, a ``*Path`` (JSONPath) or an expression (JSONata).

    Returns the literal (None when the value is read at run time) and what reads it.
    """
    if jsonata:
        template = _jsonata_value(literal, field)
        return (None, template) if template is not None else (literal, None)
    return literal, None if path is None else compile_path(path)
