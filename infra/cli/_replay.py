"""`stepsaga replay`."""

from __future__ import annotations

import click

from infra.cli._unavailable import not_available_yet


@click.command()
def replay() -> None:
    """Not available yet: replay comes with the embedded engine."""
    not_available_yet("replay", "replay comes with the embedded engine")
