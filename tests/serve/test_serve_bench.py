"""`stepsaga bench` times `POST /commands/PlaceOrder` through `serve`, and checks each answer."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from stepsaga.examples.orders.commands import PlaceOrder
from stepsaga.examples.orders.handlers import HANDLERS
from stepsaga.infra.bench._serve import measure_serve
from stepsaga.infra.cli import cli


@pytest.mark.parametrize("stores", ["memory", "moto"])
def test_orders_through_serve_are_timed_and_all_succeed(stores: str) -> None:
    result = measure_serve(3, stores)  # type: ignore[arg-type]
    assert result.problem is None
    assert result.timing is not None and result.timing.runs == 3
    assert result.to_json()["requests_per_second"] > 0


def test_an_order_that_does_not_succeed_is_a_problem_not_a_figure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(command: PlaceOrder, ctx: object) -> None:
        raise RuntimeError("no stock today")

    monkeypatch.setitem(HANDLERS, "ReserveStock", refuse)
    result = measure_serve(1, "memory")
    assert result.timing is None
    assert result.problem is not None and "ended FAILED" in result.problem


def test_the_bench_reports_serve_per_kind_of_store() -> None:
    args = [
        *("bench", "--json", "--quick", "--machine", "chain", "--runs", "1", "--no-api"),
        *("--memory", "0", "--appends", "0", "--sagas", "0", "--hot-orders", "0"),
        *("--no-long-wait", "--serve", "2"),
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    served = json.loads(result.stdout)["serve"]
    assert [(s["stores"], s["requests"], s["problem"]) for s in served] == [
        ("memory", 2, None),
        ("moto", 2, None),
    ]
