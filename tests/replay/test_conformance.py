"""Replay AWS's recorded executions and TestState calls: the floors the engine must keep."""

from __future__ import annotations

from pathlib import Path

from stepsaga.infra.local.replay import (
    load_records,
    load_test_state_records,
    replay,
    replay_test_state,
)
from tests.conformance import conformance_file


def test_jsonpath_recordings_meet_the_floors(conformance: Path) -> None:
    # GIVEN 229 executions recorded on AWS
    records = load_records(conformance / "jsonpath.jsonl")
    assert len(records) == 229
    # WHEN each is replayed, Tasks answered from the recording
    report = replay(records)
    # THEN status and output match for >= 98 %, full histories for >= 90 %
    failures = [f"{c.id}: {c.first_difference}" for c in report.cases if not c.levels["full"]]
    assert report.rate("status") >= 0.98, failures
    assert report.rate("output") >= 0.98, failures
    assert report.rate("full") >= 0.90, failures


def test_choice_operator_recordings_match_on_output(conformance: Path) -> None:
    report = replay(load_records(conformance / "choice_operators.jsonl"))
    wrong = [f"{c.id}: {c.first_difference}" for c in report.cases if not c.levels["output"]]
    assert report.rate("output") >= 0.98, wrong


def test_jsonata_recordings_replay(conformance: Path) -> None:
    report = replay(load_records(conformance / "jsonata.jsonl"))
    failures = [f"{c.id}: {c.first_difference}" for c in report.cases if not c.levels["full"]]
    assert report.rate("status") >= 0.95, failures
    assert report.rate("full") >= 0.90, failures


def test_activity_recordings_replay_with_workers_answering_as_recorded(conformance: Path) -> None:
    # GIVEN the executions AWS ran on activities (one answered, one with heartbeats, one whose
    # worker went silent, one on a deleted activity)
    records = [r for r in load_records(conformance / "services.jsonl") if "/activities/" in r.id]
    assert len(records) == 4
    # WHEN replayed, the engine's workers taking each task as the recorded worker did
    report = replay(records)
    # THEN every history matches AWS's, event for event
    failures = [f"{c.id}: {c.first_difference}" for c in report.cases if not c.levels["full"]]
    assert report.passed("full") == 4, failures


def test_test_state_recordings_meet_the_floor() -> None:
    # GIVEN 140 TestState calls recorded on AWS: 100 answers and 40 refusals
    records = load_test_state_records(conformance_file("test_state.jsonl"))
    assert len(records) == 140
    # WHEN each call is made again offline (an unmocked Lambda answered from the recording)
    report = replay_test_state(records)
    # THEN status, output and next state match AWS's for >= 95 % (a refusal: its code, its
    # message); the inspection data too, held to the same floor so that it cannot slip
    failures = [f"{c.id}: {c.first_difference}" for c in report.cases if not all(c.levels.values())]
    for level in ("status", "output", "nextState", "inspection"):
        assert report.rate(level) >= 0.95, (level, failures)
