"""Lambda tasks: in-process handlers, their context and errors, and the HTTP Invoke API."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import unquote

import boto3
import pytest

from stepsaga.infra.local.stepfunctions import LambdaContext, LocalStepFunctions

INVOKE = "arn:aws:states:::lambda:invoke"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:greet"


def invoke_machine(function: str = "greet", **extra: Any) -> dict[str, Any]:
    return {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": INVOKE,
                "Parameters": {"FunctionName": function, "Payload.$": "$", **extra},
                "End": True,
            }
        },
    }


def arn_machine() -> dict[str, Any]:
    return {
        "StartAt": "T",
        "States": {"T": {"Type": "Task", "Resource": FUNCTION_ARN, "End": True}},
    }


class CustomError(Exception):
    """A business failure raised by a handler."""


def test_handler_receives_the_payload_and_a_realistic_context() -> None:
    seen: dict[str, Any] = {}

    def handler(event: Any, context: LambdaContext) -> Any:
        seen["event"] = event
        seen["context"] = context
        return {"hello": event["name"]}

    sfn = LocalStepFunctions()
    sfn.register_lambda("greet", handler)
    ex = sfn.run(invoke_machine(), {"name": "Ada"})
    context: LambdaContext = seen["context"]
    assert seen["event"] == {"name": "Ada"}
    assert context.function_name == "greet"
    assert context.function_version == "$LATEST"
    assert context.invoked_function_arn == FUNCTION_ARN
    assert context.log_group_name == "/aws/lambda/greet"
    assert len(context.aws_request_id) == 36
    assert 0 < context.get_remaining_time_in_millis() <= 60_000
    assert ex.output["Payload"] == {"hello": "Ada"}


def test_invoke_response_has_the_shape_aws_records() -> None:
    sfn = LocalStepFunctions()
    sfn.register_lambda("greet", lambda event, context: "hi")
    response = sfn.run(invoke_machine(), {}).output
    assert set(response) == {
        "ExecutedVersion",
        "Payload",
        "SdkHttpMetadata",
        "SdkResponseMetadata",
        "StatusCode",
    }
    assert response["StatusCode"] == 200
    assert response["ExecutedVersion"] == "$LATEST"
    request_id = response["SdkResponseMetadata"]["RequestId"]
    assert response["SdkHttpMetadata"]["HttpHeaders"]["x-amzn-RequestId"] == request_id
    assert response["SdkHttpMetadata"]["AllHttpHeaders"]["Content-Length"] == ["4"]


def test_qualifier_and_arn_names_reach_the_same_handler() -> None:
    seen: list[str] = []

    def handler(event: Any, context: LambdaContext) -> Any:
        seen.append(context.function_version)
        return None

    sfn = LocalStepFunctions()
    sfn.register_lambda(FUNCTION_ARN, handler)
    sfn.run(invoke_machine("greet", Qualifier="live"), {})
    sfn.run(invoke_machine(f"{FUNCTION_ARN}:v2"), {})
    assert seen == ["live", "v2"]


def test_handler_exception_becomes_error_name_and_json_cause() -> None:
    sfn = LocalStepFunctions()

    def handler(event: Any, context: Any) -> Any:
        raise CustomError("insufficient stock")

    sfn.register_lambda("greet", handler)
    ex = sfn.run(invoke_machine(), {})
    assert (ex.status, ex.error) == ("FAILED", "CustomError")
    assert ex.cause is not None
    cause = json.loads(ex.cause)
    assert cause["errorType"] == "CustomError"
    assert cause["errorMessage"] == "insufficient stock"
    assert any("in handler" in line for line in cause["stackTrace"])
    failed = next(e for e in ex.history if e["type"] == "TaskFailed")
    assert failed["taskFailedEventDetails"]["resourceType"] == "lambda"


def test_unknown_function_fails_like_lambda_does() -> None:
    ex = LocalStepFunctions().run(invoke_machine("nobody"), {})
    assert ex.error == "Lambda.ResourceNotFoundException"
    assert ex.cause is not None and ex.cause.startswith(
        "Function not found: arn:aws:lambda:us-east-1:123456789012:function:nobody:$LATEST"
    )


def test_bare_function_arn_records_lambda_function_events() -> None:
    sfn = LocalStepFunctions()
    sfn.register_lambda("greet", lambda event, context: {"got": event})
    ex = sfn.run(arn_machine(), {"a": 1})
    assert ex.output == {"got": {"a": 1}}
    assert ex.event_types == [
        "ExecutionStarted",
        "TaskStateEntered",
        "LambdaFunctionScheduled",
        "LambdaFunctionStarted",
        "LambdaFunctionSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    scheduled = ex.history[2]["lambdaFunctionScheduledEventDetails"]
    assert scheduled == {
        "input": '{"a":1}',
        "inputDetails": {"truncated": False},
        "resource": FUNCTION_ARN,
    }


def test_handler_cannot_mutate_engine_data() -> None:
    def handler(event: Any, context: Any) -> Any:
        event["mutated"] = True
        return "ok"

    sfn = LocalStepFunctions()
    sfn.register_lambda("greet", handler)
    definition = invoke_machine()
    definition["States"]["T"]["ResultPath"] = "$.r"
    ex = sfn.run(definition, {"a": 1})
    assert "mutated" not in ex.output


class _LambdaApi(BaseHTTPRequestHandler):
    """The Lambda Invoke API, enough for one function `echo` and one failing `broken`."""

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        payload = json.loads(self.rfile.read(length) or b"null")
        name = unquote(self.path.split("/functions/")[1].split("/")[0])
        headers = {"Content-Type": "application/json"}
        if name == "broken":
            body = {"errorMessage": "nope", "errorType": "BrokenError", "stackTrace": []}
            headers["X-Amz-Function-Error"] = "Unhandled"
        else:
            body = {"echo": payload, "function": name}
        data = json.dumps(body).encode()
        self.send_response(200)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def lambda_endpoint() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _LambdaApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _client(endpoint: str) -> Any:
    return boto3.client(
        "lambda",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def test_lambda_endpoint_invokes_over_http(lambda_endpoint: str) -> None:
    sfn = LocalStepFunctions(lambda_client=_client(lambda_endpoint))
    ex = sfn.run(invoke_machine("echo"), {"n": 1})
    assert ex.status == "SUCCEEDED"
    assert ex.output["Payload"] == {"echo": {"n": 1}, "function": "echo"}


def test_lambda_endpoint_function_error_maps_to_error_type(lambda_endpoint: str) -> None:
    sfn = LocalStepFunctions(lambda_client=_client(lambda_endpoint))
    ex = sfn.run(invoke_machine("broken"), {})
    assert ex.error == "BrokenError"
    assert ex.cause is not None and json.loads(ex.cause)["errorMessage"] == "nope"


def test_lambda_endpoint_from_the_environment(
    lambda_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAMBDA_ENDPOINT", lambda_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    ex = LocalStepFunctions().run(arn_machine(), {"v": 2})
    assert ex.output == {"echo": {"v": 2}, "function": FUNCTION_ARN}
