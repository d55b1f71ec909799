"""The deployed order handlers on moto's DynamoDB and SES, wired from the environment."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from stepsaga.domain import StreamId
from stepsaga.examples.orders.handlers import seed_stock, stock_level
from stepsaga.infra.aws import (
    TENANT_SESSION_TAG,
    DynamoDBEventStore,
    MissingSettingError,
    event_store_policy_statement,
    event_store_table_resource,
    lambda_entry_points,
    runtime_from_environment,
)
from tests.aws.conftest import SENDER, TABLE, sent_messages
from tests.tasks.envelopes import envelope

CONTEXT = SimpleNamespace(aws_request_id="req-1", function_name="ReserveStock")


def command(token: str) -> dict[str, Any]:
    return {
        "orderId": f"o-{token}",
        "customerEmail": "ann@example.com",
        "items": [{"sku": "SKU-1", "quantity": 3, "unitPrice": "2.50"}],
        "paymentToken": token,
    }


@pytest.fixture
def handlers(dynamodb: Any, sesv2: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("STEPSAGA_EVENT_STORE_TABLE", TABLE)
    monkeypatch.setenv("STEPSAGA_MAIL_FROM", SENDER)
    import stepsaga.examples.orders.lambda_entry as entry

    # fresh entry points: the module's runtime is built once per process
    from stepsaga.examples.orders.handlers import HANDLERS

    points = lambda_entry_points(HANDLERS, service="orders")
    # The module names one Lambda per step handler, and the API Gateway trigger.
    assert set(points) == set(entry.__all__) - {"Trigger"}
    return points


@pytest.fixture
def store(dynamodb: Any) -> DynamoDBEventStore:
    return DynamoDBEventStore(dynamodb, TABLE)


def stream_types(store: DynamoDBEventStore, aggregate: str, aggregate_id: str) -> list[str]:
    return [r.event.type for r in store.read(StreamId.of("acme", aggregate, aggregate_id))]


def test_a_successful_order_on_dynamodb_and_ses(handlers: Any, store: DynamoDBEventStore) -> None:
    seed_stock(store, "acme", "SKU-1", 5)
    order = command("tok_visa")
    results: dict[str, Any] = {}
    for state in ("ReserveStock", "ChargePayment", "ConfirmOrder", "NotifyCustomer"):
        body = envelope(order, state=state, results=results)
        results[state] = handlers[state](json.loads(json.dumps(body)), CONTEXT)
    # a retried notification sends nothing more
    handlers["NotifyCustomer"](envelope(order, state="NotifyCustomer", retry_count=1), CONTEXT)

    assert stock_level(store, "acme", "SKU-1") == 2
    assert stream_types(store, "Order", "o-tok_visa") == ["OrderConfirmed"]
    (mail,) = sent_messages()
    assert mail.subject == "Order o-tok_visa confirmed"
    assert results["NotifyCustomer"]["messageId"] == mail.id


def test_a_declined_order_on_dynamodb_and_ses(handlers: Any, store: DynamoDBEventStore) -> None:
    seed_stock(store, "acme", "SKU-1", 5)
    order = command("tok_decline")
    handlers["ReserveStock"](envelope(order, state="ReserveStock"), CONTEXT)
    with pytest.raises(Exception) as raised:
        handlers["ChargePayment"](envelope(order, state="ChargePayment"), CONTEXT)
    assert type(raised.value).__name__ == "PaymentDeclined"

    error = {"Error": "PaymentDeclined", "Cause": json.dumps({"errorMessage": "card declined"})}
    handlers["ReleaseStock"](envelope(order, state="CompensateReserveStock", error=error), CONTEXT)
    handlers["NotifyOrderFailed"](envelope(order, state="NotifyOrderFailed", error=error), CONTEXT)

    assert stock_level(store, "acme", "SKU-1") == 5
    assert stream_types(store, "Payment", "o-tok_decline") == ["ChargeDeclined"]
    (mail,) = sent_messages()
    assert mail.subject == "Order o-tok_decline could not be placed"


def test_the_runtime_needs_the_table_name() -> None:
    with pytest.raises(MissingSettingError) as raised:
        runtime_from_environment(service="orders", environ={})

    assert raised.value.variable == "STEPSAGA_EVENT_STORE_TABLE"


def test_without_a_sender_steps_cannot_mail(dynamodb: Any) -> None:
    runtime = runtime_from_environment(
        service="orders", environ={"STEPSAGA_EVENT_STORE_TABLE": TABLE}
    )

    assert runtime.notifier is None


def test_the_table_resource_matches_the_created_table(dynamodb: Any) -> None:
    resource = event_store_table_resource("events")
    created = dynamodb.describe_table(TableName=TABLE)["Table"]

    assert resource["Type"] == "AWS::DynamoDB::Table"
    assert resource["DeletionPolicy"] == "Retain"
    properties = resource["Properties"]
    assert properties["TableName"] == "events"
    assert properties["KeySchema"] == created["KeySchema"]
    assert sorted(properties["AttributeDefinitions"], key=str) == sorted(
        created["AttributeDefinitions"], key=str
    )
    assert properties["TimeToLiveSpecification"] == {"Enabled": True, "AttributeName": "expires_at"}
    assert "TableName" not in event_store_table_resource()["Properties"]


def test_a_tenant_bound_policy_only_reaches_that_tenants_keys() -> None:
    arn = "arn:aws:dynamodb:us-east-1:123456789012:table/events"

    bound = event_store_policy_statement(arn, tenant="acme")
    shared = event_store_policy_statement(arn)

    assert bound["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["acme#*"]}}
    assert "Condition" not in shared
    assert {"dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem"} <= set(bound["Action"])
    with pytest.raises(ValueError):
        event_store_policy_statement(arn, tenant="ac#me")


def test_a_per_tenant_role_policy_bounds_the_keys_by_the_sessions_tenant_tag() -> None:
    arn = "arn:aws:dynamodb:us-east-1:123456789012:table/events"

    tagged = event_store_policy_statement(arn, tenant_tag=TENANT_SESSION_TAG)

    assert tagged["Condition"] == {
        "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["${aws:PrincipalTag/tenant}#*"]}
    }
    assert tagged["Action"] == event_store_policy_statement(arn)["Action"]
    with pytest.raises(ValueError, match="not both"):
        event_store_policy_statement(arn, tenant="acme", tenant_tag="tenant")
    with pytest.raises(ValueError, match="tenant_tag"):
        event_store_policy_statement(arn, tenant_tag="}#*")
