"""`stepsaga local` as a process: a drop-in for the `amazon/aws-stepfunctions-local` container.

`test_a_container_suite_passes_unchanged` is written as a suite for the container is: the
machine and the MockConfigFile are the examples of AWS's Step Functions Local documentation
(the `LambdaSQSIntegration` machine, its `HappyPath` and `RetryPath` test cases), the config
is passed in `SFN_MOCK_CONFIG`, and the test speaks only boto3 to the endpoint. Only the
fixture that starts the server differs.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import boto3
import pytest
from click.testing import CliRunner

from stepsaga.infra.cli import cli
from stepsaga.infra.project import REFERENCE_SERVICE, load_service

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

RUN_THE_CLI = "from stepsaga.infra.cli import cli; cli()"
URL = re.compile(r"Step Functions on (http://\S+) ")

# The state machine and the MockConfigFile of AWS's "Using mocked service integrations"
# documentation for Step Functions Local.
LAMBDA_SQS_INTEGRATION = {
    "Comment": "This state machine is called: LambdaSQSIntegration",
    "StartAt": "LambdaState",
    "States": {
        "LambdaState": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"Payload.$": "$", "FunctionName": "HelloWorldFunction"},
            "Retry": [
                {
                    "ErrorEquals": ["States.ALL"],
                    "IntervalSeconds": 2,
                    "MaxAttempts": 3,
                    "BackoffRate": 2,
                }
            ],
            "Next": "SQSState",
        },
        "SQSState": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage",
            "Parameters": {
                "QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/myQueue",
                "MessageBody.$": "$",
            },
            "End": True,
        },
    },
}
LAMBDA_SUCCESS = {
    "Return": {"StatusCode": 200, "Payload": {"StatusCode": 200, "body": "Hello from Lambda!"}}
}
MOCK_CONFIG = {
    "StateMachines": {
        "LambdaSQSIntegration": {
            "TestCases": {
                "HappyPath": {"LambdaState": "MockedLambdaSuccess", "SQSState": "MockedSQSSuccess"},
                "RetryPath": {"LambdaState": "MockedLambdaRetry", "SQSState": "MockedSQSSuccess"},
                "HybridPath": {"LambdaState": "MockedLambdaSuccess"},
            }
        }
    },
    "MockedResponses": {
        "MockedLambdaSuccess": {"0": LAMBDA_SUCCESS},
        "LambdaMockedResourceNotReady": {
            "0": {
                "Throw": {
                    "Error": "Lambda.ResourceNotReadyException",
                    "Cause": "Lambda resource is not ready.",
                }
            }
        },
        "MockedSQSSuccess": {
            "0": {
                "Return": {
                    "MD5OfMessageBody": "3bcb6e8e-7h85-4375-b0bc-1a59812c6e51",
                    "MessageId": "3bcb6e8e-8b51-4375-b0bc-1a59812c6e51",
                }
            }
        },
        "MockedLambdaRetry": {
            "0": {
                "Throw": {
                    "Error": "Lambda.ResourceNotReadyException",
                    "Cause": "Lambda resource is not ready.",
                }
            },
            "1-2": {"Throw": {"Error": "Lambda.TimeoutException", "Cause": "Lambda timed out."}},
            "3": LAMBDA_SUCCESS,
        },
    },
}
ROLE = "arn:aws:iam::123456789012:role/DummyRole"


class LocalProcess:
    """A `stepsaga local` process on a free port, and what it wrote."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", RUN_THE_CLI, "local", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )
        first = _line(self.process.stdout)
        found = URL.search(first)
        assert found is not None, first + self.process.stderr.read()  # type: ignore[union-attr]
        self.banner = first
        self.url = found.group(1)

    def interrupt(self) -> tuple[int, str, str]:
        """Ctrl-C: SIGINT, then its exit status and the rest of its output."""
        self.process.send_signal(signal.SIGINT)
        out, err = self.process.communicate(timeout=10)
        return self.process.returncode, out, err

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate(timeout=10)


def _line(stream: IO[str] | None) -> str:
    assert stream is not None
    return stream.readline()


def client_of(url: str) -> SFNClient:
    client: SFNClient = boto3.client(
        "stepfunctions",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    return client


@pytest.fixture(scope="module")
def container(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The only part that differs from a container suite: how the endpoint is started."""
    config = tmp_path_factory.mktemp("mocks") / "MockConfigFile.json"
    config.write_text(json.dumps(MOCK_CONFIG))
    local = LocalProcess(env={"SFN_MOCK_CONFIG": str(config)})
    yield local.url
    local.kill()


def _run(client: SFNClient, machine_arn: str, test_case: str) -> tuple[str, list[Any]]:
    execution = client.start_execution(
        stateMachineArn=f"{machine_arn}#{test_case}", name=test_case, input='{"id": 1}'
    )["executionArn"]
    deadline = time.monotonic() + 10
    while True:
        status = client.describe_execution(executionArn=execution)["status"]
        if status != "RUNNING" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    events = client.get_execution_history(executionArn=execution)["events"]
    return status, events


def test_a_container_suite_passes_unchanged(container: str) -> None:
    client = client_of(container)
    machine_arn = client.create_state_machine(
        name="LambdaSQSIntegration", definition=json.dumps(LAMBDA_SQS_INTEGRATION), roleArn=ROLE
    )["stateMachineArn"]

    status, events = _run(client, machine_arn, "HappyPath")
    assert status == "SUCCEEDED"
    assert [event["type"] for event in events] == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSucceeded",
        "TaskStateExited",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    lambda_output = json.loads(events[4]["taskSucceededEventDetails"]["output"])
    assert lambda_output["Payload"] == {"StatusCode": 200, "body": "Hello from Lambda!"}

    # Three failed attempts (a ResourceNotReady, two timeouts), retried with back-off that the
    # container waits out (2 + 4 + 8 s) and stepsaga local passes at once; the fourth succeeds.
    status, events = _run(client, machine_arn, "RetryPath")
    assert status == "SUCCEEDED"
    failures = [
        event["taskFailedEventDetails"]["error"]
        for event in events
        if event["type"] == "TaskFailed"
    ]
    assert failures == [
        "Lambda.ResourceNotReadyException",
        "Lambda.TimeoutException",
        "Lambda.TimeoutException",
    ]


def test_ctrl_c_stops_the_server_cleanly_saying_so() -> None:
    local = LocalProcess(env={"SQS_ENDPOINT": "http://127.0.0.1:9324"})
    try:
        assert local.url.startswith("http://127.0.0.1:")
        # The configured service (the reference one here) answers as Lambda functions.
        handlers = len(load_service(REFERENCE_SERVICE).handlers)
        assert f"{handlers} Lambda functions from orders" in local.banner
        client_of(local.url).list_state_machines()
        code, out, err = local.interrupt()
    finally:
        local.kill()
    assert code == 0
    assert out.splitlines()[-1] == "stepsaga local: stopped"
    assert "Traceback" not in err
    # A setting of the container's that means nothing here is said to be ignored.
    assert "stepsaga local: SQS_ENDPOINT is ignored" in err
    logged = [line for line in err.splitlines() if "ListStateMachines" in line]
    assert len(logged) == 1
    assert re.search(r"POST ListStateMachines 200 [0-9.]+ ms$", logged[0])


def test_a_taken_port_is_a_one_line_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["local", "--port", str(port)])
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.output


def test_a_mock_config_that_is_not_one_is_a_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "mocks.json"
    bad.write_text('{"StateMachines": 3}')
    result = CliRunner().invoke(cli, ["local", "--port", "0", "--mock-config", str(bad)])
    assert result.exit_code == 1
    assert f"mock config {bad}" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("scale", ["0", "0.5"])
def test_the_container_s_wait_time_scale_is_accepted(scale: str) -> None:
    # A taken port stops the command once its options are read: the scale was accepted.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(
            cli, ["local", "--port", str(port)], env={"WAIT_TIME_SCALE": scale}
        )
    assert result.exit_code == 1
    assert "cannot listen on" in result.output


def test_a_negative_wait_time_scale_is_refused() -> None:
    with socket.socket() as taken:  # were it accepted, the command would stop here
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = CliRunner().invoke(cli, ["local", "--port", port], env={"WAIT_TIME_SCALE": "-1"})
    assert result.exit_code == 2
    assert "--wait-time-scale" in result.output
