"""DynamoDB: the optimised getItem / putItem / updateItem / deleteItem and aws-sdk:dynamodb."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from stepsaga.infra.local.stepfunctions import LocalStepFunctions
from tests.integrations.conftest import task


@pytest.fixture
def table(client: Callable[[str], Any], unique: Callable[[str], str]) -> str:
    name = unique("orders")
    client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def test_put_item_then_get_item_return_dynamodb_s_typed_attributes(
    sfn: LocalStepFunctions, table: str
) -> None:
    # GIVEN a machine that puts an item then reads it back
    definition = {
        "StartAt": "Put",
        "States": {
            "Put": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:putItem",
                "Parameters": {
                    "TableName": table,
                    "Item": {"pk": {"S.$": "$.id"}, "total": {"N": "42"}},
                },
                "ResultPath": "$.put",
                "Next": "Get",
            },
            "Get": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:getItem",
                "Parameters": {"TableName": table, "Key": {"pk": {"S.$": "$.id"}}},
                "End": True,
            },
        },
    }
    # WHEN it runs
    ex = sfn.run(definition, {"id": "o-1"})
    # THEN the item comes back as DynamoDB types it, with the Java SDK's metadata
    assert ex.status == "SUCCEEDED", ex.cause
    assert ex.output["Item"] == {"pk": {"S": "o-1"}, "total": {"N": "42"}}
    assert ex.output["SdkHttpMetadata"]["HttpStatusCode"] == 200
    assert set(ex.output["SdkResponseMetadata"]) == {"RequestId"}
    assert ex.event_types[1:4] == ["TaskStateEntered", "TaskScheduled", "TaskStarted"]


def test_put_item_whose_condition_fails_is_caught_by_its_error_name(
    sfn: LocalStepFunctions, table: str, client: Callable[[str], Any]
) -> None:
    # GIVEN an item already there, and a put that must not overwrite it
    client("dynamodb").put_item(TableName=table, Item={"pk": {"S": "o-1"}})
    put = task(
        "arn:aws:states:::dynamodb:putItem",
        {
            "TableName": table,
            "Item": {"pk": {"S": "o-1"}},
            "ConditionExpression": "attribute_not_exists(pk)",
        },
        Catch=[
            {
                "ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"],
                "ResultPath": "$.error",
                "Next": "Exists",
            }
        ],
    )
    put["States"]["Exists"] = {"Type": "Pass", "End": True}
    # WHEN it runs
    ex = sfn.run(put, {})
    # THEN the Catch on AWS's error name takes it, with the Java SDK's cause
    assert ex.status == "SUCCEEDED", ex.cause
    assert ex.output["error"]["Error"] == "DynamoDB.ConditionalCheckFailedException"
    cause = ex.output["error"]["Cause"]
    assert "(Service: AmazonDynamoDBv2; Status Code: 400; " in cause
    assert "Error Code: ConditionalCheckFailedException" in cause


def test_aws_sdk_put_item_whose_condition_fails_names_the_error_dynamodb_sdk_style(
    sfn: LocalStepFunctions, table: str, client: Callable[[str], Any]
) -> None:
    client("dynamodb").put_item(TableName=table, Item={"pk": {"S": "o-2"}})
    ex = sfn.run(
        task(
            "arn:aws:states:::aws-sdk:dynamodb:putItem",
            {
                "TableName": table,
                "Item": {"pk": {"S": "o-2"}},
                "ConditionExpression": "attribute_not_exists(pk)",
            },
        ),
        {},
    )
    assert ex.status == "FAILED"
    assert ex.error == "DynamoDb.ConditionalCheckFailedException"
    assert ex.cause is not None and "(Service: DynamoDb, Status Code: 400, Request ID: " in ex.cause


def test_update_item_and_delete_item_change_the_table(
    sfn: LocalStepFunctions, table: str, client: Callable[[str], Any]
) -> None:
    dynamodb = client("dynamodb")
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "a"}, "n": {"N": "1"}})
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "b"}})
    update = task(
        "arn:aws:states:::dynamodb:updateItem",
        {
            "TableName": table,
            "Key": {"pk": {"S": "a"}},
            "UpdateExpression": "SET n = n + :one",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
            "ReturnValues": "ALL_NEW",
        },
    )
    updated = sfn.run(update, {})
    assert updated.status == "SUCCEEDED", updated.cause
    assert updated.output["Attributes"] == {"pk": {"S": "a"}, "n": {"N": "2"}}
    deleted = sfn.run(
        task(
            "arn:aws:states:::dynamodb:deleteItem", {"TableName": table, "Key": {"pk": {"S": "b"}}}
        ),
        {},
    )
    assert deleted.status == "SUCCEEDED", deleted.cause
    assert "Item" not in dynamodb.get_item(TableName=table, Key={"pk": {"S": "b"}})


def test_a_missing_table_fails_with_resource_not_found(sfn: LocalStepFunctions) -> None:
    ex = sfn.run(
        task("arn:aws:states:::dynamodb:getItem", {"TableName": "nope", "Key": {"pk": {"S": "x"}}}),
        {},
    )
    assert ex.status == "FAILED"
    assert ex.error == "DynamoDB.ResourceNotFoundException"


def test_wait_for_task_token_through_aws_sdk_put_item_is_answered_from_the_item(
    sfn: LocalStepFunctions, table: str, client: Callable[[str], Any]
) -> None:
    # GIVEN a machine that stores its task token in an item and waits (the optimised
    # DynamoDB integration is request-response only; aws-sdk's waits for a callback)
    ex = sfn.start(
        task(
            "arn:aws:states:::aws-sdk:dynamodb:putItem.waitForTaskToken",
            {"TableName": table, "Item": {"pk": {"S": "job"}, "token": {"S.$": "$$.Task.Token"}}},
        ),
        {},
    )
    # WHEN a worker reads the item and answers with its token
    item = client("dynamodb").get_item(TableName=table, Key={"pk": {"S": "job"}})["Item"]
    sfn.send_task_success(item["token"]["S"], {"done": True})
    # THEN the execution ends with the worker's answer
    ex = sfn.wait(ex)
    assert (ex.status, ex.output) == ("SUCCEEDED", {"done": True})
