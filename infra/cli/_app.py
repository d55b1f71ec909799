"""The `stepsaga` command group: every subcommand that works, each from its own module."""

from __future__ import annotations

import click

from stepsaga.infra.cli._bench import bench
from stepsaga.infra.cli._demo import demo
from stepsaga.infra.cli._deploy import deploy
from stepsaga.infra.cli._local import local
from stepsaga.infra.cli._package import package
from stepsaga.infra.cli._render import render
from stepsaga.infra.cli._replay import replay
from stepsaga.infra.cli._serve import serve
from stepsaga.infra.cli._synth import synth
from stepsaga.infra.cli._token import token

__all__ = ("cli",)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="stepsaga")
def cli() -> None:
    """stepsaga: CQRS sagas in Python, compiled to AWS Step Functions and run locally."""


for _command in (demo, render, replay, bench, local, serve, token, synth, package, deploy):
    cli.add_command(_command)
