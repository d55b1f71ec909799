"""`stepsaga render`."""

from __future__ import annotations

import click

from infra.cli._unavailable import not_available_yet


@click.command()
def render() -> None:
    """Not available yet: rendering comes with the saga compiler."""
    not_available_yet("render", "rendering comes with the saga compiler")
