"""Executions that wait for a task token: start, answer, heartbeats, timeouts, bad tokens.

The event shapes follow the AWS recordings in tests/conformance/recordings/services.jsonl
(``test_callback.py::*`` and ``test_heartbeats.py::*``) and the callback pattern's page,
https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html#connect-wait-token
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from stepsaga.infra.local.stepfunctions import (
    ExecutionStillWaiting,
    InvalidOutput,
    InvalidToken,
    LambdaContext,
    LocalStepFunctions,
    TaskDoesNotExist,
    TaskOutcome,
    TaskTimedOut,
)

INVOKE_WAIT = "arn:aws:states:::lambda:invoke.waitForTaskToken"


def approval_machine(**task: Any) -> dict[str, Any]:
    """``Approve`` invokes ``approver`` with the task token and waits; then ``Done``."""
    return {
        "StartAt": "Approve",
        "States": {
            "Approve": {
                "Type": "Task",
                "Resource": INVOKE_WAIT,
                "Parameters": {
                    "FunctionName": "approver",
                    "Payload": {"token.$": "$$.Task.Token", "order.$": "$.order"},
                },
                "Next": "Done",
                **task,
            },
            "Done": {"Type": "Pass", "End": True},
        },
    }


class Approver:
    """A Lambda handler that queues the approval: it keeps each token and answers nothing."""

    def __init__(self) -> None:
        self.events: list[Any] = []

    def __call__(self, event: Any, context: LambdaContext) -> Any:
        self.events.append(event)
        return {"queued": True}

    @property
    def token(self) -> str:
        token = self.events[-1]["token"]
        assert isinstance(token, str)
        return token


def engine() -> tuple[LocalStepFunctions, Approver]:
    sfn = LocalStepFunctions(seed=5)
    approver = Approver()
    sfn.register_lambda("approver", approver)
    return sfn, approver


def test_a_wait_for_task_token_task_answered_by_send_task_success_completes() -> None:
    """The Lambda's answer to the invoke is only the submission (TaskSubmitted); the task's
    result is what SendTaskSuccess sends (TaskSucceeded)."""
    # GIVEN a task that hands its token to a Lambda and waits for it
    sfn, approver = engine()
    # WHEN the execution starts
    ex = sfn.start(approval_machine(TimeoutSeconds=3600), {"order": "o-1"})
    # THEN it waits after the submission, the token in the Lambda's payload
    assert ex.status == "RUNNING"
    assert approver.events == [{"token": approver.token, "order": "o-1"}]
    assert ex.event_types == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSubmitted",
    ]
    submitted = ex.history[4]
    assert submitted["taskSubmittedEventDetails"]["resource"] == "invoke.waitForTaskToken"
    assert submitted["taskSubmittedEventDetails"]["resourceType"] == "lambda"
    assert json.loads(submitted["taskSubmittedEventDetails"]["output"])["Payload"] == {
        "queued": True
    }
    assert [task.token for task in sfn.pending_tasks(ex)] == [approver.token]
    # WHEN the test answers the token
    sfn.send_task_success(approver.token, {"approved": True})
    # THEN the task's result is the answer, and the execution ends
    assert (ex.status, ex.output) == ("SUCCEEDED", {"approved": True})
    assert ex.event_types[5:] == [
        "TaskSucceeded",
        "TaskStateExited",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]
    succeeded = ex.history[5]
    assert succeeded["previousEventId"] == submitted["id"]
    assert succeeded["taskSucceededEventDetails"] == {
        "output": '{"approved":true}',
        "outputDetails": {"truncated": False},
        "resource": "invoke.waitForTaskToken",
        "resourceType": "lambda",
    }
    assert sfn.pending_tasks() == []


def test_a_wait_for_task_token_task_whose_heartbeat_lapses_times_out() -> None:
    """Recorded on AWS (services.jsonl, test_heartbeat_no_timeout): TaskSubmitted, then
    TaskTimedOut with States.Timeout, then ExecutionFailed with States.Timeout."""
    # GIVEN a callback task with HeartbeatSeconds 5 that nobody answers
    sfn, _ = engine()
    # WHEN it runs to its end
    ex = sfn.run(approval_machine(HeartbeatSeconds=5), {"order": "o-1"})
    # THEN it times out 5 s after it started, as AWS records it
    assert (ex.status, ex.error) == ("FAILED", "States.Timeout")
    assert ex.event_types == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSubmitted",
        "TaskTimedOut",
        "ExecutionFailed",
    ]
    history = ex.history
    assert history[2]["taskScheduledEventDetails"]["heartbeatInSeconds"] == 5
    timed_out = history[5]
    assert timed_out["taskTimedOutEventDetails"] == {
        "error": "States.Timeout",
        "resource": "invoke.waitForTaskToken",
        "resourceType": "lambda",
    }
    assert (timed_out["timestamp"] - history[3]["timestamp"]).total_seconds() == 5
    assert history[6]["executionFailedEventDetails"] == {"error": "States.Timeout"}


def test_heartbeats_keep_a_waiting_task_alive_until_its_timeout() -> None:
    # GIVEN a callback task with a 5 s heartbeat and a 12 s timeout
    sfn, approver = engine()
    ex = sfn.start(approval_machine(HeartbeatSeconds=5, TimeoutSeconds=12), {"order": "o-1"})
    # WHEN a heartbeat comes every 4 s
    for _ in range(2):
        sfn.advance(4)
        sfn.send_task_heartbeat(approver.token)
    # THEN the task still waits at 8 s (past one heartbeat period), and its timeout ends it
    assert ex.status == "RUNNING"
    sfn.advance(4)
    assert (ex.status, ex.error) == ("FAILED", "States.Timeout")
    timed_out = next(e for e in ex.history if e["type"] == "TaskTimedOut")
    assert (timed_out["timestamp"] - ex.start_date).total_seconds() == 12


def test_send_task_failure_fails_the_task_with_its_error_and_cause() -> None:
    # GIVEN a waiting task caught on its error
    sfn, approver = engine()
    definition = approval_machine(
        Catch=[{"ErrorEquals": ["Approval.Refused"], "ResultPath": "$.why", "Next": "Done"}]
    )
    ex = sfn.start(definition, {"order": "o-1"})
    # WHEN the worker refuses it
    sfn.send_task_failure(approver.token, error="Approval.Refused", cause="over budget")
    # THEN TaskFailed carries both, and the catcher receives them
    failed = next(e for e in ex.history if e["type"] == "TaskFailed")
    assert failed["taskFailedEventDetails"]["error"] == "Approval.Refused"
    assert failed["taskFailedEventDetails"]["cause"] == "over budget"
    assert ex.output["why"] == {"Error": "Approval.Refused", "Cause": "over budget"}


def test_a_failure_sent_without_error_or_cause_reaches_the_catcher_as_nulls() -> None:
    """Recorded on AWS (services.jsonl, test_sqs_failure_in_wait_for_task_tok_no_error_field):
    TaskFailed without error or cause, and ``{"Error": null, "Cause": null}`` caught."""
    sfn, approver = engine()
    definition = approval_machine(
        Catch=[{"ErrorEquals": ["States.ALL"], "ResultPath": "$.why", "Next": "Done"}]
    )
    ex = sfn.start(definition, {"order": "o-1"})
    sfn.send_task_failure(approver.token)
    failed = next(e for e in ex.history if e["type"] == "TaskFailed")
    assert failed["taskFailedEventDetails"] == {
        "resource": "invoke.waitForTaskToken",
        "resourceType": "lambda",
    }
    assert ex.output["why"] == {"Error": None, "Cause": None}


def test_a_handler_may_answer_its_own_token_before_the_task_waits() -> None:
    # GIVEN a Lambda that answers the token it is given, within its invocation
    sfn = LocalStepFunctions()

    def answering(event: Any, context: Any) -> Any:
        sfn.send_task_success(event["token"], {"by": "handler"})
        return {"queued": True}

    sfn.register_lambda("approver", answering)
    # WHEN the execution runs
    ex = sfn.run(approval_machine(), {"order": "o-1"})
    # THEN the submission is recorded, then the answer
    assert ex.output == {"by": "handler"}
    assert ex.event_types[4:6] == ["TaskSubmitted", "TaskSucceeded"]


def test_run_says_when_an_execution_still_waits_for_a_callback_nobody_can_send() -> None:
    # GIVEN a callback task with no timeout and nobody to answer it
    sfn, approver = engine()
    # WHEN run() drives it
    with pytest.raises(ExecutionStillWaiting) as raised:
        sfn.run(approval_machine(), {"order": "o-1"}, name="waits")
    # THEN the error names the execution, the state and the token awaited
    message = str(raised.value)
    assert raised.value.execution_arn.endswith(":waits")
    assert "'Approve'" in message and approver.token in message
    # and the execution is still there, answerable
    ex = sfn.describe_execution(raised.value.execution_arn)
    assert ex.status == "RUNNING"
    sfn.send_task_success(approver.token, '"late"')
    assert (ex.status, ex.output) == ("SUCCEEDED", "late")


def test_tokens_that_are_unknown_malformed_or_closed_are_refused_by_name() -> None:
    # GIVEN an execution whose task was answered
    sfn, approver = engine()
    ex = sfn.start(approval_machine(), {"order": "o-1"})
    token = approver.token
    sfn.send_task_success(token, {})
    # WHEN callbacks come for it again, for a token never issued, or for no token at all
    with pytest.raises(TaskTimedOut) as closed:
        sfn.send_task_success(token, {})
    with pytest.raises(TaskDoesNotExist):
        sfn.send_task_heartbeat("0" * 64)
    with pytest.raises(InvalidToken):
        sfn.send_task_failure("not-a-token")
    # THEN each error is AWS's, the closed one naming where the task was
    assert closed.value.code == "TaskTimedOut"
    assert closed.value.execution_arn == ex.arn and closed.value.state_name == "Approve"
    assert "answered" in closed.value.reason


def test_output_that_is_not_json_text_is_refused() -> None:
    sfn, approver = engine()
    sfn.start(approval_machine(), {"order": "o-1"})
    with pytest.raises(InvalidOutput):
        sfn.send_task_success(approver.token, "{not json")
    sfn.send_task_success(approver.token, '"json text"')
    assert sfn.executions[-1].output == "json text"


def test_a_mock_can_submit_a_callback_task_that_the_test_then_answers() -> None:
    # GIVEN an SQS callback task (no local integration) whose submission a mock answers
    sfn = LocalStepFunctions()
    sfn.mock_tasks(lambda call: TaskOutcome.awaiting_callback(submitted={"MessageId": "m-1"}))
    definition = {
        "StartAt": "Send",
        "States": {
            "Send": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token"}},
                "End": True,
            }
        },
    }
    ex = sfn.start(definition, {})
    (pending,) = sfn.pending_tasks(ex)
    assert pending.input == {"QueueUrl": "q", "MessageBody": {"token": pending.token}}
    # WHEN the test answers the token
    sfn.send_task_success(pending.token, {"done": True})
    # THEN the submission is the SQS response, the result the answer
    assert ex.output == {"done": True}
    submitted = ex.history[4]["taskSubmittedEventDetails"]
    assert (submitted["resourceType"], submitted["output"]) == ("sqs", '{"MessageId":"m-1"}')


def test_stop_execution_aborts_a_waiting_execution_and_closes_its_token() -> None:
    # GIVEN an execution waiting for its token
    sfn, approver = engine()
    ex = sfn.start(approval_machine(), {"order": "o-1"})
    # WHEN it is stopped
    sfn.stop_execution(ex.arn, error="Ops.Stop", cause="maintenance")
    # THEN it is ABORTED, its history closed by ExecutionAborted, its token closed
    assert (ex.status, ex.error, ex.cause) == ("ABORTED", "Ops.Stop", "maintenance")
    aborted = ex.history[-1]
    assert aborted["type"] == "ExecutionAborted"
    assert aborted["executionAbortedEventDetails"] == {"error": "Ops.Stop", "cause": "maintenance"}
    with pytest.raises(TaskTimedOut):
        sfn.send_task_success(approver.token, {})


def test_task_tokens_are_the_same_for_the_same_seed() -> None:
    def token(seed: int) -> str:
        sfn = LocalStepFunctions(seed=seed)
        approver = Approver()
        sfn.register_lambda("approver", approver)
        sfn.start(approval_machine(), {"order": "o-1"})
        return approver.token

    assert token(3) == token(3)
    assert token(3) != token(4)
