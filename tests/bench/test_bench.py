"""`stepsaga bench` checks answers before it compares speeds, and reports both as JSON."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from click.testing import CliRunner
from rich.console import Console

from stepsaga.examples.orders.commands import PlaceOrder
from stepsaga.examples.orders.handlers import HANDLERS
from stepsaga.infra.bench import BenchOptions
from stepsaga.infra.bench._check import first_difference
from stepsaga.infra.bench._hot_stream import HotStreamResult, HotWindow
from stepsaga.infra.bench._machines import BenchMachine, machine_named
from stepsaga.infra.bench._peers import Outcome
from stepsaga.infra.bench._report import BenchReport, Budget, PeerInfo, Timing
from stepsaga.infra.bench._runner import run_bench
from stepsaga.infra.cli import cli
from stepsaga.infra.cli._bench import _render

QUICK_CHAIN = [
    *("bench", "--json", "--quick", "--machine", "chain", "--runs", "2"),
    *("--memory", "0", "--appends", "0", "--sagas", "0", "--hot-orders", "0", "--serve", "0"),
]


def _bench_json(args: list[str]) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(cli, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, json.loads(result.stdout)


def test_quick_json_report_has_the_documented_shape() -> None:
    # GIVEN a quick run of the chain  WHEN it reports as JSON
    exit_code, report = _bench_json([*QUICK_CHAIN, "--no-long-wait", "--no-api"])
    # THEN moto ran it, got the right answer, and the figures are where tools look for them
    assert set(report) >= {"quick", "all_correct", "peers", "machines"}
    assert report["quick"] is True
    assert {peer["name"] for peer in report["peers"]} >= {"engine", "moto"}
    [chain] = report["machines"]
    assert chain["name"] == "chain"
    moto = chain["peers"]["moto"]
    assert moto["ran"] and moto["correct"] and moto["status"] == "SUCCEEDED"
    assert moto["runs"] == 2
    assert 0 < moto["min_us"] <= moto["median_us"] <= moto["p95_us"]
    assert exit_code == 0


def test_engine_and_moto_agree_on_the_chain() -> None:
    exit_code, report = _bench_json([*QUICK_CHAIN, "--no-api"])
    [chain] = report["machines"]
    engine, moto = chain["peers"]["engine"], chain["peers"]["moto"]
    assert engine["correct"], engine.get("problem")
    assert chain["outputs_agree"] is True
    assert engine["output_sha256"] == moto["output_sha256"]
    assert chain["ratio_moto_over_engine"] > 0
    assert report["long_wait"]["problem"] is None
    assert report["api"] is None  # --no-api
    assert report["targets"]["boto3_chain_at_least_20x_moto"] is None
    assert exit_code == 0


class _WrongPeer:
    """A peer that answers every machine with the same wrong output."""

    name = "engine"

    def supports(self, machine: BenchMachine) -> str | None:
        return None

    def prepare(self, machine: BenchMachine) -> _WrongPeer:
        return self

    def execute(self) -> object:
        return {"size": 1}

    def outcome(self, raw: object) -> Outcome:
        return Outcome(status="SUCCEEDED", output=raw)


def test_a_peer_with_a_wrong_answer_is_reported_not_ranked() -> None:
    # GIVEN a peer that returns a wrong output
    options = BenchOptions(
        machines=("chain",),
        memory_executions=0,
        long_wait=False,
        appends=0,
        sagas=0,
        hot_orders=0,
        budgets={"engine": Budget(3, 3, 0.0, 0)},
    )
    # WHEN the bench runs it
    report = run_bench([_WrongPeer()], options, peer_info=[PeerInfo("engine", True)])
    # THEN its result is flagged with the first difference, and the run is not all correct
    [chain] = report.machines
    result = chain.results["engine"]
    assert not result.correct
    assert result.problem is not None and "$.id: missing" in result.problem
    assert not report.all_correct
    assert report.to_json()["machines"][0]["peers"]["engine"]["output"] == {"size": 1}


def test_unknown_machine_is_refused_with_the_known_names() -> None:
    result = CliRunner().invoke(cli, ["bench", "--machine", "nope"])
    assert result.exit_code == 2
    assert "nope" in result.output and "chain" in result.output


@pytest.mark.parametrize(
    ("expected", "actual", "difference"),
    [
        ({"ok": True}, {"ok": 1}, "$.ok: expected True, got 1"),
        ({"n": 2}, {"n": 2.0}, "$.n: expected 2, got 2.0"),
        ({"a": [1, 2]}, {"a": [1]}, "$.a: expected 2 items, got 1"),
        ({"a": {"b": 1}}, {"a": {"b": 1, "c": 2}}, "$.a.c: unexpected"),
        ([{"x": "y"}], [{"x": "z"}], "$[0].x: expected 'y', got 'z'"),
    ],
)
def test_first_difference_is_strict_about_json_types(
    expected: object, actual: object, difference: str
) -> None:
    assert first_difference(expected, actual) == difference
    assert first_difference(expected, expected) is None


def test_timing_uses_the_median_and_nearest_rank_p95() -> None:
    timing = Timing.of([float(n) for n in range(100, 0, -1)])
    assert (timing.runs, timing.median, timing.p95, timing.minimum) == (100, 50.5, 95.0, 1.0)


def test_machines_expect_what_moto_computes() -> None:
    # moto is an independent reading of ASL: each machine's expected output must hold there,
    # so a disagreement with the engine points at the engine, not at the bench
    from stepsaga.infra.bench._peers import MotoPeer, moto_stepfunctions
    from stepsaga.infra.bench._runner import time_machine

    with moto_stepfunctions() as client:
        peer = MotoPeer(client)
        for name in ("chain", "parallel"):
            result = time_machine(peer, machine_named(name), Budget(1, 1, 0.0, 0))
            assert result.correct, result.problem


def test_memory_is_measured_in_a_fresh_process_with_the_engines_retention() -> None:
    from stepsaga.infra.bench._memory import measure_memory

    # GIVEN a few saga executions, measured in a fresh process
    memory = measure_memory(machine_named("tasks"), count=30)
    # THEN each held execution costs something, and the report says what the engine kept
    assert memory.problem is None
    assert memory.history_events and memory.history_events > 0
    assert memory.traced_bytes_per_execution > 0
    assert memory.engine_retained_bytes > 0
    assert memory.retention is not None and "30" in memory.retention
    assert memory.to_json()["under_bar"] is True


def test_event_store_appends_are_timed_against_put_item_and_read_back() -> None:
    from stepsaga.infra.bench._eventstore import measure_appends, moto_dynamodb

    # GIVEN more appends than fit one table batch  WHEN they are timed
    with moto_dynamodb() as client:
        result = measure_appends(client, count=30)
    # THEN every batch's stream read back in order, and both sides have figures
    assert result.problem is None
    assert result.append is not None and result.append.runs == 30
    assert result.put_item is not None and result.put_item.runs == 30
    assert result.to_json()["ratio_append_over_put_item"] > 0


def test_the_reference_saga_runs_end_to_end_and_compensates() -> None:
    from stepsaga.infra.bench._saga import measure_saga

    # GIVEN PlaceOrder on the engine with its handlers on moto  WHEN two orders succeed and
    # one is declined
    result = measure_saga(count=2)
    # THEN each order left the same stock, the declined one was compensated, and it was timed
    assert result.problem is None
    assert result.timing is not None and result.timing.runs == 2
    assert result.to_json()["executions_per_second"] > 0


def test_a_compensation_that_undoes_nothing_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    from stepsaga.infra.bench._saga import measure_saga

    # GIVEN a reference service whose stock release does nothing
    def release_nothing(command: PlaceOrder, ctx: object) -> dict[str, object]:
        return {}

    monkeypatch.setitem(HANDLERS, "ReleaseStock", release_nothing)
    # WHEN the declined order runs after the timed ones
    result = measure_saga(count=1)
    # THEN the bench says the failed order left the stock changed
    assert result.problem == (
        "payment-declined failed but left 'stock of KEYBOARD-42 now 8', "
        "not 'stock of KEYBOARD-42 now 10'"
    )


def test_node_peer_agrees_when_installed() -> None:
    from stepsaga.infra.bench._node import NodePeer, node_peer_info

    info = node_peer_info()
    if not info.available:
        pytest.skip(info.note or "aws-local-stepfunctions is not installed")
    result = NodePeer().measure(machine_named("chain"), Budget(2, 2, 0.0, 0))
    assert result.correct, result.problem


def test_profile_lists_where_the_engine_spends_its_time() -> None:
    result = CliRunner().invoke(cli, ["bench", "--profile", "parallel", "--runs", "5"])
    assert result.exit_code == 0, result.output
    assert "parallel: 5 executions on the engine under cProfile" in result.stdout
    assert "ncalls" in result.stdout and "tottime" in result.stdout


def test_the_api_paths_are_timed_against_moto_s_with_every_output_checked() -> None:
    # GIVEN a quick run of the chain and the Lambda machine  WHEN its JSON report is read
    exit_code, report = _bench_json(
        [
            *("bench", "--json", "--quick", "--machine", "chain", "--machine", "tasks"),
            *("--runs", "2", "--memory", "0", "--appends", "0", "--sagas", "0"),
            *("--hot-orders", "0", "--no-long-wait", "--serve", "0"),
        ]
    )
    # THEN each machine ran on both paths, both sides correct and compared
    api = report["api"]
    assert api["problem"] is None and api["correct"] is True
    sides = {
        (c["path"], c["machine"]): (c["ours"]["peer"], c["theirs"]["peer"])
        for c in api["comparisons"]
    }
    assert sides == {
        ("in-process", "chain"): ("engine-boto3", "moto"),
        ("in-process", "tasks"): ("engine-boto3", "moto"),
        ("http", "chain"): ("stepsaga-local", "moto-server"),
        ("http", "tasks"): ("stepsaga-local", "moto-server"),
    }
    for comparison in api["comparisons"]:
        ours, theirs = comparison["ours"], comparison["theirs"]
        assert ours["correct"] and theirs["correct"], comparison
        assert ours["runs"] == theirs["runs"] == 2
        assert comparison["ratio_theirs_over_ours"] > 0
        # moto cannot run the Lambda machine: it runs the stand-in, and says so
        stand_in = comparison["machine"] == "tasks"
        assert ("note" in theirs) == stand_in
        assert ours["output_sha256"] == theirs["output_sha256"]
    # AND the callback round trips are reported per second on both paths
    assert [c["path"] for c in api["callbacks"]] == ["in-process", "http"]
    for callback in api["callbacks"]:
        assert callback["problem"] is None
        assert callback["runs"] == 2 and callback["round_trips_per_second"] > 0
    assert report["targets"]["boto3_chain_at_least_20x_moto"] in (True, False)
    assert report["targets"]["http_chain_at_least_5x_moto_server"] in (True, False)
    assert exit_code == 0


def test_a_callback_round_trip_with_a_wrong_output_is_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from stepsaga.infra.bench import _api
    from stepsaga.infra.bench._machines import (
        CALLBACK_FUNCTION,
        acknowledge_handler,
        callback_definition,
    )
    from stepsaga.infra.local.stepfunctions import LocalStepFunctions

    # GIVEN a callback machine that keeps only part of the answer
    wrong = callback_definition()
    wrong["States"]["Approve"]["OutputPath"] = "$.approved"
    monkeypatch.setattr(_api, "callback_definition", lambda: wrong)
    engine = LocalStepFunctions()
    engine.register_lambda(CALLBACK_FUNCTION, acknowledge_handler)
    # WHEN its round trips are timed
    result = _api.measure_callbacks("in-process", engine.client(), Budget(2, 2, 0.0, 0))
    # THEN the bench says what came back instead of the answer
    assert result.problem == (
        "round trip 0: SUCCEEDED with output True, expected SUCCEEDED with "
        "{'approved': True, 'n': 0}"
    )


def test_the_lambda_stand_in_gives_the_lambda_machine_s_output_without_a_function() -> None:
    from stepsaga.infra.bench._machines import lambda_stand_in
    from stepsaga.infra.local.stepfunctions import LocalStepFunctions

    machine = machine_named("tasks")
    stand_in = lambda_stand_in(machine)
    assert not stand_in.needs_lambda
    assert all(state["Type"] == "Pass" for state in stand_in.definition["States"].values())
    execution = LocalStepFunctions().run(stand_in.definition, stand_in.input)  # no function
    assert execution.output == machine.expected_output


def test_the_last_orders_on_a_hot_sku_read_as_much_as_the_first() -> None:
    from stepsaga.examples.orders.events import STOCK_LEVEL
    from stepsaga.infra.bench._hot_stream import measure_hot_stream

    # GIVEN 60 orders of the reference saga on one SKU, on moto's DynamoDB
    result = measure_hot_stream(60, "dynamodb")

    # THEN every order succeeded, and the last ones read what the first ones did
    assert result.problem is None, result.problem
    assert result.first is not None and result.last is not None
    assert result.first.reads == result.last.reads
    assert result.first.items is not None and result.last.items is not None
    assert result.last.items <= result.first.items + STOCK_LEVEL.snapshot_every / 2
    assert result.to_json()["store"] == "dynamodb"


def test_hot_stream_growth_is_cpu_time_and_both_times_are_reported() -> None:
    # GIVEN windows whose wall time tripled (another process took the cores) while their CPU
    # time per order stayed at 2 ms
    def window(wall: float) -> HotWindow:
        cpu = Timing.of([0.002] * 3)
        return HotWindow(orders=3, cpu=cpu, timing=Timing.of([wall] * 3), reads=4, items=9)

    result = HotStreamResult("dynamodb", 6, first=window(0.010), last=window(0.030))
    # THEN the growth is the CPU time's: flat
    assert result.growth == pytest.approx(1.0)
    # AND the JSON keeps both times per window
    first = result.to_json()["first"]
    assert isinstance(first, dict)
    assert first["cpu"] == Timing.of([0.002] * 3).to_json()
    assert first["timing"] == Timing.of([0.010] * 3).to_json()
    # AND the rendered line says it is CPU time
    out = io.StringIO()
    _render(
        BenchReport(quick=True, peers=(), machines=(), hot_stream=(result,)),
        Console(file=out, width=300),
    )
    line = next(text for text in out.getvalue().splitlines() if text.startswith("hot stream"))
    assert "2.00 ms CPU per order for the first 3, 2.00 ms for the last 3 (1.00×)" in line
