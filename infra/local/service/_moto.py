"""A service on moto's DynamoDB and SES v2, in-process, with fake credentials."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast
from unittest import mock

import boto3

from stepsaga.infra.aws import DynamoDBEventStore, SesNotifier, create_event_store_table
from stepsaga.infra.local.service._service import LocalService
from stepsaga.infra.project import Service, load_service

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_sesv2.client import SESV2Client

__all__ = ("moto_service",)

_FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_SECURITY_TOKEN": "testing",
}


class _Atomic:
    """A DynamoDB client whose requests run one at a time.

    DynamoDB applies each request atomically: the conditions of a `TransactWriteItems` and its
    writes are one step. Moto's in-process backend checks and then writes without a lock, so
    two threads could both pass a stream head's condition. Serialising requests restores what
    DynamoDB promises; it does not hide conflicts, which still surface as cancelled
    transactions.
    """

    def __init__(self, client: Any) -> None:
        self._client = client
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute) or name in ("get_waiter", "get_paginator"):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return attribute(*args, **kwargs)

        return call


@contextmanager
def moto_service(
    service: str | Service | None = None,
    *,
    tenant: str = "acme",
    table: str = "stepsaga-events",
    sender: str = "orders@example.com",
    region: str = "us-east-1",
    seed: int = 0,
) -> Iterator[LocalService]:
    """Run a service's sagas locally on moto's DynamoDB and SES v2 (`mock_aws`, in-process).

    Creates the event store table and verifies the sender with SES, then yields the service.
    While it runs, the environment holds fake credentials and every boto3 call in the process
    goes to moto.

    Args:
        service: The service, or its module name; None finds it as the command line does
            (`[tool.stepsaga] service`, else the reference service; see
            `stepsaga.infra.project.load_service`).
        tenant: The tenant of commands executed without explicit metadata.
        table: The event store table's name.
        sender: The mail sender (verified in moto's SES).
        region: The region of the clients.
        seed: Seeds the engines.

    Yields:
        The running service; its `event_store` is a `DynamoDBEventStore` on moto.
    """
    from moto import mock_aws

    loaded = service if isinstance(service, Service) else load_service(service)
    environment = {**_FAKE_CREDENTIALS, "AWS_DEFAULT_REGION": region}
    with mock.patch.dict(os.environ, environment), mock_aws():
        # An endpoint override would send the clients past moto to a real endpoint, and a
        # profile would make boto3 look for a user's configuration instead of the fake keys.
        for variable in [
            v for v in os.environ if v.startswith(("AWS_ENDPOINT_URL", "AWS_PROFILE"))
        ]:
            del os.environ[variable]
        session = boto3.session.Session(region_name=region)
        dynamodb = cast("DynamoDBClient", _Atomic(session.client("dynamodb")))
        sesv2: SESV2Client = session.client("sesv2")
        create_event_store_table(dynamodb, table)
        sesv2.create_email_identity(EmailIdentity=sender)
        yield LocalService(
            tuple(loaded.sagas.values()),
            loaded.handlers,
            event_store=DynamoDBEventStore(dynamodb, table),
            notifier=SesNotifier(sesv2, dynamodb, table, from_address=sender),
            tenant=tenant,
            service=loaded.name,
            seed=seed,
        )
