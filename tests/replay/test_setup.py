"""A record's `setup`: the S3 objects its distributed Map reads are there when it replays."""

from __future__ import annotations

import json
from typing import Any

from stepsaga.infra.local.replay import Record, replay

_MAP_OVER_S3 = {
    "StartAt": "M",
    "States": {
        "M": {
            "Type": "Map",
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "P",
                "States": {"P": {"Type": "Pass", "End": True}},
            },
            "ItemReader": {
                "Resource": "arn:aws:states:::s3:getObject",
                "ReaderConfig": {"InputType": "JSON"},
                "Parameters": {"Bucket": "b-1", "Key": "items.json"},
            },
            "End": True,
        }
    },
}


def _record(setup: dict[str, Any]) -> Record:
    return Record.from_json(
        {
            "id": "map-over-s3",
            "definition": _MAP_OVER_S3,
            "input": "{}",
            "status": "SUCCEEDED",
            "history": None,
            "output": [{"n": 1}, {"n": 2}],
            "setup": setup,
        }
    )


def test_setup_s3_calls_seed_what_the_item_reader_reads() -> None:
    # GIVEN a record whose setup created the bucket and put the items the Map reads
    calls = [
        {"svc": "s3", "op": "create_bucket", "kwargs": {"Bucket": "b-1"}},
        {
            "svc": "s3",
            "op": "put_object",
            "kwargs": {
                "Bucket": "b-1",
                "Key": "items.json",
                "Body": json.dumps([{"n": 1}, {"n": 2}]),
            },
        },
        # answered from the recorded history on replay: not made
        {"svc": "sqs", "op": "create_queue", "kwargs": {"QueueName": "q"}},
    ]
    # WHEN it is replayed
    report = replay([_record({"calls": calls})])
    # THEN the Map read them, and the output matches
    assert report.cases[0].levels["output"], report.cases[0].first_difference


def test_without_setup_the_item_reader_fails_and_the_case_says_so() -> None:
    report = replay([_record({})])
    case = report.cases[0]
    assert not case.levels["status"]
    assert "FAILED" in case.first_difference


def test_a_setup_call_s3_refuses_is_the_case_s_difference() -> None:
    calls = [{"svc": "s3", "op": "put_object", "kwargs": {"Bucket": "missing", "Key": "k"}}]
    case = replay([_record({"calls": calls})]).cases[0]
    assert not any(case.levels.values())
    assert case.first_difference.startswith("setup: S3 refused a call")
