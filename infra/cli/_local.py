"""`stepsaga local`: the Step Functions API over HTTP, a drop-in for Step Functions Local.

Options and environment variables follow the `amazon/aws-stepfunctions-local` container's:
port 8083, `SFN_MOCK_CONFIG`, `LAMBDA_ENDPOINT`, `AWS_DEFAULT_REGION`, `AWS_ACCOUNT_ID`,
`WAIT_TIME_SCALE`; its other services' endpoints (`SQS_ENDPOINT` ...) are said to be
ignored. It binds 127.0.0.1 unless told otherwise, logs one line per request, and stops on
Ctrl-C (or SIGTERM, as a container is stopped) saying so.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path
from types import FrameType

import click

from stepsaga.infra.cli._service import load_or_exit, service_option
from stepsaga.infra.cli._stepfunctions_local import BACKENDS, serve_on_stepfunctions_local
from stepsaga.infra.local.service import local_endpoint
from stepsaga.infra.local.stepfunctions import DefinitionError, MockConfig
from stepsaga.workflows import facts

# The container's other settings: endpoints of services whose integrations stepsaga does not
# call (a mock config answers their tasks; nested executions run on the engine itself).
_IGNORED_ENDPOINTS = (
    "BATCH_ENDPOINT",
    "DYNAMODB_ENDPOINT",
    "ECS_ENDPOINT",
    "GLUE_ENDPOINT",
    "SAGE_MAKER_ENDPOINT",
    "SNS_ENDPOINT",
    "SQS_ENDPOINT",
    "STEP_FUNCTIONS_ENDPOINT",
)


def _stop_on_signals() -> None:
    # Installed, not inherited: a shell starting the server in the background ignores SIGINT
    # for it, and a container is stopped with SIGTERM.
    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)


@click.command()
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=facts.STEP_FUNCTIONS_LOCAL_PORT,
    show_default=True,
    help="The port to listen on (Step Functions Local's; 0 picks a free one).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="The address to bind; 0.0.0.0 lets other machines reach it.",
)
@click.option(
    "--mock-config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="SFN_MOCK_CONFIG",
    help="A MockConfigFile; stateMachineArn#TestCase picks a test case (env SFN_MOCK_CONFIG).",
)
@service_option
@click.option(
    "--lambda-endpoint",
    metavar="URL",
    envvar="LAMBDA_ENDPOINT",
    help="Invoke Lambda functions over the Lambda API at URL instead of the service's "
    "handlers (env LAMBDA_ENDPOINT).",
)
@click.option(
    "--region",
    envvar="AWS_DEFAULT_REGION",
    default="us-east-1",
    show_default=True,
    help="The region in ARNs (env AWS_DEFAULT_REGION).",
)
@click.option(
    "--account",
    envvar="AWS_ACCOUNT_ID",
    default="123456789012",
    show_default=True,
    help="The account id in ARNs (env AWS_ACCOUNT_ID).",
)
@click.option(
    "--wait-time-scale",
    type=click.FloatRange(min=0),
    envvar="WAIT_TIME_SCALE",
    default=1.0,
    show_default=True,
    help="How long a waiting task's timeouts take, as a share of their real length (0.1: a "
    "tenth; 0, which the container takes to skip Waits, leaves them at full length); Wait "
    "states and retry back-off never wait (env WAIT_TIME_SCALE).",
)
@click.option(
    "--backend",
    type=click.Choice(BACKENDS),
    default="embedded",
    show_default=True,
    help="stepsaga's engine, or AWS's amazon/aws-stepfunctions-local container (needs Docker; "
    "it calls the service's handlers over a local Lambda endpoint).",
)
def local(
    port: int,
    host: str,
    mock_config: Path | None,
    service: str | None,
    lambda_endpoint: str | None,
    region: str,
    account: str,
    wait_time_scale: float,
    backend: str,
) -> None:
    """Serve the Step Functions API over HTTP, like the Step Functions Local container.

    boto3 and the AWS CLI reach it with --endpoint-url http://127.0.0.1:8083. The service's
    step handlers answer its Lambda tasks (names as FunctionNames.local() compiles them, on
    in-memory stores). Executions run on the server clock: Wait states and back-off pass at
    once, a waiting task's timeouts in real time. Ctrl-C stops it.
    """
    loaded = load_or_exit(service)
    if backend == "stepfunctions-local":
        serve_on_stepfunctions_local(
            loaded,
            port=port,
            mock_config=mock_config,
            wait_time_scale=wait_time_scale,
            lambda_endpoint=lambda_endpoint,
            when_serving=_stop_on_signals,
        )
        return
    mocks = None
    if mock_config is not None:
        try:
            mocks = MockConfig(mock_config)
        except (DefinitionError, ValueError, OSError) as exc:
            raise click.ClickException(f"mock config {mock_config}: {exc}") from exc
    try:
        server = local_endpoint(
            loaded,
            host=host,
            port=port,
            mock_config=mocks,
            region=region,
            account_id=account,
            # The container scales Wait states, which never wait here: 0 (skip them) is
            # accepted for the same environment to work, and scales nothing.
            time_scale=1.0 / wait_time_scale if wait_time_scale > 0 else 1.0,
            lambda_endpoint=lambda_endpoint,
        )
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    log = logging.getLogger("stepsaga.local")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    functions = (
        f"Lambda calls go to {lambda_endpoint}"
        if lambda_endpoint
        else f"{len(loaded.handlers)} Lambda functions from {loaded.name}"
    )
    mocked = f"; mock config {mock_config}" if mock_config is not None else ""
    click.echo(f"stepsaga local: Step Functions on {server.url} ({functions}{mocked})")
    for name in _IGNORED_ENDPOINTS:
        if os.environ.get(name):
            click.echo(
                f"stepsaga local: {name} is ignored: stepsaga calls no such service (answer "
                "those tasks with --mock-config)",
                err=True,
            )
    click.echo("stepsaga local: Ctrl-C stops it", err=True)
    _stop_on_signals()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        server.api.engine.close()
        log.removeHandler(handler)
    click.echo("stepsaga local: stopped")
