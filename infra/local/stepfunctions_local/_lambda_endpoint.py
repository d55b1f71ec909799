"""A local Lambda Invoke endpoint: registered Python handlers served over Lambda's REST API.

Step Functions Local (and the embedded engine's `lambda_endpoint=`, and boto3's `lambda`
client) call functions through `LAMBDA_ENDPOINT`; this serves
`POST /2015-03-31/functions/{FunctionName}/invocations` for the handlers it is given, on
127.0.0.1, as Lambda answers it:

- 200 with the handler's JSON result (`X-Amz-Executed-Version: $LATEST`);
- a handler that raises: 200 with `X-Amz-Function-Error: Unhandled` and the body Lambda's
  Python runtime writes, `{"errorMessage", "errorType", "stackTrace"}` (Step Functions takes
  `errorType` as the error name);
- `X-Amz-Invocation-Type: Event`: 202 and the handler runs in the background; `DryRun`: 204;
- an unknown function: 404 `ResourceNotFoundException`; a body that is not JSON: 400
  `InvalidRequestContentException`.

`{FunctionName}` may be a name, `name:qualifier`, or a function ARN (with or without a
qualifier), as Lambda accepts.
"""

from __future__ import annotations

import json
import threading
import traceback
import uuid
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote

from stepsaga.infra.local.stepfunctions import LambdaContext

__all__ = ("INVOKE_PATH", "LambdaEndpoint", "function_name")

INVOKE_PATH = "/2015-03-31/functions/{name}/invocations"
"""The Lambda Invoke API's path."""

_PREFIX, _SUFFIX = INVOKE_PATH.split("{name}")
_REGION = "us-east-1"
_ACCOUNT = "123456789012"
_DEFAULT_TIMEOUT_SECONDS = 60.0

Handler = Callable[[Any, Any], Any]
"""A Python Lambda handler: `handler(event, context) -> JSON-serialisable result`."""


def function_name(name_or_arn: str) -> tuple[str, str | None]:
    """(function name, qualifier or None) of a name, `name:qualifier` or function ARN."""
    parts = name_or_arn.split(":")
    if name_or_arn.startswith("arn:") and len(parts) >= 7 and parts[5] == "function":
        return parts[6], parts[7] if len(parts) > 7 else None
    if len(parts) == 2:
        return parts[0], parts[1]
    return name_or_arn, None


class LambdaEndpoint:
    """Serves `handlers` over the Lambda Invoke API until `stop()` (or the `with` block ends).

    Args:
        handlers: Function name to handler (`handler(event, context)`).
        host: The address to listen on; loopback, so nothing outside this machine reaches it.
        port: The port (0: a free one; see `url`).
        region: The region in the ARNs handed to handlers' contexts.
        account_id: The account in those ARNs.
    """

    def __init__(
        self,
        handlers: Mapping[str, Handler],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        region: str = _REGION,
        account_id: str = _ACCOUNT,
    ) -> None:
        self._handlers = dict(handlers)
        self.region = region
        self.account_id = account_id
        self._server = ThreadingHTTPServer((host, port), _handler_class(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None
        self.invocations: list[tuple[str, Any]] = []
        """(function name, event) of every invocation, in order: what tests look at."""

    @property
    def url(self) -> str:
        """The endpoint's base URL (`http://127.0.0.1:<port>`), for `LAMBDA_ENDPOINT`."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def port(self) -> int:
        """The port it listens on."""
        return int(self._server.server_address[1])

    def start(self) -> LambdaEndpoint:
        """Start serving in a background thread; returns itself."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, name="stepsaga-lambda-endpoint", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> LambdaEndpoint:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def context(self, name: str, qualifier: str | None) -> LambdaContext:
        """The context a handler receives, as Lambda's Python runtime shapes it."""
        arn = f"arn:aws:lambda:{self.region}:{self.account_id}:function:{name}"
        return LambdaContext(
            function_name=name,
            function_version=qualifier or "$LATEST",
            invoked_function_arn=arn + (f":{qualifier}" if qualifier else ""),
            aws_request_id=str(uuid.uuid4()),
            timeout_seconds=_DEFAULT_TIMEOUT_SECONDS,
            log_group_name=f"/aws/lambda/{name}",
            log_stream_name=f"stepsaga/[$LATEST]{uuid.uuid4().hex}",
        )

    def invoke(self, name: str, qualifier: str | None, event: Any) -> tuple[bool, Any]:
        """Run the handler: (True, result) or (False, Lambda's error body)."""
        self.invocations.append((name, event))
        handler = self._handlers[name]
        try:
            result = handler(event, self.context(name, qualifier))
            json.dumps(result)  # a result Lambda could not serialise is the function's error
        except Exception as error:
            return False, {
                "errorMessage": str(error),
                "errorType": type(error).__name__,
                "stackTrace": traceback.format_exception(error)[1:],
            }
        return True, result

    def knows(self, name: str) -> bool:
        """Whether a function of that name is served."""
        return name in self._handlers


def _handler_class(endpoint: LambdaEndpoint) -> type[BaseHTTPRequestHandler]:
    class InvokeRequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests and `stepsaga local` show invocations their own way."""

        def do_POST(self) -> None:
            """One invocation."""
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            path, _, query = self.path.partition("?")
            if not (path.startswith(_PREFIX) and path.endswith(_SUFFIX)):
                self._answer(404, {"message": f"no route {path}"}, error="UnknownOperation")
                return
            name, qualifier = function_name(unquote(path[len(_PREFIX) : -len(_SUFFIX)]))
            # boto3 sends `Qualifier` as a query parameter; it wins over one in the name.
            asked = parse_qs(query).get("Qualifier")
            if asked:
                qualifier = asked[0]
            if not endpoint.knows(name):
                message = (
                    f"Function not found: arn:aws:lambda:{endpoint.region}:"
                    f"{endpoint.account_id}:function:{name}"
                )
                self._answer(
                    404, {"Type": "User", "Message": message}, error="ResourceNotFoundException"
                )
                return
            try:
                event = json.loads(raw) if raw else {}
            except ValueError as problem:
                self._answer(
                    400,
                    {
                        "Type": "User",
                        "Message": f"Could not parse request body into json: {problem}",
                    },
                    error="InvalidRequestContentException",
                )
                return
            kind = self.headers.get("X-Amz-Invocation-Type", "RequestResponse")
            if kind == "DryRun":
                self._answer(204, None)
                return
            if kind == "Event":
                threading.Thread(
                    target=endpoint.invoke, args=(name, qualifier, event), daemon=True
                ).start()
                self._answer(202, None)
                return
            ok, body = endpoint.invoke(name, qualifier, event)
            headers = {"X-Amz-Executed-Version": qualifier or "$LATEST"}
            if not ok:
                headers["X-Amz-Function-Error"] = "Unhandled"
            self._answer(200, body, headers=headers)

        def _answer(
            self,
            status: int,
            body: Any,
            *,
            error: str | None = None,
            headers: Mapping[str, str] | None = None,
        ) -> None:
            data = b"" if body is None and status in (202, 204) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
            if error:
                self.send_header("x-amzn-ErrorType", error)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

    return InvokeRequestHandler
