"""Pydantic models of the Amazon States Language (ASL).

Every model is frozen, validated once when it is built, and keeps exactly the fields the
definition wrote: :meth:`StateMachine.to_dict` dumps set fields only, so a definition parsed and
emitted again is equal to the input. Fields whose absence has a meaning in ASL carry that meaning
as their default (``InputPath``/``OutputPath``/``ResultPath`` default to ``"$"``, ``None`` being
the JSON ``null`` that discards), so the engine reads attributes without checking presence; for
the free-form JSON fields where ``null`` is a legal value (``Result``, ``Output``…) use
:meth:`AslModel.has` to tell "absent" from ``null``.

Free-form payload fields (``Parameters``, ``Arguments``, ``Result``, ``ResultSelector``,
``ItemSelector``, ``Assign``, ``Output``, ``Credentials``, Choice operands…) stay plain JSON values.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Final, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    SerializerFunctionWrapHandler,
    StrictBool,
    StrictFloat,
    StrictInt,
    model_serializer,
    model_validator,
)
from pydantic.alias_generators import to_pascal
from pydantic_core import PydanticCustomError

from stepsaga.workflows.facts import CHOICE_OPERATORS

__all__ = (
    "STATE_TYPES",
    "AslModel",
    "Branch",
    "Catcher",
    "ChoiceRule",
    "ChoiceState",
    "FailState",
    "ItemBatcher",
    "ItemProcessor",
    "ItemReader",
    "MapState",
    "ParallelState",
    "PassState",
    "ProcessorConfig",
    "QueryLanguage",
    "ReaderConfig",
    "ResultWriter",
    "Retrier",
    "State",
    "StateGraph",
    "StateMachine",
    "SucceedState",
    "TaskState",
    "WaitState",
)

QueryLanguage = Literal["JSONPath", "JSONata"]
"""The two query languages of ASL."""

STATE_TYPES: Final = ("Task", "Wait", "Pass", "Succeed", "Fail", "Choice", "Parallel", "Map")
"""Every ``Type`` a state may have, in the order AWS lists them."""

Number = StrictInt | StrictFloat
# A field that is a number in JSONPath mode and may be a "{% %}" expression in JSONata mode.
IntOrExpression = StrictInt | str
NumberOrExpression = StrictInt | StrictFloat | str
JsonObject = dict[str, JsonValue]

# Keys under which a Choice rule keeps its operator between parsing and dumping; they cannot
# collide with ASL field names (ASL names are PascalCase words).
_OPERATOR_KEY: Final = "@operator"
_OPERAND_KEY: Final = "@operand"


class AslModel(BaseModel):
    """Base of every ASL model: PascalCase aliases, unknown fields refused, immutable."""

    model_config = ConfigDict(
        alias_generator=to_pascal,
        validate_by_alias=True,
        validate_by_name=False,
        serialize_by_alias=True,
        extra="forbid",
        frozen=True,
        strict=True,
        revalidate_instances="never",
    )

    def has(self, field: str) -> bool:
        """Whether the definition wrote ``field`` (a Python attribute name), even as ``null``."""
        return field in self.model_fields_set

    def to_dict(self) -> dict[str, Any]:
        """The JSON object this model was parsed from (only the fields it set)."""
        return self.model_dump(mode="python", exclude_unset=True, by_alias=True)


# --- error handling -------------------------------------------------------------------------


class Retrier(AslModel):
    """One ``Retry`` entry. Unset fields read as AWS's defaults (1 s, 3 attempts, rate 2.0)."""

    comment: str | None = None
    error_equals: list[str]
    interval_seconds: StrictInt = 1
    max_attempts: StrictInt = 3
    backoff_rate: Number = 2.0
    max_delay_seconds: StrictInt | None = None
    jitter_strategy: str = "NONE"


class Catcher(AslModel):
    """One ``Catch`` entry: errors to catch and the state to go to."""

    comment: str | None = None
    error_equals: list[str]
    result_path: str | None = "$"
    output: JsonValue = None
    assign: JsonObject | None = None
    next: str


# --- Choice ---------------------------------------------------------------------------------


class ChoiceRule(AslModel):
    """A Choice rule: a top-level one (with ``Next``) or one nested in ``And``/``Or``/``Not``.

    A JSONPath comparison is read as :attr:`operator` (e.g. ``"NumericLessThanPath"``) and
    :attr:`operand` (its raw JSON value); a JSONata rule has :attr:`condition` instead.
    """

    comment: str | None = None
    variable: str | None = None
    operator: str | None = Field(default=None, alias=_OPERATOR_KEY)
    operand: JsonValue = Field(default=None, alias=_OPERAND_KEY)
    and_: list[ChoiceRule] | None = Field(default=None, alias="And")
    or_: list[ChoiceRule] | None = Field(default=None, alias="Or")
    not_: ChoiceRule | None = Field(default=None, alias="Not")
    condition: StrictBool | str | None = None
    output: JsonValue = None
    assign: JsonObject | None = None
    next: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _split_operator(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        if _OPERATOR_KEY in data or _OPERAND_KEY in data:
            raise PydanticCustomError(
                "asl_unknown_field", "Field '{name}' is not supported", {"name": _OPERATOR_KEY}
            )
        operators = [key for key in data if key in CHOICE_OPERATORS]
        if not operators:
            return data
        if len(operators) > 1:
            raise PydanticCustomError(
                "asl_choice_operators",
                "A Choice rule has exactly one comparison operator; this one has {names}",
                {"names": ", ".join(operators)},
            )
        moved = dict(data)
        moved[_OPERAND_KEY] = moved.pop(operators[0])
        moved[_OPERATOR_KEY] = operators[0]
        return moved

    @model_serializer(mode="wrap")
    def _join_operator(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        dumped: dict[str, Any] = handler(self)
        if _OPERATOR_KEY not in dumped:
            return dumped
        rebuilt: dict[str, Any] = {}
        operand = dumped.get(_OPERAND_KEY)
        for key, value in dumped.items():
            if key == _OPERATOR_KEY:
                rebuilt[value] = operand
            elif key != _OPERAND_KEY:
                rebuilt[key] = value
        return rebuilt


# --- graphs ---------------------------------------------------------------------------------


class StateGraph(AslModel):
    """A set of states and where to start: the state machine, a Parallel branch, a Map body."""

    comment: str | None = None
    start_at: str
    states: dict[str, State]


class Branch(StateGraph):
    """One ``Branches`` entry of a Parallel state."""


class ProcessorConfig(AslModel):
    """``ProcessorConfig`` of a Map: ``Mode`` INLINE or DISTRIBUTED, ``ExecutionType``."""

    mode: str = "INLINE"
    execution_type: str | None = None


class ItemProcessor(StateGraph):
    """The body of a Map state (``ItemProcessor``, or the legacy ``Iterator``)."""

    processor_config: ProcessorConfig | None = None


class ReaderConfig(AslModel):
    """``ItemReader.ReaderConfig`` of a distributed Map."""

    input_type: str | None = None
    csv_header_location: str | None = Field(default=None, alias="CSVHeaderLocation")
    csv_headers: list[str] | None = Field(default=None, alias="CSVHeaders")
    csv_delimiter: str | None = Field(default=None, alias="CSVDelimiter")
    manifest_type: str | None = None
    max_items: IntOrExpression | None = None
    max_items_path: str | None = None


class ItemReader(AslModel):
    """``ItemReader`` of a distributed Map: where the items come from."""

    resource: str
    reader_config: ReaderConfig | None = None
    parameters: JsonValue = None
    arguments: JsonValue = None


class ItemBatcher(AslModel):
    """``ItemBatcher`` of a distributed Map."""

    max_items_per_batch: IntOrExpression | None = None
    max_items_per_batch_path: str | None = None
    max_input_bytes_per_batch: IntOrExpression | None = None
    max_input_bytes_per_batch_path: str | None = None
    batch_input: JsonValue = None


class ResultWriter(AslModel):
    """``ResultWriter`` of a distributed Map."""

    resource: str | None = None
    parameters: JsonValue = None
    arguments: JsonValue = None
    writer_config: JsonObject | None = None


# --- states ---------------------------------------------------------------------------------


class _StateBase(AslModel):
    # Declared here so that every state dumps "Type" first; each subclass narrows it.
    type: str
    query_language: QueryLanguage | None = None
    comment: str | None = None


class TaskState(_StateBase):
    """A ``Task`` state."""

    type: Literal["Task"]
    resource: str
    credentials: JsonValue = None
    input_path: str | None = "$"
    parameters: JsonValue = None
    arguments: JsonValue = None
    result_selector: JsonValue = None
    result_path: str | None = "$"
    output_path: str | None = "$"
    output: JsonValue = None
    assign: JsonObject | None = None
    timeout_seconds: IntOrExpression | None = None
    timeout_seconds_path: str | None = None
    heartbeat_seconds: IntOrExpression | None = None
    heartbeat_seconds_path: str | None = None
    retry: list[Retrier] = Field(default_factory=list)
    catch: list[Catcher] = Field(default_factory=list)
    next: str | None = None
    end: StrictBool = False


class PassState(_StateBase):
    """A ``Pass`` state."""

    type: Literal["Pass"]
    input_path: str | None = "$"
    parameters: JsonValue = None
    result: JsonValue = None
    result_path: str | None = "$"
    output_path: str | None = "$"
    output: JsonValue = None
    assign: JsonObject | None = None
    next: str | None = None
    end: StrictBool = False


class WaitState(_StateBase):
    """A ``Wait`` state: exactly one of Seconds, Timestamp, SecondsPath, TimestampPath."""

    type: Literal["Wait"]
    seconds: IntOrExpression | None = None
    timestamp: str | None = None
    seconds_path: str | None = None
    timestamp_path: str | None = None
    input_path: str | None = "$"
    output_path: str | None = "$"
    output: JsonValue = None
    assign: JsonObject | None = None
    next: str | None = None
    end: StrictBool = False


class ChoiceState(_StateBase):
    """A ``Choice`` state."""

    type: Literal["Choice"]
    input_path: str | None = "$"
    output_path: str | None = "$"
    choices: list[ChoiceRule]
    default: str | None = None
    output: JsonValue = None
    assign: JsonObject | None = None


class SucceedState(_StateBase):
    """A ``Succeed`` state."""

    type: Literal["Succeed"]
    input_path: str | None = "$"
    output_path: str | None = "$"
    output: JsonValue = None


class FailState(_StateBase):
    """A ``Fail`` state."""

    type: Literal["Fail"]
    error: str | None = None
    error_path: str | None = None
    cause: str | None = None
    cause_path: str | None = None


class ParallelState(_StateBase):
    """A ``Parallel`` state."""

    type: Literal["Parallel"]
    branches: list[Branch]
    input_path: str | None = "$"
    parameters: JsonValue = None
    arguments: JsonValue = None
    result_selector: JsonValue = None
    result_path: str | None = "$"
    output_path: str | None = "$"
    output: JsonValue = None
    assign: JsonObject | None = None
    retry: list[Retrier] = Field(default_factory=list)
    catch: list[Catcher] = Field(default_factory=list)
    next: str | None = None
    end: StrictBool = False


class MapState(_StateBase):
    """A ``Map`` state, inline or distributed. :attr:`processor` is its body, whichever field."""

    type: Literal["Map"]
    item_processor: ItemProcessor | None = None
    iterator: ItemProcessor | None = None
    item_reader: ItemReader | None = None
    item_batcher: ItemBatcher | None = None
    result_writer: ResultWriter | None = None
    input_path: str | None = "$"
    items_path: str = "$"
    items: JsonValue = None
    parameters: JsonValue = None
    item_selector: JsonValue = None
    max_concurrency: IntOrExpression | None = None
    max_concurrency_path: str | None = None
    tolerated_failure_count: IntOrExpression | None = None
    tolerated_failure_count_path: str | None = None
    tolerated_failure_percentage: NumberOrExpression | None = None
    tolerated_failure_percentage_path: str | None = None
    label: str | None = None
    result_selector: JsonValue = None
    result_path: str | None = "$"
    output_path: str | None = "$"
    output: JsonValue = None
    assign: JsonObject | None = None
    retry: list[Retrier] = Field(default_factory=list)
    catch: list[Catcher] = Field(default_factory=list)
    next: str | None = None
    end: StrictBool = False

    @property
    def processor(self) -> ItemProcessor | None:
        """The Map's body: ``ItemProcessor``, or the legacy ``Iterator``."""
        return self.item_processor if self.item_processor is not None else self.iterator


State = Annotated[
    TaskState
    | PassState
    | WaitState
    | ChoiceState
    | SucceedState
    | FailState
    | ParallelState
    | MapState,
    Field(discriminator="type"),
]
"""Any ASL state, told apart by its ``Type``."""


class StateMachine(StateGraph):
    """A whole state machine definition.

    Build it with :func:`stepsaga.workflows.asl.parse_definition`; :meth:`to_dict` and
    :meth:`to_json`
    emit it back unchanged.
    """

    query_language: QueryLanguage = "JSONPath"
    version: str | None = None
    timeout_seconds: StrictInt | None = None

    def to_json(self, *, indent: int | None = 2) -> str:
        """The definition as JSON text, fields in the model's canonical order.

        Args:
            indent: indentation of the text; ``None`` gives the compact form.
        """
        separators = (",", ":") if indent is None else (",", ": ")
        return json.dumps(self.to_dict(), indent=indent, separators=separators, ensure_ascii=False)


for _model in (
    ChoiceRule,
    StateGraph,
    Branch,
    ItemProcessor,
    ParallelState,
    MapState,
    StateMachine,
):
    _model.model_rebuild()
