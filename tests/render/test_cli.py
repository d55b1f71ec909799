"""`stepsaga render` finds sagas by name or module:attribute and renders any valid ASL file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from stepsaga.examples.orders.sagas import PLACE_ORDER
from stepsaga.infra.cli import cli
from stepsaga.workflows.saga import compile_saga
from tests.project.services import SAGAS, write_service


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["render", *args])
    return result.exit_code, result.stdout, result.stderr


def test_registered_saga_renders_as_mermaid() -> None:
    code, out, _ = _run("PlaceOrder", "--format", "mermaid")
    assert code == 0
    assert out.startswith("flowchart TD")
    assert "CompensateReserveStock" in out


def test_module_attribute_renders_the_compiled_asl() -> None:
    code, out, _ = _run("stepsaga.examples.orders.sagas:PLACE_ORDER", "--format", "asl")
    assert code == 0
    assert json.loads(out) == compile_saga(PLACE_ORDER).to_dict()


def test_deployment_flag_writes_substitution_placeholders() -> None:
    code, out, _ = _run("PlaceOrder", "--deployment")
    assert code == 0
    assert '"FunctionName": "${ReserveStockFunctionArn}"' in out
    assert '"FunctionName": "ReserveStock"' not in out


def test_unknown_saga_lists_the_known_ones() -> None:
    code, _, err = _run("Nope")
    assert code != 0
    assert "Nope" in err
    assert "PlaceOrder" in err


def _write_service(root: Path, package: str, step_name: str) -> None:
    sagas = SAGAS.replace('Step("Pack"', f'Step("{step_name}"')
    write_service(root, package, sagas=sagas)


def test_service_option_picks_the_module_that_exposes_sagas(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_service(tmp_path, "svc_option", "Pack")
    monkeypatch.syspath_prepend(str(tmp_path))
    code, out, _ = _run("ShipIt", "--service", "svc_option", "--format", "dot")
    assert code == 0
    assert '"Pack"' in out


def test_service_comes_from_pyproject_tool_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a project whose pyproject.toml names its service module
    _write_service(tmp_path, "svc_pyproject", "Pack")
    (tmp_path / "pyproject.toml").write_text('[tool.stepsaga]\nservice = "svc_pyproject"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    # WHEN rendering by saga name THEN that service's saga is found
    code, out, _ = _run("ShipIt")
    assert code == 0
    assert json.loads(out)["States"]["Pack"]["Parameters"]["FunctionName"] == "Pack"


def test_refused_saga_exits_non_zero_naming_step_and_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_service(tmp_path, "svc_broken", "bad name")
    monkeypatch.syspath_prepend(str(tmp_path))
    code, out, err = _run("svc_broken.sagas:SAGAS", "--format", "asl")
    assert code != 0  # not a Saga
    code, out, err = _run("ShipIt", "--service", "svc_broken")
    assert code == 1
    assert out == ""
    assert "step 'bad name': [step-name]" in err


def test_a_service_that_cannot_load_is_one_clear_line_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a project whose pyproject.toml misspells the table's key
    (tmp_path / "pyproject.toml").write_text('[tool.stepsaga]\nservise = "x"\n')
    monkeypatch.chdir(tmp_path)
    # WHEN rendering by name  THEN the command exits 1 naming the file and the key
    code, out, err = _run("ShipIt")
    assert (code, out) == (1, "")
    assert "unknown key 'servise' (did you mean 'service'?)" in err
    assert "Traceback" not in err
    # ... and a --service that does not exist is named as such
    code, _, err = _run("ShipIt", "--service", "no_such_service")
    assert code == 1
    assert "no module named 'no_such_service'" in err


def test_file_renders_any_valid_definition(tmp_path: Path) -> None:
    path = tmp_path / "machine.json"
    path.write_text(json.dumps({"StartAt": "Only", "States": {"Only": {"Type": "Succeed"}}}))
    code, out, _ = _run("--file", str(path), "--format", "mermaid")
    assert code == 0
    assert 'Only(["Only"])' in out


def test_file_with_invalid_definition_prints_each_pointer(tmp_path: Path) -> None:
    # GIVEN a definition whose Next names a missing state and whose Retry AWS would reject
    bad = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Next": "Missing"},
            "B": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Retry": [{"ErrorEquals": ["States.ALL"], "BackoffRate": 0.5}],
                "End": True,
            },
        },
    }
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    # WHEN rendering it THEN nothing is drawn, the problems point into the file, exit is 1
    code, out, err = _run("--file", str(path), "--format", "dot")
    assert code == 1
    assert out == ""
    assert "/States/A/Next" in err
    assert "/States/B/Retry/0/BackoffRate" in err


def test_file_that_is_not_json_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{ not json")
    code, _, err = _run("--file", str(path))
    assert code == 1
    assert "broken.json" in err


@pytest.mark.parametrize("args", [(), ("PlaceOrder", "--file", __file__)])
def test_saga_and_file_are_exclusive(args: tuple[str, ...]) -> None:
    code, _, err = _run(*args)
    assert code == 2
    assert "either SAGA or --file" in err


@pytest.mark.parametrize("reference", [":X", "module:", ":"])
def test_a_reference_without_module_or_attribute_is_a_usage_error(reference: str) -> None:
    code, _, err = _run(reference)
    assert code == 2
    assert "module:attribute, with both parts" in err
    assert "Traceback" not in err


def test_a_binary_file_is_refused_with_its_name_and_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "image.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff")
    code, _, err = _run("--file", str(path))
    assert code == 1
    assert str(path) in err
    assert "not UTF-8 text (byte 0x89 at offset 0)" in err
