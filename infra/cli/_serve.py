"""`stepsaga serve`."""

from __future__ import annotations

import click

from stepsaga.infra.cli._unavailable import not_available_yet


@click.command()
def serve() -> None:
    """Not available yet: the local API Gateway emulator comes with a later issue."""
    not_available_yet("serve", "the local API Gateway emulator comes with a later issue")
