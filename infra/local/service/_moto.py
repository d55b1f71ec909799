"""A service on moto's DynamoDB and SES v2, in-process, with fake credentials."""

from __future__ import annotations

import copy
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

__all__ = ("moto_partitioned_dynamodb", "moto_service")

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


class _TablesByReference:
    """Stands in for the `copy` module inside moto's DynamoDB backend: tables are not copied."""

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        from moto.dynamodb.models.table import Table

        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def _key_values(table: Any, key: dict[str, Any]) -> tuple[Any, Any]:
    from moto.dynamodb.models.dynamo_type import DynamoType

    hash_value = DynamoType(key[table.hash_key_attr])
    range_attr = table.range_key_attr
    return hash_value, None if range_attr is None else DynamoType(key[range_attr])


def _touched(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, Any, Any, Any]]:
    """(table, hash, range, a copy of the item or None) for each item a transaction writes."""
    saved = []
    for entry in transact_items:
        op_type, op = next(iter(entry.items()))
        table = backend.tables.get(op.get("TableName"))
        if table is None or op_type == "ConditionCheck":
            continue
        try:
            key = op["Item"] if op_type == "Put" else op["Key"]
            hash_value, range_value = _key_values(table, key)
        except (KeyError, TypeError):
            continue  # moto refuses the request itself, before writing anything
        current = table.get_item(hash_value, range_value)
        saved.append((table, hash_value, range_value, copy.deepcopy(current)))
    return saved


def _restore(saved: list[tuple[Any, Any, Any, Any]]) -> None:
    for table, hash_value, range_value, item in reversed(saved):
        if range_value is None:
            if item is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = item
            continue
        ranges = table.items.get(hash_value)
        if item is not None:
            table.items[hash_value][range_value] = item
        elif ranges is not None:
            ranges.pop(range_value, None)
            if not ranges:
                table.items.pop(hash_value, None)


@contextmanager
def moto_partitioned_dynamodb() -> Iterator[None]:
    """Make moto's DynamoDB cost what DynamoDB's does: per item and per partition, not per table.

    Two of moto's requests take time in proportion to everything the table holds, so a hot
    stream's saga slows down as orders accumulate whatever the store does:

    - `TransactWriteItems` backs up by deep-copying the whole table, once per item of the
      transaction, and puts the copy back if the transaction is cancelled. Here it backs up,
      and on cancellation restores, the items it writes: all a rollback needs.
    - `Query` on the table sorts every item of the table, then keeps the partition's. Here it
      looks at the partition asked for only.

    Conditions, writes, results and errors are moto's own. The event-store contract runs
    with this in place too (tests/aws).
    """
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    original_transact = models.DynamoDBBackend.transact_write_items
    original_query = Table.query

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved = _touched(self, transact_items)
        with mock.patch.object(models, "copy", _TablesByReference):
            try:
                original_transact(self, transact_items)
            except Exception:
                _restore(saved)
                raise

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        if index_name is not None or hash_key is None or self.range_key_attr is None:
            return original_query(self, hash_key, *args, **kwargs)
        # moto sorts what `all_items` gives by range key itself, then filters and pages it:
        # give it the partition's items that meet the range condition, which moto keeps.
        partition = list(self.items.get(hash_key, {}).values())
        range_comparison, range_values = (*args, None, None)[:2]
        if range_comparison:
            partition = [
                item for item in partition if item.range_key.compare(range_comparison, range_values)
            ]
        self.all_items = lambda: partition
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    with (
        mock.patch.object(models.DynamoDBBackend, "transact_write_items", transact_write_items),
        mock.patch.object(Table, "query", query),
    ):
        yield


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
    with mock.patch.dict(os.environ, environment), mock_aws(), moto_partitioned_dynamodb():
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
