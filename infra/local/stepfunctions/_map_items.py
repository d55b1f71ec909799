"""A distributed Map's items from S3, their batches, and its results written back to S3.

ItemReader (``arn:aws:states:::s3:getObject`` with ``ReaderConfig.InputType``, or
``arn:aws:states:::s3:listObjectsV2``), as AWS documents it ("ItemReader (Map)") and the
conformance recordings show it:

- ``JSON``: the object is a JSON array, its elements the items;
- ``JSONL``: one JSON value per line;
- ``CSV``: each row an object of text values, keyed by the header row (``CSVHeaderLocation:
  FIRST_ROW``) or ``CSVHeaders`` (``GIVEN``); a short row fills the missing columns with ``""``,
  a long one drops the extra fields; ``CSVDelimiter`` COMMA, PIPE, SEMICOLON, SPACE or TAB;
- ``MANIFEST``: an S3 Inventory ``manifest.json``; its gzip CSV files' rows, keyed by its
  ``fileSchema``;
- ``listObjectsV2``: one item per object, ``{"Etag", "Key", "LastModified", "Size",
  "StorageClass"}`` (LastModified in epoch seconds).

``MaxItems`` (or ``MaxItemsPath``) keeps the first items only (0: all of them); a negative
value fails the map run with ``States.ItemReaderFailed``, as does any S3 error or content
that does not parse. The Map's ``ItemsPath`` does not apply to items read this way.

ItemBatcher groups items: ``{"Items": [...], "BatchInput": ...}`` per child, at most
``MaxItemsPerBatch`` items and ``MaxInputBytesPerBatch`` bytes of JSON each.

ResultWriter: ``WriterConfig`` (``Transformation`` NONE, COMPACT or FLATTEN; ``OutputType``
JSON or JSONL) shapes the results; with ``Resource`` ``arn:aws:states:::s3:putObject`` and
``Bucket`` / ``Prefix``, they go to ``<Prefix>/<map run id>/SUCCEEDED_0.json`` (and
``FAILED_0.json``, ``PENDING_0.json`` when there are such), with a ``manifest.json`` listing
them, and the Map's result is ``{"MapRunArn", "ResultWriterDetails": {"Bucket", "Key"}}``.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from stepsaga.infra.local.stepfunctions._aws_sdk import sdk_error
from stepsaga.infra.local.stepfunctions._errors import StatesError
from stepsaga.infra.local.stepfunctions._history import to_json
from stepsaga.workflows import facts

if TYPE_CHECKING:
    from stepsaga.infra.local.stepfunctions._services import ServiceClients

_DELIMITERS: Final = {"COMMA": ",", "PIPE": "|", "SEMICOLON": ";", "SPACE": " ", "TAB": "\t"}


class ReaderPlan:
    """An ItemReader, compiled.

    Attributes:
        resource: ``s3:getObject`` or ``s3:listObjectsV2`` (any partition).
        parameters: its Parameters (JSONPath) or Arguments (JSONata) template, or None.
        input_type: JSON, JSONL, CSV or MANIFEST (for getObject).
        header_location: FIRST_ROW or GIVEN (CSV).
        headers: the GIVEN headers.
        delimiter: the CSV delimiter's name.
        max_items: MaxItems as written (None: read at run time, or none).
        max_items_field: MaxItemsPath's path, or MaxItems' JSONata template.
    """

    __slots__ = (
        "delimiter",
        "header_location",
        "headers",
        "input_type",
        "max_items",
        "max_items_field",
        "parameters",
        "resource",
    )

    def __init__(self, resource: str) -> None:
        self.resource = resource
        self.parameters: Any = None
        self.input_type: str | None = None
        self.header_location: str | None = None
        self.headers: list[str] | None = None
        self.delimiter = "COMMA"
        self.max_items: int | None = None
        self.max_items_field: Any = None


class BatcherPlan:
    """An ItemBatcher, compiled: each limit as written, or what reads it at run time."""

    __slots__ = ("batch_input", "max_bytes", "max_bytes_field", "max_items", "max_items_field")

    def __init__(self) -> None:
        self.max_items: int | None = None
        self.max_items_field: Any = None
        self.max_bytes: int | None = None
        self.max_bytes_field: Any = None
        self.batch_input: Any = None


class WriterPlan:
    """A ResultWriter, compiled."""

    __slots__ = ("output_type", "parameters", "resource", "transformation")

    def __init__(self) -> None:
        self.resource: str | None = None
        self.parameters: Any = None
        self.transformation: str | None = None
        self.output_type = "JSON"


def reader_failed(cause: str) -> StatesError:
    """The failure of an ItemReader."""
    return StatesError(facts.STATES_ITEM_READER_FAILED, cause)


# -- reading ------------------------------------------------------------------------------------


def read_items(
    reader: ReaderPlan,
    parameters: Any,
    max_items: int,
    services: ServiceClients | None,
    region: str,
) -> list[Any]:
    """The items an ItemReader reads (the first ``max_items``; 0: all).

    Raises:
        StatesError: ``States.ItemReaderFailed``, with AWS's cause where it has one.
    """
    if max_items < 0:
        raise reader_failed("field MaxItems must be positive")
    if services is None:
        raise reader_failed(
            "The ItemReader reads from S3, and this engine has no service clients: give it "
            "LocalStepFunctions(services=ServiceClients())."
        )
    if not isinstance(parameters, Mapping) or not isinstance(parameters.get("Bucket"), str):
        raise reader_failed("The ItemReader's Parameters need a Bucket")
    s3 = services.client("s3", region)
    bucket = parameters["Bucket"]
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        if reader.resource.endswith(facts.S3_LIST_OBJECTS_V2.rsplit(":", 1)[1]):
            items = _listed(s3, parameters, max_items)
        else:
            if not isinstance(parameters.get("Key"), str):
                raise reader_failed("The ItemReader's Parameters need a Key")
            body = _get(s3, bucket, parameters["Key"], parameters.get("VersionId"))
            items = _parsed(reader, body, s3, bucket)
    except (ClientError, BotoCoreError) as exc:
        _, cause = sdk_error(exc, s3.meta.service_model, "")
        raise reader_failed(cause) from None
    return items[:max_items] if max_items else items


def _get(s3: Any, bucket: str, key: str, version: Any) -> bytes:
    kwargs: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if isinstance(version, str):
        kwargs["VersionId"] = version
    data: bytes = s3.get_object(**kwargs)["Body"].read()
    return data


def _listed(s3: Any, parameters: Mapping[str, Any], max_items: int) -> list[Any]:
    kwargs = {key: value for key, value in parameters.items() if isinstance(value, str | int)}
    items: list[Any] = []
    for page in s3.get_paginator("list_objects_v2").paginate(**kwargs):
        for entry in page.get("Contents", []):
            modified = entry.get("LastModified")
            items.append(
                {
                    "Etag": entry.get("ETag"),
                    "Key": entry.get("Key"),
                    "LastModified": (
                        int(modified.timestamp()) if isinstance(modified, datetime) else modified
                    ),
                    "Size": entry.get("Size"),
                    "StorageClass": entry.get("StorageClass"),
                }
            )
            if max_items and len(items) >= max_items:
                return items
    return items


def _parsed(reader: ReaderPlan, body: bytes, s3: Any, bucket: str) -> list[Any]:
    kind = reader.input_type or "JSON"
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise reader_failed(f"The object is not UTF-8 text: {exc}") from None
    if kind == "JSON":
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise reader_failed(f"Attempting to map the object's JSON failed: {exc}") from None
        if not isinstance(value, list):
            raise reader_failed("Attempting to map a JSON object that is not an array failed")
        return value
    if kind == "JSONL":
        items = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                items.append(json.loads(line))
            except ValueError as exc:
                raise reader_failed(f"Line {number} is not JSON: {exc}") from None
        return items
    if kind == "CSV":
        return csv_items(text, reader.header_location, reader.headers, reader.delimiter)
    if kind == "MANIFEST":
        return _inventory(text, s3, bucket)
    raise reader_failed(f"InputType {kind} is not one the ItemReader reads")


def csv_items(
    text: str, location: str | None, given: list[str] | None, delimiter: str = "COMMA"
) -> list[dict[str, str]]:
    """The rows of CSV text as items, keyed by their headers (see the module docstring)."""
    rows = (row for row in csv.reader(io.StringIO(text), delimiter=_DELIMITERS[delimiter]) if row)
    headers = list(given or []) if location == "GIVEN" else next(rows, [])
    width = len(headers)
    return [
        dict(zip(headers, row[:width] + [""] * (width - len(row)), strict=True)) for row in rows
    ]


def _inventory(text: str, s3: Any, bucket: str) -> list[Any]:
    try:
        manifest = json.loads(text)
        schema = [name.strip() for name in str(manifest["fileSchema"]).split(",")]
        files = manifest["files"]
    except (ValueError, KeyError, TypeError) as exc:
        raise reader_failed(f"The manifest is not an S3 Inventory manifest: {exc}") from None
    destination = str(manifest.get("destinationBucket") or bucket).removeprefix("arn:aws:s3:::")
    items: list[Any] = []
    for entry in files:
        data = _get(s3, destination, entry["key"], None)
        if entry["key"].endswith(".gz"):
            data = gzip.decompress(data)
        items.extend(csv_items(data.decode(), "GIVEN", schema))
    return items


# -- batching -----------------------------------------------------------------------------------


def batches(
    inputs: list[Any], max_items: int | None, max_bytes: int | None, batch_input: Any
) -> list[dict[str, Any]]:
    """Group the items' inputs into batches (``{"Items": [...], "BatchInput": ...}``).

    Raises:
        StatesError: an item is larger than ``MaxInputBytesPerBatch`` on its own.
    """
    extra = {} if batch_input is None else {"BatchInput": batch_input}
    # A batch's JSON is its items' texts joined by commas, in an envelope of fixed size.
    envelope = len(to_json({"Items": [], **extra}).encode())
    found: list[dict[str, Any]] = []
    current: list[Any] = []
    size = envelope
    for item in inputs:
        item_size = len(to_json(item).encode())
        if max_bytes is not None and envelope + item_size > max_bytes:
            raise StatesError(
                facts.STATES_RUNTIME,
                f"An item of {item_size} bytes does not fit in a batch of MaxInputBytesPerBatch "
                f"{max_bytes}",
            )
        grown = size + item_size + (1 if current else 0)
        if current and (
            (max_items is not None and len(current) >= max_items)
            or (max_bytes is not None and grown > max_bytes)
        ):
            found.append({"Items": current, **extra})
            current, grown = [], envelope + item_size
        current.append(item)
        size = grown
    if current:
        found.append({"Items": current, **extra})
    return found


# -- results ------------------------------------------------------------------------------------


def transformed(records: list[dict[str, Any]], transformation: str) -> list[Any]:
    """The results as a Transformation makes them.

    NONE keeps each child's whole record, COMPACT its output (a failed child's record stays
    whole), FLATTEN flattens the outputs that are arrays.
    """
    if transformation == "NONE":
        return records
    outputs: list[Any] = []
    for record in records:
        if record.get("Status") != "SUCCEEDED":
            outputs.append(record)
            continue
        output = json.loads(record["Output"])
        if transformation == "FLATTEN" and isinstance(output, list):
            outputs.extend(output)
        else:
            outputs.append(output)
    return outputs


def write_results(
    services: ServiceClients | None,
    region: str,
    parameters: Any,
    map_run_arn: str,
    by_status: Mapping[str, list[Any]],
    output_type: str,
) -> dict[str, Any]:
    """Write the result files and their manifest; return the Map's result.

    Raises:
        StatesError: ``States.ResultWriterFailed`` when S3 refuses a write.
    """
    if services is None:
        raise StatesError(
            facts.STATES_RESULT_WRITER_FAILED,
            "The ResultWriter writes to S3, and this engine has no service clients.",
        )
    if not isinstance(parameters, Mapping) or not isinstance(parameters.get("Bucket"), str):
        raise StatesError(facts.STATES_RESULT_WRITER_FAILED, "ResultWriter needs a Bucket")
    bucket = parameters["Bucket"]
    prefix = str(parameters.get("Prefix") or "")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    folder = f"{prefix}{map_run_arn.rsplit(':', 1)[1]}/"
    s3 = services.client("s3", region)
    files: dict[str, list[dict[str, Any]]] = {"FAILED": [], "PENDING": [], "SUCCEEDED": []}
    from botocore.exceptions import BotoCoreError, ClientError

    def put(key: str, body: bytes) -> None:
        try:
            s3.put_object(Bucket=bucket, Key=key, Body=body)
        except (ClientError, BotoCoreError) as exc:
            _, cause = sdk_error(exc, s3.meta.service_model, "")
            raise StatesError(facts.STATES_RESULT_WRITER_FAILED, cause) from None

    extension = "jsonl" if output_type == "JSONL" else "json"
    for status in ("SUCCEEDED", "FAILED", "PENDING"):
        entries = by_status.get(status) or []
        if not entries:
            continue
        body = _serialised(entries, output_type).encode()
        key = f"{folder}{status}_0.{extension}"
        put(key, body)
        files[status].append({"Key": key, "Size": len(body)})
    manifest = {"DestinationBucket": bucket, "MapRunArn": map_run_arn, "ResultFiles": files}
    manifest_key = f"{folder}manifest.json"
    put(manifest_key, to_json(manifest).encode())
    return {
        "MapRunArn": map_run_arn,
        "ResultWriterDetails": {"Bucket": bucket, "Key": manifest_key},
    }


def _serialised(entries: list[Any], output_type: str) -> str:
    if output_type == "JSONL":
        return "".join(to_json(entry) + "\n" for entry in entries)
    return to_json(entries)
