"""The AWS CLI against `stepsaga local`: create, start, callback, describe, history.

The AWS CLI is not a dependency of stepsaga's dev extra: `pip install awscli` (v1) adds 155 MB,
most of it a botocore of its own that it vendors (the project's whole dev environment is about
260 MB), so this test runs where an `aws` command is installed (beside this interpreter or on
PATH, v1 or v2) and is skipped, saying so, elsewhere.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stepsaga.infra.local.service import local_endpoint
from stepsaga.infra.local.stepfunctions.api import StepFunctionsServer
from tests.api.conftest import ROLE, WAITING


def _aws() -> str | None:
    beside = Path(sys.executable).parent / "aws"
    return str(beside) if beside.exists() else shutil.which("aws")


AWS = _aws()
pytestmark = pytest.mark.skipif(
    AWS is None,
    reason="no AWS CLI installed (pip install awscli: 155 MB, not in the dev extra)",
)


@pytest.fixture
def server() -> Iterator[StepFunctionsServer]:
    endpoint = local_endpoint(port=0).start()
    yield endpoint
    endpoint.stop()
    endpoint.api.engine.close()


def _run(
    server: StepFunctionsServer, tmp_path: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    assert AWS is not None
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        # No profile of this machine's reaches the test.
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
    }
    env.pop("AWS_PROFILE", None)
    return subprocess.run(
        [AWS, "stepfunctions", *args, "--endpoint-url", server.url, "--output", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def _cli(server: StepFunctionsServer, tmp_path: Path, *args: str) -> Any:
    done = _run(server, tmp_path, *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else None


def test_the_aws_cli_drives_a_callback_execution(
    server: StepFunctionsServer, tmp_path: Path
) -> None:
    tokens: list[str] = []
    server.api.engine.register_lambda("ask", lambda event, context: tokens.append(event["token"]))
    machine = _cli(
        server,
        tmp_path,
        "create-state-machine",
        "--name",
        "Approval",
        "--definition",
        json.dumps(WAITING),
        "--role-arn",
        ROLE,
    )["stateMachineArn"]
    execution = _cli(
        server,
        tmp_path,
        "start-execution",
        "--state-machine-arn",
        machine,
        "--input",
        '{"order": "o-1"}',
    )["executionArn"]
    assert len(tokens) == 1
    _cli(
        server,
        tmp_path,
        "send-task-success",
        "--task-token",
        tokens[0],
        "--task-output",
        '{"approved": true}',
    )
    described = _cli(server, tmp_path, "describe-execution", "--execution-arn", execution)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"approved": True}
    history = _cli(server, tmp_path, "get-execution-history", "--execution-arn", execution)
    types = [event["type"] for event in history["events"]]
    assert types[0] == "ExecutionStarted"
    assert "TaskSubmitted" in types
    assert types[-1] == "ExecutionSucceeded"


def test_an_aws_error_reaches_the_aws_cli_by_its_code(
    server: StepFunctionsServer, tmp_path: Path
) -> None:
    nobody = "arn:aws:states:us-east-1:123456789012:stateMachine:Nobody"
    done = _run(server, tmp_path, "describe-state-machine", "--state-machine-arn", nobody)
    assert done.returncode != 0  # 255 for v1, 254 for v2
    assert "(StateMachineDoesNotExist)" in done.stderr
    assert f"State Machine Does Not Exist: '{nobody}'" in done.stderr
