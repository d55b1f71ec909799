"""The Step Functions Local container's configuration, checked without Docker; starting it
without a Docker engine fails saying so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stepsaga.infra.local.stepfunctions_local import (
    IMAGE,
    MOCK_CONFIG_PATH,
    PORT,
    DockerUnavailable,
    StepFunctionsLocal,
    container_config,
    docker_available,
)


def test_the_container_calls_the_local_lambda_endpoint_on_the_hosts_network() -> None:
    config = container_config(lambda_endpoint="http://127.0.0.1:4567")
    assert config.image == IMAGE == "amazon/aws-stepfunctions-local:latest"
    assert dict(config.environment) == {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCOUNT_ID": "123456789012",
        "LAMBDA_ENDPOINT": "http://127.0.0.1:4567",
    }
    # On the host's network, 127.0.0.1 inside is this machine's loopback.
    assert config.network_mode == "host"
    assert config.endpoint_url == f"http://127.0.0.1:{PORT}" == "http://127.0.0.1:8083"
    assert config.volumes == ()


def test_a_mock_config_file_is_mounted_read_only_and_named(tmp_path: Path) -> None:
    mocks = tmp_path / "mocks.json"
    mocks.write_text(json.dumps({"StateMachines": {}, "MockedResponses": {}}))
    config = container_config(
        lambda_endpoint="http://127.0.0.1:1", mock_config=mocks, wait_time_scale=0.01
    )
    assert config.volumes == ((str(mocks.resolve()), MOCK_CONFIG_PATH, "ro"),)
    assert config.environment["SFN_MOCK_CONFIG"] == MOCK_CONFIG_PATH
    assert config.environment["WAIT_TIME_SCALE"] == "0.01"


def test_a_missing_mock_config_or_a_bad_endpoint_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="mock_config"):
        container_config(lambda_endpoint="http://127.0.0.1:1", mock_config=tmp_path / "none.json")
    with pytest.raises(ValueError, match="lambda_endpoint"):
        container_config(lambda_endpoint="127.0.0.1:1")


def test_starting_without_a_docker_engine_says_why() -> None:
    reason = docker_available()
    if reason is None:
        pytest.skip("a Docker engine answers here")
    with pytest.raises(DockerUnavailable, match="Docker"):
        StepFunctionsLocal(container_config(lambda_endpoint="http://127.0.0.1:1")).start()
