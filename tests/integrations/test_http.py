"""http:invoke, the HTTP Task, against a server the test runs on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from stepsaga.infra.local.stepfunctions import LocalStepFunctions
from tests.integrations.conftest import task

CONNECTION = "arn:aws:events:us-east-1:123456789012:connection/local/0f1e2d3c"


class _Server:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                server.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body,
                    }
                )
                payload = json.dumps({"ok": server.status < 400}).encode()
                self.send_response(server.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"


@pytest.fixture
def server() -> Iterator[_Server]:
    running = _Server()
    thread = threading.Thread(target=running.httpd.serve_forever, daemon=True)
    thread.start()
    yield running
    running.httpd.shutdown()
    running.httpd.server_close()


def _invoke(url: str, connection: str = CONNECTION, **parameters: Any) -> dict[str, Any]:
    return task(
        "arn:aws:states:::http:invoke",
        {"ApiEndpoint": url, "Authentication": {"ConnectionArn": connection}, **parameters},
    )


def test_a_post_sends_the_json_body_and_answers_with_the_parsed_response(
    server: _Server,
) -> None:
    # GIVEN an engine without service clients (the connection is not read)
    sfn = LocalStepFunctions()
    # WHEN an HTTP Task posts a JSON body with a query parameter
    ex = sfn.run(
        _invoke(
            server.url + "/orders",
            Method="POST",
            RequestBody={"id.$": "$.id"},
            QueryParameters={"dry": "yes"},
            Headers={"X-Trace": "t-1"},
        ),
        {"id": "o-1"},
    )
    # THEN the server got it, and the result is AWS's shape
    assert ex.status == "SUCCEEDED", ex.cause
    (request,) = server.requests
    assert (request["method"], request["path"]) == ("POST", "/orders?dry=yes")
    assert json.loads(request["body"]) == {"id": "o-1"}
    assert request["headers"]["x-trace"] == "t-1"
    assert ex.output["StatusCode"] == 200
    assert ex.output["ResponseBody"] == {"ok": True}
    assert ex.output["Headers"]["content-type"] == ["application/json"]


def test_a_status_outside_2xx_fails_with_its_status_code_error(server: _Server) -> None:
    server.status = 503
    ex = LocalStepFunctions().run(_invoke(server.url, Method="GET"), {})
    assert (ex.status, ex.error) == ("FAILED", "States.Http.StatusCode.503")
    assert ex.cause is not None and json.loads(ex.cause)["StatusCode"] == 503


def test_no_server_fails_with_states_http_socket() -> None:
    ex = LocalStepFunctions().run(_invoke("http://127.0.0.1:9/", Method="GET"), {})
    assert (ex.status, ex.error) == ("FAILED", "States.Http.Socket")


def test_a_task_without_a_connection_is_refused_naming_the_field() -> None:
    definition = task("arn:aws:states:::http:invoke", {"ApiEndpoint": "http://x", "Method": "GET"})
    ex = LocalStepFunctions().run(definition, {})
    assert ex.status == "FAILED"
    assert ex.cause is not None and "Authentication.ConnectionArn" in ex.cause


def test_an_api_key_connection_adds_its_header(
    sfn: LocalStepFunctions,
    server: _Server,
    client: Callable[[str], Any],
    unique: Callable[[str], str],
) -> None:
    # GIVEN an EventBridge connection with an API key (on moto)
    connection = client("events").create_connection(
        Name=unique("api"),
        AuthorizationType="API_KEY",
        AuthParameters={
            "ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": "s3cr3t"}
        },
    )["ConnectionArn"]
    # WHEN an HTTP Task calls through it
    ex = sfn.run(_invoke(server.url, connection, Method="GET"), {})
    # THEN the request carries the key
    assert ex.status == "SUCCEEDED", ex.cause
    assert server.requests[0]["headers"]["x-api-key"] == "s3cr3t"
