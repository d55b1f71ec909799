"""A service run locally: the reference saga on the engine, moto's DynamoDB and SES v2."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from stepsaga.domain import StreamId
from stepsaga.examples.orders.handlers import HANDLERS, seed_stock, stock_level
from stepsaga.examples.orders.sagas import SAGAS
from stepsaga.infra.local.service import LocalService
from stepsaga.infra.local.stepfunctions import TaskOutcome
from stepsaga.infra.project import ServiceError
from stepsaga.tasks import InMemoryEventStore, InMemoryNotifier, StepFunction
from stepsaga.workflows.saga import MissingHandlerError
from tests.project.services import write_service

SKU = "SKU-1"


def order(order_id: str, token: str = "tok_visa", quantity: int = 2) -> dict[str, Any]:
    return {
        "orderId": order_id,
        "customerEmail": "ann@example.com",
        "items": [{"sku": SKU, "quantity": quantity, "unitPrice": "9.99"}],
        "paymentToken": token,
    }


@pytest.fixture(scope="module")
def service() -> Iterator[LocalService]:
    with LocalService.start("stepsaga.examples.orders") as running:
        seed_stock(running.event_store, "acme", SKU, 100)
        yield running


def sent_by_moto() -> dict[str, Any]:
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return {m.id: m for m in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages}


def test_a_successful_order_reports_path_events_and_mail(service: LocalService) -> None:
    # GIVEN stock; WHEN an order with a good card runs
    before = stock_level(service.event_store, "acme", SKU)
    run = service.execute("PlaceOrder", order("o-ok"))

    # THEN it went through every step, in order
    assert run.status == "SUCCEEDED"
    assert run.path == ("Begin", "ReserveStock", "ChargePayment", "ConfirmOrder", "NotifyCustomer")
    # ... its events are read back from DynamoDB, each correlated with the execution
    assert [(e.stream.key, e.event.type) for e in run.events] == [
        (f"acme#Stock#{SKU}", "StockReserved"),
        ("acme#Payment#o-ok", "PaymentCharged"),
        ("acme#Order#o-ok", "OrderConfirmed"),
    ]
    assert {e.event.correlation_id for e in run.events} == {run.execution.arn}
    assert stock_level(service.event_store, "acme", SKU) == before - 2
    # ... and the confirmation went out through moto's SES
    (mail,) = run.emails
    assert mail.subject == "Order o-ok confirmed"
    assert mail.state == "NotifyCustomer"
    sent = sent_by_moto()[mail.message_id]
    assert sent.destinations["ToAddresses"] == ["ann@example.com"]
    assert sent.subject == mail.subject


def test_a_declined_payment_is_compensated(service: LocalService) -> None:
    before = stock_level(service.event_store, "acme", SKU)
    run = service.execute("PlaceOrder", order("o-no", token="tok_decline"))

    assert run.status == "FAILED"
    assert run.execution.error == "PaymentDeclined"
    assert run.path == (
        "Begin",
        "ReserveStock",
        "ChargePayment",
        "CompensateChargePayment",
        "CompensateReserveStock",
        "NotifyOrderFailed",
        "Failed",
    )
    # The declined payment's own compensation ran, and recorded nothing: nothing was charged.
    assert [e.event.type for e in run.events] == [
        "StockReserved",
        "StockReleased",
        "ChargeDeclined",
        "OrderRejected",
    ]
    assert stock_level(service.event_store, "acme", SKU) == before
    assert [m.subject for m in run.emails] == ["Order o-no could not be placed"]


def test_functions_have_concrete_local_names(service: LocalService) -> None:
    states = service.definitions["PlaceOrder"]["States"]
    assert states["ReserveStock"]["Parameters"]["FunctionName"] == "orders-ReserveStock"
    assert states["CompensateReserveStock"]["Parameters"]["FunctionName"] == "orders-ReleaseStock"


def test_a_bad_command_is_refused_before_anything_runs(service: LocalService) -> None:
    bad = order("o-bad")
    bad["items"] = []
    with pytest.raises(ValidationError) as raised:
        service.execute("PlaceOrder", bad)
    assert "items" in str(raised.value)


def test_an_unknown_saga_names_the_known_ones(service: LocalService) -> None:
    with pytest.raises(KeyError, match="PlaceOrder"):
        service.execute("CancelOrder", order("o-x"))


def test_the_same_service_runs_on_in_memory_stores_with_faults_injected() -> None:
    # GIVEN the service on in-memory adapters, with ChargePayment's first attempt throttled
    notifier = InMemoryNotifier()
    local = LocalService(SAGAS, HANDLERS, event_store=InMemoryEventStore(), notifier=notifier)
    seed_stock(local.event_store, "acme", SKU, 5)
    local.task_mock = lambda call: (
        TaskOutcome.failure("Lambda.TooManyRequestsException")
        if call.state_name == "ChargePayment" and call.retry_count == 0
        else None
    )

    # WHEN an order runs
    run = local.execute("PlaceOrder", order("o-mem"))

    # THEN the retry absorbed the fault and one mail went out
    assert run.status == "SUCCEEDED"
    types = [e["type"] for e in run.execution.history]
    assert types.count("TaskFailed") == 1
    assert [m.subject for m in run.emails] == ["Order o-mem confirmed"]
    assert len(notifier.sent) == 1


def test_start_hides_real_credentials_and_restores_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import os

    # GIVEN credentials in the environment that could reach a real account
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALACCOUNTKEY")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://example.invalid")
    before = dict(os.environ)
    # WHEN the service runs THEN neither is visible to boto3, and both are back afterwards
    with LocalService.start("stepsaga.examples.orders", table="other-events") as running:
        assert os.environ["AWS_ACCESS_KEY_ID"] != "AKIAREALACCOUNTKEY"
        assert "AWS_ENDPOINT_URL" not in os.environ
        assert running.event_store.version(StreamId.of("acme", "Stock", "none")) == 0
    assert dict(os.environ) == before


def test_start_finds_the_service_through_the_project_loader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a project naming its own service in pyproject.toml, started from its folder
    write_service(tmp_path, "svc_started")
    (tmp_path / "pyproject.toml").write_text('[tool.stepsaga]\nservice = "svc_started"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    # WHEN the service starts without a name  THEN that service's saga runs
    with LocalService.start(table="ship-events") as running:
        run = running.execute("ShipIt", {"id": "p-1"})
    assert run.status == "SUCCEEDED"
    assert run.path == ("Begin", "Pack")
    assert "svc_started-Pack" in str(running.definitions["ShipIt"])


def test_start_refuses_a_broken_service_before_moto_starts() -> None:
    with pytest.raises(ServiceError, match="no module named 'no_such_service'"):
        LocalService.start("no_such_service").__enter__()


def test_missing_handlers_are_named_when_the_service_is_built_not_when_a_run_reaches_them() -> None:
    # GIVEN handlers without ReserveStock, and RefundPayment misspelt
    steps = {name: step for name, step in HANDLERS.items() if name != "ReserveStock"}
    steps["RefundPaymnt"] = steps.pop("RefundPayment")

    # WHEN the service is built  THEN every missing handler is named, with its saga and step
    with pytest.raises(MissingHandlerError) as raised:
        LocalService(SAGAS, steps, event_store=InMemoryEventStore())

    assert [(p.saga, p.step, p.role, p.handler) for p in raised.value.problems] == [
        ("PlaceOrder", "ReserveStock", "action", "ReserveStock"),
        ("PlaceOrder", "ChargePayment", "compensation", "RefundPayment"),
    ]
    assert str(raised.value).splitlines()[1:] == [
        "  - saga 'PlaceOrder', step 'ReserveStock': its action handler 'ReserveStock' is missing",
        "  - saga 'PlaceOrder', step 'ChargePayment': its compensation handler 'RefundPayment' "
        "is missing (did you mean 'RefundPaymnt'?)",
    ]


def test_a_step_function_without_a_command_annotation_takes_its_sagas_command() -> None:
    # GIVEN a service whose handlers do not annotate the command (a plain `def f(command, ctx)`)
    def unannotated(step: StepFunction) -> StepFunction:
        return lambda command, ctx: step(command, ctx)

    steps = {name: unannotated(step) for name, step in HANDLERS.items()}
    local = LocalService(
        SAGAS, steps, event_store=InMemoryEventStore(), notifier=InMemoryNotifier()
    )
    seed_stock(local.event_store, "acme", SKU, 5)

    # THEN each handler reads its saga's command model, and the saga runs
    assert local.execute("PlaceOrder", order("o-plain")).status == "SUCCEEDED"
