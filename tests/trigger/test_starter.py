"""The starter on the engine's in-process boto3 client: the same calls it makes on AWS.

Idempotency is Step Functions' own: the execution name derives from (tenant, idempotency key),
and an `ExecutionAlreadyExists` is resolved by reading the execution under that name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from stepsaga.domain import InvalidIdentifierError, PayloadTooLargeError
from stepsaga.examples.orders import handlers
from stepsaga.examples.orders.commands import PlaceOrder
from stepsaga.examples.orders.sagas import PLACE_ORDER
from stepsaga.infra.aws import CommandConflictError, Starter, UnknownSagaError
from stepsaga.infra.local.service import service_lambdas
from stepsaga.infra.local.stepfunctions import LocalStepFunctions
from stepsaga.infra.project import load_service
from stepsaga.tasks import InMemoryEventStore, InMemoryNotifier
from stepsaga.workflows.facts import MAX_NAME_LENGTH
from stepsaga.workflows.saga import FunctionNames, Saga, Step, compile_saga, execution_name_for

ORDER = {
    "orderId": "o-1",
    "customerEmail": "ann@example.com",
    "items": [{"sku": "SKU-1", "quantity": 2, "unitPrice": "9.50"}],
    "paymentToken": "tok_ok",
}
# A state machine whose executions wait for a callback that never comes: they stay RUNNING
# (a poll lets time pass only up to a timer, and this task has none).
WAITING = {
    "StartAt": "Hold",
    "States": {
        "Hold": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": "Hold", "Payload": {"token.$": "$$.Task.Token"}},
            "End": True,
        }
    },
}


class Quote(BaseModel):
    sku: str


QUOTE = Saga(
    name="Quote",
    command=Quote,
    steps=(Step("Price", action="Price", compensation="Unprice"),),
    workflow_type="EXPRESS",
)


@dataclass
class Stack:
    engine: LocalStepFunctions
    starter: Starter
    store: InMemoryEventStore
    machines: dict[str, str]


@pytest.fixture
def stack() -> Iterator[Stack]:
    store = InMemoryEventStore()
    engine = LocalStepFunctions()
    service = load_service("stepsaga.examples.orders")
    for name, handler in service_lambdas(
        service, event_store=store, notifier=InMemoryNotifier()
    ).items():
        engine.register_lambda(name, handler)
    engine.register_lambda("Price", lambda event, context: {"price": "9.50"})
    engine.register_lambda("Unprice", lambda event, context: {})
    engine.register_lambda("Hold", lambda event, context: {})
    client = engine.client()
    role = engine.role_arn
    machines = {
        "PlaceOrder": client.create_state_machine(
            name="orders-PlaceOrder",
            definition=compile_saga(PLACE_ORDER, FunctionNames.local()).to_json(),
            roleArn=role,
        )["stateMachineArn"],
        "Quote": client.create_state_machine(
            name="orders-Quote",
            definition=compile_saga(QUOTE, FunctionNames.local()).to_json(),
            roleArn=role,
            type="EXPRESS",
        )["stateMachineArn"],
    }
    handlers.seed_stock(store, "acme", "SKU-1", 10)
    handlers.seed_stock(store, "globex", "SKU-1", 10)
    try:
        yield Stack(engine, Starter(client, (PLACE_ORDER, QUOTE), machines), store, machines)
    finally:
        engine.close()


def test_a_start_runs_under_the_name_derived_from_tenant_and_key(stack: Stack) -> None:
    started = stack.starter.start(
        PlaceOrder.model_validate(ORDER), tenant="acme", requested_by="ann", idempotency_key="k-1"
    )
    assert started.created and started.name == execution_name_for("acme", "k-1")
    assert len(started.name) <= MAX_NAME_LENGTH and re.fullmatch(r"[A-Za-z0-9_-]+", started.name)
    done = started.wait()
    assert done.status == "SUCCEEDED" and done.tenant == "acme"
    assert done.input["meta"]["requestedBy"] == "ann"
    types = [event["type"] for event in started.history()]
    assert types[0] == "ExecutionStarted" and types[-1] == "ExecutionSucceeded"
    assert handlers.stock_level(stack.store, "acme", "SKU-1") == 8


def test_the_same_command_again_after_it_closed_is_the_same_execution(stack: Stack) -> None:
    first = stack.starter.start(
        ORDER, saga="PlaceOrder", tenant="acme", requested_by="ann", idempotency_key="k-1"
    )
    again = stack.starter.start(
        ORDER, saga="PlaceOrder", tenant="acme", requested_by="bob", idempotency_key="k-1"
    )
    assert (first.created, again.created) == (True, False)
    assert again.arn == first.arn
    assert handlers.stock_level(stack.store, "acme", "SKU-1") == 8  # reserved once


def test_the_same_command_again_while_it_runs_is_the_same_execution(stack: Stack) -> None:
    client = stack.engine.client()
    waiting = client.create_state_machine(
        name="orders-Waiting", definition=json.dumps(WAITING), roleArn=stack.engine.role_arn
    )["stateMachineArn"]
    starter = Starter(client, (PLACE_ORDER,), {"PlaceOrder": waiting})
    first = starter.start(
        ORDER, saga="PlaceOrder", tenant="acme", requested_by="a", idempotency_key="k"
    )
    assert first.describe().status == "RUNNING"
    again = starter.start(
        ORDER, saga="PlaceOrder", tenant="acme", requested_by="a", idempotency_key="k"
    )
    assert (again.created, again.arn) == (False, first.arn)


def test_the_same_key_with_another_command_is_a_conflict(stack: Stack) -> None:
    stack.starter.start(
        ORDER, saga="PlaceOrder", tenant="acme", requested_by="a", idempotency_key="k"
    )
    with pytest.raises(CommandConflictError) as refused:
        stack.starter.start(
            {**ORDER, "orderId": "o-2"},
            saga="PlaceOrder",
            tenant="acme",
            requested_by="a",
            idempotency_key="k",
        )
    assert refused.value.execution_arn.endswith(execution_name_for("acme", "k"))


def test_one_key_in_two_tenants_is_two_commands(stack: Stack) -> None:
    acme = stack.starter.start(
        ORDER, saga="PlaceOrder", tenant="acme", requested_by="a", idempotency_key="k"
    )
    globex = stack.starter.start(
        ORDER, saga="PlaceOrder", tenant="globex", requested_by="a", idempotency_key="k"
    )
    assert acme.created and globex.created and acme.arn != globex.arn


def test_without_a_key_each_start_is_a_new_command(stack: Stack) -> None:
    one = stack.starter.start(ORDER, saga="PlaceOrder", tenant="acme", requested_by="a")
    two = stack.starter.start(ORDER, saga="PlaceOrder", tenant="acme", requested_by="a")
    assert one.arn != two.arn
    assert one.wait().input["meta"]["idempotencyKey"] == one.wait().input["meta"]["commandId"]


def test_find_shows_an_execution_to_its_tenant_only(stack: Stack) -> None:
    started = stack.starter.start(
        ORDER, saga="PlaceOrder", tenant="acme", requested_by="a", idempotency_key="k"
    )
    found = stack.starter.find(started.name, tenant="acme")
    assert found is not None and found.arn == started.arn
    assert stack.starter.find(started.name, tenant="globex") is None
    assert stack.starter.find("acme-0123456789abcdef", tenant="acme") is None


def test_an_express_saga_answers_with_its_outcome(stack: Stack) -> None:
    started = stack.starter.start(Quote(sku="s"), tenant="acme", requested_by="a")
    assert started.outcome is not None and started.outcome.status == "SUCCEEDED"
    assert started.wait() is started.outcome


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (
            lambda s: s.start(
                {**ORDER, "items": []}, saga="PlaceOrder", tenant="acme", requested_by="a"
            ),
            ValidationError,
        ),
        (
            lambda s: s.start(ORDER, saga="PlaceOrder", tenant="Not A Tenant", requested_by="a"),
            InvalidIdentifierError,
        ),
        (lambda s: s.start(ORDER, saga="Nope", tenant="acme", requested_by="a"), UnknownSagaError),
        (lambda s: s.start(ORDER, tenant="acme", requested_by="a"), TypeError),
        (
            lambda s: s.start(
                {
                    **ORDER,
                    "items": [
                        {"sku": f"S-{i}", "quantity": 1, "unitPrice": "1.00"} for i in range(6000)
                    ],
                },
                saga="PlaceOrder",
                tenant="acme",
                requested_by="a",
            ),
            PayloadTooLargeError,
        ),
    ],
    ids=["invalid-command", "invalid-tenant", "unknown-saga", "json-without-saga", "too-large"],
)
def test_bad_starts_are_refused_before_step_functions_is_called(
    stack: Stack, call: Any, error: type[Exception]
) -> None:
    with pytest.raises(error):
        call(stack.starter)
    assert (
        stack.engine.client().list_executions(stateMachineArn=stack.machines["PlaceOrder"])[
            "executions"
        ]
        == []
    )
