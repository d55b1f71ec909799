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
