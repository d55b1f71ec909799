"""The `--service` option and loading the service it names, shared by the commands."""

from __future__ import annotations

import click

from stepsaga.infra.project import Service, ServiceError, load_service

service_option = click.option(
    "--service",
    metavar="MODULE",
    help="The service package (sagas.py with SAGAS, handlers.py with HANDLERS); default: "
    "[tool.stepsaga] service in the nearest pyproject.toml, else stepsaga.examples.orders.",
)


def load_or_exit(service: str | None) -> Service:
    """The service `--service` names (or the configured one), or a clear error and exit 1."""
    try:
        return load_service(service)
    except ServiceError as error:
        raise click.ClickException(str(error)) from error
