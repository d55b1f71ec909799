"""`stepsaga replay`: re-run recorded executions on the embedded engine and compare."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from stepsaga.infra.local.replay import LEVELS, Record, ReplayReport, load_records
from stepsaga.infra.local.replay import replay as run_replay


@click.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--fail-under",
    type=click.FloatRange(0, 100),
    default=None,
    help="Exit 1 when fewer than this percentage of cases match at the full level (for CI).",
)
@click.option(
    "--all", "show_all", is_flag=True, help="List matching cases too, not only differences."
)
def replay(path: Path, as_json: bool, fail_under: float | None, show_all: bool) -> None:
    """Replay recorded executions (a .jsonl file or a folder of them) and compare histories.

    Each Task is answered from the outcome the recording holds; each case is judged at four
    levels: status, output (or error and cause), event types, full events.
    """
    try:
        records = load_records(path)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        report = run_replay(records)
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        report = _replay_with_progress(records, show_all)
    if fail_under is not None and not records:
        click.echo(
            f"{path}: no recorded executions to replay, so none can match: "
            f"--fail-under {fail_under:g} fails",
            err=True,
        )
        raise SystemExit(1)
    if fail_under is not None and report.rate("full") * 100 < fail_under:
        click.echo(
            f"{report.rate('full'):.1%} of the cases match at the full level, under "
            f"--fail-under {fail_under:g}%",
            err=True,
        )
        raise SystemExit(1)


def _replay_with_progress(records: list[Record], show_all: bool) -> ReplayReport:
    console = Console()
    with Progress(
        TextColumn("replaying"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("replay", total=len(records))
        report = run_replay(records, progress=lambda _case: progress.advance(task))
    _print(console, report, show_all)
    return report


def _print(console: Console, report: ReplayReport, show_all: bool) -> None:
    table = Table(title="Replayed executions", show_lines=False)
    table.add_column("case", overflow="fold")
    for level in LEVELS:
        table.add_column(level, justify="center")
    table.add_column("first difference", overflow="fold")
    shown = 0
    for case in report.cases:
        if not show_all and all(case.levels.values()):
            continue
        marks = ["[green]✓[/]" if case.levels[level] else "[red]✗[/]" for level in LEVELS]
        table.add_row(case.id, *marks, case.first_difference)
        shown += 1
    if shown:
        console.print(table)
    totals = "  ".join(
        f"{level} {report.passed(level)}/{report.total} ({report.rate(level):.1%})"
        for level in LEVELS
    )
    console.print(f"[bold]{report.total} executions[/]  {totals}")
