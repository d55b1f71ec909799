"""Replaying recorded TestState calls: reading them, normalising answers, judging each level."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stepsaga.infra.local.replay import (
    TestStateRecord,
    load_records,
    load_test_state_records,
    replay_test_state,
    replay_test_state_record,
)
from stepsaga.infra.local.replay._normalise import normalise_response, rename_resources

RESOURCE_NAMES = [{"class": "KeyValueBasedTransformer", "match_fn": "resource_name"}]


def _record(request: dict[str, Any], response: dict[str, Any], **extra: Any) -> TestStateRecord:
    return TestStateRecord.from_json(
        {"id": "case", "request": request, "response": response} | extra
    )


def test_resource_names_compare_up_to_a_consistent_renaming() -> None:
    # GIVEN the same answer under two sets of generated names, and one whose execution name
    # is not the one its ARN ends with
    def answer(machine: str, execution: str, name: str) -> dict[str, Any]:
        prefix = "arn:aws:states:us-east-1:111111111111"
        context = {
            "Execution": {"Id": f"{prefix}:express:{machine}:{execution}", "Name": name},
            "StateMachine": {"Id": f"{prefix}:stateMachine:{machine}", "Name": machine},
        }
        return {"status": "SUCCEEDED", "output": json.dumps(context)}

    first = normalise_response(answer("m-1", "e-1", "e-1"), RESOURCE_NAMES, "us-east-1")
    second = normalise_response(answer("m-2", "e-2", "e-2"), RESOURCE_NAMES, "us-east-1")
    other = normalise_response(answer("m-2", "e-2", "x-2"), RESOURCE_NAMES, "us-east-1")
    # THEN the first two are equal once normalised, names numbered in order of appearance
    assert first == second
    assert first["output"]["Execution"] == {
        "Id": "arn:<partition>:states:<region>:111111111111:express:<resource:1>:<resource:2>",
        "Name": "<resource:2>",
    }
    assert other != first


def test_recorded_placeholders_are_numbered_afresh_per_response() -> None:
    # The recorder numbered across all the records of a test: <resource:4> may come first.
    recorded = {"a": "x:<resource:5>:<resource:4>", "b": "<resource:4>"}
    assert rename_resources(recorded) == {"a": "x:<resource:1>:<resource:2>", "b": "<resource:2>"}


def test_region_dates_and_uuids_become_the_recordings_placeholders() -> None:
    response = {
        "status": "SUCCEEDED",
        "output": json.dumps(
            {
                "queue": "https://sqs.eu-west-2.amazonaws.com/1/q",
                "at": "2025-01-01T00:00:00.000Z",
                "id": "00000000-0000-4000-8000-000000000001",
            }
        ),
    }
    normalised = normalise_response(response, [], "eu-west-2")
    assert normalised["output"] == {
        "queue": "https://sqs.<region>.amazonaws.com/1/q",
        "at": "date",
        "id": "<uuid:1>",
    }


def test_an_answer_matching_the_recording_passes_every_level() -> None:
    record = _record(
        {
            "definition": {"Type": "Pass", "Next": "B"},
            "input": '{"a": [1, 2]}',
            "inspectionLevel": "DEBUG",
        },
        {
            "status": "SUCCEEDED",
            "output": {"a": [1, 2]},
            "nextState": "B",
            "inspectionData": {
                "input": {"a": [1, 2]},
                "afterInputPath": {"a": [1, 2]},
                "afterParameters": {"a": [1, 2]},
                "afterResultSelector": {"a": [1, 2]},
                "afterResultPath": {"a": [1, 2]},
            },
        },
    )
    case = replay_test_state_record(record)
    assert case.levels == {"status": True, "output": True, "nextState": True, "inspection": True}
    assert (case.first_difference, case.refused) == ("", False)


def test_each_level_is_judged_on_its_own() -> None:
    record = _record(
        {"definition": {"Type": "Pass", "Next": "B"}},
        {"status": "SUCCEEDED", "output": {}, "nextState": "Elsewhere"},
    )
    case = replay_test_state_record(record)
    assert case.levels == {"status": True, "output": True, "nextState": False, "inspection": True}
    assert case.first_difference == "nextState: expected Elsewhere, got B"


def test_a_refused_call_is_judged_on_its_code_and_message() -> None:
    request = {"definition": {"Type": "Pass", "End": True}, "mock": {"result": "{}"}}
    message = "State type 'Pass' is not supported when a mock is specified"
    exact = _record(request, {"Error": {"Code": "ValidationException", "Message": message}})
    worded = _record(
        request,
        {
            "exception_typename": "ValidationException",
            "exception_value": "An error occurred (ValidationException) when calling the "
            "TestState operation: other words",
        },
    )
    assert replay_test_state_record(exact).levels["output"] is True
    case = replay_test_state_record(worded)
    assert (case.levels["status"], case.levels["output"], case.refused) == (True, False, True)
    assert "other words" in case.first_difference


def _function_call(test: str, output: Any) -> TestStateRecord:
    """A call, recorded by ``test``, of a Task invoking the recordings' Lambda function."""
    task = {
        "Type": "Task",
        "Resource": "arn:aws:lambda:us-east-1:111111111111:function:lambda_func_00000001",
        "End": True,
    }
    request = {
        "definition": task,
        "roleArn": "arn:aws:iam::111111111111:role/r",
        "input": '{"inputData": "HelloWorld"}',
    }
    return TestStateRecord.from_json(
        {
            "id": f"tests/test_scenarios.py::Scenarios::{test}[INFO]#test_case_response",
            "request": request,
            "response": {"status": "SUCCEEDED", "output": output},
        }
    )


def test_an_unmocked_lambda_task_calls_the_function_its_recorded_test_deployed() -> None:
    # GIVEN calls that invoked lambda_func_00000001 on AWS, which was return_bytes_str in one
    # recorded test and id_function in another (tests/conformance/recordings/README.md)
    returns_bytes = _function_call("test_base_lambda_task_state", '"HelloWorld!"')
    identity = _function_call("test_base_lambda_service_task_state", '"HelloWorld!"')
    unknown = _function_call("test_some_other_test", '"HelloWorld!"')
    # WHEN they are replayed
    report = replay_test_state([returns_bytes, identity, unknown])
    # THEN the engine calls the function, and its result, not the recorded one, is judged: the
    # identity function answers its input, and a test that deployed no known function finds
    # no function at all
    assert report.cases[0].levels == dict.fromkeys(
        ("status", "output", "nextState", "inspection"), True
    )
    assert report.cases[1].levels["output"] is False
    assert "HelloWorld" in report.cases[1].first_difference
    assert report.cases[2].first_difference == "status: expected SUCCEEDED, got FAILED"


def test_response_metadata_the_recorder_replaced_by_key_is_replaced_whatever_its_value() -> None:
    # GIVEN a Lambda invoke result as the engine shapes it (headers as lists of one value)
    result = {
        "SdkHttpMetadata": {
            "AllHttpHeaders": {"Date": ["Wed, 01 Jan 2025 00:00:00 GMT"], "Connection": ["x"]},
            "HttpHeaders": {"X-Amzn-Trace-Id": "Root=1-abc", "x-amzn-RequestId": "r-1"},
        },
        "SdkResponseMetadata": {"RequestId": "r-1"},
    }
    # WHEN it is normalised, THEN those keys hold the recorder's placeholders, other keys stay
    normalised = normalise_response({"output": json.dumps(result)}, [], "us-east-1")["output"]
    assert normalised == {
        "SdkHttpMetadata": {
            "AllHttpHeaders": {"Date": "date", "Connection": ["x"]},
            "HttpHeaders": {
                "X-Amzn-Trace-Id": "X-Amzn-Trace-Id",
                "x-amzn-RequestId": "x-amzn-RequestId",
            },
        },
        "SdkResponseMetadata": {"RequestId": "RequestId"},
    }


def test_the_report_counts_answered_and_refused_calls_apart() -> None:
    answered = _record(
        {"definition": {"Type": "Pass", "End": True}}, {"status": "SUCCEEDED", "output": {}}
    )
    refused = _record(
        {"definition": {"Type": "Pass", "End": True}, "mock": {"result": "{}"}},
        {"Error": {"Code": "InvalidDefinition", "Message": "x"}},
    )
    report = replay_test_state([answered, refused]).to_json()
    assert report["answered"] == {
        "total": 1,
        "status": 1,
        "output": 1,
        "nextState": 1,
        "inspection": 1,
    }
    assert report["refused"] == {"total": 1, "code": 0, "message": 0}


def test_test_state_calls_and_executions_are_read_apart(tmp_path: Path) -> None:
    execution = {
        "id": "run",
        "definition": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
        "status": "SUCCEEDED",
        "history": None,
        "output": {},
    }
    call = {"id": "call", "request": {"definition": {"Type": "Pass", "End": True}}, "response": {}}
    path = tmp_path / "mixed.jsonl"
    path.write_text(json.dumps(execution) + "\n" + json.dumps(call) + "\n")
    assert [record.id for record in load_records(path)] == ["run"]
    assert [record.id for record in load_test_state_records(path)] == ["call"]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ({"request": {}, "response": {}}, "no field 'id'"),
        ({"id": "x", "request": [], "response": {}}, "field 'request' must be an object"),
    ],
)
def test_a_malformed_call_is_reported_with_its_location(
    tmp_path: Path, line: dict[str, Any], problem: str
) -> None:
    path = tmp_path / "calls.jsonl"
    path.write_text(json.dumps(line) + "\n")
    with pytest.raises(
        ValueError, match=f"calls.jsonl:1: not a recorded TestState call \\({problem}"
    ):
        load_test_state_records(path)
