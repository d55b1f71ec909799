"""`stepsaga synth` writes the template as JSON on stdout, or to a file as JSON or YAML."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import CliRunner

from stepsaga.infra.aws.deploy import synthesise_template
from stepsaga.infra.cli import cli
from stepsaga.infra.project import load_service

EXPECTED = synthesise_template(load_service("stepsaga.examples.orders"))


def test_synth_prints_the_template_as_json() -> None:
    result = CliRunner().invoke(cli, ["synth", "--service", "stepsaga.examples.orders"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == EXPECTED


def test_synth_writes_yaml_for_a_yaml_file_and_json_otherwise(tmp_path: Path) -> None:
    for name, load in (
        ("t.yaml", yaml.safe_load),
        ("t.yml", yaml.safe_load),
        ("t.json", json.loads),
    ):
        out = tmp_path / name
        result = CliRunner().invoke(cli, ["synth", "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert load(out.read_text(encoding="utf-8")) == EXPECTED
    assert not (tmp_path / "t.yaml").read_text(encoding="utf-8").lstrip().startswith("{")


def test_synth_names_a_missing_service_without_a_traceback() -> None:
    result = CliRunner().invoke(cli, ["synth", "--service", "no_such_service_here"])
    assert result.exit_code == 1
    assert "no_such_service_here" in result.output
    assert "Traceback" not in result.output
