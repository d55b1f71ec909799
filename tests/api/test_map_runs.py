"""DescribeMapRun, ListMapRuns and UpdateMapRun through the API."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import ROLE

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient


def _map(states: dict[str, Any], **fields: Any) -> str:
    first = next(iter(states))
    return json.dumps(
        {
            "StartAt": "M",
            "States": {
                "M": {
                    "Type": "Map",
                    "ItemsPath": "$.items",
                    "ItemProcessor": {
                        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                        "StartAt": first,
                        "States": states,
                    },
                    "End": True,
                    **fields,
                }
            },
        }
    )


WAIT = {"W": {"Type": "Wait", "Seconds": 60, "End": True}}


def test_a_distributed_map_s_run_is_listed_described_and_updated(client: SFNClient) -> None:
    # GIVEN an execution whose distributed Map runs one child at a time
    arn = client.create_state_machine(
        name="mapper", definition=_map(WAIT, MaxConcurrency=1), roleArn=ROLE
    )["stateMachineArn"]
    execution = client.start_execution(stateMachineArn=arn, input='{"items": [1, 2, 3]}')
    # WHEN its map runs are listed
    (listed,) = client.list_map_runs(executionArn=execution["executionArn"])["mapRuns"]
    # THEN the run is described with its counts, and UpdateMapRun changes its limits
    described = client.describe_map_run(mapRunArn=listed["mapRunArn"])
    assert described["executionArn"] == execution["executionArn"]
    assert described["maxConcurrency"] == 1
    assert described["itemCounts"]["total"] == 3
    client.update_map_run(mapRunArn=listed["mapRunArn"], maxConcurrency=3)
    assert client.describe_map_run(mapRunArn=listed["mapRunArn"])["maxConcurrency"] == 3


def test_an_unknown_map_run_is_resource_not_found(client: SFNClient) -> None:
    arn = "arn:aws:states:us-east-1:123456789012:mapRun:m/M:0f1e2d3c-0000-4000-8000-000000000000"
    with pytest.raises(ClientError) as raised:
        client.describe_map_run(mapRunArn=arn)
    assert raised.value.response["Error"]["Code"] == "ResourceNotFound"


def test_update_map_run_out_of_range_is_a_validation_exception(client: SFNClient) -> None:
    arn = client.create_state_machine(name="m2", definition=_map(WAIT), roleArn=ROLE)[
        "stateMachineArn"
    ]
    execution = client.start_execution(stateMachineArn=arn, input='{"items": [1]}')
    (listed,) = client.list_map_runs(executionArn=execution["executionArn"])["mapRuns"]
    with pytest.raises(ClientError) as raised:
        client.update_map_run(mapRunArn=listed["mapRunArn"], toleratedFailurePercentage=101)
    assert raised.value.response["Error"]["Code"] == "ValidationException"


def test_list_executions_of_a_map_run_lists_its_children(client: SFNClient) -> None:
    arn = client.create_state_machine(
        name="m3", definition=_map({"P": {"Type": "Pass", "End": True}}), roleArn=ROLE
    )["stateMachineArn"]
    execution = client.start_execution(stateMachineArn=arn, input='{"items": [1, 2]}')
    (listed,) = client.list_map_runs(executionArn=execution["executionArn"])["mapRuns"]
    children = client.list_executions(mapRunArn=listed["mapRunArn"])["executions"]
    assert [child["status"] for child in children] == ["SUCCEEDED", "SUCCEEDED"]
    described = client.describe_execution(executionArn=children[0]["executionArn"])
    assert described["status"] == "SUCCEEDED"
