"""``arn:aws:states:::aws-sdk:<service>:<action>``: any operation boto3 knows, as AWS runs it.

Step Functions calls the AWS SDK for Java 2.x, so a task sees that SDK's conventions, which
this module reproduces over boto3:

- the service is the SDK's name for it, lowercase (``sfn``, ``eventbridge``, ``dynamodb``);
- the action is the operation in camelCase (``putItem`` is ``PutItem``);
- parameters are PascalCase even where the API's own members are camelCase (``sfn``'s
  ``stateMachineArn`` is ``StateMachineArn``), and a binary member takes text as is and any
  other JSON value as its compact JSON text (an S3 ``Body`` object is stored serialised);
- the result names members in PascalCase too, keeps map keys (DynamoDB attribute names) as
  they are, gives timestamps as ISO-8601 text and binary members as text, and has no
  ``ResponseMetadata``;
- an error is ``<Service>.<Exception>``: the service's SDK name in PascalCase (``DynamoDb``,
  ``Sfn``, ``SecretsManager``) and the modelled exception, suffixed ``Exception`` when AWS's
  code lacks it (S3's ``NoSuchKey`` is ``S3.NoSuchKeyException``); a code the service does
  not model is ``<Service>.<Service>Exception``, the SDK's base class. The cause is the
  message followed by ``(Service: <Service>, Status Code: <code>, Request ID: <id>)``.

(AWS: "Step Functions AWS SDK service integrations", and ``services.jsonl`` of the
conformance recordings, which shows ``DynamoDb.ResourceNotFoundException`` and
``SecretsManager.SecretsManagerException`` with their causes.)
"""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from stepsaga.infra.local.stepfunctions._history import to_json
from stepsaga.infra.local.stepfunctions._tasks import TaskOutcome
from stepsaga.workflows import facts

if TYPE_CHECKING:
    from stepsaga.infra.local.stepfunctions._services import ServiceClients

# Step Functions' service names (the Java SDK's) where boto3 names the service otherwise.
_BOTO3_NAME: Final = {
    "sfn": "stepfunctions",
    "eventbridge": "events",
    "cloudwatchlogs": "logs",
    "cognitoidentityprovider": "cognito-idp",
    "elasticloadbalancingv2": "elbv2",
    "elasticloadbalancing": "elb",
    "dynamodbstreams": "dynamodbstreams",
    "sfnexpress": "stepfunctions",
}

_WORD: Final = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


class ParameterError(ValueError):
    """Task parameters the operation cannot take (the message names the field)."""


def pascal(name: str) -> str:
    """A member name as Step Functions writes it: its first letter upper case."""
    return name[:1].upper() + name[1:]


def sdk_name(service_id: str) -> str:
    """The Java SDK's PascalCase name of a service, from its ``serviceId``.

    Each word (split at spaces and case changes) keeps its first letter upper case and the
    rest lower: ``DynamoDB`` is ``DynamoDb``, ``SFN`` is ``Sfn``, ``Secrets Manager`` is
    ``SecretsManager``, ``EventBridge`` stays.
    """
    return "".join(word[:1].upper() + word[1:].lower() for word in _WORD.findall(service_id))


@functools.lru_cache(maxsize=64)
def _scan_service_ids(available: tuple[str, ...]) -> dict[str, str]:
    """Every boto3 service by its compact lowercase serviceId (read from the models)."""
    import botocore.session

    session = botocore.session.get_session()
    names: dict[str, str] = {}
    for name in available:
        try:
            service_id = session.get_service_model(name).metadata.get("serviceId", name)
        except Exception:  # a model botocore cannot load is one we cannot call either
            continue
        names.setdefault(re.sub(r"[^a-z0-9]", "", service_id.lower()), name)
    return names


def boto3_service(name: str, available: list[str]) -> str | None:
    """The boto3 service of a Step Functions aws-sdk service name, or None when none is."""
    lower = name.lower()
    known = _BOTO3_NAME.get(lower)
    if known is not None:
        return known
    if lower in available:
        return lower
    for candidate in available:
        if candidate.replace("-", "") == lower:
            return candidate
    return _scan_service_ids(tuple(available)).get(lower)


# -- requests -----------------------------------------------------------------------------------


def to_request(shape: Any, value: Any, where: str) -> Any:
    """Turn a task's JSON parameters into what boto3 takes for ``shape``.

    Raises:
        ParameterError: a field the shape has no member for (named with its path).
    """
    if shape is None:
        return value
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, Mapping):
            raise ParameterError(f"{where or 'the parameters'} must be an object")
        members = shape.members
        request: dict[str, Any] = {}
        for key, item in value.items():
            member = _member(members, key)
            if member is None:
                raise ParameterError(
                    f"The field '{key}' is not supported{f' in {where}' if where else ''}"
                )
            if item is None:
                continue  # JSON null: the member is absent, as the SDK sends it
            path = f"{where}.{key}" if where else key
            request[member] = to_request(members[member], item, path)
        return request
    if kind == "list" and isinstance(value, list):
        return [to_request(shape.member, item, f"{where}[{i}]") for i, item in enumerate(value)]
    if kind == "map" and isinstance(value, Mapping):
        return {key: to_request(shape.value, item, f"{where}.{key}") for key, item in value.items()}
    if kind == "blob":
        return blob_bytes(value)
    return value


def _member(members: Mapping[str, Any], key: str) -> str | None:
    if key in members:
        return key
    for name in members:
        if pascal(name) == key:
            return str(name)
    if key == "EqualsValue" and "Equals" in members:  # named so for languages that reserve it
        return "Equals"
    return None


def blob_bytes(value: Any) -> bytes:
    """A binary member from JSON: text as UTF-8, any other value as its compact JSON."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    return to_json(value).encode()


# -- responses ----------------------------------------------------------------------------------


def to_result(shape: Any, value: Any) -> Any:
    """Turn what boto3 returned for ``shape`` into the JSON a task's result is."""
    if isinstance(value, datetime):
        return instant_text(value)
    if isinstance(value, bytes | bytearray):
        return blob_text(bytes(value))
    if hasattr(value, "read") and callable(value.read):  # a streaming body
        return blob_text(value.read())
    if shape is None:
        return _plain(value)
    kind = shape.type_name
    if kind == "structure" and isinstance(value, Mapping):
        members = shape.members
        return {
            pascal(key): to_result(members.get(key), item)
            for key, item in value.items()
            if key != "ResponseMetadata"
        }
    if kind == "list" and isinstance(value, list):
        return [to_result(shape.member, item) for item in value]
    if kind == "map" and isinstance(value, Mapping):
        return {key: to_result(shape.value, item) for key, item in value.items()}
    return _plain(value)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return instant_text(value)
    if isinstance(value, bytes | bytearray):
        return blob_text(bytes(value))
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if type(value).__name__ == "Decimal":
        number = float(value)
        return int(number) if number.is_integer() else number
    return value


def blob_text(data: bytes) -> str:
    """A binary value as a result shows it: its text, or base64 when it is not UTF-8."""
    try:
        return data.decode()
    except UnicodeDecodeError:
        return base64.b64encode(data).decode()


def instant_text(instant: datetime) -> str:
    """A timestamp as the Java SDK writes one (``Instant.toString``): UTC, 'Z'."""
    from datetime import UTC

    if instant.tzinfo is not None:
        instant = instant.astimezone(UTC)
    text = instant.strftime("%Y-%m-%dT%H:%M:%S")
    if instant.microsecond:
        millis, micros = divmod(instant.microsecond, 1000)
        text += f".{millis:03d}" if micros == 0 else f".{instant.microsecond:06d}"
    return text + "Z"


# -- errors -------------------------------------------------------------------------------------


def sdk_error(exc: Exception, service_model: Any, request_id: str) -> tuple[str, str]:
    """The error name and cause AWS gives a failed aws-sdk call (see the module docstring).

    The request id is the engine's (reproducible under its seed), not the endpoint's.
    """
    service = sdk_name(service_model.service_id)
    response = getattr(exc, "response", None)
    if not isinstance(response, Mapping):
        return (
            f"{service}.SdkClientException",
            f"Unable to execute HTTP request: {exc}",
        )
    error = response.get("Error") or {}
    metadata = response.get("ResponseMetadata") or {}
    modelled = type(exc).__name__ if type(exc).__name__ != "ClientError" else None
    name = modelled or f"{service}Exception"
    if not name.endswith("Exception"):
        name += "Exception"
    message = error.get("Message") or error.get("Code") or str(exc)
    status = metadata.get("HTTPStatusCode", 400)
    extended = (metadata.get("HTTPHeaders") or {}).get("x-amz-id-2")
    detail = f"Service: {service}, Status Code: {status}, Request ID: {request_id}"
    if extended:
        detail += f", Extended Request ID: {extended}"
    return f"{service}.{name}", f"{message} ({detail})"


# -- the call -----------------------------------------------------------------------------------


def call(
    services: ServiceClients,
    region: str,
    service: str,
    action: str,
    parameters: Any,
    request_id: str,
) -> TaskOutcome:
    """Run ``action`` of ``service`` with the task's parameters; its result or AWS's error."""
    boto_name = boto3_service(service, services.available())
    if boto_name is None:
        return TaskOutcome.failure(
            facts.STATES_RUNTIME,
            f"The resource 'aws-sdk:{service}:{action}' names a service the AWS SDK does not have.",
        )
    client = services.client(boto_name, region)
    model = client.meta.service_model
    operation = pascal(action)
    if operation not in model.operation_names:
        return TaskOutcome.failure(
            facts.STATES_RUNTIME,
            f"The resource 'aws-sdk:{service}:{action}' names no {model.service_id} API action.",
        )
    operation_model = model.operation_model(operation)
    try:
        request = to_request(operation_model.input_shape, parameters or {}, "")
    except ParameterError as exc:
        return TaskOutcome.failure(facts.STATES_RUNTIME, str(exc))
    from botocore import xform_name
    from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

    try:
        response = getattr(client, xform_name(operation))(**request)
    except ParamValidationError as exc:
        name = sdk_name(model.service_id)
        return TaskOutcome.failure(
            f"{name}.{name}Exception",
            f"{exc} (Service: {name}, Status Code: 400, Request ID: {request_id})",
        )
    except (ClientError, BotoCoreError) as exc:
        error, cause = sdk_error(exc, model, request_id)
        return TaskOutcome.failure(error, cause)
    return TaskOutcome.success(to_result(operation_model.output_shape, response))


def json_text(value: Any) -> str:
    """A parameter Step Functions serialises when it is not text (a message, an input)."""
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
