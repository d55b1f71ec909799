"""`stepsaga demo`: a service's scenarios run locally; the reference saga succeeds, compensates."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from stepsaga.infra.cli import cli
from tests.project.services import write_service


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


SHIP_DEMO = """
from stepsaga.infra.project import Demo, Scenario

DEMO = Demo(
    scenarios=(Scenario("ship-one", "ShipIt", {"id": "p-1"}),),
    summary=lambda store, tenant: f"summary for {tenant}",
)
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_service_option_runs_that_services_scenarios(project: Path) -> None:
    # GIVEN a service of the user's own with one demo scenario
    write_service(project, "svc_demo", demo=SHIP_DEMO)
    # WHEN the demo runs it, as JSON and for people
    result = CliRunner().invoke(cli, ["demo", "--service", "svc_demo", "--json"])
    readable = CliRunner().invoke(cli, ["demo", "--service", "svc_demo"])
    # THEN its scenario ran, not the reference service's
    assert result.exit_code == 0, result.output
    [run] = json.loads(result.stdout)["runs"]
    assert (run["scenario"], run["status"], run["path"]) == (
        "ship-one",
        "SUCCEEDED",
        ["Begin", "Pack"],
    )
    assert readable.exit_code == 0, readable.output
    for text in ("Saga ShipIt (command Ship)", "ship-one", "summary for acme"):
        assert text in readable.stdout
    assert "stepsaga render ShipIt --service svc_demo --format mermaid" in readable.stdout


def test_the_pyproject_names_the_demos_service(project: Path) -> None:
    write_service(project, "svc_demo_configured", demo=SHIP_DEMO)
    (project / "pyproject.toml").write_text('[tool.stepsaga]\nservice = "svc_demo_configured"\n')
    result = CliRunner().invoke(cli, ["demo", "--json"])
    assert result.exit_code == 0, result.output
    assert [run["scenario"] for run in json.loads(result.stdout)["runs"]] == ["ship-one"]


def test_a_service_without_scenarios_is_told_how_to_add_them(project: Path) -> None:
    write_service(project, "svc_without_demo")
    result = CliRunner().invoke(cli, ["demo", "--service", "svc_without_demo"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "service 'svc_without_demo' has no demo scenarios: add svc_without_demo.demo" in (
        result.stderr
    )
