"""The demo: the reference `PlaceOrder` saga run locally, once succeeding, once compensated."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from stepsaga.infra.local.service._service import LocalService, ServiceRun

__all__ = ("DEMO_SKU", "DemoRun", "demo_json", "print_demo", "run_demo")

DEMO_SKU = "KEYBOARD-42"
"""The SKU both demo orders buy (the demo seeds 10 units of it)."""

_SCENARIOS = (
    ("order-succeeds", "o-1001", "tok_visa"),
    ("payment-declined", "o-1002", "tok_decline"),
)


@dataclass(frozen=True, slots=True)
class DemoRun:
    """One demo scenario and its execution.

    Attributes:
        scenario: `order-succeeds` or `payment-declined`.
        run: The execution and what it did.
        stock_after: Units of `DEMO_SKU` free once the execution finished.
    """

    scenario: str
    run: ServiceRun
    stock_after: int


def run_demo() -> list[DemoRun]:
    """Run the reference service's two demo orders on moto's DynamoDB and SES, in-process.

    One order succeeds; the other's payment (`tok_decline`) is declined, so the payment's own
    compensation runs (it refunds nothing: nothing was charged), its stock reservation is
    released and the customer told. Execution names are fixed, so event ids are the same on
    every run.
    """
    from stepsaga.examples.orders.handlers import seed_stock, stock_level

    runs: list[DemoRun] = []
    with LocalService.start("stepsaga.examples.orders") as service:
        seed_stock(service.event_store, str(service.tenant), DEMO_SKU, 10)
        for scenario, order_id, token in _SCENARIOS:
            command = {
                "orderId": order_id,
                "customerEmail": "ann@example.com",
                "items": [{"sku": DEMO_SKU, "quantity": 2, "unitPrice": "49.90"}],
                "paymentToken": token,
            }
            run = service.execute("PlaceOrder", command, name=f"demo-{scenario}")
            stock = stock_level(service.event_store, str(service.tenant), DEMO_SKU)
            runs.append(DemoRun(scenario, run, stock))
    return runs


def demo_json(runs: Sequence[DemoRun]) -> dict[str, Any]:
    """The `stepsaga demo --json` document.

    Shape: `{"runs": [{"scenario", "execution", "status", "path": [...], "events": [{"stream",
    "version", "type", "event_id"}], "emails": [{"to", "subject"}]}]}`; `execution` is the
    execution ARN, `stream` the stream's key (`tenant#type#id`), `to` a list of addresses.
    """
    return {
        "runs": [
            {
                "scenario": demo.scenario,
                "execution": demo.run.execution.arn,
                "status": demo.run.status,
                "path": list(demo.run.path),
                "events": [
                    {
                        "stream": recorded.stream.key,
                        "version": recorded.version,
                        "type": recorded.event.type,
                        "event_id": recorded.event.event_id,
                    }
                    for recorded in demo.run.events
                ],
                "emails": [
                    {"to": list(mail.to), "subject": mail.subject} for mail in demo.run.emails
                ],
            }
            for demo in runs
        ]
    }


_STATUS_STYLE = {"SUCCEEDED": "bold green", "FAILED": "bold red", "TIMED_OUT": "bold yellow"}


def _path(run: ServiceRun) -> Text:
    path = Text()
    for index, state in enumerate(run.path):
        if index:
            path.append(" → ", style="dim")
        compensating = state.startswith("Compensate") or state in ("Failed", "CompensationFailed")
        path.append(state, style="yellow" if compensating else "cyan")
    return path


def _events(run: ServiceRun) -> Table:
    table = Table(title="Events appended", title_justify="left", expand=False)
    for column in ("stream", "version", "type", "event id"):
        table.add_column(column, no_wrap=column != "type")
    for recorded in run.events:
        table.add_row(
            recorded.stream.key,
            str(recorded.version),
            recorded.event.type,
            recorded.event.event_id[:8] + "…",
        )
    return table


def _emails(run: ServiceRun) -> Table:
    table = Table(title="Mails sent (moto SES)", title_justify="left", expand=False)
    for column in ("to", "subject", "sent by"):
        table.add_column(column)
    for mail in run.emails:
        table.add_row(", ".join(mail.to), mail.subject, mail.state)
    return table


def print_demo(console: Console, runs: Sequence[DemoRun]) -> None:
    """Show each run readably: its status, path through the machine, events and mails."""
    for demo in runs:
        run = demo.run
        status = Text(run.status, style=_STATUS_STYLE.get(run.status, "bold"))
        if run.execution.error:
            status.append(f"  {run.execution.error}", style="red")
        body = Group(
            Text.assemble(("execution ", "bold"), run.execution.name),
            Text.assemble(("status    ", "bold"), status),
            Text.assemble(("path      ", "bold"), _path(run)),
            Text(""),
            _events(run),
            _emails(run),
            Text.assemble(
                ("stock of ", "dim"), (DEMO_SKU, "dim"), (f" now {demo.stock_after}", "")
            ),
        )
        console.print(Panel(body, title=f"[bold]{demo.scenario}[/bold]"))
