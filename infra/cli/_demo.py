"""`stepsaga demo`."""

from __future__ import annotations

import click

from infra.cli._unavailable import not_available_yet


@click.command()
def demo() -> None:
    """Not available yet: the demo comes with the saga compiler."""
    not_available_yet("demo", "the demo comes with the saga compiler")
