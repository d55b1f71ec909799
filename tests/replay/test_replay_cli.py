"""`stepsaga replay`: the JSON report's shape and the human table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from stepsaga.infra.cli import cli


def _recording(tmp_path: Path) -> Path:
    """Two recorded executions: one the engine reproduces, one whose recorded status it cannot."""
    definition = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": 1, "End": True}}}
    good = {
        "id": "good",
        "definition": definition,
        "input": "{}",
        "status": "SUCCEEDED",
        "history": None,
        "output": 1,
    }
    bad = {**good, "id": "bad", "output": 2}
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(json.dumps(record) for record in (good, bad)) + "\n")
    return path


def test_json_report_shape(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["replay", str(_recording(tmp_path)), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert set(report) == {"total", "status", "output", "types", "full", "cases"}
    assert (report["total"], report["status"], report["output"]) == (2, 2, 1)
    good, bad = report["cases"]
    assert set(good) == {"id", "levels", "first_difference"}
    assert good["levels"] == {"status": True, "output": True, "types": True, "full": True}
    assert good["first_difference"] == ""
    assert bad["levels"]["output"] is False
    assert "expected 2, got 1" in bad["first_difference"]


def test_human_report_lists_differences_and_totals(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["replay", str(_recording(tmp_path))])
    assert result.exit_code == 0, result.output
    assert "bad" in result.output
    assert "output 1/2" in result.output


def test_a_folder_of_recordings_is_replayed(tmp_path: Path) -> None:
    _recording(tmp_path)
    result = CliRunner().invoke(cli, ["replay", str(tmp_path), "--json"])
    assert json.loads(result.output)["total"] == 2


def test_a_malformed_line_is_reported_with_its_location(tmp_path: Path) -> None:
    path = tmp_path / "broken.jsonl"
    path.write_text('{"id": 1}\n')
    result = CliRunner().invoke(cli, ["replay", str(path)])
    assert result.exit_code != 0
    assert "broken.jsonl:1" in result.output
    assert "no field 'definition'" in result.output


def _test_state_recording(tmp_path: Path) -> Path:
    """Two TestState calls: one answered as AWS answered, one AWS refused that the engine runs."""
    answered = {
        "id": "answered",
        "request": {"definition": {"Type": "Pass", "End": True}, "input": '{"a": 1}'},
        "response": {"status": "SUCCEEDED", "output": {"a": 1}},
    }
    refused = {
        "id": "refused",
        "request": {"definition": {"Type": "Pass", "End": True}},
        "response": {"Error": {"Code": "ValidationException", "Message": "no"}},
    }
    path = tmp_path / "test_state.jsonl"
    path.write_text("\n".join(json.dumps(call) for call in (answered, refused)) + "\n")
    return path


def test_test_state_recordings_in_a_folder_are_replayed_beside_the_executions(
    tmp_path: Path,
) -> None:
    _recording(tmp_path)
    _test_state_recording(tmp_path)
    result = CliRunner().invoke(cli, ["replay", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["total"] == 2  # the executions' figures stay at the top level
    calls = report["test_state"]
    assert (calls["total"], calls["status"], calls["inspection"]) == (2, 1, 1)
    assert calls["refused"] == {"total": 1, "code": 0, "message": 0}
    assert [case["refused"] for case in calls["cases"]] == [False, True]


def test_human_report_of_test_state_calls_names_each_level(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["replay", str(_test_state_recording(tmp_path))])
    assert result.exit_code == 0, result.output
    assert "2 TestState calls" in result.output
    assert "nextState 1/2" in result.output
    assert "executions" not in result.output  # none were recorded
    assert "of which AWS refused 1: refused alike 0, with AWS's message 0" in result.output


def test_fail_under_reads_the_inspection_level_of_test_state_calls(tmp_path: Path) -> None:
    path = str(_test_state_recording(tmp_path))  # one of two calls matches
    assert CliRunner().invoke(cli, ["replay", path, "--fail-under", "50"]).exit_code == 0
    failed = CliRunner().invoke(cli, ["replay", path, "--fail-under", "60"])
    assert failed.exit_code == 1
    assert "50.0% of the TestState calls match at the inspection level" in failed.stderr


def test_fail_under_turns_differences_into_an_exit_code(tmp_path: Path) -> None:
    path = str(_recording(tmp_path))  # one of two cases matches: 50 %
    assert CliRunner().invoke(cli, ["replay", path, "--fail-under", "50"]).exit_code == 0
    assert CliRunner().invoke(cli, ["replay", path, "--fail-under", "60"]).exit_code == 1


def test_a_binary_file_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "binary.jsonl"
    path.write_bytes(b'{"id": "x", "definition": {}, "status": "SUCCEEDED"}\n\x89PNG\xff\n')
    result = CliRunner().invoke(cli, ["replay", str(path)])
    assert result.exit_code == 1
    assert f"{path}:2: not JSON (it is not UTF-8 text (byte 0x89 at offset 0))" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("[1]", "a record is a JSON object, got an array"),
        ('{"id": "x", "definition": [], "status": "SUCCEEDED"}', "field 'definition' cannot"),
        ('{"id": "x", "definition": {}, "status": 1}', "field 'status' cannot be a number"),
        ('{"id": "x", "definition": {}, "status": "S", "history": [1]}', "list of events"),
        ('{"id": "x"', "not JSON (Expecting"),
    ],
)
def test_a_bad_line_is_named_by_file_line_and_reason(
    tmp_path: Path, line: str, reason: str
) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text("\n" + line + "\n")
    result = CliRunner().invoke(cli, ["replay", str(path)])
    assert result.exit_code == 1
    assert f"{path}:2: " in result.output
    assert reason in result.output


def test_fail_under_on_an_empty_corpus_says_why_it_fails(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["replay", str(tmp_path), "--fail-under", "90"])
    assert result.exit_code == 1
    assert "no recorded executions to replay" in result.stderr
    assert "--fail-under 90 fails" in result.stderr


def test_fail_under_says_the_rate_it_measured(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["replay", str(_recording(tmp_path)), "--fail-under", "60"])
    assert result.exit_code == 1
    assert "50.0% of the cases match at the full level, under --fail-under 60%" in result.stderr
