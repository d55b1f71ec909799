"""The in-process boto3 client: no socket, no AWS configuration, and not moto's."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest

from stepsaga.infra.local.stepfunctions import LocalStepFunctions
from tests.api.conftest import PASS, ROLE


def _run_one(engine: LocalStepFunctions) -> str:
    client = engine.client()
    arn = client.create_state_machine(name="M", definition=json.dumps(PASS), roleArn=ROLE)[
        "stateMachineArn"
    ]
    execution = client.start_execution(stateMachineArn=arn)["executionArn"]
    status: str = client.describe_execution(executionArn=execution)["status"]
    return status


def test_the_client_opens_no_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the in-process client tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    assert _run_one(LocalStepFunctions()) == "SUCCEEDED"


def test_the_client_needs_no_aws_configuration(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "missing-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "missing-credentials"))
    assert _run_one(LocalStepFunctions()) == "SUCCEEDED"


def test_inside_moto_the_client_still_reaches_the_engine() -> None:
    from moto import mock_aws

    engine = LocalStepFunctions()
    with mock_aws():
        assert _run_one(engine) == "SUCCEEDED"
    assert [execution.status for execution in engine.executions] == ["SUCCEEDED"]


def test_every_client_of_one_engine_sees_the_same_machines() -> None:
    engine = LocalStepFunctions()
    engine.client().create_state_machine(name="M", definition=json.dumps(PASS), roleArn=ROLE)
    names = [m["name"] for m in engine.client().list_state_machines()["stateMachines"]]
    assert names == ["M"]
    assert LocalStepFunctions().client().list_state_machines()["stateMachines"] == []


def test_the_client_is_in_the_engine_s_region() -> None:
    client = LocalStepFunctions(region="eu-west-1", account_id="210987654321").client()
    arn = client.create_activity(name="a")["activityArn"]
    assert arn == "arn:aws:states:eu-west-1:210987654321:activity:a"
    assert client.meta.region_name == "eu-west-1"
