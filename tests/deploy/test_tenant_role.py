"""Task functions reach the table through the tenant role, assumed per tenant with the session
tag `tenant`: credentials cached per tenant, assumed again before they expire."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from stepsaga.domain import StreamId, TenantId
from stepsaga.examples.orders.handlers import HANDLERS, seed_stock, stock_level
from stepsaga.infra.aws import (
    TenantRole,
    TenantRoleEventStore,
    TenantRoleNotifier,
    create_event_store_table,
    lambda_entry_points,
    runtime_from_environment,
)
from stepsaga.tasks import EventStore
from stepsaga.testing.contracts import EventStoreContract

ROLE = "arn:aws:iam::123456789012:role/tenant-role"
START = datetime(2026, 12, 2, 0, 0, tzinfo=UTC).timestamp()


def assume_answer(key: str, expires: float) -> dict[str, Any]:
    return {
        "Credentials": {
            "AccessKeyId": key,
            "SecretAccessKey": "secret-" + key,
            "SessionToken": "token-" + key,
            "Expiration": datetime.fromtimestamp(expires, UTC),
        },
        "AssumedRoleUser": {"AssumedRoleId": "AROA:x", "Arn": ROLE + "/x"},
    }


def assume_request(tenant: str) -> dict[str, Any]:
    return {
        "RoleArn": ROLE,
        "RoleSessionName": f"stepsaga-{tenant}",
        "DurationSeconds": 900,
        "Tags": [{"Key": "tenant", "Value": tenant}],
    }


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def stubbed() -> Iterator[tuple[TenantRole, Stubber, list[dict[str, str]], Clock]]:
    sts = boto3.client(
        "sts", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    built: list[dict[str, str]] = []

    def factory(**credentials: str) -> Any:
        built.append(credentials)
        return object()

    clock = Clock()
    role = TenantRole(sts, ROLE, client_factory=factory, clock=clock)
    with Stubber(sts) as stubber:
        yield role, stubber, built, clock
        stubber.assert_no_pending_responses()


def test_the_role_is_assumed_once_per_tenant_with_its_session_tag(
    stubbed: tuple[TenantRole, Stubber, list[dict[str, str]], Clock],
) -> None:
    role, stubber, built, _ = stubbed
    stubber.add_response(
        "assume_role", assume_answer("ASIAKEYACME00000001", START + 900), assume_request("acme")
    )
    stubber.add_response(
        "assume_role", assume_answer("ASIAKEYBETA00000002", START + 900), assume_request("beta")
    )

    acme = role.dynamodb(TenantId("acme"))
    again = role.dynamodb(TenantId("acme"))  # cached: no second AssumeRole
    beta = role.dynamodb(TenantId("beta"))

    assert acme is again
    assert beta is not acme
    assert built == [
        {
            "aws_access_key_id": "ASIAKEYACME00000001",
            "aws_secret_access_key": "secret-ASIAKEYACME00000001",
            "aws_session_token": "token-ASIAKEYACME00000001",
        },
        {
            "aws_access_key_id": "ASIAKEYBETA00000002",
            "aws_secret_access_key": "secret-ASIAKEYBETA00000002",
            "aws_session_token": "token-ASIAKEYBETA00000002",
        },
    ]


def test_credentials_are_assumed_again_before_they_expire(
    stubbed: tuple[TenantRole, Stubber, list[dict[str, str]], Clock],
) -> None:
    role, stubber, built, clock = stubbed
    stubber.add_response(
        "assume_role", assume_answer("ASIAKEYONE000000001", START + 900), assume_request("acme")
    )
    stubber.add_response(
        "assume_role", assume_answer("ASIAKEYTWO000000002", START + 1800), assume_request("acme")
    )

    first = role.dynamodb(TenantId("acme"))
    clock.now = START + 900 - 121  # still more than the 120 s margin left
    assert role.dynamodb(TenantId("acme")) is first
    clock.now = START + 900 - 120  # within the margin: refreshed before expiry
    second = role.dynamodb(TenantId("acme"))

    assert second is not first
    assert [c["aws_access_key_id"] for c in built] == ["ASIAKEYONE000000001", "ASIAKEYTWO000000002"]


def test_a_refresh_margin_as_long_as_the_session_is_refused() -> None:
    sts = boto3.client("sts", region_name="us-east-1")
    with pytest.raises(ValueError, match="refresh_before_seconds"):
        TenantRole(sts, ROLE, duration_seconds=900, refresh_before_seconds=900)
    with pytest.raises(ValueError, match="role_arn"):
        TenantRole(sts, "")


@pytest.fixture
def moto_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


def test_the_deployed_runtime_uses_the_tenant_role_when_its_arn_is_set(moto_env: None) -> None:
    create_event_store_table(boto3.client("dynamodb"), "events")
    runtime = runtime_from_environment(
        service="orders",
        environ={
            "STEPSAGA_EVENT_STORE_TABLE": "events",
            "STEPSAGA_TENANT_ROLE_ARN": ROLE,
            "STEPSAGA_MAIL_FROM": "orders@example.com",
        },
    )
    assert isinstance(runtime.event_store, TenantRoleEventStore)
    assert isinstance(runtime.notifier, TenantRoleNotifier)

    seed_stock(runtime.event_store, "acme", "SKU-1", 5)
    entry = lambda_entry_points(HANDLERS, service="orders", runtime=lambda: runtime)
    entry["ReserveStock"](
        {
            "command": {
                "orderId": "o-1",
                "customerEmail": "ann@example.com",
                "items": [{"sku": "SKU-1", "quantity": 2, "unitPrice": "9.50"}],
                "paymentToken": "tok_ok",
            },
            "meta": {
                "tenant": "acme",
                "commandId": "c-1",
                "commandType": "PlaceOrder",
                "requestedBy": "u-1",
                "idempotencyKey": "k-1",
            },
            "results": {},
            "execution": {
                "id": "arn:aws:states:us-east-1:123456789012:execution:m:e",
                "name": "e",
                "startTime": "2026-01-01T00:00:00Z",
            },
            "state": {"name": "ReserveStock", "retryCount": 0},
        },
        None,
    )

    assert stock_level(runtime.event_store, "acme", "SKU-1") == 3
    stream = StreamId.of(TenantId("acme"), "Stock", "SKU-1")
    assert runtime.event_store.version(stream) >= 2


def test_without_the_setting_the_functions_own_credentials_reach_the_table(
    moto_env: None,
) -> None:
    runtime = runtime_from_environment(
        service="orders", environ={"STEPSAGA_EVENT_STORE_TABLE": "events"}
    )
    assert not isinstance(runtime.event_store, TenantRoleEventStore)


class TestTenantRoleEventStore(EventStoreContract):
    """Every event store promise holds through the per-tenant role (moto's STS and DynamoDB),
    and each tenant's calls use that tenant's assumed credentials."""

    @pytest.fixture(autouse=True)
    def _moto(self, moto_env: None) -> Iterator[None]:
        yield

    def make_store(self) -> EventStore:
        table = f"events-{uuid.uuid4().hex[:8]}"
        create_event_store_table(boto3.client("dynamodb"), table)
        self.tenants_assumed: list[str] = []
        sts = boto3.client("sts")
        original = sts.assume_role

        def assume_role(**request: Any) -> Any:
            self.tenants_assumed.append(request["Tags"][0]["Value"])
            return original(**request)

        sts.assume_role = assume_role  # type: ignore[method-assign]
        return TenantRoleEventStore(TenantRole(sts, ROLE), table)

    def test_each_tenant_assumes_the_role_once(self, store: EventStore) -> None:
        acme = StreamId.of(TenantId("acme"), "Order", "o-1")
        beta = StreamId.of(TenantId("beta"), "Order", "o-1")
        store.append(acme, [self.event("a-1", "acme")], expected_version=0)
        store.append(beta, [self.event("b-1", "beta")], expected_version=0)
        assert [e.event.event_id for e in store.read(acme)] == ["a-1"]
        assert self.tenants_assumed == ["acme", "beta"]


# What each DynamoDB call is authorised as; TransactWriteItems by the actions inside it.
_TRANSACT_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}


def test_the_tenant_roles_policy_allows_every_call_the_saga_makes(moto_env: None) -> None:
    """Least privilege must still be enough: run the reference saga, success and compensation,
    through the tenant role and check each DynamoDB action it needed is in the policy."""
    from stepsaga.examples.orders.sagas import SAGAS
    from stepsaga.infra.aws import event_store_policy_statement
    from stepsaga.infra.local.service import LocalService

    create_event_store_table(boto3.client("dynamodb"), "events")
    boto3.client("sesv2").create_email_identity(EmailIdentity="orders@example.com")
    needed: set[str] = set()

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == "TransactWriteItems":
            for item in params["TransactItems"]:
                needed.update(_TRANSACT_ACTIONS[kind] for kind in item)
        else:
            needed.add(f"dynamodb:{model.name}")

    def factory(**credentials: str) -> Any:
        client = boto3.client("dynamodb", **credentials)
        client.meta.events.register("provide-client-params.dynamodb.*", record)
        return client

    role = TenantRole(boto3.client("sts"), ROLE, client_factory=factory)
    store = TenantRoleEventStore(role, "events")
    notifier = TenantRoleNotifier(
        role, boto3.client("sesv2"), "events", from_address="orders@example.com"
    )
    seed_stock(store, "acme", "SKU-1", 5)
    service = LocalService(SAGAS, HANDLERS, event_store=store, notifier=notifier)
    command = {
        "orderId": "o-1",
        "customerEmail": "ann@example.com",
        "items": [{"sku": "SKU-1", "quantity": 2, "unitPrice": "9.50"}],
        "paymentToken": "tok_ok",
    }
    assert service.execute("PlaceOrder", command).execution.status == "SUCCEEDED"
    declined = {**command, "orderId": "o-2", "paymentToken": "tok_decline"}
    assert service.execute("PlaceOrder", declined).execution.status == "FAILED"

    allowed = set(event_store_policy_statement("arn:table", tenant_tag="tenant")["Action"])
    assert needed, "no DynamoDB call was recorded"
    assert needed <= allowed, sorted(needed - allowed)
    assert {"dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"} <= needed
