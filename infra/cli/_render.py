"""`stepsaga render`: draw a saga, or any ASL definition, as ASL JSON, Mermaid or DOT.

Also where the command line finds a service's sagas: the service module (`--service`, else
`[tool.stepsaga] service` in the nearest `pyproject.toml`, else `stepsaga.examples.orders`) exposes
a
`SAGAS` tuple, itself or in its `sagas` submodule.
"""

from __future__ import annotations

import importlib
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from stepsaga.workflows.asl import ASLValidationError, StateMachine, parse_definition
from stepsaga.workflows.render import FORMATS
from stepsaga.workflows.render import render as render_definition
from stepsaga.workflows.saga import FunctionNames, Saga, SagaCompileError, compile_saga

DEFAULT_SERVICE = "stepsaga.examples.orders"


def _project_root(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        if (folder / "pyproject.toml").is_file():
            return folder
    return None


def configured_service(start: Path | None = None) -> str:
    """The service module named by `[tool.stepsaga] service` in the nearest `pyproject.toml`.

    Falls back to the reference service, `stepsaga.examples.orders`.
    """
    root = _project_root(start or Path.cwd())
    if root is None:
        return DEFAULT_SERVICE
    with (root / "pyproject.toml").open("rb") as handle:
        table = tomllib.load(handle).get("tool", {}).get("stepsaga", {})
    service = table.get("service")
    return service if isinstance(service, str) and service else DEFAULT_SERVICE


def _import(module: str) -> Any:
    # A user's service lives in their project, which the console script's sys.path lacks.
    root = _project_root(Path.cwd())
    for folder in (str(Path.cwd()), str(root) if root else None):
        if folder and folder not in sys.path:
            sys.path.insert(0, folder)
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise click.ClickException(f"cannot import module {module!r}: {error}") from error


def service_sagas(service: str) -> tuple[Saga, ...]:
    """The sagas a service module exposes as `SAGAS` (on itself or its `sagas` submodule).

    Raises:
        click.ClickException: The module cannot be imported or exposes no `SAGAS`.
    """
    module = _import(service)
    sagas = getattr(module, "SAGAS", None)
    if sagas is None:
        try:
            sagas = getattr(importlib.import_module(f"{service}.sagas"), "SAGAS", None)
        except ModuleNotFoundError:
            sagas = None
    if not isinstance(sagas, Sequence) or not all(isinstance(s, Saga) for s in sagas):
        raise click.ClickException(
            f"service {service!r} exposes no SAGAS tuple of Saga (in {service} or {service}.sagas)"
        )
    return tuple(sagas)


def find_saga(reference: str, service: str | None) -> Saga:
    """Resolve `reference`: a saga name registered by the service, or `module:attribute`.

    Raises:
        click.ClickException: Nothing by that name, with the names that exist.
    """
    if ":" in reference:
        module_name, _, attribute = reference.partition(":")
        target = getattr(_import(module_name), attribute, None)
        if not isinstance(target, Saga):
            raise click.ClickException(
                f"{reference!r} is not a Saga (found {type(target).__name__})"
            )
        return target
    name = service or configured_service()
    sagas = service_sagas(name)
    for saga in sagas:
        if saga.name == reference:
            return saga
    known = ", ".join(s.name for s in sagas) or "none"
    raise click.ClickException(f"service {name!r} has no saga {reference!r}; it has: {known}")


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
@click.option(
    "--service",
    metavar="MODULE",
    help="Service module whose SAGAS to search (default: [tool.stepsaga] service in "
    "pyproject.toml, else examples.orders).",
)
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
