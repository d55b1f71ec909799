"""The dispatcher over HTTP: what ``stepsaga local`` serves (a Step Functions Local drop-in).

The standard library's threading HTTP server, one thread per connection, HTTP/1.1 keep-alive
(boto3 and the AWS CLI reuse their connections) and no Nagle delay: a request costs a parse of
its headers, the dispatcher's work and one write. Each request is logged at INFO on the
``stepsaga.local`` logger: method, operation, status and milliseconds.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TYPE_CHECKING, cast

from stepsaga.workflows import facts

if TYPE_CHECKING:
    from stepsaga.infra.local.stepfunctions.api._dispatcher import StepFunctionsApi

_log = logging.getLogger("stepsaga.local")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # A client's keep-alive connection holds its thread until the client goes: closing the
    # server does not wait for those.
    block_on_close = False
    api: StepFunctionsApi


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "stepsaga-local"
    disable_nagle_algorithm = True

    # do_<METHOD>: the names http.server dispatches to.
    def do_POST(self) -> None:
        self._answer()

    def do_GET(self) -> None:  # refused as AWS refuses it: there is no X-Amz-Target
        self._answer()

    def _answer(self) -> None:
        started = time.perf_counter()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        api = cast(_Server, self.server).api
        answer = api.handle(self.headers.get("X-Amz-Target"), body)
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        # Logged before the answer goes out: a client that has its answer may stop the
        # server at once, and the line must be written by then.
        if _log.isEnabledFor(logging.INFO):
            _log.info(
                "%s %s %d %.1f ms",
                self.command,
                answer.operation or "-",
                answer.status,
                (time.perf_counter() - started) * 1000,
            )
        self.end_headers()
        self.wfile.write(answer.body)

    def log_message(self, format: str, *args: object) -> None:
        """Silenced: each request is logged once, by ``_answer``, on ``stepsaga.local``."""


class StepFunctionsServer:
    """The Step Functions API of one dispatcher over HTTP, as ``stepsaga local`` serves it.

    Example::

        with StepFunctionsServer(engine.api, port=0).start() as server:
            client = boto3.client("stepfunctions", endpoint_url=server.url, ...)

    Args:
        api: the dispatcher that answers.
        host: the address to bind (loopback by default: nothing outside the machine reaches it).
        port: the port (Step Functions Local's 8083 by default; 0 picks a free one).

    Raises:
        OSError: the address cannot be bound (the port is taken, say).
    """

    def __init__(
        self,
        api: StepFunctionsApi,
        host: str = "127.0.0.1",
        port: int = facts.STEP_FUNCTIONS_LOCAL_PORT,
    ) -> None:
        self._httpd = _Server((host, port), _Handler)
        self._httpd.api = api
        self._thread: threading.Thread | None = None

    @property
    def api(self) -> StepFunctionsApi:
        """The dispatcher that answers."""
        return self._httpd.api

    @property
    def url(self) -> str:
        """The endpoint URL (``http://127.0.0.1:8083``), for boto3's ``endpoint_url``."""
        host, port = self._httpd.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else str(host)
        shown = f"[{name}]" if ":" in name else name
        return f"http://{shown}:{port}"

    def serve_forever(self) -> None:
        """Serve on this thread until :meth:`stop` (or an exception, e.g. Ctrl-C)."""
        self._httpd.serve_forever(poll_interval=0.2)

    def start(self) -> StepFunctionsServer:
        """Serve on a thread of its own; returns this server."""
        self._thread = threading.Thread(
            target=self.serve_forever, name="stepsaga-local-http", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop taking requests and close the listening socket."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> StepFunctionsServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
