"""TagResource, UntagResource and ListTagsForResource, on state machines and activities."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import error_code

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient


def test_tags_given_at_creation_are_listed_then_added_to_and_removed(
    client: SFNClient, machine: Callable[..., str]
) -> None:
    arn = machine(tags=[{"key": "team", "value": "orders"}])
    client.tag_resource(resourceArn=arn, tags=[{"key": "env", "value": "test"}])
    client.tag_resource(resourceArn=arn, tags=[{"key": "team", "value": "payments"}])
    listed = client.list_tags_for_resource(resourceArn=arn)["tags"]
    assert listed == [{"key": "team", "value": "payments"}, {"key": "env", "value": "test"}]
    client.untag_resource(resourceArn=arn, tagKeys=["team", "absent"])
    assert client.list_tags_for_resource(resourceArn=arn)["tags"] == [
        {"key": "env", "value": "test"}
    ]


def test_an_activity_carries_tags_too(client: SFNClient) -> None:
    arn = client.create_activity(name="review", tags=[{"key": "k", "value": "v"}])["activityArn"]
    assert client.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "k", "value": "v"}]


def test_tagging_an_unknown_resource_is_resource_not_found(client: SFNClient) -> None:
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:Nobody"
    with pytest.raises(ClientError) as excinfo:
        client.tag_resource(resourceArn=arn, tags=[{"key": "k", "value": "v"}])
    assert error_code(excinfo) == "ResourceNotFound"


def test_an_execution_takes_no_tags(client: SFNClient) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.list_tags_for_resource(
            resourceArn="arn:aws:states:us-east-1:123456789012:execution:M:e"
        )
    assert error_code(excinfo) == "InvalidArn"


def test_more_tags_than_aws_allows_is_too_many_tags(
    client: SFNClient, machine: Callable[..., str]
) -> None:
    arn = machine(tags=[{"key": f"k{i}", "value": ""} for i in range(50)])
    with pytest.raises(ClientError) as excinfo:
        client.tag_resource(resourceArn=arn, tags=[{"key": "one-more", "value": ""}])
    assert error_code(excinfo) == "TooManyTags"
    assert excinfo.value.response["resourceName"] == arn  # type: ignore[typeddict-item]
