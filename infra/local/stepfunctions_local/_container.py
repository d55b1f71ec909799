"""The `amazon/aws-stepfunctions-local` container, configured for stepsaga, via testcontainers.

`container_config()` is the whole configuration as data (image, environment, mounts, network),
so it is tested without Docker; `StepFunctionsLocal` starts a container from it and waits
until the server listens.

The container runs on the host's network (Linux): it reaches the Lambda endpoint on
127.0.0.1, so the handlers are never exposed beyond this machine. Step Functions Local itself
listens on port 8083 of every host interface (it binds them all, and nothing here can narrow
that): on a shared network, a firewall should keep 8083 in. Functions are called through
`LAMBDA_ENDPOINT`; a MockConfigFile, when given, is mounted read-only and named by
`SFN_MOCK_CONFIG`, so `arn#TestCase` works as with the embedded engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from stepsaga.workflows import facts

__all__ = (
    "IMAGE",
    "MOCK_CONFIG_PATH",
    "PORT",
    "ContainerConfig",
    "DockerUnavailable",
    "StepFunctionsLocal",
    "container_config",
    "docker_available",
)

IMAGE = "amazon/aws-stepfunctions-local:latest"
"""The image AWS publishes."""

PORT = facts.STEP_FUNCTIONS_LOCAL_PORT
"""The port Step Functions Local listens on (8083)."""

MOCK_CONFIG_PATH = "/home/StepFunctionsLocal/MockConfigFile.json"
"""Where the MockConfigFile is mounted in the container (AWS's documented place)."""

_READY_LOG = "Starting server on port 8083"
_START_TIMEOUT_SECONDS = 120


class DockerUnavailable(RuntimeError):
    """No Docker engine answers; the message says what was tried."""


@dataclass(frozen=True, slots=True)
class ContainerConfig:
    """How the container is run.

    Attributes:
        image: The image.
        environment: Its environment variables.
        volumes: (host path, container path, mode) of each mount.
        network_mode: Docker's network mode (`host`).
        endpoint_url: Where boto3 reaches Step Functions Local once it runs.
    """

    image: str
    environment: Mapping[str, str]
    volumes: tuple[tuple[str, str, str], ...]
    network_mode: str
    endpoint_url: str
    labels: Mapping[str, str] = field(default_factory=dict)


def container_config(
    *,
    lambda_endpoint: str,
    mock_config: Path | None = None,
    region: str = "us-east-1",
    account_id: str = "123456789012",
    wait_time_scale: float | None = None,
    image: str = IMAGE,
) -> ContainerConfig:
    """The container's configuration.

    Args:
        lambda_endpoint: The Lambda Invoke endpoint's URL (`LambdaEndpoint.url`).
        mock_config: A MockConfigFile to mount, or None.
        region: `AWS_DEFAULT_REGION` inside (the state machines' ARNs).
        account_id: `AWS_ACCOUNT_ID` inside.
        wait_time_scale: `WAIT_TIME_SCALE`: Step Functions Local waits in real time; 0.01 makes
            a Wait of 100 s take 1 s. None leaves it at 1.
        image: The image (default `IMAGE`).

    Raises:
        ValueError: The MockConfigFile does not exist, or the endpoint is not an http URL.
    """
    if not lambda_endpoint.startswith(("http://", "https://")):
        raise ValueError(f"lambda_endpoint must be an http(s) URL, got {lambda_endpoint!r}")
    environment = {
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCOUNT_ID": account_id,
        "LAMBDA_ENDPOINT": lambda_endpoint,
    }
    volumes: list[tuple[str, str, str]] = []
    if mock_config is not None:
        if not mock_config.is_file():
            raise ValueError(f"mock_config {mock_config} is not a file")
        environment["SFN_MOCK_CONFIG"] = MOCK_CONFIG_PATH
        volumes.append((str(mock_config.resolve()), MOCK_CONFIG_PATH, "ro"))
    if wait_time_scale is not None:
        environment["WAIT_TIME_SCALE"] = repr(wait_time_scale)
    return ContainerConfig(
        image=image,
        environment=MappingProxyType(environment),
        volumes=tuple(volumes),
        network_mode="host",
        endpoint_url=f"http://127.0.0.1:{PORT}",
        labels=MappingProxyType({"org.stepsaga.role": "stepfunctions-local"}),
    )


def docker_available() -> str | None:
    """None when a Docker engine answers, else why not (for a test's skip reason)."""
    try:
        import docker
    except ImportError:
        return "the docker package is not installed (pip install 'stepsaga[stepfunctions-local]')"
    try:
        client = docker.from_env(timeout=3)
        client.ping()
    except Exception as error:
        return f"no Docker engine answers: {error}"
    client.close()
    return None


class StepFunctionsLocal:
    """A running `amazon/aws-stepfunctions-local` container (a context manager).

    Args:
        config: From `container_config`.
    """

    def __init__(self, config: ContainerConfig) -> None:
        self.config = config
        self._container: Any = None

    def start(self) -> StepFunctionsLocal:
        """Start the container and wait until it listens.

        Raises:
            DockerUnavailable: No Docker engine answers, or testcontainers is missing.
        """
        reason = docker_available()
        if reason is not None:
            raise DockerUnavailable(reason)
        from testcontainers.core.container import DockerContainer
        from testcontainers.core.waiting_utils import wait_for_logs

        container = DockerContainer(
            self.config.image,
            env=dict(self.config.environment),
            volumes=list(self.config.volumes),
            network_mode=self.config.network_mode,
            labels=dict(self.config.labels),
        )
        container.start()
        self._container = container
        wait_for_logs(container, _READY_LOG, timeout=_START_TIMEOUT_SECONDS)
        return self

    def stop(self) -> None:
        """Stop and remove the container."""
        if self._container is not None:
            self._container.stop()
            self._container = None

    def __enter__(self) -> StepFunctionsLocal:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def endpoint_url(self) -> str:
        """Where boto3's `stepfunctions` client reaches it."""
        return self.config.endpoint_url
