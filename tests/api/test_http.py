"""The dispatcher over HTTP: boto3 against `StepFunctionsServer`, as against Step Functions Local.

These tests reach the server only through boto3 with an `endpoint_url` (or raw HTTP where a
client would hide what is on the wire), so each would pass against the
`amazon/aws-stepfunctions-local` container too, apart from how the server is started.
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from stepsaga.examples.orders import sagas
from stepsaga.infra.local.service import local_endpoint
from stepsaga.infra.local.stepfunctions.api import StepFunctionsServer
from stepsaga.infra.project import load_service
from stepsaga.workflows.saga import FunctionNames, compile_saga
from tests.api.conftest import ROLE, WAITING

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient


def http_client(url: str) -> SFNClient:
    """A boto3 client of the endpoint at ``url``, with fake credentials (no AWS setup)."""
    client: SFNClient = boto3.client(
        "stepfunctions",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}),
    )
    return client


def wait_until_done(client: SFNClient, execution_arn: str, timeout: float = 10) -> dict[str, Any]:
    """Poll DescribeExecution as a container test does, until the execution is not RUNNING."""
    deadline = time.monotonic() + timeout
    while True:
        described: dict[str, Any] = dict(client.describe_execution(executionArn=execution_arn))
        if described["status"] != "RUNNING" or time.monotonic() > deadline:
            return described
        time.sleep(0.01)


@pytest.fixture
def server() -> Iterator[StepFunctionsServer]:
    """``stepsaga local``'s endpoint (no service) on a free port, serving on a thread."""
    endpoint = local_endpoint(port=0).start()
    yield endpoint
    endpoint.stop()
    endpoint.api.engine.close()


@pytest.fixture
def client(server: StepFunctionsServer) -> SFNClient:
    """A boto3 client of the server, over HTTP."""
    return http_client(server.url)


def test_a_callback_over_http_completes_the_execution_with_its_output(
    server: StepFunctionsServer, client: SFNClient
) -> None:
    # GIVEN a machine whose one task waits for its token, and a function that keeps the token
    tokens: list[str] = []
    server.api.engine.register_lambda("ask", lambda event, context: tokens.append(event["token"]))
    arn = client.create_state_machine(
        name="Approval", definition=json.dumps(WAITING), roleArn=ROLE
    )["stateMachineArn"]
    # WHEN it is started, and the test answers the token once the task waits for it
    execution = client.start_execution(stateMachineArn=arn, input='{"order": "o-1"}')
    assert client.describe_execution(executionArn=execution["executionArn"])["status"] == (
        "RUNNING"
    )
    assert len(tokens) == 1
    client.send_task_success(taskToken=tokens[0], output='{"approved": true}')
    # THEN it succeeds with the callback's output, and its history says how
    described = wait_until_done(client, execution["executionArn"])
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"approved": True}
    events = client.get_execution_history(executionArn=execution["executionArn"])["events"]
    assert [event["type"] for event in events] == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSubmitted",
        "TaskSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    assert json.loads(events[0]["executionStartedEventDetails"]["input"]) == {"order": "o-1"}


def test_an_aws_error_over_http_is_a_client_error_with_aws_s_code(client: SFNClient) -> None:
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:Nobody"
    with pytest.raises(ClientError) as excinfo:
        client.start_execution(stateMachineArn=arn)
    assert excinfo.value.response["Error"]["Code"] == "StateMachineDoesNotExist"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def _raw(server: StepFunctionsServer, method: str, headers: dict[str, str], body: bytes) -> Any:
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        connection.request(method, "/", body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type"), json.loads(response.read())
    finally:
        connection.close()


def test_a_request_without_a_target_is_answered_in_aws_s_error_shape(
    server: StepFunctionsServer,
) -> None:
    status, content_type, body = _raw(server, "GET", {}, b"")
    assert (status, content_type) == (400, "application/x-amz-json-1.0")
    assert body["__type"] == "UnknownOperationException"


def test_a_raw_json_request_gets_a_raw_json_answer(server: StepFunctionsServer) -> None:
    headers = {
        "X-Amz-Target": "AWSStepFunctions.ListStateMachines",
        "Content-Type": "application/x-amz-json-1.0",
    }
    assert _raw(server, "POST", headers, b"{}") == (
        200,
        "application/x-amz-json-1.0",
        {"stateMachines": []},
    )


def test_each_request_is_logged_once_with_method_operation_status_and_time(
    client: SFNClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="stepsaga.local"):
        client.list_activities()
        with pytest.raises(ClientError):
            client.describe_activity(
                activityArn="arn:aws:states:us-east-1:123456789012:activity:nobody"
            )
    lines = [record.getMessage() for record in caplog.records if record.name == "stepsaga.local"]
    assert len(lines) == 2
    assert lines[0].startswith("POST ListActivities 200 ")
    assert lines[1].startswith("POST DescribeActivity 400 ")
    assert all(line.endswith(" ms") for line in lines)


def test_an_activity_poll_over_http_waits_for_a_task_to_be_scheduled(
    server: StepFunctionsServer, client: SFNClient
) -> None:
    # GIVEN a worker already polling an activity that has no task yet
    activity = client.create_activity(name="review")["activityArn"]
    definition = {
        "StartAt": "Review",
        "States": {"Review": {"Type": "Task", "Resource": activity, "End": True}},
    }
    arn = client.create_state_machine(
        name="Reviewed", definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]
    polled: list[dict[str, Any]] = []
    worker = threading.Thread(
        target=lambda: polled.append(
            dict(http_client(server.url).get_activity_task(activityArn=activity))
        )
    )
    worker.start()
    time.sleep(0.2)
    # WHEN an execution schedules the activity's task
    execution = client.start_execution(stateMachineArn=arn, input='{"doc": 7}')["executionArn"]
    worker.join(timeout=10)
    # THEN the waiting poll gets it, and its answer completes the execution
    assert len(polled) == 1
    assert json.loads(polled[0]["input"]) == {"doc": 7}
    client.send_task_success(taskToken=polled[0]["taskToken"], output='{"ok": true}')
    assert wait_until_done(client, execution)["status"] == "SUCCEEDED"


def test_an_activity_poll_over_http_ends_empty_when_its_time_is_up(
    server: StepFunctionsServer, client: SFNClient
) -> None:
    server.api.activity_poll_seconds = 0.2
    activity = client.create_activity(name="idle")["activityArn"]
    started = time.monotonic()
    answer = client.get_activity_task(activityArn=activity)
    assert "taskToken" not in answer
    assert 0.2 <= time.monotonic() - started < 5


def test_the_service_s_handlers_answer_its_saga_s_lambda_tasks() -> None:
    # GIVEN stepsaga local for the reference service
    service = load_service("stepsaga.examples.orders")
    endpoint = local_endpoint(service, port=0).start()
    try:
        client = http_client(endpoint.url)
        # WHEN its saga, compiled with the local function names, runs over HTTP
        definition = compile_saga(sagas.PLACE_ORDER, FunctionNames.local())
        arn = client.create_state_machine(
            name="PlaceOrder", definition=definition.to_json(indent=None), roleArn=ROLE
        )["stateMachineArn"]
        execution = client.start_execution(stateMachineArn=arn, input=json.dumps(ORDER))
        described = wait_until_done(client, execution["executionArn"])
        # THEN the service's handlers ran its steps: the empty store has no stock to reserve
        events = client.get_execution_history(executionArn=execution["executionArn"])["events"]
    finally:
        endpoint.stop()
        endpoint.api.engine.close()
    invoked = [
        json.loads(event["taskScheduledEventDetails"]["parameters"])["FunctionName"]
        for event in events
        if event["type"] == "TaskScheduled"
    ]
    assert invoked == ["ReserveStock", "ReleaseStock", "NotifyOrderFailed"]
    assert (described["status"], described["error"]) == ("FAILED", "OutOfStock")


ORDER = {
    "command": {
        "orderId": "o-1",
        "customerEmail": "ann@example.com",
        "items": [{"sku": "KEYBOARD-42", "quantity": 2, "unitPrice": "49.90"}],
        "paymentToken": "tok_visa",
    },
    "meta": {
        "tenant": "acme",
        "commandId": "c-1",
        "commandType": "PlaceOrder",
        "requestedBy": "u-1",
        "idempotencyKey": "k-1",
    },
}


def test_lambda_endpoint_sends_the_lambda_tasks_to_that_lambda_api() -> None:
    # GIVEN a Lambda Invoke API of its own (as LAMBDA_ENDPOINT names one for the container)
    calls: list[tuple[str, Any]] = []

    class FakeLambda(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            calls.append((self.path, json.loads(body)))
            answer = json.dumps({"greeting": "hi " + json.loads(body)["name"]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    fake = ThreadingHTTPServer(("127.0.0.1", 0), FakeLambda)
    threading.Thread(target=fake.serve_forever, daemon=True).start()
    endpoint = local_endpoint(
        port=0, lambda_endpoint=f"http://127.0.0.1:{fake.server_address[1]}"
    ).start()
    try:
        # WHEN a machine invokes a function
        client = http_client(endpoint.url)
        definition = {
            "StartAt": "Greet",
            "States": {
                "Greet": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {"FunctionName": "greet", "Payload": {"name.$": "$.name"}},
                    "OutputPath": "$.Payload",
                    "End": True,
                }
            },
        }
        arn = client.create_state_machine(
            name="Greeter", definition=json.dumps(definition), roleArn=ROLE
        )["stateMachineArn"]
        execution = client.start_execution(stateMachineArn=arn, input='{"name": "ann"}')
        described = wait_until_done(client, execution["executionArn"])
    finally:
        endpoint.stop()
        endpoint.api.engine.close()
        fake.shutdown()
        fake.server_close()
    # THEN that API was invoked, and its answer is the task's result
    assert calls == [("/2015-03-31/functions/greet/invocations", {"name": "ann"})]
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {"greeting": "hi ann"}
