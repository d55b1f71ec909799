"""`stepsaga local --backend stepfunctions-local`: options the container cannot honour are
refused naming them, and without Docker it says so instead of failing with a traceback."""

from __future__ import annotations

import signal

import click
import pytest

from stepsaga.infra.cli._stepfunctions_local import serve_on_stepfunctions_local
from stepsaga.infra.local.stepfunctions_local import docker_available
from stepsaga.infra.project import load_service

SERVICE = load_service("stepsaga.examples.orders")


def test_another_port_or_lambda_endpoint_is_refused_naming_the_option() -> None:
    with pytest.raises(click.UsageError, match="--port 9000"):
        serve_on_stepfunctions_local(
            SERVICE, port=9000, mock_config=None, wait_time_scale=1.0, lambda_endpoint=None
        )
    with pytest.raises(click.UsageError, match="--lambda-endpoint"):
        serve_on_stepfunctions_local(
            SERVICE,
            port=8083,
            mock_config=None,
            wait_time_scale=1.0,
            lambda_endpoint="http://127.0.0.1:1",
        )


def test_without_docker_it_says_it_needs_docker() -> None:
    reason = docker_available()
    if reason is None:
        pytest.skip("a Docker engine answers here")
    with pytest.raises(click.ClickException, match="needs Docker"):
        serve_on_stepfunctions_local(
            SERVICE, port=8083, mock_config=None, wait_time_scale=1.0, lambda_endpoint=None
        )


def test_the_local_command_offers_the_backend_and_says_when_docker_is_missing() -> None:
    from click.testing import CliRunner

    from stepsaga.infra.cli import cli

    shown = CliRunner().invoke(cli, ["local", "--help"])
    assert "--backend [embedded|stepfunctions-local]" in shown.output
    reason = docker_available()
    if reason is None:
        pytest.skip("a Docker engine answers here")
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    result = CliRunner().invoke(cli, ["local", "--backend", "stepfunctions-local"])
    assert result.exit_code == 1
    assert "needs Docker" in result.output
    assert "Traceback" not in result.output
    # A start that failed leaves this process's signal handling as it was.
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before
