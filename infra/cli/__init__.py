"""The `stepsaga` command line. Each subcommand lives in its own module beside this one.

The command line needs the `stepsaga[local]` extra (click, rich, the engine's libraries), which
a Lambda's runtime install lacks; so this package imports none of it until it is used: `main`
says what to install instead of failing with a traceback, and `cli` (the click group, for
`click.testing`) is imported on first access.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import click

__all__ = ("cli", "main")

_MISSING_EXTRA = "stepsaga's command line needs the local extra: pip install 'stepsaga[local]'"
"""What `main` prints, and exits 2 with, when click or rich is not installed."""


def main() -> None:
    """Console-script entry point."""
    try:
        import click  # noqa: F401  (only checked for here)
        import rich  # noqa: F401
    except ImportError:
        sys.stderr.write(_MISSING_EXTRA + "\n")
        raise SystemExit(2) from None
    from stepsaga.infra.cli._app import cli

    cli()


def __getattr__(name: str) -> click.Group:
    # `from stepsaga.infra.cli import cli` imports click then, not when `main` is looked up.
    if name == "cli":
        from stepsaga.infra.cli._app import cli

        return cli
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
