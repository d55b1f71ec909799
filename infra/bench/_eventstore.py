"""The event store's append cost on moto's DynamoDB, against a bare `put_item` loop.

An append is one `TransactWriteItems` (the event, conditional on its key being new, plus the
stream head, conditional on the expected version); the bare loop writes the same event items
with unconditional `put_item` calls. Their ratio is the price of atomic, idempotent appends.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from stepsaga.infra.bench._machines import JSON
from stepsaga.infra.bench._report import Timing

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from stepsaga.domain import StoredEvent

_TABLE = "stepsaga-bench-events"
_TENANT = "bench"


@dataclass(frozen=True)
class AppendResult:
    """Appends of one event each against bare put_item calls of the same items.

    Attributes:
        appends: Appends timed (and put_item calls timed).
        append: Time per `DynamoDBEventStore.append` of one event.
        put_item: Time per unconditional `put_item` of the same item.
        problem: What went wrong (the stream read back is not what was appended), if anything.
    """

    appends: int
    append: Timing | None
    put_item: Timing | None
    problem: str | None = None

    @property
    def ratio(self) -> float | None:
        """Median append over median put_item."""
        if self.append is None or self.put_item is None:
            return None
        return self.append.median / self.put_item.median

    def to_json(self) -> dict[str, JSON]:
        """The JSON form."""
        ratio = self.ratio
        return {
            "appends": self.appends,
            "append": None if self.append is None else self.append.to_json(),
            "put_item": None if self.put_item is None else self.put_item.to_json(),
            "ratio_append_over_put_item": None if ratio is None else round(ratio, 2),
            "problem": self.problem,
        }


#: Appends per table. moto's TransactWriteItems deep-copies every table (its rollback), so
#: its cost grows with the data held: each batch gets a fresh table to keep figures stable.
APPENDS_PER_TABLE = 25


@contextlib.contextmanager
def moto_dynamodb() -> Iterator[DynamoDBClient]:
    """A boto3 DynamoDB client on moto, in process."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        yield boto3.client(
            "dynamodb",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


def _events(count: int) -> list[StoredEvent]:
    from stepsaga.domain import StoredEvent

    when = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        StoredEvent(
            event_id=f"bench-{n}",
            type="BenchAppended",
            payload={"n": n, "sku": "SKU-1", "quantity": 2},
            occurred_at=when,
            tenant=_TENANT,
            correlation_id="arn:aws:states:us-east-1:123456789012:execution:bench:run",
            causation_id="Bench",
        )
        for n in range(count)
    ]


def _batch(
    client: DynamoDBClient,
    table: str,
    events: list[StoredEvent],
    appended: list[float],
    put: list[float],
) -> str | None:
    from stepsaga.domain import StreamId
    from stepsaga.infra.aws import DynamoDBEventStore, create_event_store_table

    create_event_store_table(client, table)
    store = DynamoDBEventStore(client, table)
    stream = StreamId.of(_TENANT, "Bench", "appends")
    bare = StreamId.of(_TENANT, "Bench", "puts")
    items: list[Any] = [store.event_item(bare, n + 1, event) for n, event in enumerate(events)]
    for version, event in enumerate(events):
        started = time.perf_counter()
        store.append(stream, [event], expected_version=version)
        appended.append(time.perf_counter() - started)
    for item in items:
        started = time.perf_counter()
        client.put_item(TableName=table, Item=item)
        put.append(time.perf_counter() - started)
    stored = [(r.version, r.event.event_id) for r in store.read(stream)]
    problem = None
    if stored != [(n + 1, event.event_id) for n, event in enumerate(events)]:
        problem = f"read back {len(stored)} events, not the {len(events)} appended in order"
    elif store.version(stream) != len(events):
        problem = f"stream head at {store.version(stream)}, expected {len(events)}"
    client.delete_table(TableName=table)
    return problem


def measure_appends(client: DynamoDBClient, count: int) -> AppendResult:
    """Time `count` one-event appends, and `count` bare put_item calls of the same items.

    Appends go to one stream per table, `APPENDS_PER_TABLE` at a time on a fresh event store
    table; each batch's stream is read back and checked.

    Args:
        client: A DynamoDB client (see `moto_dynamodb`).
        count: Appends to time (at least 1).

    Returns:
        Both timings and, if a stream read back is wrong, the problem.
    """
    events = _events(count)
    appended: list[float] = []
    put: list[float] = []
    problem = None
    for number, start in enumerate(range(0, count, APPENDS_PER_TABLE)):
        table = f"{_TABLE}-{number}"
        found = _batch(client, table, events[start : start + APPENDS_PER_TABLE], appended, put)
        problem = problem or found
    return AppendResult(count, Timing.of(appended), Timing.of(put), problem)


def run_appends(count: int) -> AppendResult:
    """`measure_appends` on a fresh moto DynamoDB; a store that cannot run is reported."""
    try:
        with moto_dynamodb() as client:
            return measure_appends(client, count)
    except Exception as exc:  # the event store is built alongside: report, don't crash
        return AppendResult(count, None, None, f"raised {type(exc).__name__}: {exc}")
