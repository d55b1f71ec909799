"""What an Assign records, and how a Distributed Map names its Map Run."""

from __future__ import annotations

import re
from typing import Any

import pytest

from stepsaga.infra.local.stepfunctions import LocalStepFunctions


def exited(history: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(
        event["stateExitedEventDetails"]
        for event in history
        if "stateExitedEventDetails" in event and event["stateExitedEventDetails"]["name"] == name
    )


@pytest.mark.parametrize("language", ["JSONPath", "JSONata"])
def test_an_empty_assign_records_no_assigned_variables(language: str) -> None:
    """Recorded on AWS (LocalStack's tests/aws/services/stepfunctions/v2/assign/
    test_assign_base.snapshot.json, ``test_base_cases[BASE_EMPTY]``: a Pass with ``"Assign":
    {}``): the exited event has neither ``assignedVariables`` nor
    ``assignedVariablesDetails``; a state that assigns something has both."""
    definition = {
        "QueryLanguage": language,
        "StartAt": "Empty",
        "States": {
            "Empty": {"Type": "Pass", "Assign": {}, "Next": "Some"},
            "Some": {"Type": "Pass", "Assign": {"x": 1}, "End": True},
        },
    }
    ex = LocalStepFunctions().run(definition, {"input_value": "v"})
    assert ex.status == "SUCCEEDED"
    assert set(exited(ex.history, "Empty")) == {"name", "output", "outputDetails"}
    some = exited(ex.history, "Some")
    assert some["assignedVariables"] == {"x": "1"}
    assert some["assignedVariablesDetails"] == {"truncated": False}


def _distributed(**fields: Any) -> dict[str, Any]:
    processor = {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "End": True}},
    }
    return {
        "StartAt": "Fan",
        "States": {"Fan": {"Type": "Map", "ItemProcessor": processor, "End": True, **fields}},
    }


def _map_run_arn(ex: Any) -> str:
    started = next(e for e in ex.history if e["type"] == "MapRunStarted")
    arn: str = started["mapRunStartedEventDetails"]["mapRunArn"]
    return arn


def test_a_map_run_arn_carries_the_machine_and_the_label() -> None:
    """https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html (Label):
    "For each Map Run, Step Functions adds the label to the Map Run ARN", e.g.
    ``arn:aws:states:region:account-id:mapRun:demoWorkflow/demoLabel:3c39a231-...``."""
    sfn = LocalStepFunctions(region="eu-west-1", account_id="111122223333")
    ex = sfn.run(_distributed(Label="demoLabel"), [1, 2], state_machine_name="demoWorkflow")
    assert re.fullmatch(
        r"arn:aws:states:eu-west-1:111122223333:mapRun:demoWorkflow/demoLabel:"
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        _map_run_arn(ex),
    )


def test_each_map_run_gets_its_own_arn() -> None:
    sfn = LocalStepFunctions()
    first = _map_run_arn(sfn.run(_distributed(Label="L"), [1]))
    second = _map_run_arn(sfn.run(_distributed(Label="L"), [1]))
    assert first != second
    assert first.rsplit(":", 1)[0] == second.rsplit(":", 1)[0]
