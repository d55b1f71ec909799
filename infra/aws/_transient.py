"""AWS errors worth retrying, reported as `RetryableError` so Step Functions retries the step."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from stepsaga.domain import RetryableError

__all__ = ("TRANSIENT_ERROR_CODES", "error_code", "transient_as_retryable")

TRANSIENT_ERROR_CODES = frozenset(
    {
        "InternalFailure",
        "InternalServerError",
        "LimitExceededException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "ThrottlingException",
        "TooManyRequestsException",
        "TransactionConflictException",
        "TransactionInProgressException",
    }
)


def error_code(error: ClientError) -> str:
    """The AWS error code of a botocore `ClientError`."""
    return str(error.response.get("Error", {}).get("Code", ""))


@contextmanager
def transient_as_retryable(operation: str, resource: str) -> Iterator[None]:
    """Turn throttling, service-side and connection errors into `RetryableError`.

    Args:
        operation: The AWS operation, for the message (`TransactWriteItems`).
        resource: What it was working on, for the message (a stream key, a table).
    """
    try:
        yield
    except ClientError as error:
        code = error_code(error)
        if code in TRANSIENT_ERROR_CODES:
            raise RetryableError(f"{operation} {code}", retry_hint=resource) from error
        raise
    except (
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        ReadTimeoutError,
    ) as error:
        raise RetryableError(f"{operation}: {error}", retry_hint=resource) from error
