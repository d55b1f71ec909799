"""The errors the Step Functions API answers with, beyond those the engine raises itself.

Each is an :class:`ApiError` whose class name is AWS's error code, so the dispatcher answers
``{"__type": code, "message": message}`` for any of them without a table (botocore turns that
into a ``ClientError`` whose ``Error.Code`` is the code). The engine's own
(``ExecutionDoesNotExist``, ``TaskTimedOut``, ``InvalidDefinition`` ...) live in
``stepsaga.infra.local.stepfunctions._errors``; the three both raise are imported from there.
"""

from __future__ import annotations

from typing import Any

# The engine raises these three itself (TestState does): one class each, shared.
from stepsaga.infra.local.stepfunctions._errors import (
    ApiError,
    InvalidArn,
    InvalidDefinition,
    ValidationException,
)

__all__ = (
    "InvalidArn",
    "InvalidDefinition",
    "InvalidLoggingConfiguration",
    "InvalidName",
    "MissingRequiredParameter",
    "ResourceNotFound",
    "SerializationException",
    "StateMachineAlreadyExists",
    "StateMachineDeleting",
    "StateMachineDoesNotExist",
    "StateMachineTypeNotSupported",
    "TooManyTags",
    "UnknownOperationException",
    "ValidationException",
)


class InvalidName(ApiError):
    """A name breaks AWS's naming rules (or names no test case of the mock config)."""


class InvalidLoggingConfiguration(ApiError):
    """The logging configuration is not one AWS accepts."""


class StateMachineDoesNotExist(ApiError):
    """No state machine has this ARN."""


class StateMachineAlreadyExists(ApiError):
    """A state machine of this name exists with another definition or configuration."""


class StateMachineDeleting(ApiError):
    """The state machine is being deleted (its executions are still running)."""


class StateMachineTypeNotSupported(ApiError):
    """The operation is not supported by this type of state machine (STANDARD or EXPRESS)."""


class MissingRequiredParameter(ApiError):
    """A request lacks a parameter that the model marks optional but the operation needs."""


class ResourceNotFound(ApiError):
    """No resource (state machine, activity) has this ARN."""


class TooManyTags(ApiError):
    """A resource would carry more tags than AWS allows.

    Attributes:
        resource_name: the resource's ARN.
    """

    def __init__(self, message: str, resource_name: str) -> None:
        super().__init__(message)
        self.resource_name = resource_name

    def fields(self) -> dict[str, Any]:
        """The members AWS's error shape adds to the message."""
        return {"resourceName": self.resource_name}


class SerializationException(ApiError):
    """The request body is not JSON, or a member has the wrong JSON type."""


class UnknownOperationException(ApiError):
    """The ``X-Amz-Target`` names no operation this endpoint serves.

    Attributes:
        operation: the operation asked for.
    """

    def __init__(self, operation: str, detail: str | None = None) -> None:
        super().__init__(detail or f"Unknown operation: {operation!r}")
        self.operation = operation
