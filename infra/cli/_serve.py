"""`stepsaga serve`: the whole service on one local port (API Gateway, trigger, engine, stores)."""

from __future__ import annotations

import signal
import threading
from datetime import datetime
from pathlib import Path
from types import FrameType

import click

from stepsaga.infra.cli._service import load_or_exit, service_option


def _log(line: str) -> None:
    click.echo(f"{datetime.now().strftime('%H:%M:%S')} {line}", err=True)


@click.command()
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8080,
    show_default=True,
    help="The port to listen on (0 picks a free one).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="The address to bind; 0.0.0.0 lets other machines reach it.",
)
@service_option
@click.option(
    "--stores",
    type=click.Choice(["moto", "memory"]),
    default="moto",
    show_default=True,
    help="Where the steps' events and mails go: moto's DynamoDB and SES, or memory.",
)
@click.option(
    "--tenant",
    "tenants",
    multiple=True,
    default=("acme",),
    show_default=True,
    help="A tenant the service's demo seed runs for (repeatable).",
)
@click.option(
    "--admin-group",
    default="admins",
    show_default=True,
    help="The Cognito group that may act for another tenant (X-Stepsaga-Tenant header).",
)
@click.option(
    "--key",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The development signing key (default: $STEPSAGA_DEV_KEY, else "
    "~/.cache/stepsaga/dev-key.pem).",
)
def serve(
    port: int,
    host: str,
    service: str | None,
    stores: str,
    tenants: tuple[str, ...],
    admin_group: str,
    key: Path | None,
) -> None:
    """Serve the service over HTTP: API Gateway, trigger, engine and stores in one process.

    Requests need a token from `stepsaga token --port PORT`; POST /commands/<Saga> starts a
    command, GET /executions/<id> reads it, GET /openapi.json is the schema. One log line per
    request and per execution outcome; Ctrl-C stops it.
    """
    from stepsaga.domain import InvalidIdentifierError, TenantId
    from stepsaga.infra.local.gateway import serve as serving

    loaded = load_or_exit(service)
    for tenant in tenants:
        try:
            TenantId(tenant)
        except InvalidIdentifierError as error:
            raise click.BadParameter(error.reason, param_hint="--tenant") from None
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    try:
        with serving(
            loaded,
            host=host,
            port=port,
            stores="memory" if stores == "memory" else "moto",
            tenants=tenants,
            key=key,
            admin_group=admin_group or None,
            log=_log,
        ) as running:
            click.echo(f"stepsaga serve: {loaded.name} on {running.url} ({stores} stores)")
            click.echo(f"  issuer {running.gateway.issuer}, JWKS {running.gateway.jwks_path}")
            click.echo(
                f"  token: stepsaga token --port {running.gateway.port} --tenant "
                f"{tenants[0] if tenants else 'acme'} --sub you"
            )
            click.echo("stepsaga serve: Ctrl-C stops it", err=True)
            # Installed, not inherited: a shell starting it in the background ignores SIGINT.
            signal.signal(signal.SIGINT, on_signal)
            signal.signal(signal.SIGTERM, on_signal)
            while not stop.wait(0.5):
                pass
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    except ValueError as exc:  # a key file that is not a key
        raise click.BadParameter(str(exc), param_hint="--key") from None
    click.echo("stepsaga serve: stopped")
