"""The Amazon States Language as typed, validated, round-tripping pydantic models.

``parse_definition`` turns JSON text or a mapping into a :class:`StateMachine`, checking its
structure and (by default) every semantic rule; ``validate`` lists the problems of a parsed
machine; ``StateMachine.to_dict`` / ``to_json`` emit it back unchanged.
"""

from stepsaga.workflows.asl._models import (
    STATE_TYPES,
    AslModel,
    Branch,
    Catcher,
    ChoiceRule,
    ChoiceState,
    FailState,
    ItemBatcher,
    ItemProcessor,
    ItemReader,
    MapState,
    ParallelState,
    PassState,
    ProcessorConfig,
    QueryLanguage,
    ReaderConfig,
    ResultWriter,
    Retrier,
    State,
    StateGraph,
    StateMachine,
    SucceedState,
    TaskState,
    WaitState,
)
from stepsaga.workflows.asl._parse import parse_definition, parse_state
from stepsaga.workflows.asl._problems import ASLValidationError, Problem
from stepsaga.workflows.asl._sdk import from_sdk_graph
from stepsaga.workflows.asl._validate import validate, validate_state

__all__ = (
    "STATE_TYPES",
    "ASLValidationError",
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
    "Problem",
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
    "from_sdk_graph",
    "parse_definition",
    "parse_state",
    "validate",
    "validate_state",
)
