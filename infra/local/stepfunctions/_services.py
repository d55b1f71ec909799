"""Where the engine's service integrations send their calls: the one place clients are built.

A Task on ``aws-sdk:<service>:<action>``, or on an optimised integration (``sqs:sendMessage``,
``dynamodb:putItem`` ...), and a distributed Map's ItemReader and ResultWriter, call AWS
through :class:`ServiceClients`. It holds one boto3 session and builds each client once, for
one of three targets:

- moto in-process (the default): fake credentials, and moto's ``mock_aws`` started by the
  clients themselves when first used (moto counts nested starts, so inside a test's own
  ``mock_aws`` nothing is reset) and stopped by :meth:`ServiceClients.close`;
- an endpoint (a moto server, LocalStack): ``ServiceClients(endpoint_url=...)``;
- AWS itself: ``ServiceClients(session=boto3.Session(...))``.

The clients never retry (a state's Retry field does that) and ignore the ``AWS_ENDPOINT_URL``
variables of the environment, so that a test's calls cannot leave for a real endpoint.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import boto3

# moto's in-process backends accept any credentials; fixed fake ones keep boto3 from looking
# for a user's profile or environment.
_FAKE_KEY = "testing"


class ServiceClients:
    """The boto3 clients of an engine's service integrations (one per service and region).

    Example::

        with ServiceClients() as services:      # moto in-process
            sfn = LocalStepFunctions(services=services)
            sfn.run(definition, {...})

    Args:
        session: the boto3 session to build clients from (real AWS, a profile ...). None:
            a session with fake credentials, for moto.
        endpoint_url: send every call to this endpoint (a moto server, LocalStack).
        region_name: the clients' region (default: the engine's).
        start_moto: start moto's in-process ``mock_aws`` on first use and stop it on
            :meth:`close`. Default: when neither ``session`` nor ``endpoint_url`` is given.
    """

    def __init__(
        self,
        *,
        session: boto3.Session | None = None,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        start_moto: bool | None = None,
    ) -> None:
        self._session = session
        self._endpoint_url = endpoint_url
        self._region = region_name
        self._start_moto = (
            (session is None and endpoint_url is None) if start_moto is None else (start_moto)
        )
        self._mock: Any = None
        self._clients: dict[tuple[str, str], Any] = {}
        self._available: list[str] | None = None
        self._lock = threading.Lock()

    @property
    def in_process(self) -> bool:
        """Whether the calls go to moto in this process."""
        return self._start_moto

    def client(self, service: str, region: str) -> Any:
        """The boto3 client of ``service`` (a boto3 service name), built on first use.

        Args:
            service: e.g. ``"sqs"``, ``"dynamodb"``, ``"stepfunctions"``.
            region: the region to use when the clients were given none.
        """
        region = self._region or region
        key = (service, region)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                self._ensure_moto()
                session: Any = self._boto_session(region)  # any service name: no typed overload
                client = session.client(service, endpoint_url=self._endpoint_url, config=_config())
                self._clients[key] = client
            return client

    def available(self) -> list[str]:
        """Every service boto3 knows (its names, as :meth:`client` takes them)."""
        with self._lock:
            # Listed once: a session lists its data folders anew each time (~45 ms a call).
            if self._available is None:
                session = self._boto_session(self._region or "us-east-1")
                self._available = list(session.get_available_services())
            return list(self._available)

    def _boto_session(self, region: str) -> boto3.Session:
        import boto3

        if self._session is not None:
            return self._session
        return boto3.session.Session(
            aws_access_key_id=_FAKE_KEY,
            aws_secret_access_key=_FAKE_KEY,
            aws_session_token=_FAKE_KEY,
            region_name=region,
        )

    def _ensure_moto(self) -> None:
        if self._start_moto and self._mock is None:
            from moto import mock_aws

            self._mock = mock_aws()
            self._mock.start()

    def close(self) -> None:
        """Stop moto, when these clients started it (their data goes with it)."""
        with self._lock:
            mock, self._mock = self._mock, None
            self._clients.clear()
        if mock is not None:
            mock.stop()

    def __enter__(self) -> ServiceClients:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _config() -> Any:
    from botocore.config import Config

    # The stubs lag behind botocore: `ignore_configured_endpoint_urls` is a Config option
    # since botocore 1.31.
    options: dict[str, Any] = {
        "retries": {"total_max_attempts": 1, "mode": "standard"},
        "ignore_configured_endpoint_urls": True,
    }
    return Config(**options)
