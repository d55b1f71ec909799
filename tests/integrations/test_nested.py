"""Nested executions: states:startExecution, request-response, .sync, .sync:2, .waitForTaskToken."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stepsaga.infra.local.stepfunctions import LocalStepFunctions
from tests.integrations.conftest import task

START = "arn:aws:states:::states:startExecution"


def _child(sfn: LocalStepFunctions, name: str, states: dict[str, Any]) -> str:
    first = next(iter(states))
    return sfn.create_state_machine(name, {"StartAt": first, "States": states}).arn


def _start(arn: str, suffix: str = "", **extra: Any) -> dict[str, Any]:
    return task(
        START + suffix,
        {
            "StateMachineArn": arn,
            "Input": {
                "n.$": "$.n",
                "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id",
                **extra,
            },
        },
    )


DOUBLE: dict[str, Any] = {
    "Double": {"Type": "Pass", "Parameters": {"twice.$": "States.MathAdd($.n, $.n)"}, "End": True}
}


def test_request_response_starts_the_child_and_does_not_wait() -> None:
    sfn = LocalStepFunctions()
    arn = _child(sfn, "child", {"Wait": {"Type": "Wait", "Seconds": 60, "End": True}})
    ex = sfn.run(_start(arn), {"n": 1})
    assert ex.status == "SUCCEEDED", ex.cause
    assert set(ex.output) >= {"ExecutionArn", "StartDate"}
    assert ex.output["ExecutionArn"].startswith(arn.replace(":stateMachine:", ":execution:") + ":")
    assert isinstance(ex.output["StartDate"], int)  # epoch milliseconds


def test_sync_gives_the_child_s_output_as_json_text_and_the_child_knows_its_parent() -> None:
    # GIVEN a child machine, and a parent that runs it with .sync
    sfn = LocalStepFunctions()
    arn = _child(sfn, "double", DOUBLE)
    # WHEN the parent runs
    ex = sfn.run(_start(arn, ".sync"), {"n": 21})
    # THEN its result is DescribeExecution's view of the child, Output as JSON text
    assert ex.status == "SUCCEEDED", ex.cause
    assert ex.output["Status"] == "SUCCEEDED"
    assert json.loads(ex.output["Output"]) == {"twice": 42}
    child = sfn.describe_execution(ex.output["ExecutionArn"])
    assert child.started_by == ex.arn
    assert ex.event_types[2:6] == ["TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded"]


def test_sync_2_gives_the_child_s_output_parsed() -> None:
    sfn = LocalStepFunctions()
    arn = _child(sfn, "double", DOUBLE)
    ex = sfn.run(_start(arn, ".sync:2"), {"n": 2})
    assert ex.status == "SUCCEEDED", ex.cause
    assert ex.output["Output"] == {"twice": 4}


@pytest.mark.parametrize("suffix", [".sync", ".sync:2"])
def test_a_failed_child_fails_the_task_with_states_task_failed(suffix: str) -> None:
    # GIVEN a child that fails
    sfn = LocalStepFunctions()
    arn = _child(sfn, "boom", {"F": {"Type": "Fail", "Error": "Child.Broke", "Cause": "why"}})
    # WHEN a parent runs it and waits
    ex = sfn.run(_start(arn, suffix), {"n": 0})
    # THEN the task fails with States.TaskFailed, the child's view as its cause
    assert (ex.status, ex.error) == ("FAILED", "States.TaskFailed")
    assert ex.cause is not None
    cause = json.loads(ex.cause)
    assert (cause["Status"], cause["Error"], cause["Cause"]) == ("FAILED", "Child.Broke", "why")


def test_an_aborted_child_fails_the_sync_task() -> None:
    sfn = LocalStepFunctions()
    arn = _child(sfn, "slow", {"W": {"Type": "Wait", "Seconds": 3600, "End": True}})
    ex = sfn.start(_start(arn, ".sync"), {"n": 0})
    (child,) = [e for e in sfn.executions if e.started_by == ex.arn]
    sfn.stop_execution(child.arn, error="Operator", cause="stopped")
    ex = sfn.wait(ex)
    assert (ex.status, ex.error) == ("FAILED", "States.TaskFailed")
    assert ex.cause is not None and json.loads(ex.cause)["Status"] == "ABORTED"


def test_wait_for_task_token_is_answered_by_the_child_itself() -> None:
    # GIVEN a child that answers the token it was given, through aws-sdk:sfn
    sfn = LocalStepFunctions()
    arn = _child(
        sfn,
        "answers",
        {
            "Answer": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:sfn:sendTaskSuccess",
                "Parameters": {"TaskToken.$": "$.token", "Output": {"answer.$": "$.n"}},
                "End": True,
            }
        },
    )
    # WHEN the parent starts it with .waitForTaskToken
    ex = sfn.run(_start(arn, ".waitForTaskToken", **{"token.$": "$$.Task.Token"}), {"n": 5})
    # THEN the parent's result is what the child sent
    assert ex.status == "SUCCEEDED", ex.cause
    assert ex.output == {"answer": 5}


def test_stopping_the_parent_stops_a_sync_child() -> None:
    sfn = LocalStepFunctions()
    arn = _child(sfn, "slow", {"W": {"Type": "Wait", "Seconds": 3600, "End": True}})
    ex = sfn.start(_start(arn, ".sync"), {"n": 0})
    (child,) = [e for e in sfn.executions if e.started_by == ex.arn]
    sfn.stop_execution(ex.arn)
    assert sfn.describe_execution(child.arn).status == "ABORTED"


def test_a_missing_state_machine_fails_with_the_sdk_s_error() -> None:
    sfn = LocalStepFunctions()
    ex = sfn.run(
        _start("arn:aws:states:us-east-1:123456789012:stateMachine:nope", ".sync"), {"n": 0}
    )
    assert ex.status == "FAILED"
    assert ex.error == "StepFunctions.StateMachineDoesNotExistException"


def test_a_machine_created_through_the_api_is_started_by_a_nested_task() -> None:
    # GIVEN a child and a parent created through the engine's boto3 client
    sfn = LocalStepFunctions()
    client = sfn.client()
    role = "arn:aws:iam::123456789012:role/nested"
    child = client.create_state_machine(
        name="api-child",
        roleArn=role,
        definition=json.dumps({"StartAt": "Double", "States": DOUBLE}),
    )["stateMachineArn"]
    parent = client.create_state_machine(
        name="api-parent", roleArn=role, definition=json.dumps(_start(child, ".sync:2"))
    )["stateMachineArn"]
    # WHEN the parent runs
    arn = client.start_execution(stateMachineArn=parent, input='{"n": 4}')["executionArn"]
    # THEN its nested task ran the child
    described = client.describe_execution(executionArn=arn)
    assert described["status"] == "SUCCEEDED", described.get("cause")
    assert json.loads(described["output"])["Output"] == {"twice": 8}
