"""Normalising a replayed history to a recording's conventions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from stepsaga.infra.local.replay._normalise import (
    json_equal,
    normalise_history,
    order_parallel_events,
)


def _event(event_id: int, kind: str, **details: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"id": event_id, "previousEventId": event_id - 1, "type": kind}
    if details:
        event["stateEnteredEventDetails"] = details
    return event


def test_json_text_equals_the_value_it_encodes() -> None:
    assert json_equal('["a", "b"]', '["a","b"]')
    assert json_equal({"Cause": '{"x": 1}'}, {"Cause": '{"x":1}'})
    assert json_equal({"a": 1}, '{"a":1}')
    assert not json_equal('"a"', '"b"')


def test_placeholders_replace_what_recordings_hide() -> None:
    events = [
        {
            "timestamp": datetime(2025, 1, 1, tzinfo=UTC),
            "type": "TaskScheduled",
            "id": 1,
            "previousEventId": 0,
            "taskScheduledEventDetails": {
                "region": "us-east-1",
                "parameters": '{"FunctionName":"arn:aws:lambda:us-east-1:1:function:f"}',
            },
        }
    ]
    (event,) = normalise_history(events, [])
    assert event["timestamp"] == "timestamp"
    details = event["taskScheduledEventDetails"]
    assert details["region"] == "<region>"
    assert details["parameters"] == {"FunctionName": "arn:<partition>:lambda:<region>:1:function:f"}


def test_parallel_events_are_sorted_and_closing_events_dropped_like_the_recorder() -> None:
    events = [
        _event(1, "ExecutionStarted"),
        _event(2, "ParallelStateEntered", name="P"),
        _event(3, "ParallelStateStarted"),
        _event(4, "PassStateEntered", name="B"),
        _event(5, "PassStateEntered", name="A"),
        _event(6, "ParallelStateSucceeded"),
        _event(7, "ParallelStateExited", name="P"),
        _event(8, "ExecutionSucceeded"),
    ]
    ordered = order_parallel_events(events)
    assert [(e["id"], e["type"]) for e in ordered] == [
        (1, "ExecutionStarted"),
        (2, "ParallelStateEntered"),
        (3, "ParallelStateStarted"),
        ([0], "PassStateEntered"),
        ([0], "PassStateEntered"),
        (7, "ParallelStateExited"),
        (8, "ExecutionSucceeded"),
    ]
    names = [e["stateEnteredEventDetails"]["name"] for e in ordered[3:5]]
    assert names == ["A", "B"]


def test_regex_and_jsonpath_transformers_apply() -> None:
    events = [
        {
            "timestamp": datetime(2025, 1, 1, tzinfo=UTC),
            "type": "PassStateExited",
            "id": 2,
            "previousEventId": 1,
            "stateExitedEventDetails": {"output": '{"StartTime":"x","v":"secret-1"}'},
        }
    ]
    transformers = [
        {"class": "JsonpathTransformer", "jsonpath": "$..StartTime", "replacement": "<start>"},
        {"regex": "secret-1", "replacement": "<s>"},
    ]
    (event,) = normalise_history(events, transformers)
    assert event["stateExitedEventDetails"]["output"] == {"StartTime": "<start>", "v": "<s>"}


def test_values_found_by_reference_become_numbered_placeholders_everywhere() -> None:
    # GIVEN a history whose task token and role name the recorder replaced by reference
    events = [
        {
            "timestamp": datetime(2025, 1, 1, tzinfo=UTC),
            "type": "ExecutionStarted",
            "id": 1,
            "previousEventId": 0,
            "executionStartedEventDetails": {
                "input": '{"TopicArn":"arn:aws:sns:us-east-1:111111111111:topic-a"}',
                "roleArn": "arn:aws:iam::111111111111:role/sfn-role",
            },
        },
        {
            "timestamp": datetime(2025, 1, 1, tzinfo=UTC),
            "type": "TaskScheduled",
            "id": 2,
            "previousEventId": 1,
            "taskScheduledEventDetails": {
                "parameters": '{"Message":{"TaskToken":"tok-1","Again":"tok-1"},"Other":"tok-2"}',
            },
        },
    ]
    transformers = [
        {"class": "KeyValueBasedTransformer"},
        {"class": "JsonpathTransformer", "jsonpath": "$..TaskToken", "replacement": "task_token"},
        {"regex": "arn:aws:iam::111111111111:role/sfn-role", "replacement": "snf_role_arn"},
    ]
    recorded = [{"parameters": "<task_token:1>"}]
    # WHEN normalised
    started, scheduled = normalise_history(events, transformers, recorded)
    # THEN each ARN's resource name is <resource:N> in the order the recorder walked, the
    # token is <task_token:1> wherever it appears, and the role's regex no longer matches
    details = started["executionStartedEventDetails"]
    assert details["input"]["TopicArn"] == "arn:<partition>:sns:<region>:111111111111:<resource:1>"
    assert details["roleArn"] == "arn:<partition>:iam::111111111111:role/<resource:2>"
    parameters = scheduled["taskScheduledEventDetails"]["parameters"]
    assert parameters == {
        "Message": {"TaskToken": "<task_token:1>", "Again": "<task_token:1>"},
        "Other": "tok-2",
    }


def test_a_jsonpath_replacement_the_recording_shows_in_place_is_made_in_place() -> None:
    events = [
        {
            "timestamp": datetime(2025, 1, 1, tzinfo=UTC),
            "type": "TaskSucceeded",
            "id": 5,
            "previousEventId": 4,
            "taskSucceededEventDetails": {"output": '{"StartDate":"2025-01-01","Again":"x"}'},
        }
    ]
    transformers = [
        {"class": "JsonpathTransformer", "jsonpath": "$..StartDate", "replacement": "start-date"}
    ]
    recorded = [{"output": {"StartDate": "start-date"}}]
    (event,) = normalise_history(events, transformers, recorded)
    assert event["taskSucceededEventDetails"]["output"] == {"StartDate": "start-date", "Again": "x"}
