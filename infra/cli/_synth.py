"""`stepsaga synth`."""

from __future__ import annotations

import click

from stepsaga.infra.cli._unavailable import not_available_yet


@click.command()
def synth() -> None:
    """Not available yet: template synthesis comes with a later issue."""
    not_available_yet("synth", "template synthesis comes with a later issue")
