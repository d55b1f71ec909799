"""`stepsaga demo`: a service's demo scenarios run locally, shown as tables or as JSON.

For the reference service one order succeeds and one is compensated.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import click
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from stepsaga.infra.cli._render import compile_or_exit
from stepsaga.infra.cli._service import load_or_exit, service_errors, service_option
from stepsaga.infra.local.service import DemoRun, ServiceRun, run_demo
from stepsaga.workflows.asl import StateMachine
from stepsaga.workflows.saga import (
    COMPENSATION_RETRY,
    DEFAULT_RETRY,
    UNTIL_SUCCESS,
    Notification,
    RetryPolicy,
    Saga,
    Step,
)

_STATUS_STYLE = {"SUCCEEDED": "bold green", "FAILED": "bold red", "TIMED_OUT": "bold yellow"}


def _policy(policy: RetryPolicy) -> str:
    times = (
        "until success"
        if policy.max_attempts >= UNTIL_SUCCESS.max_attempts
        else (f"{policy.max_attempts}×")
    )
    delay = f"{policy.interval}s ×{policy.backoff_rate:g}"
    if policy.max_delay is not None:
        delay += f" ≤{policy.max_delay}s"
    return f"{times}, {delay}\n[dim]{', '.join(policy.errors)}[/dim]"


def _steps_table(saga: Saga) -> Table:
    table = Table(title=f"Saga {saga.name} (command {saga.command.__name__})", title_justify="left")
    for column in ("#", "step", "compensation", "retry", "timeout"):
        table.add_column(column)
    committed = False
    for index, step in enumerate(saga.steps, start=1):
        # The pivot commits like the steps after it: no compensation, retried until it succeeds.
        committed = committed or step.name == saga.pivot
        policy = step.retry or (UNTIL_SUCCESS if committed else DEFAULT_RETRY)
        if isinstance(step, Step) and step.compensation is not None and not committed:
            undo = step.compensation
        elif isinstance(step, Notification):
            undo = "[dim]notification[/dim]"
        else:
            undo = "[dim]committed[/dim]"
        name = step.name if step.action == step.name else f"{step.name} → {step.action}"
        if step.name == saga.pivot:
            name += "\n[bold magenta]pivot[/bold magenta]"
        timeout = f"{step.timeout}s" if step.timeout is not None else "-"
        table.add_row(str(index), name, undo, _policy(policy), timeout)
    return table


def _print_saga(console: Console, saga: Saga, machine: StateMachine) -> None:
    console.print(_steps_table(saga))
    retry = _policy(COMPENSATION_RETRY).replace("\n", " on ")
    console.print(
        "On failure: the failed step's own compensation, then the completed steps', "
        f"latest first ({retry})"
    )
    if saga.on_failure is not None:
        console.print(f"then the failure notification [bold]{saga.on_failure.name}[/bold]")
    states = machine.to_dict()["States"]
    console.print(f"[green]✓[/green] compiled and validated: {len(states)} states\n")


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
        lines: list[RenderableType] = [
            Text.assemble(("execution ", "bold"), run.execution.name),
            Text.assemble(("status    ", "bold"), status),
            Text.assemble(("path      ", "bold"), _path(run)),
            Text(""),
            _events(run),
            _emails(run),
        ]
        if demo.summary is not None:
            lines.append(Text(demo.summary, style="dim"))
        console.print(Panel(Group(*lines), title=f"[bold]{demo.scenario}[/bold]"))


@click.command()
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help='Print {"runs": [{"scenario", "execution", "status", "path", "events", "emails"}]}.',
)
@service_option
def demo(as_json: bool, service: str | None) -> None:
    """Run a service's demo scenarios locally and show what each execution did.

    By default the reference PlaceOrder saga: one order succeeds, one is compensated. The sagas
    run on the embedded Step Functions engine, their steps in-process, with moto's
    DynamoDB and SES v2 (no AWS account needed). Shows each run's path through the state
    machine, the events appended per stream and the mails sent. The scenarios are the
    service's `demo.DEMO` (see stepsaga.infra.project.Demo).
    """
    loaded = load_or_exit(service)
    machines = {name: compile_or_exit(saga) for name, saga in loaded.sagas.items()}
    with service_errors():  # e.g. the service has no demo scenarios
        runs = run_demo(loaded)
    if as_json:
        click.echo(json.dumps(demo_json(runs), indent=2))
        return
    console = Console()
    shown = list(dict.fromkeys(demo.run.saga for demo in runs))
    for name in shown:
        _print_saga(console, loaded.sagas[name], machines[name])
    print_demo(console, runs)
    hint = "" if service is None else f" --service {service}"
    console.print(
        f"Render it: [bold]stepsaga render {shown[0]}{hint} --format mermaid[/bold]; "
        f"as JSON: [bold]stepsaga demo{hint} --json[/bold]"
    )
