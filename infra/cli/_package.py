"""`stepsaga package`: build the service's Lambda bundle and report its size."""

from __future__ import annotations

import json
from pathlib import Path

import click

from stepsaga.infra.cli._service import load_or_exit, service_option


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


@click.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("build/lambda"),
    show_default=True,
    help="The folder the zip is written to.",
)
@click.option(
    "--boto3/--no-boto3",
    "include_boto3",
    default=True,
    show_default=True,
    help="Bundle boto3 and botocore (pinned) rather than use the Lambda runtime's copy.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the bundle as JSON.")
@service_option
def package(out: Path, include_boto3: bool, as_json: bool, service: str | None) -> None:
    """Build the Lambda bundle every function of the service runs (Python 3.12, x86_64).

    It holds the modules `<service>.lambda_entry` imports and the lean runtime's
    distributions, built from manylinux wheels for the Lambda runtime; the file is named
    after its digest, so an unchanged service gives the same file.
    """
    from rich.console import Console
    from rich.table import Table

    from stepsaga.infra.aws.deploy import BundleError, build_bundle, bundle_manifest

    loaded = load_or_exit(service)
    try:
        bundle = build_bundle(loaded, out, include_boto3=include_boto3)
    except BundleError as error:
        raise click.ClickException(str(error)) from error
    if as_json:
        click.echo(json.dumps(bundle_manifest(bundle), indent=2))
        return
    table = Table(title=f"{bundle.path}")
    for column in ("functions", "zipped", "unzipped", "files"):
        table.add_column(column)
    table.add_row(
        ", ".join(bundle.functions),
        _megabytes(bundle.zipped_bytes),
        _megabytes(bundle.unzipped_bytes),
        str(bundle.files),
    )
    Console().print(table)
