"""Every command that appears in `--help` works and says what it does; without the local extra
the `stepsaga` script says what to install instead of failing with a traceback."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from stepsaga.infra.cli import cli

SUBCOMMANDS = (
    "demo",
    "render",
    "replay",
    "bench",
    "local",
    "serve",
    "token",
    "synth",
    "package",
    "deploy",
)


def test_top_level_help_lists_exactly_the_commands_that_work() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    section = result.output.split("Commands:", 1)[1].splitlines()
    listed = [line.split()[0] for line in section if line.startswith("  ") and line.strip()]
    assert listed == sorted(SUBCOMMANDS)
    assert set(cli.commands) == set(SUBCOMMANDS)


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_every_command_has_help_with_its_description(name: str) -> None:
    command = cli.commands[name]
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0
    assert command.help, f"{name} has no docstring"
    first_line = command.help.strip().splitlines()[0]
    assert " ".join(first_line.split()[:4]) in " ".join(result.output.split())


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_every_option_has_help_text(name: str) -> None:
    options = [p for p in cli.commands[name].params if isinstance(p, click.Option)]
    assert [o.name for o in options if not o.help] == []


@pytest.mark.parametrize("name", ("demo", "render", "local", "synth", "package", "deploy"))
def test_commands_that_take_a_service_offer_the_service_option(name: str) -> None:
    result = CliRunner().invoke(cli, [name, "--help"])
    assert "--service MODULE" in result.output
    assert "[tool.stepsaga]" in result.output


HIDE_CLICK_AND_RUN_THE_SCRIPT = """
import sys
from importlib.metadata import entry_points

sys.modules["click"] = None  # as in an install without the local extra
(script,) = entry_points(group="console_scripts", name="stepsaga")
script.load()()
"""


def test_without_click_the_script_names_the_extra_to_install() -> None:
    # GIVEN an interpreter where click cannot be imported  WHEN the console script runs
    done = subprocess.run(
        [sys.executable, "-c", HIDE_CLICK_AND_RUN_THE_SCRIPT],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # THEN it prints one line saying what to install, and exits 2
    assert done.returncode == 2
    assert done.stderr == (
        "stepsaga's command line needs the local extra: pip install 'stepsaga[local]'\n"
    )
    assert done.stdout == ""
