"""`stepsaga demo` (until the engine lands) compiles, validates and shows the reference saga."""

from __future__ import annotations

import json

from click.testing import CliRunner

from examples.orders.sagas import PLACE_ORDER
from infra.cli import cli
from workflows.saga import compile_saga


def test_demo_shows_each_step_and_the_validated_definition() -> None:
    result = CliRunner().invoke(cli, ["demo"])
    assert result.exit_code == 0
    for step in PLACE_ORDER.steps:
        assert step.name in result.stdout
    assert "ReleaseStock" in result.stdout
    assert "pivot" in result.stdout
    assert "validated" in result.stdout


def test_demo_json_prints_the_compiled_asl() -> None:
    result = CliRunner().invoke(cli, ["demo", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == compile_saga(PLACE_ORDER).to_dict()
