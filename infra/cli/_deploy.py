"""`stepsaga deploy`: package, upload and create or update the service's stack, with progress."""

from __future__ import annotations

from pathlib import Path

import click

from stepsaga.infra.cli._service import load_or_exit, service_option

_STATUS_STYLES = (("FAILED", "red"), ("ROLLBACK", "red"), ("COMPLETE", "green"))


@click.command()
@click.option("--stack", required=True, help="The CloudFormation stack's name.")
@click.option(
    "--endpoint-url",
    metavar="URL",
    help="Send every AWS call here (moto's server, LocalStack) instead of AWS.",
)
@click.option("--region", help="The AWS region; default: the AWS configuration's.")
@click.option(
    "--parameter",
    "parameters",
    multiple=True,
    metavar="KEY=VALUE",
    help="A template parameter (AlarmTopicArn, MailFrom, MailIdentity, UserPoolArn, ...); "
    "repeat it. On an update, one not given keeps its value.",
)
@click.option(
    "--bucket",
    help="The S3 bucket for the bundle; default stepsaga-<account>-<region>, created if missing.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("build/lambda"),
    show_default=True,
    help="Where the bundle is built.",
)
@click.option(
    "--boto3/--no-boto3",
    "include_boto3",
    default=True,
    show_default=True,
    help="Bundle boto3 and botocore rather than use the Lambda runtime's copy.",
)
@service_option
def deploy(
    stack: str,
    endpoint_url: str | None,
    region: str | None,
    parameters: tuple[str, ...],
    bucket: str | None,
    out: Path,
    include_boto3: bool,
    service: str | None,
) -> None:
    """Deploy the service to AWS: package, upload, create or update the stack, and wait.

    Stack events are shown as they arrive; then the API URL and the state machine ARNs. A
    deploy with nothing changed changes nothing and uploads nothing.
    """
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError
    from rich.console import Console

    from stepsaga.infra.aws.deploy import (
        BundleError,
        DeployError,
        StackEvent,
        deploy_service,
        parse_parameters,
    )

    console = Console()
    loaded = load_or_exit(service)
    try:
        given = parse_parameters(parameters)
        session = boto3.session.Session(region_name=region)
        resolved = session.region_name
        if not resolved:
            raise DeployError("no region: give --region or set AWS_DEFAULT_REGION")
        cloudformation = session.client("cloudformation", endpoint_url=endpoint_url)
        s3 = session.client("s3", endpoint_url=endpoint_url)
        account = None
        if bucket is None:
            sts = session.client("sts", endpoint_url=endpoint_url)
            account = sts.get_caller_identity()["Account"]

        def show(event: StackEvent) -> None:
            style = next((s for word, s in _STATUS_STYLES if word in event.status), "yellow")
            reason = f"  {event.reason}" if event.reason else ""
            console.print(
                f"{event.timestamp:%H:%M:%S}  [{style}]{event.status:<28}[/]  "
                f"{event.resource}  [dim]{event.resource_type}[/]{reason}",
                highlight=False,
            )

        with console.status(f"deploying {stack} ..."):
            result = deploy_service(
                loaded,
                stack=stack,
                cloudformation=cloudformation,
                s3=s3,
                region=resolved,
                bucket=bucket,
                account=account,
                parameters=given,
                out=out,
                include_boto3=include_boto3,
                on_event=show,
            )
    except (DeployError, BundleError) as error:
        raise click.ClickException(str(error)) from error
    except (ClientError, BotoCoreError) as error:
        raise click.ClickException(f"AWS refused a call: {error}") from error
    if not result.changed:
        console.print(f"stack {stack}: no changes ({result.status})")
    else:
        console.print(f"stack {stack}: [green]{result.status}[/]")
    upload = "uploaded" if result.uploaded else "already uploaded"
    console.print(f"bundle {result.bundle.key} ({upload})", highlight=False, soft_wrap=True)
    console.print(f"API URL: {result.api_url}", highlight=False, soft_wrap=True)
    for name, arn in result.state_machines.items():
        console.print(f"{name}: {arn}", highlight=False, soft_wrap=True)
