"""`stepsaga render`: draw a saga, or any ASL definition, as ASL JSON, Mermaid or DOT."""

from __future__ import annotations

from pathlib import Path

import click

from stepsaga.infra.cli._service import service_errors, service_option
from stepsaga.infra.project import import_project_module, load_service
from stepsaga.workflows.asl import ASLValidationError, StateMachine, parse_definition
from stepsaga.workflows.render import FORMATS
from stepsaga.workflows.render import render as render_definition
from stepsaga.workflows.saga import FunctionNames, Saga, SagaCompileError, compile_saga


def find_saga(reference: str, service: str | None) -> Saga:
    """Resolve `reference`: a saga name of the service, or `module:attribute`.

    Raises:
        click.ClickException: Nothing by that name (with the names that exist), or the service
            or module cannot be loaded.
    """
    with service_errors():
        if ":" not in reference:
            return load_service(service).saga(reference)
        module_name, _, attribute = reference.partition(":")
        if not module_name.strip() or not attribute.strip():
            raise click.UsageError(
                f"SAGA {reference!r} must be a saga name or module:attribute, with both parts "
                "(e.g. stepsaga.examples.orders.sagas:PLACE_ORDER)"
            )
        target = getattr(import_project_module(module_name), attribute, None)
    if not isinstance(target, Saga):
        raise click.ClickException(f"{reference!r} is not a Saga (found {type(target).__name__})")
    return target


def compile_or_exit(saga: Saga, functions: FunctionNames | None = None) -> StateMachine:
    """Compile `saga`, or print every broken rule and exit with status 1."""
    try:
        return compile_saga(saga, functions)
    except SagaCompileError as error:
        click.echo(str(error), err=True)
        raise SystemExit(1) from error


def _load_file(path: Path) -> StateMachine:
    try:
        return parse_definition(path.read_bytes())
    except ASLValidationError as error:
        click.echo(f"{path}: {error}", err=True)
        raise SystemExit(1) from error


@click.command()
@click.argument("saga", required=False)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="asl",
    show_default=True,
    help="asl: the definition as JSON; mermaid: a Mermaid flowchart; dot: a Graphviz digraph.",
)
@click.option(
    "--file",
    "file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Render this ASL definition (JSON) instead of a saga; it is validated first.",
)
@service_option
@click.option(
    "--deployment",
    is_flag=True,
    help="Name functions by ${<Handler>FunctionArn} placeholders for DefinitionSubstitutions "
    "instead of the local function names.",
)
def render(
    saga: str | None,
    output_format: str,
    file: Path | None,
    service: str | None,
    deployment: bool,
) -> None:
    """Render SAGA (a saga name such as PlaceOrder, or module:attribute) or an ASL --file.

    Catch and compensation edges are drawn apart from the happy path; Map and Parallel branches
    become subgraphs. Invalid definitions are reported with the JSON pointer of each problem and
    exit with status 1.
    """
    if (saga is None) == (file is None):
        raise click.UsageError("give either SAGA or --file, not both or neither")
    if file is not None:
        machine = _load_file(file)
    else:
        assert saga is not None
        functions = FunctionNames.deployment() if deployment else FunctionNames.local()
        machine = compile_or_exit(find_saga(saga, service), functions)
    click.echo(render_definition(machine, output_format), nl=False)
