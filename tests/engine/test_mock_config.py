"""Step Functions Local's MockConfigFile, answering Tasks per test case."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stepsaga.infra.local.stepfunctions import DefinitionError, LocalStepFunctions, MockConfig

DEFINITION: dict[str, Any] = {
    "StartAt": "Reserve",
    "States": {
        "Reserve": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "reserve"},
            "Retry": [{"ErrorEquals": ["Lambda.TooManyRequestsException"], "IntervalSeconds": 1}],
            "ResultSelector": {"reserved.$": "$.Payload"},
            "Next": "Pay",
        },
        "Pay": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "pay"},
            "End": True,
        },
    },
}

CONFIG = {
    "StateMachines": {
        "Order": {
            "TestCases": {
                "Throttled": {"Reserve": "ThrottledTwice", "Pay": "Paid"},
                "Declined": {"Reserve": "Reserved", "Pay": "Declined"},
            }
        }
    },
    "MockedResponses": {
        "ThrottledTwice": {
            "0-1": {"Throw": {"Error": "Lambda.TooManyRequestsException", "Cause": "slow down"}},
            "2": {"Return": {"StatusCode": 200, "Payload": "ok"}},
        },
        "Reserved": {"0": {"Return": {"StatusCode": 200, "Payload": "ok"}}},
        "Paid": {"0": {"Return": {"StatusCode": 200, "Payload": "paid"}}},
        "Declined": {"0": {"Throw": {"Error": "Card.Declined", "Cause": "no funds"}}},
    },
}


def test_invocation_ranges_drive_retries() -> None:
    sfn = LocalStepFunctions()
    sfn.mock_tasks(MockConfig(CONFIG).mock("Order", "Throttled"))
    ex = sfn.run(DEFINITION, {})
    assert ex.status == "SUCCEEDED"
    assert ex.event_types.count("TaskFailed") == 2
    assert ex.output["Payload"] == "paid"


def test_throw_fails_the_state(tmp_path: Path) -> None:
    path = tmp_path / "mocks.json"
    path.write_text(json.dumps(CONFIG))
    sfn = LocalStepFunctions()
    sfn.mock_tasks(MockConfig(path).mock("Order", "Declined"))
    ex = sfn.run(DEFINITION, {})
    assert (ex.status, ex.error, ex.cause) == ("FAILED", "Card.Declined", "no funds")


def test_counts_restart_for_each_execution() -> None:
    sfn = LocalStepFunctions()
    sfn.mock_tasks(MockConfig(CONFIG).mock("Order", "Declined"))
    assert [sfn.run(DEFINITION, {}).error for _ in range(2)] == ["Card.Declined"] * 2


def test_unknown_test_case_is_reported_with_its_pointer() -> None:
    with pytest.raises(DefinitionError) as raised:
        MockConfig(CONFIG).mock("Order", "Nope")
    assert raised.value.pointer == "/StateMachines/Order/TestCases/Nope"


def test_an_invocation_past_the_listed_responses_fails_the_execution() -> None:
    """AWS's rule: a mocked state invoked more often than its response lists is a mistake of
    the test case; it fails the execution (States.Runtime, which no Catcher takes)."""
    # GIVEN a test case that answers Reserve's first invocation only, and a retry of it
    config = {
        "StateMachines": {"Order": {"TestCases": {"Once": {"Reserve": "OnceThrottled"}}}},
        "MockedResponses": {
            "OnceThrottled": {"0": {"Throw": {"Error": "Lambda.TooManyRequestsException"}}}
        },
    }
    sfn = LocalStepFunctions()
    sfn.mock_tasks(MockConfig(config).mock("Order", "Once"))
    definition = {**DEFINITION, "States": dict(DEFINITION["States"])}
    definition["States"]["Reserve"] = {
        **DEFINITION["States"]["Reserve"],
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Pay"}],
    }
    # WHEN the retry invokes it a second time
    ex = sfn.run(definition, {})
    # THEN the execution fails, naming the response, the invocation and the state
    assert (ex.status, ex.error) == ("FAILED", "States.Runtime")
    assert ex.cause is not None
    assert "'OnceThrottled'" in ex.cause and "invocation 1 of state 'Reserve'" in ex.cause


def test_states_the_test_case_does_not_name_run_for_real() -> None:
    config = {
        "StateMachines": {"Order": {"TestCases": {"OnlyReserve": {"Reserve": "Reserved"}}}},
        "MockedResponses": CONFIG["MockedResponses"],
    }
    sfn = LocalStepFunctions()
    sfn.register_lambda("pay", lambda event, context: "really paid")
    sfn.mock_tasks(MockConfig(config).mock("Order", "OnlyReserve"))
    ex = sfn.run(DEFINITION, {})
    assert ex.output["Payload"] == "really paid"


@pytest.mark.parametrize(
    ("config", "pointer"),
    [
        ({"StateMachines": 3}, "/StateMachines"),
        ({"StateMachines": {"Order": {"TestCases": []}}}, "/StateMachines/Order"),
        (
            {"StateMachines": {"Order": {"TestCases": {"Ok": {"Pay": 1}}}}},
            "/StateMachines/Order/TestCases/Ok",
        ),
        ({"MockedResponses": {"R": {"0": "yes"}}}, "/MockedResponses/R/0"),
    ],
)
def test_a_malformed_config_is_refused_when_loaded_naming_the_entry(
    config: dict[str, Any], pointer: str
) -> None:
    with pytest.raises(DefinitionError) as raised:
        MockConfig(config)
    assert raised.value.pointer == pointer
