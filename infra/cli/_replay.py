"""`stepsaga replay`: re-run recorded executions and TestState calls on the engine, and compare."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from stepsaga.infra.local.replay import (
    CaseResult,
    ReplayReport,
    load_records,
    load_test_state_records,
    replay_test_state,
)
from stepsaga.infra.local.replay import replay as run_replay

_Item = TypeVar("_Item")
# What --fail-under reads, per kind of record: its strictest level, and how to name the cases.
_STRICTEST = {"executions": ("full", "cases"), "TestState calls": ("inspection", "TestState calls")}


@click.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--fail-under",
    type=click.FloatRange(0, 100),
    default=None,
    help="Exit 1 when fewer than this percentage of cases match at the strictest level "
    "(full events for executions, inspection data for TestState calls), for CI.",
)
@click.option(
    "--all", "show_all", is_flag=True, help="List matching cases too, not only differences."
)
def replay(path: Path, as_json: bool, fail_under: float | None, show_all: bool) -> None:
    """Replay recordings (a .jsonl file or a folder of them) and compare with AWS's.

    A recorded execution is re-run, each Task answered from the outcome the recording holds,
    and judged at four levels: status, output (or error and cause), event types, full events.
    A recorded TestState call is made again and judged on status, output (or error and
    cause; for a call AWS refused, its error code and message), next state and inspection
    data.
    """
    try:
        records = load_records(path)
        calls = load_test_state_records(path)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    reports: dict[str, ReplayReport] = {}
    if as_json:
        report = run_replay(records)
        output: dict[str, Any] = report.to_json()
        if calls:
            reports["TestState calls"] = replay_test_state(calls)
            output["test_state"] = reports["TestState calls"].to_json()
        click.echo(json.dumps(output, indent=2))
    else:
        console = Console()
        report = _with_progress(console, records, run_replay)
        if records or not calls:
            _print(console, "Replayed executions", "executions", report, show_all)
        if calls:
            reports["TestState calls"] = _with_progress(console, calls, replay_test_state)
            _print(
                console,
                "Replayed TestState calls",
                "TestState calls",
                reports["TestState calls"],
                show_all,
            )
    if records:
        reports["executions"] = report
    if fail_under is not None:
        _enforce(path, fail_under, reports)


def _enforce(path: Path, fail_under: float, reports: dict[str, ReplayReport]) -> None:
    if not reports:
        click.echo(
            f"{path}: no recorded executions to replay, so none can match: "
            f"--fail-under {fail_under:g} fails",
            err=True,
        )
        raise SystemExit(1)
    for kind, report in reports.items():
        level, cases = _STRICTEST[kind]
        if report.rate(level) * 100 < fail_under:
            click.echo(
                f"{report.rate(level):.1%} of the {cases} match at the {level} level, under "
                f"--fail-under {fail_under:g}%",
                err=True,
            )
            raise SystemExit(1)


def _with_progress(
    console: Console,
    items: Sequence[_Item],
    run: Callable[[Sequence[_Item], Callable[[CaseResult], None]], ReplayReport],
) -> ReplayReport:
    with Progress(
        TextColumn("replaying"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("replay", total=len(items))
        return run(items, lambda _case: progress.advance(task))


def _print(console: Console, title: str, kind: str, report: ReplayReport, show_all: bool) -> None:
    table = Table(title=title, show_lines=False)
    table.add_column("case", overflow="fold")
    for level in report.levels:
        table.add_column(level, justify="center")
    table.add_column("first difference", overflow="fold")
    shown = 0
    for case in report.cases:
        if not show_all and all(case.levels.values()):
            continue
        marks = ["[green]✓[/]" if case.levels[level] else "[red]✗[/]" for level in report.levels]
        table.add_row(case.id, *marks, case.first_difference)
        shown += 1
    if shown:
        console.print(table)
    totals = "  ".join(
        f"{level} {report.passed(level)}/{report.total} ({report.rate(level):.1%})"
        for level in report.levels
    )
    console.print(f"[bold]{report.total} {kind}[/]  {totals}")
    refused = report.to_json().get("refused")
    if refused:
        console.print(
            f"  of which AWS refused {refused['total']}: refused alike {refused['code']}, "
            f"with AWS's message {refused['message']}"
        )
