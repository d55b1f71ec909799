"""Distributed Map over S3: readers, batches, results written back, tolerance, map runs."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from typing import Any

import botocore.session
import pytest

from stepsaga.infra.local.stepfunctions import (
    DefinitionError,
    InvalidMapRunUpdate,
    LocalStepFunctions,
    MapRunDoesNotExist,
)

PASS: dict[str, Any] = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


def distributed(
    processor: dict[str, Any] = PASS, execution_type: str = "STANDARD", **fields: Any
) -> dict[str, Any]:
    """A machine of one distributed Map."""
    body = {
        **processor,
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": execution_type},
    }
    state = {"Type": "Map", "ItemProcessor": body, "End": True, **fields}
    return {"StartAt": "M", "States": {"M": state}}


def reader(key: str, input_type: str | None = None, **config: Any) -> dict[str, Any]:
    reader_config = {**({"InputType": input_type} if input_type else {}), **config}
    return {
        "Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": reader_config,
        "Parameters": {"Bucket.$": "$.bucket", "Key": key},
    }


@pytest.fixture
def bucket(client: Callable[[str], Any], unique: Callable[[str], str]) -> str:
    name = unique("items")
    client("s3").create_bucket(Bucket=name)
    return name


@pytest.fixture
def put(client: Callable[[str], Any], bucket: str) -> Callable[[str, str | bytes], None]:
    return lambda key, body: client("s3").put_object(Bucket=bucket, Key=key, Body=body)


def test_a_json_array_s_elements_are_the_items_each_a_child_execution(
    sfn: LocalStepFunctions, bucket: str, put: Callable[[str, str | bytes], None]
) -> None:
    # GIVEN a JSON array in S3
    put("items.json", json.dumps([{"n": 1}, {"n": 2}, {"n": 3}]))
    # WHEN a distributed Map reads it
    ex = sfn.run(distributed(ItemReader=reader("items.json", "JSON")), {"bucket": bucket})
    # THEN each element ran as a child execution; the parent records only the map run
    assert ex.status == "SUCCEEDED", ex.cause
    assert ex.output == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert ex.event_types == [
        "ExecutionStarted",
        "MapStateEntered",
        "MapStateStarted",
        "MapRunStarted",
        "MapRunSucceeded",
        "MapStateSucceeded",
        "MapStateExited",
        "ExecutionSucceeded",
    ]
    (run,) = sfn.list_map_runs(ex)
    assert run.status == "SUCCEEDED"
    assert [child.status for child in run.children] == ["SUCCEEDED"] * 3
    assert run.children[0].event_types[0] == "ExecutionStarted"
    described = run.describe()
    assert described["itemCounts"]["succeeded"] == 3
    assert described["mapRunArn"] == run.arn and ":mapRun:" in run.arn
    assert sfn.describe_map_run(run.arn) is run
    assert sfn.describe_execution(run.children[1].arn) is run.children[1]
    assert run.children[1].arn not in {execution.arn for execution in sfn.executions}
    assert run.listed() == {
        "executionArn": ex.arn,
        "mapRunArn": run.arn,
        "stateMachineArn": run.state_machine_arn,
        "startDate": run.start_date,
        "stopDate": run.stop_date,
    }
    assert run.state_machine_arn.endswith(":stateMachine:" + ex.arn.split(":")[-2] + "/M")


def test_jsonl_lines_are_the_items(
    sfn: LocalStepFunctions, bucket: str, put: Callable[[str, str | bytes], None]
) -> None:
    put("items.jsonl", '{"a": 1}\n\n{"a": 2}\n')
    ex = sfn.run(distributed(ItemReader=reader("items.jsonl", "JSONL")), {"bucket": bucket})
    assert ex.status == "SUCCEEDED", ex.cause
    assert ex.output == [{"a": 1}, {"a": 2}]


def test_csv_rows_are_keyed_by_the_first_row_or_the_given_headers(
    sfn: LocalStepFunctions, bucket: str, put: Callable[[str, str | bytes], None]
) -> None:
    put("rows.csv", "id,name\n1,ann\n2\n")
    first_row = sfn.run(
        distributed(ItemReader=reader("rows.csv", "CSV", CSVHeaderLocation="FIRST_ROW")),
        {"bucket": bucket},
    )
    assert first_row.status == "SUCCEEDED", first_row.cause
    # a short row's missing fields are empty text, as AWS gives them
    assert first_row.output == [{"id": "1", "name": "ann"}, {"id": "2", "name": ""}]
    given = sfn.run(
        distributed(
            ItemReader=reader("rows.csv", "CSV", CSVHeaderLocation="GIVEN", CSVHeaders=["x", "y"])
        ),
        {"bucket": bucket},
    )
    assert given.status == "SUCCEEDED", given.cause
    assert given.output[0] == {"x": "id", "y": "name"}


def test_max_items_keeps_the_first_items(
    sfn: LocalStepFunctions, bucket: str, put: Callable[[str, str | bytes], None]
) -> None:
    put("items.json", json.dumps(list(range(10))))
    ex = sfn.run(
        distributed(ItemReader=reader("items.json", "JSON", MaxItems=4)), {"bucket": bucket}
    )
    assert ex.output == [0, 1, 2, 3]


def test_list_objects_v2_gives_one_item_per_object(
    sfn: LocalStepFunctions, bucket: str, put: Callable[[str, str | bytes], None]
) -> None:
    put("in/a.txt", "aa")
    put("in/b.txt", "bbbb")
    put("other.txt", "x")
    definition = distributed(
        ItemReader={
            "Resource": "arn:aws:states:::s3:listObjectsV2",
            "Parameters": {"Bucket.$": "$.bucket", "Prefix": "in/"},
        }
    )
    ex = sfn.run(definition, {"bucket": bucket})
    assert ex.status == "SUCCEEDED", ex.cause
    assert [(item["Key"], item["Size"]) for item in ex.output] == [("in/a.txt", 2), ("in/b.txt", 4)]
    assert set(ex.output[0]) == {"Etag", "Key", "LastModified", "Size", "StorageClass"}
    assert isinstance(ex.output[0]["LastModified"], int)


def test_a_manifest_s_inventory_files_are_read_by_its_schema(
    sfn: LocalStepFunctions, bucket: str, put: Callable[[str, str | bytes], None]
) -> None:
    put("inv/data.csv.gz", gzip.compress(b'"b","k1","10"\n"b","k2","20"\n'))
    put(
        "inv/manifest.json",
        json.dumps(
            {
                "sourceBucket": "b",
                "destinationBucket": f"arn:aws:s3:::{bucket}",
                "fileFormat": "CSV",
                "fileSchema": "Bucket, Key, Size",
                "files": [{"key": "inv/data.csv.gz"}],
            }
        ),
    )
    ex = sfn.run(
        distributed(ItemReader=reader("inv/manifest.json", "MANIFEST")), {"bucket": bucket}
    )
    assert ex.status == "SUCCEEDED", ex.cause
    assert ex.output == [
        {"Bucket": "b", "Key": "k1", "Size": "10"},
        {"Bucket": "b", "Key": "k2", "Size": "20"},
    ]


def test_a_missing_object_fails_the_map_run_with_item_reader_failed(
    sfn: LocalStepFunctions, bucket: str
) -> None:
    ex = sfn.run(distributed(ItemReader=reader("absent.json", "JSON")), {"bucket": bucket})
    assert (ex.status, ex.error) == ("FAILED", "States.ItemReaderFailed")
    assert ex.event_types[-3:] == ["MapRunFailed", "MapStateFailed", "ExecutionFailed"]


def test_an_object_that_is_not_a_json_array_fails_the_reader(
    sfn: LocalStepFunctions, bucket: str, put: Callable[[str, str | bytes], None]
) -> None:
    put("object.json", '{"not": "an array"}')
    ex = sfn.run(distributed(ItemReader=reader("object.json", "JSON")), {"bucket": bucket})
    assert (ex.status, ex.error) == ("FAILED", "States.ItemReaderFailed")


def test_item_batcher_groups_items_with_the_batch_input(sfn: LocalStepFunctions) -> None:
    # GIVEN five items, batches of two, and a BatchInput
    definition = distributed(
        ItemsPath="$.items",
        ItemBatcher={"MaxItemsPerBatch": 2, "BatchInput": {"run.$": "$.run"}},
    )
    # WHEN the Map runs
    ex = sfn.run(definition, {"items": [1, 2, 3, 4, 5], "run": "r1"})
    # THEN each child got a batch
    assert ex.status == "SUCCEEDED", ex.cause
    assert ex.output == [
        {"Items": [1, 2], "BatchInput": {"run": "r1"}},
        {"Items": [3, 4], "BatchInput": {"run": "r1"}},
        {"Items": [5], "BatchInput": {"run": "r1"}},
    ]


def test_item_batcher_keeps_each_batch_within_max_input_bytes(sfn: LocalStepFunctions) -> None:
    items = ["x" * 10] * 6  # 12 bytes of JSON each
    ex = sfn.run(
        distributed(ItemsPath="$.items", ItemBatcher={"MaxInputBytesPerBatch": 40}),
        {"items": items},
    )
    assert ex.status == "SUCCEEDED", ex.cause
    sizes = [len(json.dumps(batch, separators=(",", ":"))) for batch in ex.output]
    assert all(size <= 40 for size in sizes), sizes
    assert sum(len(batch["Items"]) for batch in ex.output) == 6


FAILS_ON_ODD: dict[str, Any] = {
    "StartAt": "Odd?",
    "States": {
        "Odd?": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.odd", "BooleanEquals": True, "Next": "Fail"}],
            "Default": "Ok",
        },
        "Fail": {"Type": "Fail", "Error": "Item.Odd", "Cause": "odd"},
        "Ok": {"Type": "Pass", "End": True},
    },
}


def _items(count: int, odd: set[int]) -> list[dict[str, Any]]:
    return [{"i": i, "odd": i in odd} for i in range(count)]


def test_failures_within_the_tolerated_count_let_the_map_succeed(
    sfn: LocalStepFunctions,
) -> None:
    definition = distributed(FAILS_ON_ODD, ItemsPath="$.items", ToleratedFailureCount=1)
    ex = sfn.run(definition, {"items": _items(3, {1})})
    assert ex.status == "SUCCEEDED", ex.cause
    assert ex.output[1] == {"Error": "Item.Odd", "Cause": "odd"}
    (run,) = sfn.list_map_runs(ex)
    assert run.describe()["itemCounts"]["failed"] == 1


def test_failures_past_the_tolerated_percentage_fail_the_map(sfn: LocalStepFunctions) -> None:
    definition = distributed(FAILS_ON_ODD, ItemsPath="$.items", ToleratedFailurePercentage=10)
    ex = sfn.run(definition, {"items": _items(4, {1, 3})})
    assert (ex.status, ex.error) == ("FAILED", "States.ExceedToleratedFailureThreshold")
    assert "MapRunFailed" in ex.event_types
    (run,) = sfn.list_map_runs(ex)
    assert run.status == "FAILED"


def test_max_concurrency_bounds_the_children_running_at_once(sfn: LocalStepFunctions) -> None:
    # GIVEN children that each wait a minute, two at a time
    waits = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}}}
    ex = sfn.start(distributed(waits, ItemsPath="$.items", MaxConcurrency=2), {"items": [1] * 5})
    (run,) = sfn.list_map_runs(ex)
    assert run.describe()["itemCounts"]["running"] == 2
    assert run.describe()["itemCounts"]["pending"] == 3
    # WHEN it runs to its end
    ex = sfn.wait(ex)
    # THEN the five ran in three rounds of a minute
    assert ex.status == "SUCCEEDED", ex.cause
    started = ex.history[0]["timestamp"]
    assert (ex.history[-1]["timestamp"] - started).total_seconds() == 180


def test_update_map_run_raises_max_concurrency_while_it_runs(sfn: LocalStepFunctions) -> None:
    waits = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}}}
    ex = sfn.start(distributed(waits, ItemsPath="$.items", MaxConcurrency=1), {"items": [1] * 4})
    (run,) = sfn.list_map_runs(ex)
    sfn.update_map_run(run.arn, max_concurrency=4)
    assert run.describe()["itemCounts"]["running"] == 4
    ex = sfn.wait(ex)
    assert (ex.history[-1]["timestamp"] - ex.history[0]["timestamp"]).total_seconds() == 60


def test_update_map_run_refuses_limits_out_of_range_naming_them(sfn: LocalStepFunctions) -> None:
    with pytest.raises(InvalidMapRunUpdate) as raised:
        sfn.update_map_run("arn:x", tolerated_failure_percentage=101)
    assert raised.value.field == "toleratedFailurePercentage"
    assert raised.value.code == "ValidationException"
    with pytest.raises(MapRunDoesNotExist):
        sfn.update_map_run("arn:aws:states:us-east-1:123456789012:mapRun:m/x:y", max_concurrency=1)


def test_express_children_run_too(sfn: LocalStepFunctions) -> None:
    ex = sfn.run(distributed(execution_type="EXPRESS", ItemsPath="$.items"), {"items": [1, 2]})
    assert ex.status == "SUCCEEDED", ex.cause
    assert ex.output == [1, 2]


def test_result_writer_writes_the_results_and_their_manifest_to_s3(
    sfn: LocalStepFunctions, bucket: str, client: Callable[[str], Any]
) -> None:
    # GIVEN a Map whose failures are tolerated, writing its results to S3
    definition = distributed(
        FAILS_ON_ODD,
        ItemsPath="$.items",
        ToleratedFailureCount=5,
        ResultWriter={
            "Resource": "arn:aws:states:::s3:putObject",
            "Parameters": {"Bucket.$": "$.bucket", "Prefix": "out"},
        },
    )
    # WHEN it runs
    ex = sfn.run(definition, {"items": _items(3, {2}), "bucket": bucket})
    # THEN its result points at the manifest, which lists the SUCCEEDED and FAILED files
    assert ex.status == "SUCCEEDED", ex.cause
    (run,) = sfn.list_map_runs(ex)
    details = ex.output["ResultWriterDetails"]
    assert ex.output["MapRunArn"] == run.arn
    run_id = run.arn.rsplit(":", 1)[1]
    assert details == {"Bucket": bucket, "Key": f"out/{run_id}/manifest.json"}
    s3 = client("s3")

    def read(key: str) -> Any:
        return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())

    manifest = read(details["Key"])
    assert manifest["MapRunArn"] == run.arn
    assert manifest["DestinationBucket"] == bucket
    succeeded = manifest["ResultFiles"]["SUCCEEDED"]
    failed = manifest["ResultFiles"]["FAILED"]
    assert [entry["Key"] for entry in succeeded] == [f"out/{run_id}/SUCCEEDED_0.json"]
    assert manifest["ResultFiles"]["PENDING"] == []
    records = read(succeeded[0]["Key"])
    assert [json.loads(record["Input"])["i"] for record in records] == [0, 1]
    assert {record["Status"] for record in records} == {"SUCCEEDED"}
    (failure,) = read(failed[0]["Key"])
    assert (failure["Status"], failure["Error"]) == ("FAILED", "Item.Odd")


def test_a_failed_run_writes_what_failed_and_what_never_started(
    sfn: LocalStepFunctions, bucket: str, client: Callable[[str], Any]
) -> None:
    # GIVEN one child at a time, no failure tolerated, the first item failing
    definition = distributed(
        FAILS_ON_ODD,
        ItemsPath="$.items",
        MaxConcurrency=1,
        ResultWriter={
            "Resource": "arn:aws:states:::s3:putObject",
            "Parameters": {"Bucket.$": "$.bucket", "Prefix": "runs/"},
            "WriterConfig": {"OutputType": "JSONL"},
        },
    )
    # WHEN it runs
    ex = sfn.run(
        definition, {"items": [{"i": 0, "odd": True}, *_items(2, set())], "bucket": bucket}
    )
    # THEN it failed, and S3 holds the failure and the two items never started, as JSON lines
    assert (ex.status, ex.error) == ("FAILED", "States.ExceedToleratedFailureThreshold")
    (run,) = sfn.list_map_runs(ex)
    folder = f"runs/{run.arn.rsplit(':', 1)[1]}/"
    s3 = client("s3")

    def lines(key: str) -> list[Any]:
        body = s3.get_object(Bucket=bucket, Key=folder + key)["Body"].read().decode()
        return [json.loads(line) for line in body.splitlines()]

    manifest = json.loads(s3.get_object(Bucket=bucket, Key=folder + "manifest.json")["Body"].read())
    assert manifest["ResultFiles"]["SUCCEEDED"] == []
    assert [entry["Key"] for entry in manifest["ResultFiles"]["PENDING"]] == [
        folder + "PENDING_0.jsonl"
    ]
    assert [record["Status"] for record in lines("FAILED_0.jsonl")] == ["FAILED"]
    assert [record["Status"] for record in lines("PENDING_0.jsonl")] == ["PENDING"] * 2


def test_a_writer_config_without_resource_shapes_the_map_s_own_result(
    sfn: LocalStepFunctions,
) -> None:
    # GIVEN children whose outputs are arrays, and FLATTEN without an S3 destination
    definition = distributed(
        {
            "StartAt": "P",
            "States": {
                "P": {
                    "Type": "Pass",
                    "Parameters": {"pair.$": "States.Array($, $)"},
                    "OutputPath": "$.pair",
                    "End": True,
                }
            },
        },
        ItemsPath="$.items",
        ResultWriter={"WriterConfig": {"Transformation": "FLATTEN"}},
    )
    ex = sfn.run(definition, {"items": [1, 2]})
    assert ex.status == "SUCCEEDED", ex.cause
    assert ex.output == [1, 1, 2, 2]


def test_a_jsonata_item_reader_takes_its_arguments_and_max_items(
    sfn: LocalStepFunctions, bucket: str, put: Callable[[str, str | bytes], None]
) -> None:
    put("j.json", json.dumps([1, 2, 3]))
    definition = distributed(
        ItemReader={
            "Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "JSON", "MaxItems": "{% $states.input.take %}"},
            "Arguments": {"Bucket": "{% $states.input.bucket %}", "Key": "j.json"},
        }
    )
    definition["QueryLanguage"] = "JSONata"
    ex = sfn.run(definition, {"bucket": bucket, "take": 2})
    assert ex.status == "SUCCEEDED", ex.cause
    assert ex.output == [1, 2]


def test_an_express_child_past_five_minutes_times_out_and_counts_as_failed(
    sfn: LocalStepFunctions,
) -> None:
    waits = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 400, "End": True}}}
    ex = sfn.run(distributed(waits, "EXPRESS", ItemsPath="$.items"), {"items": [1]})
    assert (ex.status, ex.error) == ("FAILED", "States.ExceedToleratedFailureThreshold")
    (run,) = sfn.list_map_runs(ex)
    # A TIMED_OUT execution names no error in DescribeExecution (its ExecutionTimedOut event
    # says States.Timeout): see tests/engine/test_closing_events.py.
    assert [(child.status, child.error) for child in run.children] == [("TIMED_OUT", None)]
    assert run.describe()["itemCounts"]["timedOut"] == 1


def test_an_express_item_processor_that_waits_for_a_token_is_refused(
    sfn: LocalStepFunctions,
) -> None:
    waiting = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": "q", "MessageBody": {"t.$": "$$.Task.Token"}},
                "End": True,
            }
        },
    }
    with pytest.raises(DefinitionError) as raised:
        sfn.run(distributed(waiting, "EXPRESS", ItemsPath="$.items"), {"items": [1]})
    assert raised.value.pointer == "/States/M/ItemProcessor/States/T/Resource"


def test_a_csv_delimiter_other_than_comma_splits_the_rows(
    sfn: LocalStepFunctions, bucket: str, put: Callable[[str, str | bytes], None]
) -> None:
    put("rows.psv", "a|b\n1|2\n")
    ex = sfn.run(
        distributed(
            ItemReader=reader("rows.psv", "CSV", CSVHeaderLocation="FIRST_ROW", CSVDelimiter="PIPE")
        ),
        {"bucket": bucket},
    )
    assert ex.status == "SUCCEEDED", ex.cause
    assert ex.output == [{"a": "1", "b": "2"}]


def test_map_run_views_have_the_shapes_of_aws_s_api(sfn: LocalStepFunctions) -> None:
    # GIVEN a finished map run
    model = botocore.session.get_session().get_service_model("stepfunctions")
    ex = sfn.run(distributed(ItemsPath="$.items"), {"items": [1]})
    (run,) = sfn.list_map_runs(ex)
    # THEN DescribeMapRun's and ListMapRuns' views name only members of botocore's shapes,
    # and every member those shapes require
    described = model.operation_model("DescribeMapRun").output_shape
    assert set(run.describe()) <= set(described.members)
    assert set(described.required_members) <= set(run.describe())
    counts = described.members["itemCounts"]
    assert set(run.describe()["itemCounts"]) == set(counts.members)
    listed = model.operation_model("ListMapRuns").output_shape.members["mapRuns"].member
    assert set(listed.required_members) <= set(run.listed()) <= set(listed.members)
