"""The reference saga end to end: `PlaceOrder` on the engine, its handlers on moto's DynamoDB
and SES, in executions per second."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stepsaga.infra.bench._machines import JSON
from stepsaga.infra.bench._peers import EngineFacade
from stepsaga.infra.bench._report import Timing

_TABLE = "stepsaga-bench-saga"
_SENDER = "orders@example.com"
_TENANT = "acme"
_SKU = "SKU-1"
_STOCK = 1_000_000


@dataclass(frozen=True)
class SagaResult:
    """Reference `PlaceOrder` executions, succeeded one after another on one table.

    Attributes:
        executions: Successful orders timed.
        timing: Wall time per execution (engine plus handlers on moto).
        handler_seconds: Total time spent inside the task handlers (their moto calls
            included); the rest is the engine's.
        problem: What went wrong (a failed order, wrong stock, a compensation that did not
            restore the stock), if anything.
    """

    executions: int
    timing: Timing | None
    handler_seconds: float = 0.0
    problem: str | None = None

    @property
    def per_second(self) -> float | None:
        """Executions per second, from the mean time per execution."""
        return None if self.timing is None else 1.0 / self.timing.mean

    @property
    def engine_share(self) -> float | None:
        """Share of the wall time spent outside the task handlers (the engine's)."""
        if self.timing is None:
            return None
        total = self.timing.mean * self.timing.runs
        return max(0.0, 1.0 - self.handler_seconds / total)

    def to_json(self) -> dict[str, JSON]:
        """The JSON form."""
        rate, share = self.per_second, self.engine_share
        return {
            "executions": self.executions,
            "executions_per_second": None if rate is None else round(rate, 2),
            "timing": None if self.timing is None else self.timing.to_json(),
            "engine_share": None if share is None else round(share, 4),
            "problem": self.problem,
        }


def _order(number: int, token: str) -> dict[str, JSON]:
    return {
        "command": {
            "orderId": f"o-{number}",
            "customerEmail": "ann@example.com",
            "items": [{"sku": _SKU, "quantity": 1, "unitPrice": "2.50"}],
            "paymentToken": token,
        },
        "meta": {
            "tenant": _TENANT,
            "commandId": f"c-{number}",
            "commandType": "PlaceOrder",
            "requestedBy": "bench",
            "idempotencyKey": f"k-{number}",
        },
    }


def _timed(handler: Callable[[Any, Any], Any], spent: list[float]) -> Callable[[Any, Any], Any]:
    def run(event: Any, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return handler(event, context)
        finally:
            spent[0] += time.perf_counter() - started

    return run


def measure_saga(factory: Callable[[], EngineFacade], count: int) -> SagaResult:
    """Run `count` successful `PlaceOrder` executions, then one declined (compensated) one.

    Everything runs in process: the engine from `factory`, the handlers of
    `stepsaga.examples.orders` through `TaskRuntime` on moto's DynamoDB (event store) and SES v2.

    Args:
        factory: Builds a fresh `LocalStepFunctions`.
        count: Successful executions to time (at least 1).

    Returns:
        The timings, or the problem met.
    """
    import boto3
    from moto import mock_aws

    from stepsaga.examples.orders.handlers import HANDLERS, seed_stock, stock_level
    from stepsaga.examples.orders.sagas import PLACE_ORDER
    from stepsaga.infra.aws import DynamoDBEventStore, SesNotifier, create_event_store_table
    from stepsaga.tasks import TaskRuntime
    from stepsaga.workflows.saga import compile_saga

    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    with mock_aws():
        dynamodb = session.client("dynamodb")
        sesv2 = session.client("sesv2")
        create_event_store_table(dynamodb, _TABLE)
        sesv2.create_email_identity(EmailIdentity=_SENDER)
        store = DynamoDBEventStore(dynamodb, _TABLE)
        runtime = TaskRuntime(
            event_store=store,
            notifier=SesNotifier(sesv2, dynamodb, _TABLE, from_address=_SENDER),
            service="orders",
        )
        handlers = runtime.handlers(HANDLERS)
        spent = [0.0]
        sfn = factory()
        for name in PLACE_ORDER.handlers():
            sfn.register_lambda(name, _timed(handlers[name], spent))
        definition = compile_saga(PLACE_ORDER).to_dict()
        seed_stock(store, _TENANT, _SKU, _STOCK)

        samples: list[float] = []
        problem: str | None = None
        for number in range(count):
            order = _order(number, "tok_visa")
            started = time.perf_counter()
            execution = sfn.run(definition, order)
            samples.append(time.perf_counter() - started)
            if execution.status != "SUCCEEDED" and problem is None:
                problem = f"order {number}: {execution.status} {execution.error}"
        handler_seconds = spent[0]
        left = stock_level(store, _TENANT, _SKU)
        if problem is None and left != _STOCK - count:
            problem = f"stock {left} after {count} orders of one unit, expected {_STOCK - count}"
        declined = sfn.run(definition, _order(count, "tok_decline"))
        if problem is None and (declined.status, declined.error) != ("FAILED", "PaymentDeclined"):
            problem = f"a declined payment ended {declined.status} {declined.error}"
        if problem is None and stock_level(store, _TENANT, _SKU) != left:
            problem = "the declined order's stock was not released"
    return SagaResult(count, Timing.of(samples), handler_seconds, problem)


def run_saga(factory: Callable[[], EngineFacade], count: int) -> SagaResult:
    """`measure_saga`, reporting instead of raising when the reference service cannot run."""
    # TaskRuntime switches Powertools off outside Lambda through these variables; keep the
    # bench process as it was.
    saved = {name: os.environ.get(name) for name in _POWERTOOLS}
    try:
        return measure_saga(factory, count)
    except Exception as exc:  # the reference service is built alongside: report, don't crash
        return SagaResult(count, None, problem=f"raised {type(exc).__name__}: {exc}")
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


_POWERTOOLS = ("POWERTOOLS_TRACE_DISABLED", "POWERTOOLS_METRICS_DISABLED")
