"""Activities through the boto3 client: create, describe, list, delete, and their workers."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import error_code

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

ACTIVITY_ARN = "arn:aws:states:us-east-1:123456789012:activity:review"


def test_a_created_activity_is_described_and_listed(client: SFNClient) -> None:
    created = client.create_activity(name="review")
    assert created["activityArn"] == ACTIVITY_ARN
    described = client.describe_activity(activityArn=ACTIVITY_ARN)
    assert described["name"] == "review"
    assert described["creationDate"] == created["creationDate"]
    client.create_activity(name="audit")
    listed = client.list_activities()["activities"]
    assert [activity["name"] for activity in listed] == ["audit", "review"]


def test_creating_an_activity_again_returns_it(client: SFNClient) -> None:
    first = client.create_activity(name="review")
    again = client.create_activity(name="review", tags=[{"key": "ignored", "value": "yes"}])
    assert again == {**first, "ResponseMetadata": again["ResponseMetadata"]}
    assert client.list_tags_for_resource(resourceArn=ACTIVITY_ARN)["tags"] == []


def test_activities_are_listed_a_page_at_a_time(client: SFNClient) -> None:
    for name in ("c", "a", "b"):
        client.create_activity(name=name)
    first = client.list_activities(maxResults=2)
    second = client.list_activities(maxResults=2, nextToken=first["nextToken"])
    names = [a["name"] for a in first["activities"] + second["activities"]]
    assert names == ["a", "b", "c"]


def test_an_activity_name_with_a_forbidden_character_is_invalid_name(client: SFNClient) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.create_activity(name="re:view")
    assert error_code(excinfo) == "InvalidName"


def test_describing_an_unknown_activity_is_activity_does_not_exist(client: SFNClient) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.describe_activity(activityArn=ACTIVITY_ARN)
    assert error_code(excinfo) == "ActivityDoesNotExist"


def test_an_activity_is_named_by_an_activity_arn(client: SFNClient) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.describe_activity(
            activityArn="arn:aws:states:us-east-1:123456789012:stateMachine:review"
        )
    assert error_code(excinfo) == "InvalidArn"


def test_a_deleted_activity_is_gone_and_deleting_an_unknown_one_succeeds(
    client: SFNClient,
) -> None:
    client.create_activity(name="review")
    client.delete_activity(activityArn=ACTIVITY_ARN)
    assert client.list_activities()["activities"] == []
    client.delete_activity(activityArn=ACTIVITY_ARN)  # AWS answers this without an error


def test_a_worker_takes_the_task_and_answers_it(
    client: SFNClient, machine: Callable[..., str]
) -> None:
    client.create_activity(name="review")
    definition = {
        "StartAt": "Review",
        "States": {"Review": {"Type": "Task", "Resource": ACTIVITY_ARN, "End": True}},
    }
    arn = machine(definition, name="Reviewed")
    assert client.get_activity_task(activityArn=ACTIVITY_ARN).get("taskToken") is None
    execution = client.start_execution(stateMachineArn=arn, input='{"doc": 7}')["executionArn"]
    task = client.get_activity_task(activityArn=ACTIVITY_ARN, workerName="w1")
    assert json.loads(task["input"]) == {"doc": 7}
    client.send_task_success(taskToken=task["taskToken"], output='{"ok": true}')
    described = client.describe_execution(executionArn=execution)
    assert (described["status"], json.loads(described["output"])) == ("SUCCEEDED", {"ok": True})
    events = client.get_execution_history(executionArn=execution)["events"]
    started = next(event for event in events if event["type"] == "ActivityStarted")
    assert started["activityStartedEventDetails"] == {"workerName": "w1"}


def test_polling_an_unknown_activity_is_activity_does_not_exist(client: SFNClient) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.get_activity_task(activityArn=ACTIVITY_ARN)
    assert error_code(excinfo) == "ActivityDoesNotExist"
