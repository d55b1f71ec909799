"""`stepsaga local`."""

from __future__ import annotations

import click

from stepsaga.infra.cli._unavailable import not_available_yet


@click.command()
def local() -> None:
    """Not available yet: the local Step Functions endpoint comes with a later issue."""
    not_available_yet("local", "the local Step Functions endpoint comes with a later issue")
