"""`stepsaga bench`."""

from __future__ import annotations

import click

from infra.cli._unavailable import not_available_yet


@click.command()
def bench() -> None:
    """Not available yet: the benchmark suite comes with the embedded engine."""
    not_available_yet("bench", "the benchmark suite comes with the embedded engine")
