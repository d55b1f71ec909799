"""Every subcommand answers --help, and unbuilt ones say so and exit non-zero."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from stepsaga.infra.cli import cli

SUBCOMMANDS = ("demo", "render", "replay", "bench", "local", "serve", "synth")


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_every_subcommand_has_help(name: str) -> None:
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_top_level_help_lists_every_subcommand() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in SUBCOMMANDS:
        assert name in result.output
