"""`stepsaga serve` end to end: HTTP → gateway → trigger → in-process Step Functions → handlers
→ moto's DynamoDB and SES, driven with a real HTTP client (urllib) on a free 127.0.0.1 port."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stepsaga.examples.orders import handlers
from stepsaga.infra.local.gateway import DevKey, Serving, serve

ORDER = {
    "orderId": "o-1",
    "customerEmail": "ann@example.com",
    "items": [{"sku": "KEYBOARD-42", "quantity": 2, "unitPrice": "49.90"}],
    "paymentToken": "tok_ok",
}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Serving, list[str]]]:
    lines: list[str] = []
    key = tmp_path_factory.mktemp("key") / "dev-key.pem"
    with serve(port=0, tenants=("acme", "globex"), key=key, log=lines.append) as running:
        yield running, lines


class Client:
    def __init__(self, serving: Serving, token: str | None) -> None:
        self.base = serving.url
        self.token = token

    def __call__(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if self.token is not None:
            request.add_header("Authorization", f"Bearer {self.token}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, dict(answer.headers), json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), json.loads(error.read())


def as_(served: tuple[Serving, list[str]], tenant: str = "acme", sub: str = "ann") -> Client:
    serving, _ = served
    return Client(serving, serving.token(tenant, sub, email=f"{sub}@example.com"))


def poll(client: Client, execution_id: str, timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        status, _, body = client("GET", f"/executions/{execution_id}")
        assert status == 200, body
        if body["status"] != "RUNNING" or time.monotonic() > deadline:
            return dict(body)
        time.sleep(0.05)


def path_of(serving: Serving, arn: str) -> list[str]:
    events = serving.client.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    return [
        e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e
    ]


def sent_mails() -> list[Any]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return list(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)


def test_an_order_starts_and_polls_to_succeeded(served: Any) -> None:
    client = as_(served)
    status, headers, body = client(
        "POST", "/commands/PlaceOrder", ORDER, {"Idempotency-Key": "order-1"}
    )
    assert status == 202, body
    assert body["statusUrl"] == f"/executions/{body['executionId']}"
    assert headers["Location"] == body["statusUrl"]
    done = poll(client, body["executionId"])
    assert done["status"] == "SUCCEEDED" and done["commandType"] == "PlaceOrder"
    assert done["stopDate"] is not None
    serving, lines = served
    assert handlers.stock_level(serving.event_store, "acme", "KEYBOARD-42") == 8
    assert f"execution {body['executionId']} orders-PlaceOrder SUCCEEDED" in lines
    assert any(line.startswith("POST /commands/PlaceOrder 202 ") for line in lines)


def test_the_same_key_and_body_again_is_the_same_execution(served: Any) -> None:
    client = as_(served)
    order = {**ORDER, "orderId": "o-again"}
    first = client("POST", "/commands/PlaceOrder", order, {"Idempotency-Key": "again"})
    again = as_(served, sub="bob")(
        "POST", "/commands/PlaceOrder", order, {"Idempotency-Key": "again"}
    )
    assert (first[0], again[0]) == (202, 200)
    assert again[2]["executionArn"] == first[2]["executionArn"]
    other = client(
        "POST",
        "/commands/PlaceOrder",
        {**order, "orderId": "o-other"},
        {"Idempotency-Key": "again"},
    )
    assert other[0] == 409 and other[2]["error"]["code"] == "Conflict"


def test_a_declined_payment_fails_compensated_with_one_failure_mail(served: Any) -> None:
    serving, lines = served
    client = as_(served)
    before = handlers.stock_level(serving.event_store, "acme", "KEYBOARD-42")
    mails = len(sent_mails())
    declined = {**ORDER, "orderId": "o-declined", "paymentToken": "tok_decline"}
    status, _, body = client("POST", "/commands/PlaceOrder", declined)
    assert status == 202
    done = poll(client, body["executionId"])
    assert (done["status"], done["error"]) == ("FAILED", "PaymentDeclined")
    assert path_of(serving, body["executionArn"])[-4:] == [
        "CompensateChargePayment",
        "CompensateReserveStock",
        "NotifyOrderFailed",
        "Failed",
    ]
    assert handlers.stock_level(serving.event_store, "acme", "KEYBOARD-42") == before
    new = sent_mails()[mails:]
    assert len(new) == 1
    assert new[0].destinations["ToAddresses"] == ["ann@example.com"]
    assert f"execution {body['executionId']} orders-PlaceOrder FAILED PaymentDeclined" in lines


def test_another_tenant_cannot_read_an_execution(served: Any) -> None:
    status, _, body = as_(served)("POST", "/commands/PlaceOrder", {**ORDER, "orderId": "o-mine"})
    assert status == 202
    other = as_(served, tenant="globex", sub="eve")
    refused = other("GET", f"/executions/{body['executionId']}")
    assert refused[0] == 404 and refused[2]["error"]["code"] == "NotFound"
    assert as_(served)("GET", f"/executions/{body['executionId']}")[0] == 200


def test_forged_expired_and_missing_tokens_are_401(served: Any, tmp_path: Path) -> None:
    serving, _ = served
    forger = DevKey.load(tmp_path / "forger.pem")
    forged = forger.issue(issuer=serving.gateway.issuer, tenant="acme", sub="mallory")
    expired = serving.token("acme", "ann", ttl=-5)
    for token in (forged, expired, None):
        status, _, body = Client(serving, token)("POST", "/commands/PlaceOrder", ORDER)
        assert status == 401
        assert body["error"]["code"] == "Unauthorized"


def test_the_schema_is_served_without_a_token(served: Any) -> None:
    serving, _ = served
    status, _, schema = Client(serving, None)("GET", "/openapi.json")
    assert status == 200
    assert "/commands/PlaceOrder" in schema["paths"]
