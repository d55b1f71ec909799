"""Malformed definitions are refused with the rule broken and the JSON pointer of the culprit."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from stepsaga.workflows.asl import (
    ASLValidationError,
    Problem,
    parse_definition,
    parse_state,
    validate,
)

SCHEMA = "SCHEMA_VALIDATION_FAILED"
TARGET = "MISSING_TRANSITION_TARGET"


def machine(states: dict[str, Any], start: str | None = None, **top: Any) -> dict[str, Any]:
    """A definition starting at the first of ``states`` (or ``start``)."""
    return {"StartAt": start or next(iter(states)), "States": states, **top}


def task(**fields: Any) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:lambda:eu-west-1:111111111111:function:f",
        **fields,
    }


def end(kind: str = "Pass", **fields: Any) -> dict[str, Any]:
    return {"Type": kind, "End": True, **fields}


def jsonata(states: dict[str, Any]) -> dict[str, Any]:
    return machine(states, QueryLanguage="JSONata")


def retry(**fields: Any) -> dict[str, Any]:
    return machine({"T": task(End=True, Retry=[{"ErrorEquals": ["States.ALL"], **fields}])})


def choice(*rules: dict[str, Any], default: str = "Done") -> dict[str, Any]:
    return machine(
        {"C": {"Type": "Choice", "Choices": list(rules), "Default": default}, "Done": end()}
    )


def parallel_branch(states: dict[str, Any]) -> dict[str, Any]:
    return machine(
        {"P": {"Type": "Parallel", "Branches": [machine(states)], "Next": "After"}, "After": end()}
    )


def inline_map(**fields: Any) -> dict[str, Any]:
    body = {"StartAt": "Item", "States": {"Item": end()}}
    return machine({"M": {"Type": "Map", "ItemProcessor": body, "End": True, **fields}})


@dataclass(frozen=True)
class Case:
    definition: dict[str, Any] | str
    pointer: str
    code: str
    says: str  # a fragment of the message a user needs to fix it


LONG_NAME = "S" * 81

CASES: dict[str, Case] = {
    # --- JSON and structure ---
    "not JSON": Case('{"StartAt": "A",', "", "INVALID_JSON_DESCRIPTION", "Invalid JSON"),
    "duplicate state name in JSON text": Case(
        '{"StartAt": "A", "States": {"A": {"Type": "Succeed"}, "A": {"Type": "Succeed"}}}',
        "/States/A",
        "DUPLICATE_STATE_NAME",
        "more than once",
    ),
    "unknown state type": Case(
        machine({"A": {"Type": "Sleep", "End": True}}), "/States/A/Type", SCHEMA, "[Task, Wait"
    ),
    "field of another state type": Case(
        machine({"A": end(Resource="arn:aws:lambda:x")}),
        "/States/A/Resource",
        SCHEMA,
        "not supported by Pass states",
    ),
    "Task without Resource": Case(
        machine({"T": {"Type": "Task", "End": True}}),
        "/States/T/Resource",
        SCHEMA,
        "'Resource' is required in Task states",
    ),
    "wrong JSON type": Case(
        machine({"A": {"Type": "Pass", "End": "yes"}}),
        "/States/A/End",
        SCHEMA,
        "Expected a boolean",
    ),
    "Choice rule with two operators": Case(
        choice({"Variable": "$.x", "StringEquals": "a", "NumericEquals": 1, "Next": "Done"}),
        "/States/C/Choices/0",
        SCHEMA,
        "exactly one comparison operator",
    ),
    # --- graph ---
    "StartAt names no state": Case(
        machine({"A": end()}, start="Missing"), "/StartAt", TARGET, "'Missing'"
    ),
    "dangling Next": Case(
        machine({"A": {"Type": "Pass", "Next": "Nowhere"}}), "/States/A/Next", TARGET, "'Nowhere'"
    ),
    "dangling Default": Case(
        choice({"Variable": "$.x", "IsNull": True, "Next": "Done"}, default="Gone"),
        "/States/C/Default",
        TARGET,
        "'Gone'",
    ),
    "dangling Choice rule Next": Case(
        choice({"Variable": "$.x", "IsNull": True, "Next": "Gone"}),
        "/States/C/Choices/0/Next",
        TARGET,
        "'Gone'",
    ),
    "dangling Catch Next": Case(
        machine({"T": task(End=True, Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Gone"}])}),
        "/States/T/Catch/0/Next",
        TARGET,
        "'Gone'",
    ),
    "unreachable state": Case(
        machine({"A": end(), "Orphan": end()}), "/States/Orphan", "UNREACHABLE_STATE", "reached"
    ),
    "neither Next nor End": Case(
        machine({"A": {"Type": "Pass"}}), "/States/A", SCHEMA, "either 'Next' or \"End\": true"
    ),
    "both Next and End": Case(
        machine({"A": {"Type": "Pass", "Next": "B", "End": True}, "B": end()}),
        "/States/A/End",
        SCHEMA,
        "both",
    ),
    "no terminal state": Case(
        machine({"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "A"}}),
        "/States",
        "MISSING_END_STATE",
        "no terminal state",
    ),
    "state name longer than 80 characters": Case(
        machine({LONG_NAME: end()}), f"/States/{LONG_NAME}", "INVALID_STATE_NAME", "80"
    ),
    "pointer escapes / and ~ in state names": Case(
        machine({"a/b~c": {"Type": "Pass", "Next": "Gone"}}), "/States/a~1b~0c/Next", TARGET, "Gone"
    ),
    "Parallel branch jumps outside": Case(
        parallel_branch({"Inner": {"Type": "Pass", "Next": "After"}}),
        "/States/P/Branches/0/States/Inner/Next",
        TARGET,
        "outside",
    ),
    "Map body jumps outside": Case(
        machine(
            {
                "M": {
                    "Type": "Map",
                    "ItemProcessor": machine({"Item": {"Type": "Pass", "Next": "Done"}}),
                    "Next": "Done",
                },
                "Done": end(),
            }
        ),
        "/States/M/ItemProcessor/States/Item/Next",
        TARGET,
        "outside",
    ),
    "state name reused in a branch": Case(
        parallel_branch({"After": end()}),
        "/States/P/Branches/0/States/After",
        "DUPLICATE_STATE_NAME",
        "unique",
    ),
    "Parallel without branches": Case(
        machine({"P": {"Type": "Parallel", "Branches": [], "End": True}}),
        "/States/P/Branches",
        SCHEMA,
        "Value cannot be empty",
    ),
    "Choice without rules": Case(
        machine({"C": {"Type": "Choice", "Choices": [], "Default": "D"}, "D": end()}),
        "/States/C/Choices",
        SCHEMA,
        "Value cannot be empty",
    ),
    # --- query language ---
    "JSONPath field in a JSONata state": Case(
        jsonata({"A": end(InputPath="$.x")}),
        "/States/A/InputPath",
        SCHEMA,
        "not supported in JSONata",
    ),
    "JSONata field in a JSONPath state": Case(
        machine({"T": task(End=True, Arguments={"a": 1})}),
        "/States/T/Arguments",
        SCHEMA,
        "needs QueryLanguage JSONata",
    ),
    "JSONPath state in a JSONata machine": Case(
        jsonata({"A": end(QueryLanguage="JSONPath")}),
        "/States/A/QueryLanguage",
        SCHEMA,
        "cannot use JSONPath",
    ),
    "JSONata Choice rule without Condition": Case(
        jsonata(
            {
                "C": {"Type": "Choice", "Choices": [{"Next": "D"}], "Default": "D"},
                "D": end(),
            }
        ),
        "/States/C/Choices/0",
        SCHEMA,
        "needs 'Condition'",
    ),
    # --- expressions ---
    "ResultPath that is not a reference path": Case(
        machine({"A": end(ResultPath="$.items[*]")}),
        "/States/A/ResultPath",
        "INVALID_REFERENCE_PATH",
        "ResultPath",
    ),
    "ItemsPath that is not a reference path": Case(
        inline_map(ItemsPath="$..items"),
        "/States/M/ItemsPath",
        "INVALID_REFERENCE_PATH",
        "ItemsPath",
    ),
    "malformed JSONPath in Parameters": Case(
        machine({"A": end(Parameters={"nested": {"x.$": "$.a["}})}),
        "/States/A/Parameters/nested/x.$",
        "INVALID_JSONPATH",
        "x.$",
    ),
    "malformed JSONPath in a Choice Variable": Case(
        choice({"Variable": "$.a[", "IsNull": True, "Next": "Done"}),
        "/States/C/Choices/0/Variable",
        "INVALID_JSONPATH",
        "Variable",
    ),
    "malformed intrinsic function call": Case(
        machine({"A": end(Parameters={"m.$": "States.Format('Hi {}', $.name"})}),
        "/States/A/Parameters/m.$",
        "INVALID_INTRINSIC_FUNCTION",
        "intrinsic",
    ),
    "unknown intrinsic function": Case(
        machine({"A": end(Parameters={"m.$": "States.Teleport($.x)"})}),
        "/States/A/Parameters/m.$",
        "INVALID_INTRINSIC_FUNCTION",
        "intrinsic",
    ),
    "malformed JSONata expression": Case(
        jsonata({"A": end(Output={"x": "{% $states.input. + %}"})}),
        "/States/A/Output/x",
        "INVALID_JSONATA",
        "JSONata",
    ),
    "unterminated JSONata expression": Case(
        jsonata({"A": end(Output="{% $states.input")}),
        "/States/A/Output",
        "INVALID_JSONATA",
        "%}",
    ),
    "invalid variable name in Assign": Case(
        machine({"A": end(Assign={"1st": 1})}), "/States/A/Assign/1st", SCHEMA, "variable name"
    ),
    # --- Retry / Catch values AWS rejects ---
    "negative MaxAttempts": Case(
        retry(MaxAttempts=-1), "/States/T/Retry/0/MaxAttempts", SCHEMA, "MaxAttempts"
    ),
    "BackoffRate below 1": Case(
        retry(BackoffRate=0.5), "/States/T/Retry/0/BackoffRate", SCHEMA, "1.0 or more"
    ),
    "IntervalSeconds below 1": Case(
        retry(IntervalSeconds=0), "/States/T/Retry/0/IntervalSeconds", SCHEMA, "IntervalSeconds"
    ),
    "MaxDelaySeconds below 1": Case(
        retry(MaxDelaySeconds=0), "/States/T/Retry/0/MaxDelaySeconds", SCHEMA, "MaxDelaySeconds"
    ),
    "unknown JitterStrategy": Case(
        retry(JitterStrategy="PARTIAL"), "/States/T/Retry/0/JitterStrategy", SCHEMA, "FULL or NONE"
    ),
    "States.ALL beside other errors": Case(
        machine({"T": task(End=True, Retry=[{"ErrorEquals": ["States.ALL", "Boom"]}])}),
        "/States/T/Retry/0/ErrorEquals",
        SCHEMA,
        "alone",
    ),
    "States.ALL catcher not last": Case(
        machine(
            {
                "T": task(
                    End=True,
                    Catch=[
                        {"ErrorEquals": ["States.ALL"], "Next": "F"},
                        {"ErrorEquals": ["Boom"], "Next": "F"},
                    ],
                ),
                "F": {"Type": "Fail"},
            }
        ),
        "/States/T/Catch/0/ErrorEquals",
        SCHEMA,
        "last",
    ),
    # --- other value rules ---
    "Resource that is not an ARN": Case(
        machine({"T": task(Resource="my-function", End=True)}),
        "/States/T/Resource",
        "INVALID_RESOURCE",
        "not an ARN",
    ),
    "HeartbeatSeconds not below TimeoutSeconds": Case(
        machine({"T": task(End=True, TimeoutSeconds=10, HeartbeatSeconds=10)}),
        "/States/T/HeartbeatSeconds",
        SCHEMA,
        "smaller than TimeoutSeconds",
    ),
    "TimeoutSeconds string in JSONPath": Case(
        machine({"T": task(End=True, TimeoutSeconds="{% 10 %}")}),
        "/States/T/TimeoutSeconds",
        SCHEMA,
        "TimeoutSecondsPath",
    ),
    "Wait with two durations": Case(
        machine({"W": end("Wait", Seconds=1, SecondsPath="$.s")}),
        "/States/W/SecondsPath",
        SCHEMA,
        "exactly one of",
    ),
    "Wait Timestamp that is not RFC 3339": Case(
        machine({"W": end("Wait", Timestamp="tomorrow")}),
        "/States/W/Timestamp",
        SCHEMA,
        "RFC 3339",
    ),
    "Fail with Error and ErrorPath": Case(
        machine({"F": {"Type": "Fail", "Error": "E", "ErrorPath": "$.e"}}),
        "/States/F/ErrorPath",
        SCHEMA,
        "cannot both be set",
    ),
    "Choice operand of the wrong type": Case(
        choice({"Variable": "$.n", "NumericEquals": "3", "Next": "Done"}),
        "/States/C/Choices/0/NumericEquals",
        SCHEMA,
        "takes a number",
    ),
    "top-level Choice rule without Next": Case(
        choice({"Variable": "$.n", "IsNull": True}), "/States/C/Choices/0", SCHEMA, "'Next'"
    ),
    "Map with MaxConcurrency and MaxConcurrencyPath": Case(
        inline_map(MaxConcurrency=2, MaxConcurrencyPath="$.n"),
        "/States/M/MaxConcurrencyPath",
        SCHEMA,
        "cannot both be set",
    ),
    "ToleratedFailurePercentage above 100": Case(
        machine(
            {
                "M": {
                    "Type": "Map",
                    "ItemProcessor": {
                        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                        "StartAt": "I",
                        "States": {"I": end()},
                    },
                    "ToleratedFailurePercentage": 150,
                    "End": True,
                }
            }
        ),
        "/States/M/ToleratedFailurePercentage",
        SCHEMA,
        "between 0 and 100",
    ),
    "ItemReader on an inline Map": Case(
        inline_map(ItemReader={"Resource": "arn:aws:states:::s3:getObject"}),
        "/States/M/ItemReader",
        SCHEMA,
        "DISTRIBUTED",
    ),
    "Map without a body": Case(
        machine({"M": {"Type": "Map", "End": True}}), "/States/M", SCHEMA, "ItemProcessor"
    ),
}


def _problems(definition: dict[str, Any] | str) -> list[Problem]:
    with pytest.raises(ASLValidationError) as caught:
        parse_definition(definition if isinstance(definition, str) else json.dumps(definition))
    return caught.value.problems


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_malformed_definition_is_refused_with_pointer_and_rule(case: Case) -> None:
    # WHEN a malformed definition is parsed
    problems = _problems(case.definition)
    # THEN one problem names the offending value's pointer, the rule and how to fix it
    matching = [p for p in problems if p.pointer == case.pointer and p.code == case.code]
    assert matching, f"expected {case.code} at {case.pointer!r}, got {problems}"
    assert any(case.says in p.message for p in matching), matching


def test_error_text_lists_every_problem_with_its_pointer() -> None:
    # GIVEN a definition with two independent faults
    definition = machine({"A": {"Type": "Pass", "Next": "Gone"}, "B": end()})
    # WHEN it is parsed
    with pytest.raises(ASLValidationError) as caught:
        parse_definition(definition)
    # THEN the message names both, each with its pointer
    text = str(caught.value)
    assert "MISSING_TRANSITION_TARGET" in text and "/States/A/Next" in text
    assert "UNREACHABLE_STATE" in text and "/States/B" in text


def test_validate_false_checks_structure_only() -> None:
    # GIVEN a well-formed definition whose Next dangles
    definition = machine({"A": {"Type": "Pass", "Next": "Gone"}})
    # WHEN it is parsed without validation THEN it is accepted, and validate() finds the fault
    model = parse_definition(definition, validate=False)
    assert ("/States/A/Next", TARGET) in [(p.pointer, p.code) for p in validate(model)]
    # AND a structural fault is refused even without validation
    with pytest.raises(ASLValidationError):
        parse_definition(machine({"A": {"Type": "Pass", "End": True, "Bogus": 1}}), validate=False)


def test_valid_definition_has_no_problems() -> None:
    definition = machine(
        {
            "T": task(
                Next="C",
                Retry=[{"ErrorEquals": ["States.TaskFailed"], "MaxDelaySeconds": 5}],
                Catch=[{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "F"}],
            ),
            "C": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.ok", "BooleanEquals": True, "Next": "S"}],
                "Default": "F",
            },
            "S": {"Type": "Succeed"},
            "F": {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"},
        }
    )
    assert validate(parse_definition(definition, validate=False)) == []


def test_single_state_is_validated_without_a_graph() -> None:
    # GIVEN a lone state as the TestState API takes it, Next naming a state that is not there
    state = parse_state({"Type": "Pass", "Next": "Elsewhere"})
    assert state.type == "Pass"
    # WHEN it breaks a rule of its own THEN the pointer is relative to the state
    with pytest.raises(ASLValidationError) as caught:
        parse_state({"Type": "Pass", "End": True, "Arguments": {}}, query_language="JSONPath")
    assert [p.pointer for p in caught.value.problems] == ["/Arguments"]


def _resolve(document: Any, pointer: str) -> Any:
    node = document
    for raw in pointer.split("/")[1:]:
        token = raw.replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


MAPPING_CASES = {name: case for name, case in CASES.items() if isinstance(case.definition, dict)}


@pytest.mark.parametrize("case", MAPPING_CASES.values(), ids=MAPPING_CASES.keys())
def test_every_pointer_leads_to_the_value_it_blames(case: Case) -> None:
    # A user follows the pointer into their definition: it must exist there (or, for a missing
    # field, its parent must).
    for problem in _problems(case.definition):
        if "is required" in problem.message:
            parent = problem.pointer.rsplit("/", 1)[0]
            assert isinstance(_resolve(case.definition, parent), dict), problem
        else:
            _resolve(case.definition, problem.pointer)  # raises when the pointer is wrong
