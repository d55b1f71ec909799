"""aws-sdk:<service>:<action>: any service boto3 knows, in AWS's casing and error names."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from stepsaga.infra.local.stepfunctions import LocalStepFunctions
from tests.integrations.conftest import task


def test_secrets_manager_round_trip_in_pascal_case(
    sfn: LocalStepFunctions, unique: Callable[[str], str]
) -> None:
    name = unique("db-password")
    definition = {
        "StartAt": "Create",
        "States": {
            "Create": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:secretsmanager:createSecret",
                "Parameters": {"Name": name, "SecretString": "hunter2"},
                "ResultPath": None,
                "Next": "Read",
            },
            "Read": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:secretsmanager:getSecretValue",
                "Parameters": {"SecretId": name},
                "End": True,
            },
        },
    }
    ex = sfn.run(definition, {})
    assert ex.status == "SUCCEEDED", ex.cause
    assert (ex.output["Name"], ex.output["SecretString"]) == (name, "hunter2")
    assert isinstance(ex.output["CreatedDate"], str)


def test_a_missing_secret_is_named_secrets_manager_resource_not_found(
    sfn: LocalStepFunctions,
) -> None:
    ex = sfn.run(
        task("arn:aws:states:::aws-sdk:secretsmanager:getSecretValue", {"SecretId": "absent"}),
        {},
    )
    assert (ex.status, ex.error) == ("FAILED", "SecretsManager.ResourceNotFoundException")


def test_aws_sdk_sqs_send_message_wait_for_task_token(
    sfn: LocalStepFunctions, client: Callable[[str], Any], unique: Callable[[str], str]
) -> None:
    sqs = client("sqs")
    url = sqs.create_queue(QueueName=unique("sdk-work"))["QueueUrl"]
    ex = sfn.start(
        task(
            "arn:aws:states:::aws-sdk:sqs:sendMessage.waitForTaskToken",
            {"QueueUrl": url, "MessageBody.$": "States.JsonToString($$.Task)"},
        ),
        {},
    )
    (message,) = sqs.receive_message(QueueUrl=url)["Messages"]
    sfn.send_task_success(json.loads(message["Body"])["Token"], {"ok": 1})
    assert sfn.wait(ex).output == {"ok": 1}


def test_an_unknown_service_or_action_fails_naming_it(sfn: LocalStepFunctions) -> None:
    service = sfn.run(task("arn:aws:states:::aws-sdk:nosuchservice:doIt", {}), {})
    assert service.status == "FAILED"
    assert service.cause is not None and "nosuchservice" in service.cause
    action = sfn.run(task("arn:aws:states:::aws-sdk:sqs:doSomethingOdd", {}), {})
    assert action.status == "FAILED"
    assert action.cause is not None and "doSomethingOdd" in action.cause


def test_aws_sdk_sfn_start_execution_starts_a_machine_on_this_engine(
    sfn: LocalStepFunctions,
) -> None:
    child = sfn.create_state_machine(
        "sdk-child", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    )
    ex = sfn.run(
        task(
            "arn:aws:states:::aws-sdk:sfn:startExecution",
            {"StateMachineArn": child.arn, "Input": {"a": 1}},
        ),
        {},
    )
    assert ex.status == "SUCCEEDED", ex.cause
    started = sfn.describe_execution(ex.output["ExecutionArn"])
    assert started.input == {"a": 1}
    assert isinstance(ex.output["StartDate"], str)
