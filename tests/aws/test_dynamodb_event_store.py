"""The DynamoDB event store keeps the event-store contract on moto, and writes DESIGN.md's items."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from stepsaga.infra.aws import DynamoDBEventStore, create_event_store_table
from stepsaga.infra.local.service import moto_partitioned_dynamodb
from stepsaga.tasks import EventStore, event_item_size, guard_item_size
from stepsaga.testing.contracts import EventStoreContract
from tests.aws.conftest import REGION, TABLE

ORDER, event = EventStoreContract.ORDER, EventStoreContract.event


class TestDynamoDBEventStore(EventStoreContract):
    """Every contract promise, with pages of 4 items so that reads cross page boundaries."""

    @pytest.fixture(autouse=True)
    def _moto(self, aws: None) -> Iterator[None]:
        yield

    def make_store(self) -> EventStore:
        client = boto3.client("dynamodb", region_name=REGION)
        table = f"{TABLE}-{uuid.uuid4().hex[:8]}"  # property tests build many stores
        create_event_store_table(client, table)
        return DynamoDBEventStore(client, table, page_size=4)


class TestDynamoDBEventStoreOnPartitionedMoto(TestDynamoDBEventStore):
    """The same promises with moto's transactions and queries per item and partition."""

    @pytest.fixture(autouse=True)
    def _moto(self, aws: None) -> Iterator[None]:
        with moto_partitioned_dynamodb():
            yield


def _item_size(item: dict[str, Any]) -> int:
    """DynamoDB's item size for the S and N attributes the store writes (N at its ceiling)."""
    total = 0
    for name, value in item.items():
        total += len(name.encode())
        total += len(value["S"].encode()) if "S" in value else 21
    return total


def test_items_follow_the_documented_layout(dynamodb: Any) -> None:
    store = DynamoDBEventStore(dynamodb, TABLE)
    store.append(ORDER, [event("a"), event("b")], expected_version=0)

    items = dynamodb.scan(TableName=TABLE)["Items"]
    stream_items = [item for item in items if item["pk"]["S"] == "acme#Order#o-1"]
    by_sk = {int(item["sk"]["N"]): item for item in stream_items}

    assert sorted(by_sk) == [0, 1, 2]
    assert by_sk[0]["pk"] == {"S": "acme#Order#o-1"}
    assert by_sk[0]["version"] == {"N": "2"}
    first = by_sk[1]
    assert first["pk"] == {"S": "acme#Order#o-1"}
    assert first["event_id"] == {"S": "a"}
    assert first["event_type"] == {"S": "Happened"}
    assert first["schema_version"] == {"N": "1"}
    assert first["payload"] == {"S": '{"n":"a"}'}
    assert first["tenant"] == {"S": "acme"}
    assert first["correlation_id"]["S"].startswith("arn:aws:states:")
    assert first["causation_id"] == {"S": "cmd-1"}
    # ... and each event id's guard, in the tenant's key space but outside every stream's
    guards = {item["pk"]["S"]: item for item in items if item not in stream_items}
    assert sorted(guards) == ["acme#_event#Order#o-1#a", "acme#_event#Order#o-1#b"]
    assert guards["acme#_event#Order#o-1#b"]["event_version"] == {"N": "2"}
    assert {item["sk"]["N"] for item in guards.values()} == {"0"}


def test_the_size_check_measures_the_item_actually_written(dynamodb: Any) -> None:
    store = DynamoDBEventStore(dynamodb, TABLE)
    big = event("a", blob="é" * 1000)

    item = store.event_item(ORDER, 1, big)

    assert event_item_size(ORDER, big) == _item_size(item)
    guard = store.guard_item(ORDER, 1, big)
    assert guard_item_size(ORDER, big) == _item_size(guard)


def test_a_stream_head_left_by_another_writer_is_a_conflict(dynamodb: Any) -> None:
    # GIVEN two stores on one table (two Lambda containers)
    one, two = DynamoDBEventStore(dynamodb, TABLE), DynamoDBEventStore(dynamodb, TABLE)
    one.append(ORDER, [event("a")], expected_version=0)

    # WHEN the second writes at the version it read before the first wrote
    from stepsaga.domain import ConcurrencyError

    with pytest.raises(ConcurrencyError) as raised:
        two.append(ORDER, [event("b")], expected_version=0)

    # THEN it learns the actual version from the table
    assert (raised.value.expected, raised.value.actual) == (0, 1)


def test_reads_are_consistent_and_paged(dynamodb: Any) -> None:
    calls: list[dict[str, Any]] = []
    dynamodb.meta.events.register(
        "provide-client-params.dynamodb.Query", lambda params, **_: calls.append(dict(params))
    )
    store = DynamoDBEventStore(dynamodb, TABLE, page_size=2)
    store.append(ORDER, [event(f"e{n}") for n in range(5)], expected_version=0)

    assert len(store.read(ORDER)) == 5

    assert len(calls) == 3
    assert all(call["ConsistentRead"] is True for call in calls)
    assert "ExclusiveStartKey" not in calls[0]
    assert all("ExclusiveStartKey" in call for call in calls[1:])


@mock_aws
def test_create_table_enables_expiry_for_claims() -> None:
    client = boto3.client("dynamodb", region_name=REGION)
    create_event_store_table(client, "t")

    ttl = client.describe_time_to_live(TableName="t")["TimeToLiveDescription"]

    assert ttl["TimeToLiveStatus"] == "ENABLED"
    assert ttl["AttributeName"] == "expires_at"


def test_streams_lists_one_tenants_streams_and_not_mail_claims(dynamodb: Any) -> None:
    from stepsaga.domain import StreamId
    from stepsaga.infra.aws import SesNotifier

    store = DynamoDBEventStore(dynamodb, TABLE)
    other = StreamId.of("acme", "Stock", "SKU-1")
    store.append(ORDER, [event("a")], 0)
    store.append(other, [event("b")], 0)
    store.append(StreamId.of("globex", "Order", "o-1"), [event("c", tenant="globex")], 0)
    claim = SesNotifier(None, dynamodb, TABLE, from_address="x@example.com")  # type: ignore[arg-type]
    dynamodb.put_item(
        TableName=TABLE, Item={**claim.claim_key("acme", "k"), "status": {"S": "COMPLETED"}}
    )

    assert store.streams("acme") == [ORDER, other]


def test_the_tenant_policy_allows_every_operation_the_store_uses(dynamodb: Any) -> None:
    from stepsaga.infra.aws import event_store_policy_statement
    from stepsaga.tasks import Fence, Snapshot

    # A transaction is authorised per item action inside it.
    item_actions = {
        "Put": "PutItem",
        "Update": "UpdateItem",
        "Delete": "DeleteItem",
        "ConditionCheck": "ConditionCheckItem",
    }
    called: set[str] = set()

    def record(params: Any, model: Any, **_: Any) -> None:
        if model.name == "TransactWriteItems":
            called.update(item_actions[next(iter(item))] for item in params["TransactItems"])
        else:
            called.add(model.name)

    # GIVEN every kind of call the store makes, recorded as the operations it sends
    dynamodb.meta.events.register("provide-client-params.dynamodb", record)
    store = DynamoDBEventStore(dynamodb, TABLE)
    fence = Fence(tenant="acme", command="c" * 64, step="Reserve")
    store.append(ORDER, [event("a")], 0, fence=fence)
    store.append(ORDER, [event("a")], 5, fence=fence)  # a retry: read back by id
    store.find(ORDER, ["a", "b"])
    store.read(ORDER)
    store.version(ORDER)
    store.save_snapshot(ORDER, Snapshot(name="n/1", version=1, state=1))
    store.load_snapshot(ORDER, "n/1")
    store.fence_command(fence.model_copy(update={"step": "CompensateReserve"}))
    store.fenced_by(fence)
    store.commit_command(Fence(tenant="acme", command="d" * 64, step="Confirm", commits=True))

    # THEN the tenant-bound statement allows each of them
    allowed = set(event_store_policy_statement("arn", tenant="acme")["Action"])
    assert {"BatchGetItem", "ConditionCheckItem", "PutItem", "UpdateItem"} <= called
    assert {f"dynamodb:{name}" for name in called} <= allowed
