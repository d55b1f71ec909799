"""TestState's check of a mocked result against the API model of the service a Task calls.

``mock.fieldValidationMode`` decides how strictly (AWS's API reference, MockInput):

- ``STRICT`` (the default): every required field must be present, and every present field
  must conform to the API's schema;
- ``PRESENT``: every present field must conform;
- ``NONE``: nothing is checked.

Fields the API does not know are accepted in every mode (AWS answers ``{"random": "json"}`` for
``events:putEvents`` as it is). The API models are botocore's, the same service models boto3
calls AWS with: an ``aws-sdk:<service>:<action>`` Task maps to botocore's ``<service>``
``<Action>`` (a few SDK service names differ from botocore's), an optimised integration such as
``arn:aws:states:::dynamodb:putItem`` to the API it calls. Step Functions shows a result's
fields with a capital first letter (``ExecutionArn`` for Step Functions' ``executionArn``), as
the recordings do. Integrations whose result is not their API's response (``.sync``,
``.waitForTaskToken``, HTTP Tasks) and services botocore does not know are not checked.

A field that does not conform is refused with AWS's words: ``Mock result schema validation
error: Field 'EventId' must be a string``. botocore's models are today's; AWS may check against
older ones (it refuses a Lambda MemorySize of 10241, which botocore's model now admits).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any, Final

from stepsaga.infra.local.stepfunctions._errors import ValidationException

MODES: Final = ("STRICT", "PRESENT", "NONE")
"""The values of ``mock.fieldValidationMode``."""

_SDK: Final = re.compile(r"^arn:[^:]+:states:::aws-sdk:([^:]+):([^.:]+)$")
_OPTIMISED: Final = re.compile(r"^arn:[^:]+:states:::([^:]+):([^.:]+)$")

# Service names of the AWS SDK integrations (the SDK for Java's) that botocore spells otherwise.
# https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html
_SDK_SERVICES: Final = {
    "sfn": "stepfunctions",
    "eventbridge": "events",
    "cloudwatchlogs": "logs",
    "cloudwatchevents": "events",
    "elasticloadbalancingv2": "elbv2",
    "cognitoidentityprovider": "cognito-idp",
    "cognitoidentity": "cognito-identity",
    "sesv2": "sesv2",
}
# The optimised integrations' service names (the Resource's) that botocore spells otherwise.
_OPTIMISED_SERVICES: Final = {"states": "stepfunctions", "elasticmapreduce": "emr"}
# Fields an optimised integration returns as JSON where the API has bytes (a blob).
_JSON_FIELDS: Final = {("lambda", "Invoke"): frozenset({"Payload"})}
_NUMBERS: Final = frozenset({"integer", "long", "float", "double"})


def check_mock_result(resource: str, result: Any, mode: str) -> None:
    """Refuse a mocked Task result that does not conform to its service's API model.

    Args:
        resource: the Task's ``Resource``.
        result: the mocked result, parsed.
        mode: ``STRICT``, ``PRESENT`` or ``NONE``.

    Raises:
        ValidationException: a field does not conform (its name and the rule in the message).
    """
    if mode == "NONE" or not isinstance(result, Mapping):
        return
    model = _output_model(resource)
    if model is None:
        return
    shapes, shape_name, json_fields = model
    problem = _SchemaWalk(shapes, strict=mode == "STRICT").structure(
        shape_name, result, skip=json_fields
    )
    if problem is not None:
        raise ValidationException(f"Mock result schema validation error: {problem}")


def _output_model(resource: str) -> tuple[Mapping[str, Any], str, frozenset[str]] | None:
    """The shapes of the service's model, the operation's output shape, its JSON fields."""
    sdk = _SDK.match(resource)
    if sdk is not None:
        service = _SDK_SERVICES.get(sdk.group(1), sdk.group(1))
        action = sdk.group(2)
    else:
        optimised = _OPTIMISED.match(resource)
        if optimised is None:
            return None  # a function ARN, an activity, .sync / .waitForTaskToken ...
        service = _OPTIMISED_SERVICES.get(optimised.group(1), optimised.group(1))
        action = optimised.group(2)
    operation = action[:1].upper() + action[1:]
    shapes = _service_shapes(service)
    if shapes is None:
        return None
    operations, shape_map = shapes
    output = operations.get(operation, {}).get("output")
    if not isinstance(output, Mapping) or "shape" not in output:
        return None
    return shape_map, output["shape"], _JSON_FIELDS.get((service, operation), frozenset())


@functools.lru_cache(maxsize=64)
def _service_shapes(service: str) -> tuple[Mapping[str, Any], Mapping[str, Any]] | None:
    """A service's operations and shapes in botocore's model (None: botocore has none)."""
    # Imported here: only a TestState call with a mocked result needs the service models.
    import botocore.exceptions
    import botocore.loaders

    try:
        model = botocore.loaders.create_loader().load_service_model(service, "service-2")
    except botocore.exceptions.DataNotFoundError:
        return None
    return model.get("operations", {}), model.get("shapes", {})


class _SchemaWalk:
    """Walks a value along a shape; returns the first problem found, in AWS's words."""

    def __init__(self, shapes: Mapping[str, Any], *, strict: bool) -> None:
        self._shapes = shapes
        self._strict = strict

    def structure(
        self, shape_name: str, value: Mapping[str, Any], skip: frozenset[str] = frozenset()
    ) -> str | None:
        """Check an object: its required fields (STRICT), then each field it has."""
        shape = self._shapes[shape_name]
        members = {
            name[:1].upper() + name[1:]: member for name, member in shape.get("members", {}).items()
        }
        if self._strict:
            for name in shape.get("required", ()):
                field = name[:1].upper() + name[1:]
                if field not in value:
                    # Our wording: no recording shows AWS's for a missing field.
                    return f"Field '{field}' is required"
        for field, item in value.items():
            member = members.get(field)
            if member is None or field in skip:
                continue
            problem = self.value(field, member["shape"], item)
            if problem is not None:
                return problem
        return None

    def value(self, field: str, shape_name: str, value: Any) -> str | None:
        """Check one value of a field against its shape."""
        shape = self._shapes[shape_name]
        kind = shape.get("type")
        if kind == "structure":
            if not isinstance(value, Mapping):
                return f"Field '{field}' must be an object"
            return self.structure(shape_name, value)
        if kind == "list":
            if not isinstance(value, list):
                return f"Field '{field}' must be an array"
            problem = _length(field, shape, len(value))
            if problem is not None:
                return problem
            item_shape = shape["member"]["shape"]
            for item in value:
                problem = self.value(field, item_shape, item)
                if problem is not None:
                    return problem
            return None
        if kind == "map":
            if not isinstance(value, Mapping):
                return f"Field '{field}' must be an object"
            value_shape = shape["value"]["shape"]
            for key, item in value.items():
                problem = self.value(str(key), value_shape, item)
                if problem is not None:
                    return problem
            return None
        if kind in ("string", "blob", "timestamp"):
            # JSON carries bytes as base64 text and instants as ISO-8601 text.
            if not isinstance(value, str):
                return f"Field '{field}' must be a string"
            if "enum" in shape and value not in shape["enum"]:
                return f"Field '{field}' is not an expected value"
            return _length(field, shape, len(value))
        if kind in _NUMBERS:
            if isinstance(value, bool) or not isinstance(value, int | float):
                return f"Field '{field}' must be a number"
            if "max" in shape and value > shape["max"]:
                return f"Field '{field}' exceeds the maximum value"
            if "min" in shape and value < shape["min"]:
                return f"Field '{field}' is less than the minimum value"
            return None
        if kind == "boolean" and not isinstance(value, bool):
            return f"Field '{field}' must be a boolean"
        return None  # a document: any JSON


def _length(field: str, shape: Mapping[str, Any], length: int) -> str | None:
    if "min" in shape and length < shape["min"]:
        return f"Field '{field}' is smaller than the minimum length"
    if "max" in shape and length > shape["max"]:
        return f"Field '{field}' exceeds the maximum length"
    return None
