"""`stepsaga synth`: the service's CloudFormation template, as JSON or YAML."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from stepsaga.infra.cli._service import load_or_exit, service_option

_YAML_SUFFIXES = (".yaml", ".yml")


def template_text(template: dict[str, Any], path: Path | None) -> str:
    """The template as YAML when `path` ends in .yaml/.yml, else as JSON."""
    if path is not None and path.suffix.lower() in _YAML_SUFFIXES:
        import yaml

        # Long-form intrinsics ({"Fn::GetAtt": [...]}) are plain YAML, so no custom tags.
        text: str = yaml.safe_dump(template, sort_keys=False, width=100)
        return text
    return json.dumps(template, indent=2) + "\n"


@click.command()
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the template here (YAML for .yaml/.yml, else JSON); default: JSON on stdout.",
)
@service_option
def synth(out: Path | None, service: str | None) -> None:
    """Print the CloudFormation template that deploys the service.

    It holds the event store table, one state machine per saga, one Lambda function per
    handler plus the API trigger, the REST API with its Cognito authorizer, least-privilege
    roles (the table only through a per-tenant role) and the operator's alarms. `stepsaga
    deploy` uploads the bundle and fills the code parameters; cfn-lint passes on it.
    """
    from stepsaga.infra.aws.deploy import SynthError, synthesise_template
    from stepsaga.workflows.saga import SagaCompileError

    loaded = load_or_exit(service)
    try:
        template = synthesise_template(loaded)
    except (SynthError, SagaCompileError) as error:
        raise click.ClickException(str(error)) from error
    text = template_text(template, out)
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        click.echo(f"wrote {out} ({len(template['Resources'])} resources)", err=True)
