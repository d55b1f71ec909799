"""The `--service` option, and service errors shown as click's one-line errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from stepsaga.infra.project import Service, ServiceError, load_service

service_option = click.option(
    "--service",
    metavar="MODULE",
    help="The service package (sagas.py with SAGAS, handlers.py with HANDLERS); default: "
    "[tool.stepsaga] service in the nearest pyproject.toml, else stepsaga.examples.orders.",
)


@contextmanager
def service_errors() -> Iterator[None]:
    """Report a `ServiceError` as one line on stderr and exit status 1, not a traceback."""
    try:
        yield
    except ServiceError as error:
        raise click.ClickException(str(error)) from error


def load_or_exit(service: str | None) -> Service:
    """The service `--service` names (or the configured one), or a clear error and exit 1."""
    with service_errors():
        return load_service(service)
