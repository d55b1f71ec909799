"""`stepsaga deploy` against moto's CloudFormation in server mode on 127.0.0.1: it creates the
stack, updates it, and a repeated deploy changes and uploads nothing.

What moto (5.2) does not model, so these tests do not claim it:

- it leaves the `${...}` placeholders of `DefinitionSubstitutions` unsubstituted in the state
  machine's definition (AWS replaces them with the function ARNs; `test_template` checks the
  substitutions match the placeholders one to one);
- it skips `AWS::CloudWatch::Alarm`, `AWS::Logs::MetricFilter`, `AWS::ApiGateway::Authorizer` and
  `AWS::ApiGateway::Stage` with a warning (cfn-lint checks their shape instead);
- it enforces no IAM policy, so least privilege is asserted on the template, not here;
- it reports only the stack's own events (no per-resource ones), so the progress display shows
  two lines per deploy there;
- it keeps a `Number` parameter as a number and then sees a change in a repeated update, which is
  why `deploy_service` compares template and parameters itself before updating.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner
from moto.server import ThreadedMotoServer

from stepsaga.infra.aws.deploy import (
    DeployError,
    StackEvent,
    deploy_service,
    parse_parameters,
)
from stepsaga.infra.cli import cli
from stepsaga.infra.project import load_service

REGION = "us-east-1"
SERVICE = load_service("stepsaga.examples.orders")
PARAMETERS = {
    "AlarmTopicArn": "arn:aws:sns:us-east-1:123456789012:operators",
    "MailFrom": "orders@example.com",
    "MailIdentity": "example.com",
    "UserPoolArn": "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_Abc",
}


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def client(endpoint: str, name: str) -> Any:
    return boto3.client(name, endpoint_url=endpoint, region_name=REGION)


def deploy(endpoint: str, stack: str, tmp: Path, **parameters: str) -> Any:
    events: list[StackEvent] = []
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # moto's "not supported" warnings, listed above
        result = deploy_service(
            SERVICE,
            stack=stack,
            cloudformation=client(endpoint, "cloudformation"),
            s3=client(endpoint, "s3"),
            region=REGION,
            bucket="stepsaga-code",
            parameters=parameters,
            out=tmp,
            on_event=events.append,
            poll_seconds=0.1,
        )
    return result, events, time.perf_counter() - started


def test_deploy_creates_then_updates_then_changes_nothing(endpoint: str, tmp_path: Path) -> None:
    created, create_events, create_seconds = deploy(endpoint, "orders", tmp_path, **PARAMETERS)

    assert (created.status, created.changed, created.uploaded) == ("CREATE_COMPLETE", True, True)
    assert create_events, "the progress display saw no event"
    assert create_events[-1].resource == "orders"
    assert create_events[-1].status == "CREATE_COMPLETE"
    machine_arn = created.outputs["PlaceOrderStateMachineArn"]
    assert created.state_machines == {"PlaceOrderStateMachine": machine_arn}
    assert machine_arn.endswith(":stateMachine:orders-PlaceOrder")
    assert created.api_url.startswith("https://") and created.api_url.endswith("/v1/")

    # What the stack made, read back through the services' own APIs.
    machine = client(endpoint, "stepfunctions").describe_state_machine(stateMachineArn=machine_arn)
    assert "${ReserveStockFunctionArn}" in machine["definition"]  # moto does not substitute
    functions = client(endpoint, "lambda").list_functions()["Functions"]
    handlers = {f["Handler"].rpartition(".")[2]: f for f in functions}
    assert set(handlers) == {*SERVICE.saga("PlaceOrder").handlers(), "Trigger"}
    assert {f["Runtime"] for f in functions} == {"python3.12"}
    table = client(endpoint, "dynamodb").describe_table(
        TableName=created.outputs["EventStoreTableName"]
    )["Table"]
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    code = client(endpoint, "s3").list_objects_v2(Bucket="stepsaga-code")["Contents"]
    assert [o["Key"] for o in code] == [created.bundle.key]

    updated, update_events, update_seconds = deploy(
        endpoint, "orders", tmp_path, LogRetentionDays="14"
    )
    assert (updated.status, updated.changed, updated.uploaded) == ("UPDATE_COMPLETE", True, False)
    assert updated.stack_id == created.stack_id
    assert update_events[-1].status == "UPDATE_COMPLETE"
    stack = client(endpoint, "cloudformation").describe_stacks(StackName="orders")["Stacks"][0]
    values = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    # The update kept every value it was not given.
    assert values["LogRetentionDays"] == "14"
    assert values["MailFrom"] == PARAMETERS["MailFrom"]

    history = client(endpoint, "cloudformation").describe_stack_events(StackName="orders")
    again, again_events, again_seconds = deploy(endpoint, "orders", tmp_path)
    assert (again.changed, again.uploaded, again_events) == (False, False, [])
    assert again.outputs == updated.outputs
    after = client(endpoint, "cloudformation").describe_stack_events(StackName="orders")
    assert len(after["StackEvents"]) == len(history["StackEvents"])
    print(
        f"\ncreate {create_seconds:.1f} s ({len(create_events)} events), "
        f"update {update_seconds:.1f} s ({len(update_events)} events), "
        f"unchanged {again_seconds:.1f} s"
    )


def test_a_missing_or_unknown_parameter_is_named_before_anything_is_created(
    endpoint: str, tmp_path: Path
) -> None:
    given = dict(PARAMETERS)
    del given["UserPoolArn"]
    with pytest.raises(DeployError, match="UserPoolArn"):
        deploy(endpoint, "no-pool", tmp_path, **given)
    with pytest.raises(DeployError, match=r"no parameter 'MailFromm'.*MailFrom"):
        deploy(endpoint, "typo", tmp_path, **PARAMETERS, MailFromm="x")
    stacks = client(endpoint, "cloudformation").list_stacks()["StackSummaries"]
    assert {s["StackName"] for s in stacks} & {"no-pool", "typo"} == set()


def test_parameters_are_key_value_pairs_each_given_once() -> None:
    assert parse_parameters(["A=1", "B=x=y", "C="]) == {"A": "1", "B": "x=y", "C": ""}
    with pytest.raises(DeployError, match="KEY=VALUE"):
        parse_parameters(["A"])
    with pytest.raises(DeployError, match="given twice"):
        parse_parameters(["A=1", "A=2"])


def test_the_deploy_command_prints_the_api_url_and_state_machine_arns(
    endpoint: str, tmp_path: Path
) -> None:
    arguments = [
        "deploy",
        "--stack",
        "orders-cli",
        "--endpoint-url",
        endpoint,
        "--region",
        REGION,
        "--out",
        str(tmp_path),
        *(f"--parameter={k}={v}" for k, v in PARAMETERS.items()),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = CliRunner().invoke(cli, arguments)
        second = CliRunner().invoke(cli, arguments)
    assert first.exit_code == 0, first.output
    assert "CREATE_COMPLETE" in first.output
    assert "API URL: https://" in first.output
    assert "PlaceOrderStateMachine: arn:aws:states:us-east-1:" in first.output
    assert second.exit_code == 0, second.output
    assert "no changes" in second.output
    assert "already uploaded" in second.output
