"""TestState, offline: one state run as AWS's TestState API runs it, and what it shows.

``test_state(engine, request)`` takes the API's request body and returns its response body
(the AWS JSON 1.0 dispatcher serves it as ``AWSStepFunctions.TestState``). The rules, from AWS's
API reference (``API_TestState.html``, ``API_MockInput.html``, ``API_TestStateConfiguration``)
and developer guide (``test-state-isolation.html``), and from AWS's answers recorded in
``tests/conformance/recordings/test_state.jsonl``:

- The state is the whole ``definition``, or the state called ``stateName`` in a whole state
  machine (inside Parallel branches and Map item processors too). A state tested on its own is
  called ``StateName``: in InvalidDefinition's pointers and in the context object.
- ``mock.result`` is the state's raw result, ``mock.errorOutput`` its error: only Task, Map and
  Parallel states take a mock, and Map and Parallel states need one (their branches never
  run). A Task's mocked result is checked against its service's API model
  (``fieldValidationMode``, see ``_mock_schema``). An unmocked Task runs on the engine: the
  engine's task mock (``mock_tasks``) answers first, then a registered Lambda handler (or the
  Lambda endpoint); other services cannot be reached offline, so the call is refused.
- ``context`` replaces the context object (``$$``, ``$states.context``), which otherwise is an
  express execution's: its ``Execution`` (the state's input, ``roleArn``), ``State`` (with
  ``RetryCount`` for Task, Map and Parallel states) and ``StateMachine``.
- An error (mocked, a Map's ``mapIterationFailureCount`` past its ToleratedFailureCount or
  ToleratedFailurePercentage, or the state's own) meets the state's Retry first: the first
  Retrier whose ``ErrorEquals`` matches gives ``RETRIABLE`` while
  ``stateConfiguration.retrierRetryCount`` is under its ``MaxAttempts`` (``errorDetails``: its
  ``retryIndex`` and the back-off it would wait, ``IntervalSeconds * BackoffRate ** count``).
  Otherwise the first matching Catcher gives ``CAUGHT_ERROR`` (its output, its ``Next`` as
  ``nextState``, its ``catchIndex``), else the status is ``FAILED``. ``States.Runtime`` is
  never retried nor caught.
- ``inspectionData`` is shown at DEBUG and TRACE, with the stages AWS shows for each kind of
  state and query language (a Pass state with a ``Result`` shows no ``afterInputPath``, a
  Parallel state shows only its result's stages ...). TRACE adds the HTTP request and response
  of an HTTP Task, which cannot run offline, so it shows what DEBUG shows. A Map's ItemBatcher
  is not applied (no ``afterItemBatcher``): no recording shows AWS's batches, and the mocked
  result does not depend on them.

A request AWS would refuse raises the :class:`ApiError` subclass AWS answers with
(``InvalidDefinition``, ``ValidationException``, ``InvalidExecutionInput``, ``InvalidArn``),
worded as AWS words it where a recording shows the words.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from stepsaga.infra.local.stepfunctions._dataflow import (
    JSONATA,
    KEEP,
    count_field,
    error_output,
    filter_path,
    percentage_field,
    place_result,
    positive_int,
)
from stepsaga.infra.local.stepfunctions._errors import (
    DefinitionError,
    InvalidArn,
    InvalidDefinition,
    InvalidExecutionInput,
    StatesError,
    ValidationException,
)
from stepsaga.infra.local.stepfunctions._execution import iso_time
from stepsaga.infra.local.stepfunctions._history import to_json
from stepsaga.infra.local.stepfunctions._integrations import uuid4
from stepsaga.infra.local.stepfunctions._map_parallel import MapStep, ParallelStep
from stepsaga.infra.local.stepfunctions._mock_schema import MODES, check_mock_result
from stepsaga.infra.local.stepfunctions._plan import compile_state
from stepsaga.infra.local.stepfunctions._steps import (
    ChoiceStep,
    FailStep,
    PassStep,
    StateStep,
    SucceedStep,
    WaitStep,
    matches,
)
from stepsaga.infra.local.stepfunctions._task_step import TaskStep, task_kind
from stepsaga.infra.local.stepfunctions._tasks import TaskCall, TaskOutcome
from stepsaga.workflows import facts
from stepsaga.workflows._expressions import (
    EvaluationError,
    EvaluationScope,
    JsonValueError,
    load_json_text,
)
from stepsaga.workflows.asl import (
    AslModel,
    ASLValidationError,
    MapState,
    ParallelState,
    StateGraph,
    TaskState,
    parse_definition,
    parse_state,
)

if TYPE_CHECKING:
    from stepsaga.infra.local.stepfunctions._facade import LocalStepFunctions

INSPECTION_LEVELS: Final = ("INFO", "DEBUG", "TRACE")
"""The values of ``inspectionLevel`` (INFO, the default, shows no ``inspectionData``)."""

_MOCKED_KINDS: Final = frozenset({"Task", "Map", "Parallel"})
_RETRY_COUNTED: Final = _MOCKED_KINDS  # the kinds whose context shows State.RetryCount
_ROLE_ARN: Final = re.compile(r"^arn:[^:]+:iam::\d{12}:role/.+$")
# The integration patterns TestState runs only with a mock (API reference).
_WAITING_PATTERN: Final = re.compile(r"\.sync(:2)?$|" + re.escape(facts.WAIT_FOR_TASK_TOKEN) + "$")
_SUPPORTED: Final = "[Task, Wait, Pass, Succeed, Fail, Choice]"

# The context object's fields AWS admits, and the JSON type each must have.
_CONTEXT_FIELDS: Final[dict[str, dict[str, type | None]]] = {
    "Execution": {
        "Id": str,
        "Input": None,
        "Name": str,
        "RoleArn": str,
        "StartTime": str,
        "RedriveCount": int,
        "RedriveTime": str,
    },
    "State": {"EnteredTime": str, "Name": str, "RetryCount": int},
    "StateMachine": {"Id": str, "Name": str},
    "Task": {"Token": str},
    "Map": {"Item": dict},
}
_KIND_NAMES: Final = {str: "a string", int: "an integer", dict: "an object"}


def test_state(engine: LocalStepFunctions, request: dict[str, Any]) -> dict[str, Any]:
    """Run one state as AWS's TestState API does; return the API's response body.

    Args:
        engine: the engine whose Lambda handlers, task mock, clock and random source serve
            the call (its executions are not touched).
        request: TestState's request body: ``definition`` (JSON text), and optionally
            ``roleArn``, ``input``, ``inspectionLevel``, ``revealSecrets``, ``variables``,
            ``stateName``, ``mock``, ``context`` and ``stateConfiguration``.

    Returns:
        ``{"status", "output", "error", "cause", "nextState", "inspectionData"}``, each field
        present when AWS would show it; ``output`` and the stages of ``inspectionData`` are
        JSON text.

    Raises:
        InvalidDefinition: the definition is not valid ASL, or is a Map or Parallel state
            without a mock.
        ValidationException: a field breaks its constraint or a rule of TestState (a mock on
            a Pass state, a mocked result its API's model refuses, an invalid context ...).
        InvalidExecutionInput: ``input`` is not JSON text.
        InvalidArn: ``roleArn`` is not a role's ARN.
    """
    parsed = _Request.read(request)
    # Handlers and mocks run under the engine's lock, as they do for executions.
    with engine._lock:
        return _TestRun(engine, parsed).respond()


# -- the request ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Mock:
    result_text: str | None  # parsed into ``result`` once the state is known to take a mock
    error: str | None
    cause: str | None
    has_error: bool
    mode: str
    result: Any = None

    @property
    def has_result(self) -> bool:
        return self.result_text is not None


@dataclass(frozen=True, slots=True)
class _Request:
    definition: str
    role_arn: str | None
    input: Any
    level: str
    reveal_secrets: bool
    variables: dict[str, Any]
    state_name: str | None
    mock: _Mock | None
    context: dict[str, Any] | None
    retrier_retry_count: int
    error_caused_by_state: str | None
    map_iteration_failure_count: int | None
    map_item_reader_data: str | None

    @classmethod
    def read(cls, request: Any) -> _Request:
        if not isinstance(request, Mapping):
            raise ValidationException("The TestState request must be a JSON object")
        definition = _text(request, "definition")
        if definition is None:
            raise _constraint("definition", "Member must not be null")
        role_arn = _text(request, "roleArn", maximum=256)
        if role_arn is not None and not _ROLE_ARN.match(role_arn):
            raise InvalidArn(f"Invalid Arn: '{role_arn}' is not the ARN of an IAM role")
        level = _text(request, "inspectionLevel") or "INFO"
        if level not in INSPECTION_LEVELS:
            raise _constraint(
                "inspectionLevel",
                f"Member must satisfy enum value set: [{', '.join(INSPECTION_LEVELS)}]",
                level,
            )
        reveal = request.get("revealSecrets", False)
        if not isinstance(reveal, bool):
            raise _constraint("revealSecrets", "Member must be a boolean")
        config = request.get("stateConfiguration") or {}
        if not isinstance(config, Mapping):
            raise _constraint("stateConfiguration", "Member must be an object")
        return cls(
            definition=definition,
            role_arn=role_arn,
            input=_input(_text(request, "input", maximum=facts.MAX_PAYLOAD_BYTES)),
            level=level,
            reveal_secrets=reveal,
            variables=_variables(_text(request, "variables", maximum=facts.MAX_PAYLOAD_BYTES)),
            state_name=_text(request, "stateName", maximum=facts.MAX_STATE_NAME_LENGTH),
            mock=_mock(request.get("mock")),
            context=_context(_text(request, "context", maximum=facts.MAX_PAYLOAD_BYTES)),
            retrier_retry_count=_count(config, "retrierRetryCount") or 0,
            error_caused_by_state=_text(
                config,
                "errorCausedByState",
                maximum=facts.MAX_STATE_NAME_LENGTH,
                where="stateConfiguration.errorCausedByState",
            ),
            map_iteration_failure_count=_count(config, "mapIterationFailureCount"),
            map_item_reader_data=_text(
                config,
                "mapItemReaderData",
                maximum=facts.MAX_PAYLOAD_BYTES,
                where="stateConfiguration.mapItemReaderData",
            ),
        )


def _constraint(field: str, rule: str, value: str | None = None) -> ValidationException:
    """A broken field constraint, in the words of AWS's request validation."""
    shown = "" if value is None else f" '{value}'"
    return ValidationException(
        f"1 validation error detected: Value{shown} at '{field}' failed to satisfy "
        f"constraint: {rule}"
    )


def _text(
    request: Mapping[str, Any], name: str, *, maximum: int | None = None, where: str = ""
) -> str | None:
    value = request.get(name)
    field = where or name
    if value is None:
        return None
    if not isinstance(value, str):
        raise _constraint(field, "Member must be a string")
    if name in ("stateName", "errorCausedByState", "roleArn", "definition") and not value:
        raise _constraint(field, "Member must have length greater than or equal to 1")
    if maximum is not None and len(value) > maximum:
        raise _constraint(field, f"Member must have length less than or equal to {maximum}")
    return value


def _count(config: Mapping[str, Any], name: str) -> int | None:
    value = config.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _constraint(
            f"stateConfiguration.{name}", "Member must be an integer greater than or equal to 0"
        )
    return value


def _input(text: str | None) -> Any:
    if text is None:
        return {}
    try:
        return load_json_text(text, "the input")
    except JsonValueError as exc:
        raise InvalidExecutionInput(str(exc)) from None


def _variables(text: str | None) -> dict[str, Any]:
    if text is None:
        return {}
    try:
        value = load_json_text(text, "variables")
    except JsonValueError as exc:
        raise ValidationException(f"Invalid variables provided: {exc}") from None
    if not isinstance(value, dict):
        raise ValidationException(
            "Invalid variables provided: variables must be a JSON object of names to values"
        )
    return value


def _mock(value: Any) -> _Mock | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise _constraint("mock", "Member must be an object")
    mode = value.get("fieldValidationMode") or "STRICT"
    if mode not in MODES:
        raise _constraint(
            "mock.fieldValidationMode",
            f"Member must satisfy enum value set: [{', '.join(MODES)}]",
            str(mode),
        )
    result = _text(value, "result", maximum=facts.MAX_PAYLOAD_BYTES, where="mock.result")
    error_value = value.get("errorOutput")
    error = cause = None
    if error_value is not None:
        if not isinstance(error_value, Mapping):
            raise _constraint("mock.errorOutput", "Member must be an object")
        error = _text(error_value, "error", where="mock.errorOutput.error")
        cause = _text(error_value, "cause", where="mock.errorOutput.cause")
    return _Mock(result, error, cause, error_value is not None, mode)


def _context(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = load_json_text(text, "the context object")
    except JsonValueError as exc:
        raise ValidationException(f"Invalid Context object provided: {exc}") from None
    if not isinstance(value, dict):
        raise ValidationException("Invalid Context object provided: it must be a JSON object")
    for section, fields in value.items():
        allowed = _CONTEXT_FIELDS.get(section)
        if allowed is None:
            raise ValidationException(
                f"Invalid Context object provided: Field '{section}' is not allowed"
            )
        if not isinstance(fields, dict):
            raise ValidationException(
                f"Invalid Context object provided: {section} must be an object"
            )
        for name, item in fields.items():
            if name not in allowed:
                raise ValidationException(
                    f"Invalid Context object provided: Field '{name}' is not allowed"
                )
            kind = allowed[name]
            if kind is not None and (not isinstance(item, kind) or isinstance(item, bool)):
                raise ValidationException(
                    f"Invalid Context object provided: {section}.{name} must be {_KIND_NAMES[kind]}"
                )
    return value


# -- the state -----------------------------------------------------------------------------


def _invalid(error: ASLValidationError, prefix: str) -> InvalidDefinition:
    """InvalidDefinition as AWS words it: every problem, with its pointer in the machine."""
    problems = ", ".join(
        # Text that is not JSON has no place in the machine to point at.
        f"{problem.code}: {problem.message}"
        if problem.code == "INVALID_JSON_DESCRIPTION"
        else f"{problem.code}: {problem.message} at {prefix + problem.pointer or '/'}"
        for problem in error.problems
    )
    return InvalidDefinition(f"Invalid State Machine Definition: '{problems}'")


def _graphs_in(state: AslModel) -> list[StateGraph]:
    """A Parallel state's branches, a Map state's item processor; none for other kinds."""
    if isinstance(state, ParallelState):
        return list(state.branches)
    if isinstance(state, MapState) and state.processor is not None:
        return [state.processor]
    return []


def _find_state(graph: StateGraph, name: str) -> AslModel | None:
    """The state called ``name`` in a graph, its Parallel branches or its Map processors."""
    found = graph.states.get(name)
    if found is not None:
        return found
    for state in graph.states.values():
        for child in _graphs_in(state):
            below = _find_state(child, name)
            if below is not None:
                return below
    return None


def _names_in(state: AslModel) -> set[str]:
    """Every state name inside a Parallel's branches or a Map's item processor."""
    names: set[str] = set()
    for graph in _graphs_in(state):
        for name, child in graph.states.items():
            names.add(name)
            names |= _names_in(child)
    return names


class _Inspection:
    """What ``inspectionData`` will show: the data-flow stages, numbers and errorDetails."""

    def __init__(self, shown: bool) -> None:
        self.shown = shown
        self.fields: dict[str, Any] = {}
        self.error_details: dict[str, int] = {}

    def stage(self, name: str, value: Any) -> None:
        if self.shown:
            self.fields[name] = to_json(value)  # serialised now: later stages may share data

    def number(self, name: str, value: float) -> None:
        if self.shown:
            self.fields[name] = value

    def render(self, variables: Mapping[str, Any]) -> dict[str, Any]:
        data = dict(self.fields)
        if variables:
            data["variables"] = to_json(variables)
        if self.error_details:
            data["errorDetails"] = dict(self.error_details)
        return data


class _TestRun:
    """One TestState call: the state found, checked and compiled, then run."""

    def __init__(self, engine: LocalStepFunctions, request: _Request) -> None:
        self.engine = engine
        self.request = request
        self.name, model, default_language = self._select()
        self.model = model
        self._check(model)
        self.step = self._compile(model, default_language)

    # -- finding and checking the state ---------------------------------------------------

    def _select(self) -> tuple[str, AslModel, str]:
        request = self.request
        if request.state_name is None:
            try:
                state = parse_state(request.definition)
            except ASLValidationError as exc:
                raise _invalid(exc, f"/States/{facts.TEST_STATE_NAME}") from None
            return facts.TEST_STATE_NAME, state, "JSONPath"
        try:
            machine = parse_definition(request.definition)
        except ASLValidationError as exc:
            raise _invalid(exc, "") from None
        found = _find_state(machine, request.state_name)
        if found is None:
            raise ValidationException("State not found in definition")
        return request.state_name, found, machine.query_language or "JSONPath"

    def _check(self, model: AslModel) -> None:
        request, mock = self.request, self.request.mock
        kind = getattr(model, "type", "")
        if mock is not None:
            if mock.has_result and mock.has_error:
                raise ValidationException(
                    "A test mock should have only one of the following fields: "
                    "[result, errorOutput]."
                )
            if request.reveal_secrets:
                raise ValidationException(
                    "TestState does not support RevealSecrets when a mock is specified."
                )
            if kind not in _MOCKED_KINDS:
                raise ValidationException(
                    f"State type '{kind}' is not supported when a mock is specified"
                )
            if not (mock.has_result or mock.has_error):
                # Our wording, after the message for both fields set.
                raise ValidationException(
                    "A test mock should have one of the following fields: [result, errorOutput]."
                )
            if mock.has_error and mock.error is None:
                raise _constraint("mock.errorOutput.error", "Member must not be null")
            if mock.result_text is not None:
                try:
                    mock.result = load_json_text(mock.result_text, "the mocked result")
                except JsonValueError:
                    raise ValidationException("Mocked result must be valid JSON") from None
                self._check_result(model, mock)
        else:
            if kind in ("Map", "Parallel"):
                raise InvalidDefinition(
                    "TestState API does not support Map or Parallel states. Supported state "
                    f"types include: {_SUPPORTED}"
                )
            if isinstance(model, TaskState):
                self._check_unmocked_task(model)
            if request.context is not None:
                # The API reference: context "may only be specified if a mock is specified".
                raise ValidationException(
                    "A context object can only be specified when a mock is specified"
                )
        self._check_context(model)
        self._check_configuration(model, kind)

    @staticmethod
    def _check_result(model: AslModel, mock: _Mock) -> None:
        result = mock.result
        if isinstance(model, MapState):
            if model.result_writer is not None:
                if not isinstance(result, dict):
                    raise ValidationException("Mocked result must be a JSON object.")
            elif not isinstance(result, list):
                raise ValidationException("Mocked result must be an array.")
        elif isinstance(model, ParallelState):
            if not isinstance(result, list):
                raise ValidationException("Mocked result must be an array.")
            if len(result) != len(model.branches):
                raise ValidationException(
                    "Mocked result must contain the same number of items as number of "
                    "Parallel branches."
                )
        elif isinstance(model, TaskState):
            check_mock_result(model.resource, result, mock.mode)

    def _check_unmocked_task(self, model: TaskState) -> None:
        resource = model.resource
        if _WAITING_PATTERN.search(resource) or task_kind(resource)[0] == "activity":
            # AWS runs these only with a mock (API reference); the wording is ours.
            raise ValidationException(
                f"TestState runs the Task's resource '{resource}' only with a mock: Activity "
                "tasks and the .sync and .waitForTaskToken integration patterns need "
                "mock.result or mock.errorOutput"
            )
        if self.request.role_arn is None:
            raise ValidationException("RoleArn must be specified when testing a Task state")

    def _check_context(self, model: AslModel) -> None:
        context = self.request.context
        if context is None or "Task" not in context:
            return
        resource = model.resource if isinstance(model, TaskState) else ""
        if not _WAITING_PATTERN.search(resource):
            raise ValidationException(
                "Invalid Context object provided: Context object contains 'Task' when state "
                "is not a Task state with a '.sync' or '.waitForTaskToken' service "
                "integration pattern"
            )

    def _check_configuration(self, model: AslModel, kind: str) -> None:
        # TestStateConfiguration's fields apply to some kinds only; the wording is ours.
        request = self.request
        caused_by = request.error_caused_by_state
        if caused_by is not None:
            if kind not in ("Map", "Parallel"):
                raise ValidationException(
                    "stateConfiguration.errorCausedByState applies to Map and Parallel states "
                    f"only; this state is a {kind}"
                )
            if caused_by not in _names_in(model):
                raise ValidationException(
                    f"stateConfiguration.errorCausedByState names no state of the {kind} "
                    f"state's {'item processor' if kind == 'Map' else 'branches'}: "
                    f"{caused_by!r}"
                )
        if request.map_iteration_failure_count is not None and kind != "Map":
            raise ValidationException(
                "stateConfiguration.mapIterationFailureCount applies to Map states only; this "
                f"state is a {kind}"
            )
        reads = isinstance(model, MapState) and model.item_reader is not None
        if request.map_item_reader_data is not None and not reads:
            raise ValidationException(
                "stateConfiguration.mapItemReaderData applies to Map states with an ItemReader only"
            )
        if reads and request.map_item_reader_data is None:
            raise ValidationException(
                "TestState runs offline: a Map state with an ItemReader needs "
                "stateConfiguration.mapItemReaderData, the data the ItemReader would read"
            )

    def _compile(self, model: AslModel, default_language: str) -> StateStep:
        if isinstance(model, MapState):
            # Its items come from mapItemReaderData and its result from the mock: the engine's
            # (not yet supported) readers and writers never run.
            model = model.model_copy(
                update={"item_reader": None, "item_batcher": None, "result_writer": None}
            )
        try:
            return compile_state(self.name, model, default_language)
        except DefinitionError as exc:
            raise InvalidDefinition(f"Invalid State Machine Definition: '{exc}'") from None

    # -- running it -----------------------------------------------------------------------

    def respond(self) -> dict[str, Any]:
        request, step = self.request, self.step
        engine = self.engine
        now = engine._clock.now()
        variables = dict(request.variables)
        scope = EvaluationScope(
            context=self._context_object(now), variables=variables, random=engine._rng, now=now
        )
        inspection = _Inspection(request.level != "INFO")
        data = request.input
        inspection.stage("input", data)
        try:
            output, next_name, assigned = self._execute(step, data, scope, inspection)
        except EvaluationError as exc:
            return self._failed(StatesError(exc.error, exc.cause), data, scope, inspection)
        except StatesError as failure:
            return self._failed(failure, data, scope, inspection)
        if assigned:
            variables.update(assigned)
        response: dict[str, Any] = {"status": "SUCCEEDED", "output": to_json(output)}
        if next_name is not None:
            response["nextState"] = next_name
        return self._shown(response, inspection, variables)

    def _shown(
        self, response: dict[str, Any], inspection: _Inspection, variables: Mapping[str, Any]
    ) -> dict[str, Any]:
        if inspection.shown:
            response["inspectionData"] = inspection.render(variables)
        return response

    def _context_object(self, now: datetime) -> dict[str, Any]:
        request, engine, step = self.request, self.engine, self.step
        given = request.context
        if given is not None:
            context = dict(given)
        else:
            started = iso_time(now)
            machine_name, execution_name = uuid4(engine._rng), uuid4(engine._rng)
            prefix = f"arn:aws:states:{engine.region}:{engine.account_id}"
            state: dict[str, Any] = {"EnteredTime": started, "Name": facts.TEST_STATE_NAME}
            if step.kind in _RETRY_COUNTED:
                state["RetryCount"] = request.retrier_retry_count
            context = {
                "Execution": {
                    # TestState runs the state as an express execution (the recordings).
                    "Id": f"{prefix}:express:{machine_name}:{execution_name}",
                    "Input": request.input,
                    "Name": execution_name,
                    "RoleArn": request.role_arn,
                    "StartTime": started,
                },
                "State": state,
                "StateMachine": {
                    "Id": f"{prefix}:stateMachine:{machine_name}",
                    "Name": machine_name,
                },
            }
        if isinstance(step, TaskStep) and step.callback and "Task" not in context:
            context["Task"] = {"Token": f"{engine._rng.getrandbits(256):064x}"}
        return context

    def _execute(
        self, step: StateStep, data: Any, scope: EvaluationScope, inspection: _Inspection
    ) -> tuple[Any, str | None, Any]:
        """Run the state: its output, the state it goes to, its assignments."""
        language = step.language
        jsonpath = language is not JSONATA
        if isinstance(step, TaskStep):
            return self._task(step, data, scope, inspection)
        if isinstance(step, MapStep):
            return self._map(step, data, scope, inspection)
        if isinstance(step, ParallelStep):
            language.arguments(step, data, scope)  # evaluated, though AWS shows no stage of it
            return self._finish(step, data, self._mocked(), scope, inspection)
        if isinstance(step, PassStep):
            return self._pass(step, data, scope, inspection)
        effective = language.input(step, data, scope)
        if jsonpath:
            inspection.stage("afterInputPath", effective)
        if isinstance(step, FailStep):
            error, cause = language.fail_fields(step, data, scope)
            raise StatesError(error if error is not None else "", cause)
        if isinstance(step, ChoiceStep):
            for case in step.cases:
                if case.test.matches(effective, scope):
                    output, assigned = language.choice_output(step, case, data, effective, scope)
                    return output, case.next_name, assigned
            if step.default_name is None:
                raise StatesError(facts.STATES_NO_CHOICE_MATCHED, "No Matches!")
            output, assigned = language.choice_output(step, None, data, effective, scope)
            return output, step.default_name, assigned
        if isinstance(step, WaitStep):
            # Read (and checked) like any Wait, but TestState does not wait.
            step.until(self.engine._clock.now(), language, effective, scope)
        assert isinstance(step, WaitStep | SucceedStep)
        output, assigned = language.output(step, data, effective, scope)
        return output, step.next_name, assigned

    def _finish(
        self,
        step: StateStep,
        data: Any,
        result: Any,
        scope: EvaluationScope,
        inspection: _Inspection,
    ) -> tuple[Any, str | None, Any]:
        """From the state's result to its output (and assignments), showing the stages."""
        if step.language is JSONATA:
            output, assigned = JSONATA.output(step, data, result, scope)
            return output, step.next_name, assigned
        # JSONPath's output, a stage at a time (``_dataflow._JsonPath.output``).
        if step.result_selector is not None:
            result = step.result_selector.evaluate(result, scope)
        inspection.stage("afterResultSelector", result)
        assigned = None if step.assign is None else step.assign.evaluate(result, scope)
        placed = place_result(step.result_path, data, result)
        inspection.stage("afterResultPath", placed)
        return filter_path(step.output_path, placed, scope), step.next_name, assigned

    def _mocked(self) -> Any:
        """The mocked result, or the mocked error raised."""
        mock = self.request.mock
        assert mock is not None  # checked: Map and Parallel states need one
        if mock.has_error:
            raise StatesError(mock.error, mock.cause)
        return mock.result

    def _pass(
        self, step: PassStep, data: Any, scope: EvaluationScope, inspection: _Inspection
    ) -> tuple[Any, str | None, Any]:
        if step.language is JSONATA:
            output, assigned = JSONATA.output(step, data, data, scope)
            return output, step.next_name, assigned
        after_input = filter_path(step.input_path, data, scope)
        effective = after_input
        if step.parameters is not None:  # evaluated (and may fail) even beside a Result
            effective = step.parameters.evaluate(after_input, scope)
        if step.result is KEEP:
            inspection.stage("afterInputPath", after_input)
            inspection.stage("afterParameters", effective)
            result = effective
        else:
            # Beside a Result, AWS shows the Result and none of the input's stages.
            result = step.result
            inspection.stage("result", result)
        return self._finish(step, data, result, scope, inspection)

    def _task(
        self, step: TaskStep, data: Any, scope: EvaluationScope, inspection: _Inspection
    ) -> tuple[Any, str | None, Any]:
        language = step.language
        if step.credentials is not None:
            language.credentials(step, data, scope)
        if language is JSONATA:
            effective = language.arguments(step, data, scope)
            inspection.stage("afterArguments", effective)
        else:
            after_input = filter_path(step.input_path, data, scope)
            inspection.stage("afterInputPath", after_input)
            effective = after_input
            if step.parameters is not None:
                effective = step.parameters.evaluate(after_input, scope)
            inspection.stage("afterParameters", effective)
        timeout: int | None = step.timeout
        if step.timeout_path is not None:
            timeout = positive_int(
                language.value(step.timeout_path, data, scope), "TimeoutSecondsPath"
            )
        heartbeat: int | None = step.heartbeat
        if step.heartbeat_path is not None:
            heartbeat = positive_int(
                language.value(step.heartbeat_path, data, scope), "HeartbeatSecondsPath"
            )
        if self.request.mock is not None:
            result = self._mocked()
        else:
            result = self._invoke(step, effective, scope, timeout, heartbeat)
        inspection.stage("result", result)
        return self._finish(step, data, result, scope, inspection)

    def _invoke(
        self,
        step: TaskStep,
        effective: Any,
        scope: EvaluationScope,
        timeout: int | None,
        heartbeat: int | None,
    ) -> Any:
        """Call the Task's integration on the engine: its task mock, else a Lambda function."""
        execution = scope.context.get("Execution")
        call = TaskCall(
            state_name=self.name,
            resource=step.resource,
            parameters=effective,
            execution_arn=str(execution.get("Id", "")) if isinstance(execution, dict) else "",
            retry_count=self.request.retrier_retry_count,
            timeout_seconds=timeout,
        )
        integrations = self.engine._integrations
        outcome = None if integrations.mock is None else integrations.mock(call)
        if outcome is None:
            if step.integration not in ("lambda-invoke", "lambda-arn"):
                raise ValidationException(
                    f"TestState runs offline: the resource '{step.resource}' has no local "
                    "integration; give the request a mock (mock.result or mock.errorOutput), "
                    "or answer it with LocalStepFunctions.mock_tasks()"
                )
            outcome = integrations.invoke(call, step.integration)
        return _result_of(outcome, step, timeout, heartbeat)

    def _map(
        self, step: MapStep, data: Any, scope: EvaluationScope, inspection: _Inspection
    ) -> tuple[Any, str | None, Any]:
        language, request = step.language, self.request
        jsonpath = language is not JSONATA
        effective = filter_path(step.input_path, data, scope) if jsonpath else data
        if jsonpath:
            inspection.stage("afterInputPath", effective)
        if request.map_item_reader_data is not None:
            assert isinstance(self.model, MapState) and self.model.item_reader is not None
            items = _reader_items(self.model, request.map_item_reader_data)
        else:
            effective, items = language.map_items(step, data, scope)
            if jsonpath:
                inspection.stage("afterItemsPath", items)
        if step.item_selector is not None:
            inspection.stage(
                "afterItemSelector",
                [
                    language.map_item(step, effective, index, item, scope)
                    for index, item in enumerate(items)
                ],
            )
        concurrency = step.max_concurrency
        if step.max_concurrency_path is not None:
            concurrency = count_field(
                language.value(step.max_concurrency_path, effective, scope),
                step.max_concurrency_path,
                "MaxConcurrencyPath",
            )
        inspection.number("maxConcurrency", concurrency)
        tolerated_count = step.tolerated_count
        if step.tolerated_count_path is not None:
            tolerated_count = count_field(
                language.value(step.tolerated_count_path, effective, scope),
                step.tolerated_count_path,
                "ToleratedFailureCountPath",
            )
        if tolerated_count is not None:
            if tolerated_count < 0:
                raise EvaluationError(
                    facts.STATES_RUNTIME, "ToleratedFailureCount cannot be negative."
                )
            inspection.number("toleratedFailureCount", tolerated_count)
        tolerated_percentage = step.tolerated_percentage
        if step.tolerated_percentage_path is not None:
            tolerated_percentage = percentage_field(
                language.value(step.tolerated_percentage_path, effective, scope),
                step.tolerated_percentage_path,
            )
        if tolerated_percentage is not None:
            inspection.number("toleratedFailurePercentage", float(tolerated_percentage))
        result = self._mocked()
        failures = request.map_iteration_failure_count or 0
        # Failed iterations count only against a threshold the state sets: without one, AWS
        # answers with the mocked result whatever mapIterationFailureCount says.
        if failures and _exceeds(failures, len(items), tolerated_count, tolerated_percentage):
            raise StatesError(
                facts.STATES_EXCEED_TOLERATED_FAILURE_THRESHOLD,
                "The specified tolerated failure threshold was exceeded",
            )
        return self._finish(step, data, result, scope, inspection)

    # -- errors ---------------------------------------------------------------------------

    def _failed(
        self, failure: StatesError, data: Any, scope: EvaluationScope, inspection: _Inspection
    ) -> dict[str, Any]:
        """RETRIABLE, CAUGHT_ERROR or FAILED: the state's Retry, then its Catch, decide."""
        step, request = self.step, self.request
        variables: dict[str, Any] = dict(scope.variables)
        response: dict[str, Any] = {"status": "FAILED"}
        if failure.error is not None:
            response["error"] = failure.error
        if failure.cause is not None:
            response["cause"] = failure.cause
        if failure.error == facts.STATES_RUNTIME:
            return self._shown(response, inspection, variables)
        for index, retrier in enumerate(step.retriers):
            if not matches(retrier.errors, retrier.matches_all, failure, step.kind):
                continue
            # Only the first Retrier that matches counts, exhausted or not (as in executions).
            inspection.error_details["retryIndex"] = index
            count = request.retrier_retry_count
            if count < retrier.max_attempts:
                delay = retrier.interval * retrier.backoff_rate**count
                if retrier.max_delay is not None:
                    delay = min(delay, retrier.max_delay)
                if retrier.jitter_full:
                    delay = self.engine._rng.uniform(0, delay)
                inspection.error_details["retryBackoffIntervalSeconds"] = int(delay)
                response["status"] = "RETRIABLE"
                return self._shown(response, inspection, variables)
            break
        for index, catcher in enumerate(step.catchers):
            if matches(catcher.errors, catcher.matches_all, failure, step.kind):
                output, assigned = step.language.caught(
                    catcher, data, error_output(failure.error, failure.cause), scope
                )
                if assigned:
                    variables.update(assigned)
                inspection.error_details["catchIndex"] = index
                response.update(
                    status="CAUGHT_ERROR", output=to_json(output), nextState=catcher.next_name
                )
                return self._shown(response, inspection, variables)
        return self._shown(response, inspection, variables)


def _result_of(
    outcome: TaskOutcome, step: TaskStep, timeout: int | None, heartbeat: int | None
) -> Any:
    """A Task's result from its integration's outcome, or its failure raised.

    As an execution's attempt would end (``_task_step``): a timeout, a failure, a result over
    the payload limit; and an attempt past TestState's own five minutes times out too.
    """
    limits = [x for x in (timeout, heartbeat) if x is not None]
    if outcome.timed_out:
        raise StatesError(facts.STATES_TIMEOUT, heartbeat=outcome.heartbeat_lapsed)
    if outcome.seconds > min([*limits, facts.TEST_STATE_MAX_SECONDS]):
        lapsed = heartbeat is not None and outcome.seconds > heartbeat
        raise StatesError(facts.STATES_TIMEOUT, heartbeat=lapsed and heartbeat == min(limits))
    if outcome.is_failure:
        raise StatesError(outcome.error, outcome.cause)
    if len(to_json(outcome.output).encode()) > facts.MAX_PAYLOAD_BYTES:
        task_name = "lambda" if step.integration == "lambda-invoke" else step.resource
        raise StatesError(
            facts.STATES_DATA_LIMIT_EXCEEDED,
            f"The state/task '{task_name}' returned a result with a size exceeding the "
            "maximum number of bytes service limit.",
        )
    return outcome.output


def _exceeds(failures: int, total: int, count: int | None, percentage: float | None) -> bool:
    """Whether failed iterations pass the Map's threshold (False when it sets none)."""
    if count is None and percentage is None:
        return False
    within_count = count is not None and failures <= count
    within_percentage = percentage is not None and total and failures * 100 / total <= percentage
    return not (within_count or within_percentage)


_CSV_DELIMITERS: Final = {"COMMA": ",", "PIPE": "|", "SEMICOLON": ";", "SPACE": " ", "TAB": "\t"}


def _reader_items(model: MapState, text: str) -> list[Any]:
    """The items an ItemReader reads from ``mapItemReaderData``, as its ReaderConfig says."""
    assert model.item_reader is not None
    config = model.item_reader.reader_config
    kind = (config.input_type if config is not None else None) or "JSON"
    where = "stateConfiguration.mapItemReaderData"
    items: list[Any]
    if kind == "JSON":
        try:
            value = load_json_text(text, where)
        except JsonValueError as exc:
            raise ValidationException(str(exc)) from None
        if not isinstance(value, list):
            raise ValidationException(f"{where} must hold a JSON array for a JSON ItemReader")
        items = value
    elif kind == "JSONL":
        try:
            items = [load_json_text(line, where) for line in text.splitlines() if line.strip()]
        except JsonValueError as exc:
            raise ValidationException(str(exc)) from None
    elif kind == "CSV":
        assert config is not None
        delimiter = _CSV_DELIMITERS.get(config.csv_delimiter or "COMMA", ",")
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
        if config.csv_header_location == "GIVEN":
            headers = list(config.csv_headers or [])
        else:
            headers, rows = (rows[0], rows[1:]) if rows else ([], [])
        items = [dict(zip(headers, row, strict=False)) for row in rows]
    else:
        raise ValidationException(
            f"TestState runs offline and reads {where} as JSON, JSONL or CSV, not {kind}"
        )
    if config is not None and isinstance(config.max_items, int) and config.max_items > 0:
        items = items[: config.max_items]
    return items
