"""`stepsaga demo`: the reference saga run locally, once succeeding and once compensated."""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table

from stepsaga.examples.orders.sagas import PLACE_ORDER
from stepsaga.infra.cli._render import compile_or_exit
from stepsaga.infra.local.service import demo_json, print_demo, run_demo
from stepsaga.workflows.saga import (
    COMPENSATION_RETRY,
    DEFAULT_RETRY,
    UNTIL_SUCCESS,
    Notification,
    RetryPolicy,
    Saga,
    Step,
)


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


@click.command()
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help='Print {"runs": [{"scenario", "execution", "status", "path", "events", "emails"}]}.',
)
def demo(as_json: bool) -> None:
    """Run the reference PlaceOrder saga locally: one order succeeds, one is compensated.

    The saga runs on the embedded Step Functions engine, its steps in-process, with moto's
    DynamoDB and SES v2 (no AWS account needed). Shows each run's path through the state
    machine, the events appended per stream and the mails sent.
    """
    machine = compile_or_exit(PLACE_ORDER)
    runs = run_demo()
    if as_json:
        click.echo(json.dumps(demo_json(runs), indent=2))
        return
    console = Console()
    console.print(_steps_table(PLACE_ORDER))
    retry = _policy(COMPENSATION_RETRY).replace("\n", " on ")
    console.print(
        "On failure: the failed step's own compensation, then the completed steps', "
        f"latest first ({retry})"
    )
    if PLACE_ORDER.on_failure is not None:
        console.print(f"then the failure notification [bold]{PLACE_ORDER.on_failure.name}[/bold]")
    states = machine.to_dict()["States"]
    console.print(f"[green]✓[/green] compiled and validated: {len(states)} states\n")
    print_demo(console, runs)
    console.print(
        "Render it: [bold]stepsaga render PlaceOrder --format mermaid[/bold]; "
        "as JSON: [bold]stepsaga demo --json[/bold]"
    )
