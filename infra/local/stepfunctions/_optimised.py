"""The optimised integrations sagas use: DynamoDB items, SNS, SQS and EventBridge.

Each takes the service API's own parameters and answers as Step Functions does, which calls
these services with the AWS SDK for Java 1.x (per service doc page, "Step Functions ...
integration", and ``services.jsonl`` of the conformance recordings):

- ``dynamodb:getItem`` / ``putItem`` / ``updateItem`` / ``deleteItem``: DynamoDB's response
  (typed attribute values) plus ``SdkHttpMetadata`` and ``SdkResponseMetadata``;
- ``sns:publish``: ``Message`` may be any JSON (sent as its JSON text); the result is the
  ``MessageId`` with the metadata;
- ``sqs:sendMessage``: ``MessageBody`` likewise; the result has the MD5 digests and
  ``MessageId``;
- ``events:putEvents``: each entry's ``Detail`` may be an object; the result is
  ``{Entries, FailedEntryCount}`` without metadata, and an entry EventBridge refused fails
  the task with ``EventBridge.FailedEntry`` and the whole response as its cause.

Errors are named ``<Prefix>.<Exception>`` with a cause in the Java SDK's words (see
``facts.OPTIMISED_SERVICE_ERRORS``): ``DynamoDB.ResourceNotFoundException``, ``Requested
resource not found (Service: AmazonDynamoDBv2; Status Code: 400; Error Code:
ResourceNotFoundException; Request ID: ...; Proxy: null)``.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from stepsaga.infra.local.stepfunctions._aws_sdk import (
    ParameterError,
    json_text,
    to_request,
    to_result,
)
from stepsaga.infra.local.stepfunctions._history import to_json
from stepsaga.infra.local.stepfunctions._tasks import TaskOutcome
from stepsaga.workflows import facts

if TYPE_CHECKING:
    from stepsaga.infra.local.stepfunctions._services import ServiceClients

# What each optimised integration may call: (service, action) → the boto3 operation.
ACTIONS: Final = {
    ("dynamodb", "getItem"): "GetItem",
    ("dynamodb", "putItem"): "PutItem",
    ("dynamodb", "updateItem"): "UpdateItem",
    ("dynamodb", "deleteItem"): "DeleteItem",
    ("sns", "publish"): "Publish",
    ("sqs", "sendMessage"): "SendMessage",
    ("events", "putEvents"): "PutEvents",
}

# The headers each service answers with, as SdkHttpMetadata shows them (their values, but
# Content-Length, Date and the request id, which vary).
_HEADERS: Final[dict[str, dict[str, str]]] = {
    "dynamodb": {
        "Connection": "keep-alive",
        "Content-Type": "application/x-amz-json-1.0",
        "Server": "Server",
    },
    "sqs": {"Content-Type": "application/x-amz-json-1.0", "connection": "keep-alive"},
    "sns": {"Content-Type": "text/xml", "connection": "keep-alive"},
    "states": {"Content-Type": "application/x-amz-json-1.0", "connection": "keep-alive"},
}


def sdk_metadata(
    service: str, body: Any, request_id: str, date: str, content_length: int | None = None
) -> dict[str, Any]:
    """``SdkHttpMetadata`` and ``SdkResponseMetadata`` of a response, as the Java SDK adds them."""
    text = to_json(body)
    headers = dict(_HEADERS.get(service, {}))
    headers["Content-Length"] = str(
        len(text.encode()) if content_length is None else content_length
    )
    headers["Date"] = date
    if service == "dynamodb":
        headers["x-amz-crc32"] = str(zlib.crc32(text.encode()))
    headers["x-amzn-RequestId"] = request_id
    ordered = dict(sorted(headers.items(), key=lambda item: item[0].lower()))
    return {
        "SdkHttpMetadata": {
            "AllHttpHeaders": {key: [value] for key, value in ordered.items()},
            "HttpHeaders": ordered,
            "HttpStatusCode": 200,
        },
        "SdkResponseMetadata": {"RequestId": request_id},
    }


def v1_failure(service: str, exc: Exception, request_id: str) -> TaskOutcome:
    """The failure of an optimised integration's call, named as the Java SDK 1.x names it.

    The request id is the engine's (reproducible under its seed), not the endpoint's.
    """
    prefix, service_name, base = facts.OPTIMISED_SERVICE_ERRORS[service]
    response = getattr(exc, "response", None)
    if not isinstance(response, Mapping):
        return TaskOutcome.failure(
            f"{prefix}.SdkClientException", f"Unable to execute HTTP request: {exc}"
        )
    error = response.get("Error") or {}
    metadata = response.get("ResponseMetadata") or {}
    code = str(error.get("QueryErrorCode") or error.get("Code") or "")
    modelled = type(exc).__name__ if type(exc).__name__ != "ClientError" else None
    name = modelled or base
    if not name.endswith("Exception"):
        name += "Exception"
    message = error.get("Message") or code
    status = metadata.get("HTTPStatusCode", 400)
    cause = (
        f"{message} (Service: {service_name}; Status Code: {status}; Error Code: {code}; "
        f"Request ID: {request_id}; Proxy: null)"
    )
    return TaskOutcome.failure(f"{prefix}.{name}", cause)


def _validation_failure(service: str, message: str, request_id: str) -> TaskOutcome:
    prefix, service_name, base = facts.OPTIMISED_SERVICE_ERRORS[service]
    cause = (
        f"{message} (Service: {service_name}; Status Code: 400; Error Code: "
        f"ValidationException; Request ID: {request_id}; Proxy: null)"
    )
    return TaskOutcome.failure(f"{prefix}.{base}", cause)


def _serialise_fields(parameters: Any, fields: tuple[str, ...]) -> Any:
    """Parameters with the given text fields given as JSON made text (what AWS sends)."""
    if not isinstance(parameters, Mapping):
        return parameters
    changed = dict(parameters)
    for field in fields:
        if field in changed and changed[field] is not None:
            changed[field] = json_text(changed[field])
    return changed


def _put_events_entries(parameters: Any) -> Any:
    if not isinstance(parameters, Mapping) or not isinstance(parameters.get("Entries"), list):
        return parameters
    entries = [_serialise_fields(entry, ("Detail",)) for entry in parameters["Entries"]]
    return {**parameters, "Entries": entries}


_PREPARE: Final[dict[str, Callable[[Any], Any]]] = {
    "Publish": lambda p: _serialise_fields(p, ("Message",)),
    "SendMessage": lambda p: _serialise_fields(p, ("MessageBody",)),
    "PutEvents": _put_events_entries,
}


def call(
    services: ServiceClients,
    region: str,
    service: str,
    action: str,
    parameters: Any,
    request_id: str,
    date: str,
) -> TaskOutcome:
    """Run an optimised integration's call; its result (AWS's shape) or its failure."""
    operation = ACTIONS.get((service, action))
    if operation is None:
        return TaskOutcome.failure(
            facts.STATES_RUNTIME,
            f"The resource 'arn:aws:states:::{service}:{action}' is not an optimised "
            "integration of Step Functions; use arn:aws:states:::aws-sdk:"
            f"{service}:{action}.",
        )
    client = services.client(service, region)
    model = client.meta.service_model.operation_model(operation)
    prepare = _PREPARE.get(operation)
    prepared = prepare(parameters) if prepare is not None else parameters
    try:
        request = to_request(model.input_shape, prepared or {}, "")
    except ParameterError as exc:
        return TaskOutcome.failure(facts.STATES_RUNTIME, str(exc))
    from botocore import xform_name
    from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

    try:
        response = getattr(client, xform_name(operation))(**request)
    except ParamValidationError as exc:
        return _validation_failure(service, str(exc), request_id)
    except (ClientError, BotoCoreError) as exc:
        return v1_failure(service, exc, request_id)
    result = to_result(model.output_shape, response)
    if service == "events":
        if result.get("FailedEntryCount"):
            return TaskOutcome.failure("EventBridge.FailedEntry", json.dumps(result))
        return TaskOutcome.success(result)
    return TaskOutcome.success({**result, **sdk_metadata(service, result, request_id, date)})
