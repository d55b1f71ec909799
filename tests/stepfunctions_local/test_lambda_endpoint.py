"""The local Lambda Invoke endpoint answers as Lambda does, to boto3's own `lambda` client."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from stepsaga.infra.local.stepfunctions_local import LambdaEndpoint, function_name


class Declined(Exception):
    pass


def echo(event: Any, context: Any) -> Any:
    return {"got": event, "function": context.function_name, "version": context.function_version}


def refuse(event: Any, context: Any) -> Any:
    raise Declined("card declined")


def unserialisable(event: Any, context: Any) -> Any:
    return {"when": object()}


@pytest.fixture
def endpoint() -> Iterator[LambdaEndpoint]:
    with LambdaEndpoint(
        {"Echo": echo, "Refuse": refuse, "Unserialisable": unserialisable}
    ) as served:
        yield served


@pytest.fixture
def client(endpoint: LambdaEndpoint) -> Any:
    return boto3.client(
        "lambda",
        endpoint_url=endpoint.url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )


def test_it_listens_on_loopback_only(endpoint: LambdaEndpoint) -> None:
    assert endpoint.url == f"http://127.0.0.1:{endpoint.port}"


def test_a_handlers_result_is_the_invocations_payload(client: Any) -> None:
    answer = client.invoke(FunctionName="Echo", Payload=json.dumps({"a": 1}).encode())
    assert answer["StatusCode"] == 200
    assert "FunctionError" not in answer
    assert answer["ExecutedVersion"] == "$LATEST"
    assert json.loads(answer["Payload"].read()) == {
        "got": {"a": 1},
        "function": "Echo",
        "version": "$LATEST",
    }


def test_a_function_arn_with_a_qualifier_reaches_the_named_handler(client: Any) -> None:
    arn = "arn:aws:lambda:us-east-1:123456789012:function:Echo"
    answer = client.invoke(FunctionName=arn, Qualifier="live", Payload=b"{}")
    assert json.loads(answer["Payload"].read())["version"] == "live"
    assert function_name(arn + ":7") == ("Echo", "7")
    assert function_name("Echo:live") == ("Echo", "live")
    assert function_name("Echo") == ("Echo", None)


def test_a_raising_handler_is_a_function_error_named_after_the_exception(client: Any) -> None:
    answer = client.invoke(FunctionName="Refuse", Payload=b"{}")
    assert answer["StatusCode"] == 200
    assert answer["FunctionError"] == "Unhandled"
    body = json.loads(answer["Payload"].read())
    assert body["errorType"] == "Declined"
    assert body["errorMessage"] == "card declined"
    assert any("refuse" in line for line in body["stackTrace"])


def test_a_result_lambda_could_not_serialise_is_a_function_error(client: Any) -> None:
    answer = client.invoke(FunctionName="Unserialisable", Payload=b"{}")
    assert answer["FunctionError"] == "Unhandled"
    assert json.loads(answer["Payload"].read())["errorType"] == "TypeError"


def test_an_unknown_function_is_resource_not_found(client: Any) -> None:
    with pytest.raises(ClientError) as raised:
        client.invoke(FunctionName="Nope", Payload=b"{}")
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert "function:Nope" in raised.value.response["Error"]["Message"]


def test_event_and_dry_run_invocations_answer_as_lambda_does(
    client: Any, endpoint: LambdaEndpoint
) -> None:
    event = client.invoke(FunctionName="Echo", InvocationType="Event", Payload=b'{"n": 1}')
    assert event["StatusCode"] == 202
    dry = client.invoke(FunctionName="Echo", InvocationType="DryRun", Payload=b"{}")
    assert dry["StatusCode"] == 204
    deadline = time.monotonic() + 5
    while ("Echo", {"n": 1}) not in endpoint.invocations and time.monotonic() < deadline:
        time.sleep(0.01)
    assert ("Echo", {"n": 1}) in endpoint.invocations  # the Event ran, in the background
    assert all(event != {} for _, event in endpoint.invocations)  # the dry run did not


def test_a_body_that_is_not_json_is_refused(endpoint: LambdaEndpoint) -> None:
    request = urllib.request.Request(
        endpoint.url + "/2015-03-31/functions/Echo/invocations", data=b"{oops", method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=5)
    assert raised.value.code == 400
    assert raised.value.headers["x-amzn-ErrorType"] == "InvalidRequestContentException"
