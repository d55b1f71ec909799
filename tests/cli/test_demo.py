"""`stepsaga demo`: the reference saga run locally, succeeding and compensated."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from stepsaga.infra.cli import cli


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["demo", "--json"])
    assert result.exit_code == 0, result.output
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def test_the_json_has_exactly_the_documented_shape(document: dict[str, Any]) -> None:
    assert list(document) == ["runs"]
    for run in document["runs"]:
        assert list(run) == ["scenario", "execution", "status", "path", "events", "emails"]
        assert all(isinstance(state, str) for state in run["path"])
        for event in run["events"]:
            assert list(event) == ["stream", "version", "type", "event_id"]
        for mail in run["emails"]:
            assert list(mail) == ["to", "subject"]


def test_the_successful_order_ends_in_the_confirmation(document: dict[str, Any]) -> None:
    ok = document["runs"][0]
    assert ok["scenario"] == "order-succeeds"
    assert ok["status"] == "SUCCEEDED"
    assert ok["path"][-1] == "NotifyCustomer"
    assert [e["type"] for e in ok["events"]] == [
        "StockReserved",
        "PaymentCharged",
        "OrderConfirmed",
    ]
    assert ok["emails"] == [{"to": ["ann@example.com"], "subject": "Order o-1001 confirmed"}]


def test_the_declined_order_undoes_the_payment_then_the_stock(document: dict[str, Any]) -> None:
    declined = document["runs"][1]
    assert declined["scenario"] == "payment-declined"
    assert declined["status"] == "FAILED"
    # The failed step's own compensation runs first, then the completed step's.
    assert declined["path"][declined["path"].index("ChargePayment") + 1 :] == [
        "CompensateChargePayment",
        "CompensateReserveStock",
        "NotifyOrderFailed",
        "Failed",
    ]
    # Nothing was charged, so the refund records nothing; the reservation is released.
    payment = [e for e in declined["events"] if e["stream"].startswith("acme#Payment#")]
    assert [e["type"] for e in payment] == ["ChargeDeclined"]
    stock = [e for e in declined["events"] if e["stream"].startswith("acme#Stock#")]
    assert [e["type"] for e in stock] == ["StockReserved", "StockReleased"]
    assert [e["version"] for e in stock] == [stock[0]["version"], stock[0]["version"] + 1]
    assert [m["subject"] for m in declined["emails"]] == ["Order o-1002 could not be placed"]


def test_event_ids_are_unique_and_stable_across_runs(document: dict[str, Any]) -> None:
    ids = [e["event_id"] for run in document["runs"] for e in run["events"]]
    assert len(ids) == len(set(ids))
    again = json.loads(CliRunner().invoke(cli, ["demo", "--json"]).stdout)
    assert again == document


def test_the_readable_output_shows_paths_events_and_mails() -> None:
    result = CliRunner().invoke(cli, ["demo"])
    assert result.exit_code == 0, result.output
    for text in (
        "order-succeeds",
        "payment-declined",
        "CompensateReserveStock",
        "StockReleased",
        "Order o-1001 confirmed",
        "Order o-1002 could not be placed",
    ):
        assert text in result.stdout
