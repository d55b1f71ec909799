"""S3 through aws-sdk:s3 (Step Functions has no optimised S3 integration)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from stepsaga.infra.local.stepfunctions import LocalStepFunctions
from tests.integrations.conftest import task


def test_put_object_then_get_object_round_trips_a_json_body(
    sfn: LocalStepFunctions, client: Callable[[str], Any], unique: Callable[[str], str]
) -> None:
    # GIVEN a bucket, and a machine that writes an object then reads it
    bucket = unique("reports")
    client("s3").create_bucket(Bucket=bucket)
    definition = {
        "StartAt": "Put",
        "States": {
            "Put": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:s3:putObject",
                "Parameters": {"Bucket": bucket, "Key": "r.json", "Body.$": "$.report"},
                "ResultPath": "$.put",
                "Next": "Get",
            },
            "Get": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
                "Parameters": {"Bucket": bucket, "Key": "r.json"},
                "End": True,
            },
        },
    }
    # WHEN it runs with an object as the Body
    ex = sfn.run(definition, {"report": {"total": 3}})
    # THEN S3 stored its JSON text, and the result is in AWS's casing, Body as text
    assert ex.status == "SUCCEEDED", ex.cause
    stored = client("s3").get_object(Bucket=bucket, Key="r.json")["Body"].read()
    assert json.loads(stored) == {"total": 3}
    assert json.loads(ex.output["Body"]) == {"total": 3}
    assert isinstance(ex.output["LastModified"], str)  # ISO-8601 text, not a datetime
    assert "ETag" in ex.output and "ResponseMetadata" not in ex.output


def test_a_missing_key_fails_as_s3_no_such_key_exception(
    sfn: LocalStepFunctions, client: Callable[[str], Any], unique: Callable[[str], str]
) -> None:
    bucket = unique("empty")
    client("s3").create_bucket(Bucket=bucket)
    ex = sfn.run(
        task("arn:aws:states:::aws-sdk:s3:getObject", {"Bucket": bucket, "Key": "none"}), {}
    )
    assert ex.status == "FAILED"
    assert ex.error == "S3.NoSuchKeyException"
    assert ex.cause is not None and "(Service: S3, Status Code: 404, Request ID: " in ex.cause


def test_list_objects_v2_answers_in_pascal_case(
    sfn: LocalStepFunctions, client: Callable[[str], Any], unique: Callable[[str], str]
) -> None:
    bucket = unique("listed")
    s3 = client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="a", Body=b"1")
    ex = sfn.run(task("arn:aws:states:::aws-sdk:s3:listObjectsV2", {"Bucket": bucket}), {})
    assert ex.status == "SUCCEEDED", ex.cause
    assert [entry["Key"] for entry in ex.output["Contents"]] == ["a"]
    assert ex.output["KeyCount"] == 1


def test_an_unknown_parameter_fails_naming_it(
    sfn: LocalStepFunctions, client: Callable[[str], Any], unique: Callable[[str], str]
) -> None:
    ex = sfn.run(
        task("arn:aws:states:::aws-sdk:s3:getObject", {"Bucket": "b", "Key": "k", "Nope": 1}),
        {},
    )
    assert ex.status == "FAILED"
    assert ex.cause is not None and "Nope" in ex.cause


def test_wait_for_task_token_through_put_object_is_answered_from_the_object(
    sfn: LocalStepFunctions, client: Callable[[str], Any], unique: Callable[[str], str]
) -> None:
    # GIVEN a machine that writes its token into an object and waits
    bucket = unique("handoff")
    s3 = client("s3")
    s3.create_bucket(Bucket=bucket)
    ex = sfn.start(
        task(
            "arn:aws:states:::aws-sdk:s3:putObject.waitForTaskToken",
            {"Bucket": bucket, "Key": "job.json", "Body": {"token.$": "$$.Task.Token"}},
        ),
        {},
    )
    # WHEN a worker reads the object and fails the task with its token
    body = json.loads(s3.get_object(Bucket=bucket, Key="job.json")["Body"].read())
    sfn.send_task_failure(body["token"], error="Job.Rejected", cause="too big")
    # THEN the execution fails with the worker's error
    ex = sfn.wait(ex)
    assert (ex.status, ex.error, ex.cause) == ("FAILED", "Job.Rejected", "too big")
