"""What a subcommand that a later issue builds says until it exists."""

from __future__ import annotations

import click


def not_available_yet(command: str, what: str) -> None:
    """Tell the user plainly that `command` is not built yet, and exit non-zero."""
    click.echo(f"stepsaga {command}: not available yet ({what}).", err=True)
    raise SystemExit(2)
