"""`stepsaga local --backend stepfunctions-local`: AWS's container behind the same command.

The container (`amazon/aws-stepfunctions-local`, via testcontainers) listens on port 8083 on
the host's network and calls the service's handlers, on in-memory stores, through a local
Lambda Invoke endpoint on 127.0.0.1; a MockConfigFile is mounted for `arn#TestCase`. It needs
Docker.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import click

from stepsaga.infra.project import Service

BACKENDS = ("embedded", "stepfunctions-local")
"""`--backend`'s choices: stepsaga's engine (the default), or AWS's container."""


def serve_on_stepfunctions_local(
    service: Service,
    *,
    port: int,
    mock_config: Path | None,
    wait_time_scale: float,
    lambda_endpoint: str | None,
    when_serving: Callable[[], None] | None = None,
) -> None:
    """Run the container until Ctrl-C (or SIGTERM, as `when_serving` may arrange).

    `when_serving` is called once the container answers, before waiting: signal handlers
    installed then do not outlive a start that failed.

    Raises:
        click.UsageError: An option the container cannot honour (another port, another Lambda
            endpoint).
        click.ClickException: No Docker engine answers.
    """
    from stepsaga.infra.local.service import service_lambdas
    from stepsaga.infra.local.stepfunctions_local import (
        IMAGE,
        PORT,
        DockerUnavailable,
        StepFunctionsLocalBackend,
    )

    if port != PORT:
        raise click.UsageError(
            f"--backend stepfunctions-local listens on {PORT}, the container's own port on the "
            f"host's network; --port {port} works with --backend embedded only"
        )
    if lambda_endpoint:
        raise click.UsageError(
            "--backend stepfunctions-local calls the service's handlers through stepsaga's own "
            "Lambda endpoint; --lambda-endpoint works with --backend embedded only"
        )
    backend = StepFunctionsLocalBackend(
        service_lambdas(service),
        mock_config=mock_config,
        wait_time_scale=None if wait_time_scale == 1.0 else wait_time_scale,
    )
    try:
        backend.start()
    except DockerUnavailable as error:
        raise click.ClickException(
            f"--backend stepfunctions-local needs Docker: {error}"
        ) from error
    click.echo(
        f"stepsaga local: Step Functions Local ({IMAGE}) on {backend.container.endpoint_url}; "
        f"{len(service.handlers)} Lambda functions from {service.name} on {backend.endpoint.url}"
    )
    click.echo("stepsaga local: Ctrl-C stops it", err=True)
    try:
        if when_serving is not None:
            when_serving()
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        backend.stop()
    click.echo("stepsaga local: stopped")
