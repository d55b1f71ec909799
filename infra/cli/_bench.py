"""`stepsaga bench`: the embedded engine against moto, with a progress bar or as JSON."""

from __future__ import annotations

import json
import sys

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from stepsaga.infra.bench import (
    APPENDS_PER_TABLE,
    CHAIN_RATIO_TARGET,
    HTTP_RATIO_TARGET,
    IN_PROCESS_RATIO_TARGET,
    LONG_WAIT_WALL_TARGET_SECONDS,
    MEMORY_BAR_BYTES,
    NODE_CHAIN_SECONDS,
    BenchOptions,
    BenchReport,
    PeerResult,
    profile_engine,
)
from stepsaga.infra.bench import bench as run_benchmarks

_SHORT = {"aws-local-stepfunctions": "node"}
WRONG_OUTPUT_EXIT = 1


def _duration(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1.0:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def _megabytes(count: int) -> str:
    return f"{count / (1024 * 1024):.1f} MB"


def _cell(result: PeerResult | None) -> str:
    if result is None:
        return "—"
    if result.skipped is not None:
        return "n/a"
    if result.timing is None:
        return "[red]error[/]"
    return f"{_duration(result.timing.median)} / {_duration(result.timing.p95)}"


def _verdict(ok: bool | None) -> str:
    return {True: "[green]yes[/]", False: "[red]NO[/]", None: "—"}[ok]


def _render(report: BenchReport, console: Console) -> None:
    for peer in report.peers:
        if not peer.available:
            console.print(f"[dim]{peer.name}: not run — {peer.note}[/]")
    others = [peer.name for peer in report.peers if peer.available and peer.name != "engine"]
    table = Table(title="time per execution (median / p95)", title_justify="left")
    table.add_column("machine")
    for name in ("engine", *others):
        table.add_column(_SHORT.get(name, name), justify="right")
    for name in others:
        table.add_column(f"{_SHORT.get(name, name)} ÷ engine", justify="right")
    table.add_column("correct")
    problems: list[str] = []
    for machine in report.machines:
        ran = [r for r in machine.results.values() if r.skipped is None]
        correct = all(r.correct for r in ran) and machine.outputs_agree is not False
        ratios = [machine.ratio_to(name) for name in others]
        table.add_row(
            machine.machine.name,
            *(_cell(machine.results.get(name)) for name in ("engine", *others)),
            *("—" if ratio is None else f"{ratio:,.0f}×" for ratio in ratios),
            _verdict(correct if ran else None),
        )
        for result in machine.results.values():
            if result.skipped is None and result.problem:
                problems.append(f"{machine.machine.name} on {result.peer}: {result.problem}")
            elif result.skipped:
                problems.append(
                    f"[dim]{machine.machine.name} on {result.peer}: {result.skipped}[/]"
                )
        if machine.outputs_agree is False:
            problems.append(f"{machine.machine.name}: the peers' outputs differ")
    console.print(table)
    for line in problems:
        console.print(f"  {line}")
    if report.long_wait is not None:
        wait = report.long_wait
        console.print(
            f"an hour's Wait + retry back-off on the engine: "
            f"{wait.expected_virtual_seconds:,.0f} s virtual in {_duration(wait.wall_seconds)} "
            f"wall (target < {LONG_WAIT_WALL_TARGET_SECONDS:.0f} s) {_verdict(wait.ok)}"
            + (f"\n  {wait.problem}" if wait.problem else "")
        )
    if report.memory is not None:
        memory = report.memory
        traced = memory.traced_bytes_per_execution
        console.print(
            f"memory: {memory.executions:,} finished '{memory.machine}' executions "
            f"({memory.history_events} history events each) hold "
            f"{_megabytes(memory.held_bytes)}, bar {_megabytes(MEMORY_BAR_BYTES)} "
            f"{_verdict(memory.under_bar)}\n"
            f"  {traced / 1024:.1f} KB of Python objects per held execution (tracemalloc, "
            f"{memory.traced_sample:,} runs); the engine alone retains "
            f"{_megabytes(memory.engine_retained_bytes)} of them"
            + (f"\n  {memory.retention}" if memory.retention else "")
            + (f"\n  {memory.problem}" if memory.problem else "")
        )
    if report.appends is not None:
        appends = report.appends
        if appends.append is not None and appends.put_item is not None:
            console.print(
                f"event store on moto DynamoDB: append of one event "
                f"{_duration(appends.append.median)} / put_item "
                f"{_duration(appends.put_item.median)} (medians of {appends.appends}): "
                f"{appends.ratio:.1f}× [dim](one TransactWriteItems: the event, its id guard and "
                f"the stream head, each conditional; a fresh table per {APPENDS_PER_TABLE} "
                f"appends)[/]"
            )
        if appends.problem:
            console.print(f"  [red]event store: {appends.problem}[/]")
    if report.saga is not None:
        saga = report.saga
        if saga.timing is not None and saga.per_second is not None:
            share = saga.engine_share or 0.0
            console.print(
                f"reference saga PlaceOrder end to end (handlers on moto DynamoDB + SES): "
                f"{saga.per_second:.1f} executions/s, {_duration(saga.timing.median)} / "
                f"{_duration(saga.timing.p95)} each over {saga.executions}; "
                f"{share:.1%} of it in the engine"
            )
        if saga.problem:
            console.print(f"  [red]reference saga: {saga.problem}[/]")
    if report.api is not None:
        _render_api(report, console)
    for served in report.serve:
        if served.timing is not None and served.per_second is not None:
            console.print(
                f"POST /commands/PlaceOrder through stepsaga serve on {served.stores} stores "
                f"(HTTP, JWT, trigger, engine, handlers): {served.per_second:.1f} requests/s, "
                f"{_duration(served.timing.median)} / {_duration(served.timing.p95)} each over "
                f"{served.requests}"
            )
        if served.problem:
            console.print(f"  [red]serve on {served.stores}: {served.problem}[/]")
    for hot in report.hot_stream or ():
        if hot.first is not None and hot.last is not None:
            reads = ""
            if hot.first.reads is not None and hot.last.reads is not None:
                reads = (
                    f"; DynamoDB reads per order {hot.first.reads:.1f} → {hot.last.reads:.1f}"
                    f" requests, {hot.first.items:.1f} → {hot.last.items:.1f} items"
                )
            console.print(
                f"hot stream ({hot.store}): {hot.orders:,} orders on one SKU, "
                f"{_duration(hot.first.cpu.median)} CPU per order for the first "
                f"{hot.first.orders}, {_duration(hot.last.cpu.median)} for the last "
                f"{hot.last.orders} ({hot.growth:.2f}×){reads}"
            )
        if hot.problem:
            console.print(f"  [red]hot stream ({hot.store}): {hot.problem}[/]")
    targets = report.targets()
    console.print(
        f"targets: chain ≥ {CHAIN_RATIO_TARGET:.0f}× moto "
        f"{_verdict(targets['chain_ratio_at_least_100x'])}"
        f" · chain < {_duration(NODE_CHAIN_SECONDS)} (Node peer) "
        f"{_verdict(targets['chain_faster_than_node_42us'])}"
        f" · hour's Wait < 1 s {_verdict(targets['hour_wait_under_1s'])}"
        f" · memory < 500 MB {_verdict(targets['memory_under_500MB'])}"
        f" · boto3 in-process chain ≥ {IN_PROCESS_RATIO_TARGET:.0f}× moto "
        f"{_verdict(targets['boto3_chain_at_least_20x_moto'])}"
        f" · stepsaga local chain ≥ {HTTP_RATIO_TARGET:.0f}× moto server "
        f"{_verdict(targets['http_chain_at_least_5x_moto_server'])}"
        f" · hot-stream reads flat {_verdict(targets['hot_stream_reads_flat'])}"
    )
    console.print(f"[dim]bench ran for {report.seconds:.1f} s[/]")


_PATHS = {"in-process": "boto3 in-process", "http": "HTTP"}


def _render_api(report: BenchReport, console: Console) -> None:
    api = report.api
    assert api is not None
    table = Table(
        title="the Step Functions API through boto3, per execution (median / p95)",
        title_justify="left",
    )
    table.add_column("path")
    table.add_column("machine")
    table.add_column("stepsaga", justify="right")
    table.add_column("moto", justify="right")
    table.add_column("moto ÷ stepsaga", justify="right")
    table.add_column("correct")
    notes: list[str] = []
    for comparison in api.comparisons:
        ratio = comparison.ratio
        table.add_row(
            _PATHS[comparison.path],
            comparison.machine.name,
            _cell(comparison.ours),
            _cell(comparison.theirs),
            "—" if ratio is None else f"{ratio:,.1f}×",
            _verdict(comparison.ours.correct and comparison.theirs.correct),
        )
        for result in (comparison.ours, comparison.theirs):
            where = f"{comparison.machine.name} on {result.peer}"
            if result.problem:
                notes.append(f"[red]{where}: {result.problem}[/]")
            if result.note:
                notes.append(f"[dim]{where}: {result.note}[/]")
    console.print(table)
    console.print(
        "  [dim]boto3 in-process: the engine's own client (engine.client()) against moto "
        "through boto3 (mock_aws); HTTP: stepsaga local against moto's server, each in a "
        "process of its own on 127.0.0.1[/]"
    )
    for line in notes:
        console.print(f"  {line}")
    for callback in api.callbacks:
        if callback.timing is not None and callback.per_second is not None:
            console.print(
                f"callback round trip {_PATHS[callback.path]} (StartExecution, the token, "
                f"SendTaskSuccess, DescribeExecution): {callback.per_second:,.0f}/s, "
                f"{_duration(callback.timing.median)} / {_duration(callback.timing.p95)} each "
                f"over {callback.timing.runs}"
            )
        if callback.problem:
            console.print(f"  [red]callback {_PATHS[callback.path]}: {callback.problem}[/]")
    if api.problem:
        console.print(f"  [red]{api.problem}[/]")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on stdout.")
@click.option("--quick", is_flag=True, help="Smoke run: few executions, small memory sample.")
@click.option(
    "--machine",
    "machines",
    multiple=True,
    metavar="NAME",
    help="Run only this machine (repeatable): chain, loop, map, parallel, wait_retry, tasks.",
)
@click.option("--runs", type=click.IntRange(min=1), help="Exactly N timed executions per peer.")
@click.option(
    "--memory",
    "memory_executions",
    type=click.IntRange(min=0),
    help="Executions in the memory benchmark (default 10,000; 500 with --quick; 0 skips).",
)
@click.option(
    "--appends",
    type=click.IntRange(min=0),
    help="Event store appends timed against put_item (default 200; 20 with --quick; 0 skips).",
)
@click.option(
    "--sagas",
    type=click.IntRange(min=0),
    help="Reference PlaceOrder executions timed end to end (default 20; 3 with --quick).",
)
@click.option(
    "--hot-orders",
    type=click.IntRange(min=0),
    help="Orders placed on one SKU to compare the first with the last, in memory and on moto "
    "(default 1,000; 60 with --quick; 0 skips).",
)
@click.option(
    "--profile",
    "profile",
    metavar="NAME",
    help="Only profile the engine on machine NAME (cProfile, by own time) and print it.",
)
@click.option("--no-long-wait", is_flag=True, help="Skip the engine's hour-long Wait.")
@click.option(
    "--serve",
    "serve_requests",
    type=click.IntRange(min=0),
    help="POST /commands/PlaceOrder requests through stepsaga serve, on in-memory stores and "
    "on moto (default 30 each; 3 with --quick; 0 skips).",
)
@click.option(
    "--no-api",
    is_flag=True,
    help="Skip the Step Functions API's paths (the engine's boto3 client against moto "
    "through boto3, stepsaga local against moto's server) and the callback round trips.",
)
def bench(
    as_json: bool,
    quick: bool,
    machines: tuple[str, ...],
    runs: int | None,
    memory_executions: int | None,
    appends: int | None,
    sagas: int | None,
    hot_orders: int | None,
    profile: str | None,
    no_long_wait: bool,
    no_api: bool,
    serve_requests: int | None,
) -> None:
    """Time the same state machines on the embedded engine and on moto, and check outputs.

    Then the Step Functions API's paths against moto's on the chain and the Lambda machine
    (the engine's boto3 client in-process against moto through boto3; stepsaga local over
    HTTP against moto's server) and a callback round trip per second on both paths; then
    requests per second through stepsaga serve (127.0.0.1), on in-memory stores and on moto.

    Exits 1 if any peer returns a wrong output.
    """
    options = BenchOptions(
        quick=quick,
        machines=machines,
        runs=runs,
        memory_executions=memory_executions,
        long_wait=not no_long_wait,
        appends=appends,
        sagas=sagas,
        api=not no_api,
        serve=serve_requests,
        hot_orders=hot_orders,
    )
    try:
        options.selected()
    except KeyError as exc:
        raise click.BadParameter(str(exc.args[0]), param_hint="--machine") from None
    if profile is not None:
        try:
            listing = profile_engine(profile, runs=runs or (100 if quick else 1000))
        except KeyError as exc:
            raise click.BadParameter(str(exc.args[0]), param_hint="--profile") from None
        click.echo(listing)
        return
    console = Console(stderr=True)
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("starting", total=None)

        def advance(what: str, done: int, total: int) -> None:
            progress.update(task, description=what, completed=done, total=total)

        report = run_benchmarks(options, progress=advance)
    if as_json:
        sys.stdout.write(json.dumps(report.to_json(), indent=2) + "\n")
    else:
        _render(report, Console())
    if not report.all_correct:
        raise SystemExit(WRONG_OUTPUT_EXIT)
