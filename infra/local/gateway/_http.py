"""An API Gateway emulator: HTTP requests in, REST proxy events to a Lambda handler, answers out.

What API Gateway (REST API, `ANY /{proxy+}` with a Lambda proxy integration behind a Cognito
user pool authorizer) does before and after the Lambda, locally:

- the bearer token is verified (`TokenVerifier`, against the JWKS published at
  `<issuer>/.well-known/jwks.json`); a missing or bad token is answered 401 without invoking
  the Lambda, in the trigger's error shape;
- the verified claims go to `requestContext.authorizer.claims` as strings, as API Gateway's
  REST authorizer passes them (a list, `cognito:groups`, as `[a, b]`);
- the request becomes the proxy event (`headers`, `multiValueHeaders`, query strings, `body`,
  base64 when it is not UTF-8) and the Lambda's answer (`statusCode`, `headers`,
  `multiValueHeaders`, `body`, `isBase64Encoded`) becomes the HTTP response.

Public paths (the OpenAPI schema, the JWKS) need no token. Lambda invocations run one at a time:
the function behaves as with a reserved concurrency of one, which keeps the engine and moto
behind it simple to reason about.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

from stepsaga.infra.aws.trigger import error_body
from stepsaga.infra.local.gateway._tokens import (
    USER_POOL_ID,
    DevKey,
    InvalidBearerTokenError,
    TokenVerifier,
    issuer_url,
)

__all__ = ("ApiGateway", "GatewayRequest", "InvocationContext")

ProxyHandler = Callable[[dict[str, Any], Any], Mapping[str, Any]]
#: The stage name in `requestContext` (the URLs carry none, as with a custom domain).
STAGE: Final = "local"
_MAX_BODY_BYTES: Final = 10 * 1024 * 1024  # API Gateway's payload limit: 10 MB


@dataclass(frozen=True, slots=True)
class InvocationContext:
    """The context a Lambda handler receives (what Powertools' Logger reads from it)."""

    aws_request_id: str
    function_name: str = "stepsaga-trigger"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:stepsaga-trigger"

    def get_remaining_time_in_millis(self) -> int:
        """Lambda's API: the time left before the function times out (29 s, API Gateway's)."""
        return 29_000


@dataclass(frozen=True, slots=True)
class GatewayRequest:
    """One request the gateway answered, for its log line.

    Attributes:
        method: The HTTP method.
        path: The path, without the query string.
        status: The status answered.
        millis: How long answering took.
        tenant: The token's tenant claim, if a token was verified.
    """

    method: str
    path: str
    status: int
    millis: float
    tenant: str | None


def _claim_text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return value[0] if len(value) == 1 else "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


class ApiGateway:
    """API Gateway in front of one Lambda handler, on a local port, with Cognito-shaped auth.

    Args:
        handler: The Lambda handler (REST proxy event, context) → proxy answer.
        key: The development key whose tokens are accepted (and whose JWKS is published).
        host: The address to bind (127.0.0.1 by default: nothing outside the machine).
        port: The port (0: a free one, see `port`).
        public_paths: Paths answered without a token.
        on_request: Called with each answered request (the log line).

    Attributes:
        issuer: The issuer tokens must carry (`http://<host>:<port>/<user pool>`).
        jwks_path: Where the JWKS is published.
    """

    def __init__(
        self,
        handler: ProxyHandler,
        *,
        key: DevKey,
        host: str = "127.0.0.1",
        port: int = 8080,
        public_paths: Iterable[str] = ("/openapi.json",),
        on_request: Callable[[GatewayRequest], None] | None = None,
    ) -> None:
        self._handler = handler
        self._invoke = threading.Lock()
        self._public = frozenset(public_paths)
        self._on_request = on_request
        self._jwks = json.dumps(key.jwks()).encode()
        self._server = ThreadingHTTPServer((host, port), self._request_handler())
        self._server.daemon_threads = True
        self.host = host
        self.issuer = issuer_url(host, self.port)
        self.jwks_path = f"/{USER_POOL_ID}/.well-known/jwks.json"
        self._verifier = TokenVerifier(key.jwks(), issuer=self.issuer)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port bound (the free one chosen when 0 was asked for)."""
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The base URL: `http://<host>:<port>`."""
        return f"http://{self.host}:{self.port}"

    def serve_forever(self) -> None:
        """Answer requests until `shutdown()` (from another thread) or KeyboardInterrupt."""
        self._server.serve_forever(poll_interval=0.2)

    def start(self) -> ApiGateway:
        """Answer requests on a background thread; `stop()` ends it."""
        self._thread = threading.Thread(target=self.serve_forever, name="api-gateway", daemon=True)
        self._thread.start()
        return self

    def shutdown(self) -> None:
        """Stop `serve_forever` (call it from another thread)."""
        self._server.shutdown()

    def stop(self) -> None:
        """Stop answering and release the port."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    # -- one request -----------------------------------------------------------------------

    def answer(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes, source: str
    ) -> tuple[int, list[tuple[str, str]], bytes, str | None]:
        """Answer one request: `(status, headers, body, tenant claim)`."""
        split = urlsplit(target)
        path = split.path or "/"
        if path == self.jwks_path:
            if method not in ("GET", "HEAD"):
                return _error(405, "MethodNotAllowed", f"{method} is not allowed here", "GET")
            return 200, [("Content-Type", "application/json")], self._jwks, None
        claims: dict[str, Any] | None = None
        if path not in self._public:
            try:
                claims = self._verifier.claims(_header(headers, "Authorization"))
            except InvalidBearerTokenError as invalid:
                status, extra, text, _ = _error(401, "Unauthorized", invalid.reason)
                challenge = f'Bearer error="invalid_token", error_description="{invalid.reason}"'
                return status, [*extra, ("WWW-Authenticate", challenge)], text, None
        if len(body) > _MAX_BODY_BYTES:
            return _error(413, "PayloadTooLarge", "API Gateway accepts at most 10 MB")
        event = self._event(method, path, split.query, headers, body, source, claims)
        with self._invoke:
            answer = self._handler(event, InvocationContext(event["requestContext"]["requestId"]))
        tenant = None if claims is None else claims.get("custom:tenant")
        return (*_http_answer(answer), tenant if isinstance(tenant, str) else None)

    def _event(
        self,
        method: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        body: bytes,
        source: str,
        claims: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        single = dict(headers.items())
        multi: dict[str, list[str]] = {}
        for name, value in headers.items():
            multi.setdefault(name, []).append(value)
        parsed = parse_qs(query, keep_blank_values=True)
        now = datetime.now(UTC)
        context: dict[str, Any] = {
            "accountId": "123456789012",
            "apiId": "stepsaga",
            "domainName": single.get("Host", self.url),
            "extendedRequestId": str(uuid.uuid4()),
            "httpMethod": method,
            "identity": {"sourceIp": source, "userAgent": single.get("User-Agent")},
            "path": path,
            "protocol": "HTTP/1.1",
            "requestId": str(uuid.uuid4()),
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "resourceId": "proxy",
            "resourcePath": "/{proxy+}",
            "stage": STAGE,
        }
        if claims is not None:
            context["authorizer"] = {"claims": {k: _claim_text(v) for k, v in claims.items()}}
        try:
            text, encoded = body.decode("utf-8"), False
        except UnicodeDecodeError:
            text, encoded = base64.b64encode(body).decode(), True
        return {
            "resource": "/{proxy+}",
            "path": path,
            "httpMethod": method,
            "headers": single,
            "multiValueHeaders": multi,
            "queryStringParameters": {k: v[-1] for k, v in parsed.items()} or None,
            "multiValueQueryStringParameters": parsed or None,
            "pathParameters": {"proxy": path.lstrip("/")},
            "stageVariables": None,
            "requestContext": context,
            "body": text if body else None,
            "isBase64Encoded": encoded,
        }

    def _request_handler(self) -> type[BaseHTTPRequestHandler]:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "stepsaga-gateway"
            # Headers and body leave in two writes: with Nagle's algorithm on, the body waits
            # for the client's delayed ACK of the headers, 40 ms on Linux, per request.
            disable_nagle_algorithm = True

            def _serve(self) -> None:
                started = time.perf_counter()
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length > 0 else b""
                headers = {name: value for name, value in self.headers.items()}
                try:
                    status, extra, text, tenant = gateway.answer(
                        self.command, self.path, headers, body, self.client_address[0]
                    )
                except Exception:  # the Lambda crashed: API Gateway answers 502
                    status, extra, text, tenant = _error(
                        502, "BadGateway", "the Lambda function failed"
                    )
                # Recorded before answering: a client that has its answer finds its record.
                if gateway._on_request is not None:
                    millis = (time.perf_counter() - started) * 1000
                    path = urlsplit(self.path).path
                    gateway._on_request(GatewayRequest(self.command, path, status, millis, tenant))
                self.send_response(status)
                for name, value in extra:
                    if name.lower() not in ("content-length", "connection"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(text)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass  # one line per request comes from `on_request`

        return Handler


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


def _error(
    status: int, code: str, message: str, allow: str | None = None
) -> tuple[int, list[tuple[str, str]], bytes, None]:
    headers = [("Content-Type", "application/json")]
    if allow:
        headers.append(("Allow", allow))
    return status, headers, error_body(code, message).encode(), None


def _http_answer(answer: Mapping[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    """A Lambda proxy answer as an HTTP status, headers and body."""
    headers: list[tuple[str, str]] = []
    multi = answer.get("multiValueHeaders") or {}
    for name, values in multi.items():
        headers.extend((name, str(v)) for v in values)
    for name, value in (answer.get("headers") or {}).items():
        if name not in multi:
            headers.append((name, str(value)))
    body = answer.get("body") or ""
    data = base64.b64decode(body) if answer.get("isBase64Encoded") else str(body).encode()
    return int(answer.get("statusCode", 502)), headers, data
