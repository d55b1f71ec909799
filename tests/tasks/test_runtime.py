"""The step runtime: envelope parsing, error names, idempotent appends, logging."""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

import pytest
from aws_lambda_powertools import Logger

from stepsaga.domain import (
    BusinessFailure,
    Command,
    ConcurrencyError,
    DomainEvent,
    RetryableError,
    StoredEvent,
    StreamId,
)
from stepsaga.tasks import (
    InMemoryEventStore,
    InMemoryNotifier,
    InvalidStepInput,
    StepContext,
    TaskFailed,
    TaskRuntime,
    event_id_for,
    task_error,
)
from stepsaga.workflows.saga import RETRYABLE_ERROR
from tests.tasks.envelopes import EXECUTION, envelope


class Deposit(Command):
    account_id: str
    amount: int


class Deposited(DomainEvent):
    amount: int


class Overdrawn(BusinessFailure):
    pass


DEPOSIT = {"accountId": "acc-1", "amount": 5}


def account(ctx: StepContext) -> StreamId:
    return ctx.stream("Account", "acc-1")


def deposit(command: Deposit, ctx: StepContext) -> dict[str, Any]:
    recorded = ctx.append(account(ctx), [Deposited(amount=command.amount)], expected_version=0)
    return {"version": recorded[-1].version}


@pytest.fixture
def store() -> InMemoryEventStore:
    return InMemoryEventStore()


@pytest.fixture
def runtime(store: InMemoryEventStore) -> TaskRuntime:
    return TaskRuntime(event_store=store, notifier=InMemoryNotifier(), service="runtime-test")


def run(runtime: TaskRuntime, step: Any, event: Any, name: str = "Step") -> Any:
    return runtime.handler(step, name=name, command=Deposit)(event, None)


# -- parsing ----------------------------------------------------------------------------------


def test_the_command_reaches_the_step_typed(runtime: TaskRuntime) -> None:
    seen: list[Any] = []

    def step(command: Deposit, ctx: StepContext) -> None:
        seen.append((command, ctx.tenant, ctx.state.name, ctx.execution.id, ctx.meta.command_id))

    runtime.handler(step)(envelope(DEPOSIT, state="Deposit"), None)

    assert seen == [(Deposit(account_id="acc-1", amount=5), "acme", "Deposit", EXECUTION, "cmd-1")]


def test_an_envelope_that_does_not_parse_names_the_field(
    runtime: TaskRuntime, store: InMemoryEventStore
) -> None:
    broken = envelope(DEPOSIT, state="Deposit")
    del broken["execution"]["id"]

    with pytest.raises(InvalidStepInput) as raised:
        run(runtime, deposit, broken)

    assert raised.value.field == "execution.id"
    assert type(raised.value).__name__ == "InvalidStepInput"
    assert store.streams() == []


def test_a_command_failing_its_model_names_the_command_field(
    runtime: TaskRuntime, store: InMemoryEventStore
) -> None:
    with pytest.raises(InvalidStepInput) as raised:
        run(runtime, deposit, envelope({"accountId": "acc-1", "amount": "lots"}, state="Deposit"))

    assert raised.value.field == "command.amount"
    assert store.streams() == []


@pytest.mark.parametrize("tenant", ["ac#me", "ACME", "x" * 64, ""])
def test_an_invalid_tenant_is_refused_before_the_step_runs(
    runtime: TaskRuntime, store: InMemoryEventStore, tenant: str
) -> None:
    with pytest.raises(InvalidStepInput) as raised:
        run(runtime, deposit, envelope(DEPOSIT, state="Deposit", tenant=tenant))

    assert raised.value.field.startswith("meta.tenant")
    assert store.streams() == []


def test_a_payload_that_is_not_an_object_is_refused(runtime: TaskRuntime) -> None:
    with pytest.raises(InvalidStepInput, match="JSON object"):
        run(runtime, deposit, ["not", "an", "envelope"])


def test_the_command_model_comes_from_the_annotation(runtime: TaskRuntime) -> None:
    assert runtime.handler(deposit)(envelope(DEPOSIT, state="Deposit"), None) == {"version": 1}

    def untyped(command, ctx):  # type: ignore[no-untyped-def]
        return None

    with pytest.raises(TypeError, match="annotate its first parameter"):
        runtime.handler(untyped)


# -- error names --------------------------------------------------------------------------------


def test_a_business_failure_is_raised_under_its_own_name(runtime: TaskRuntime) -> None:
    def step(command: Deposit, ctx: StepContext) -> None:
        raise Overdrawn("balance too low", details={"balance": 3})

    with pytest.raises(TaskFailed) as raised:
        run(runtime, step, envelope(DEPOSIT, state="Deposit"))

    assert type(raised.value).__name__ == "Overdrawn"
    # The Lambda error message carries the failure whole, for the compensations to read
    assert json.loads(str(raised.value)) == {
        "message": "balance too low",
        "details": {"balance": 3},
    }
    assert raised.value.details == {"balance": 3}
    assert isinstance(raised.value.__cause__, Overdrawn)


def test_an_explicitly_named_business_failure_keeps_that_name(runtime: TaskRuntime) -> None:
    def step(command: Deposit, ctx: StepContext) -> None:
        raise BusinessFailure("no", name="Account.Frozen")

    with pytest.raises(TaskFailed) as raised:
        run(runtime, step, envelope(DEPOSIT, state="Deposit"))

    assert type(raised.value).__name__ == "Account.Frozen"


@pytest.mark.parametrize(
    "error", [RetryableError("bank busy"), ConcurrencyError("acme#Account#acc-1", 1, 2)]
)
def test_retryable_errors_and_conflicts_are_saga_retryable(
    runtime: TaskRuntime, error: Exception
) -> None:
    def step(command: Deposit, ctx: StepContext) -> None:
        raise error

    with pytest.raises(TaskFailed) as raised:
        run(runtime, step, envelope(DEPOSIT, state="Deposit"))

    assert type(raised.value).__name__ == RETRYABLE_ERROR == "Saga.Retryable"
    assert raised.value.__cause__ is error


def test_any_other_error_keeps_its_class_name(runtime: TaskRuntime) -> None:
    def step(command: Deposit, ctx: StepContext) -> None:
        raise KeyError("missing")

    with pytest.raises(KeyError):
        run(runtime, step, envelope(DEPOSIT, state="Deposit"))


def test_error_classes_are_one_per_name() -> None:
    assert task_error("PaymentDeclined") is task_error("PaymentDeclined")
    assert task_error("PaymentDeclined") is not task_error("OutOfStock")


def test_a_result_over_the_step_functions_payload_limit_is_refused(runtime: TaskRuntime) -> None:
    def step(command: Deposit, ctx: StepContext) -> dict[str, str]:
        return {"blob": "x" * 300_000}

    with pytest.raises(Exception) as raised:
        run(runtime, step, envelope(DEPOSIT, state="Deposit"))

    assert type(raised.value).__name__ == "PayloadTooLargeError"


def test_pydantic_results_are_returned_as_camel_case_json(runtime: TaskRuntime) -> None:
    def step(command: Deposit, ctx: StepContext) -> Deposit:
        return command

    assert run(runtime, step, envelope(DEPOSIT, state="Deposit")) == DEPOSIT


# -- idempotent appends ---------------------------------------------------------------------


def test_event_ids_are_deterministic_per_command_state_stream_and_index() -> None:
    stream = StreamId.of("acme", "Account", "acc-1")
    first = event_id_for("cmd-key", "Deposit", stream, 0)

    assert first == event_id_for("cmd-key", "Deposit", stream, 0)
    assert uuid.UUID(first)
    others = {
        event_id_for("cmd-key", "Deposit", stream, 1),
        event_id_for("cmd-key", "CompensateDeposit", stream, 0),
        event_id_for("cmd-key", "Deposit", StreamId.of("acme", "Account", "acc-2"), 0),
        event_id_for("other-key", "Deposit", stream, 0),
    }
    assert len({first, *others}) == 5


def _command_key(event: dict[str, Any]) -> str:
    from stepsaga.workflows.saga import CommandMeta, command_key

    return command_key(CommandMeta.model_validate(event["meta"]))


def test_a_retried_step_appends_once(runtime: TaskRuntime, store: InMemoryEventStore) -> None:
    # GIVEN a step that appended and then crashed before returning
    run(runtime, deposit, envelope(DEPOSIT, state="Deposit"))

    # WHEN Step Functions retries it
    result = run(runtime, deposit, envelope(DEPOSIT, state="Deposit", retry_count=1))

    # THEN the retry succeeds and the stream holds one event, correlated to the execution
    assert result == {"version": 1}
    stream = StreamId.of("acme", "Account", "acc-1")
    (recorded,) = store.read(stream)
    key = _command_key(envelope(DEPOSIT, state="Deposit"))
    assert recorded.event.event_id == event_id_for(key, "Deposit", stream, 0)
    assert recorded.event.correlation_id == EXECUTION
    assert recorded.event.causation_id == "cmd-1"
    assert recorded.event.type == "Deposited"
    assert recorded.event.payload == {"amount": 5}


def test_a_retried_step_that_re_reads_its_expected_version_appends_once(
    runtime: TaskRuntime, store: InMemoryEventStore
) -> None:
    # GIVEN a step that appends at the version it reads, and crashed after its append landed
    def note(command: Deposit, ctx: StepContext) -> int:
        stream = account(ctx)
        ctx.append(stream, [Deposited(amount=command.amount)], expected_version=ctx.version(stream))
        return ctx.version(stream)

    run(runtime, note, envelope(DEPOSIT, state="Note"))

    # WHEN Step Functions retries it: it reads version 1 and appends "again" at 1
    assert run(runtime, note, envelope(DEPOSIT, state="Note", retry_count=1)) == 1

    # THEN its event is stored once
    history = store.read(StreamId.of("acme", "Account", "acc-1"))
    assert [r.version for r in history] == [1]


def test_a_retried_read_modify_write_step_does_not_decide_twice(
    runtime: TaskRuntime, store: InMemoryEventStore
) -> None:
    def top_up(command: Deposit, ctx: StepContext) -> int:
        ctx.decide(account(ctx), lambda history: [Deposited(amount=command.amount)])
        return ctx.version(account(ctx))

    stream = StreamId.of("acme", "Account", "acc-1")
    assert run(runtime, top_up, envelope(DEPOSIT, state="TopUp")) == 1
    # another command writes in between
    run(runtime, top_up, envelope(DEPOSIT, state="TopUp", execution=EXECUTION + "-2"))

    assert run(runtime, top_up, envelope(DEPOSIT, state="TopUp", retry_count=1)) == 2
    assert len(store.read(stream)) == 2


def test_decide_decides_again_on_a_conflict(
    runtime: TaskRuntime, store: InMemoryEventStore
) -> None:
    stream = StreamId.of("acme", "Account", "acc-1")
    competitor = StoredEvent(
        event_id="other", type="Deposited", payload={"amount": 100}, tenant="acme"
    )
    histories: list[int] = []

    def racing(command: Deposit, ctx: StepContext) -> None:
        def decide(history: list[Any]) -> list[DomainEvent]:
            histories.append(len(history))
            if len(histories) == 1:  # a competing writer gets in after our read
                store.append(stream, [competitor], expected_version=0)
            return [Deposited(amount=command.amount)]

        ctx.decide(stream, decide)

    run(runtime, racing, envelope(DEPOSIT, state="Race"))

    assert histories == [0, 1]
    assert [r.event.payload["amount"] for r in store.read(stream)] == [100, 5]


def test_steps_cannot_reach_another_tenants_streams(runtime: TaskRuntime) -> None:
    def step(command: Deposit, ctx: StepContext) -> None:
        ctx.read(StreamId.of("globex", "Account", "acc-1"))

    with pytest.raises(Exception) as raised:
        run(runtime, step, envelope(DEPOSIT, state="Deposit"))

    assert type(raised.value).__name__ == "TenantMismatchError"


def test_mail_is_sent_once_per_execution_and_state(runtime: TaskRuntime) -> None:
    from stepsaga.tasks import EmailMessage

    notifier = runtime.notifier
    assert isinstance(notifier, InMemoryNotifier)

    def mail(command: Deposit, ctx: StepContext) -> bool:
        message = EmailMessage(to=("a@example.com",), subject="hi", text="hello")
        return ctx.send_email(message).replayed

    assert run(runtime, mail, envelope(DEPOSIT, state="Mail")) is False
    assert run(runtime, mail, envelope(DEPOSIT, state="Mail", retry_count=1)) is True
    assert len(notifier.sent) == 1


# -- observability ------------------------------------------------------------------------


def test_logs_carry_the_execution_as_correlation_id(store: InMemoryEventStore) -> None:
    out = io.StringIO()
    logger = Logger(
        service=f"log-{uuid.uuid4().hex}", level="INFO", logger_handler=None, stream=out
    )
    runtime = TaskRuntime(event_store=store, logger=logger)

    run(runtime, deposit, envelope(DEPOSIT, state="Deposit"))

    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert records, "the step logged nothing"
    for record in records:
        assert record["correlation_id"] == EXECUTION
        assert record["tenant"] == "acme"
        assert record["state"] == "Deposit"
    # keys do not leak into the next invocation's logs
    assert "correlation_id" not in logger.thread_safe_get_current_keys()


def test_failures_are_logged_with_their_error(store: InMemoryEventStore) -> None:
    out = io.StringIO()
    logger = Logger(service=f"log-{uuid.uuid4().hex}", level="INFO", stream=out)
    runtime = TaskRuntime(event_store=store, logger=logger)

    def step(command: Deposit, ctx: StepContext) -> None:
        raise Overdrawn("balance too low")

    with pytest.raises(TaskFailed):
        run(runtime, step, envelope(DEPOSIT, state="Deposit"))

    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert any(r.get("error") == "Overdrawn" and r["correlation_id"] == EXECUTION for r in records)


def test_outside_lambda_tracing_and_metrics_are_switched_off(
    store: InMemoryEventStore, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.delenv("POWERTOOLS_TRACE_DISABLED", raising=False)

    runtime = TaskRuntime(event_store=store)
    run(runtime, deposit, envelope(DEPOSIT, state="Deposit"))

    assert runtime.tracer.disabled
    assert "_aws" not in capsys.readouterr().out  # no EMF metrics blob printed


def test_an_event_over_the_item_limit_fails_the_step_before_writing(
    runtime: TaskRuntime, store: InMemoryEventStore
) -> None:
    class Blob(DomainEvent):
        data: str

    def step(command: Deposit, ctx: StepContext) -> None:
        ctx.append(
            account(ctx), [Deposited(amount=1), Blob(data="x" * 400_000)], expected_version=0
        )

    with pytest.raises(Exception) as raised:
        run(runtime, step, envelope(DEPOSIT, state="Deposit"))

    assert type(raised.value).__name__ == "EventTooLargeError"
    assert "events[1] (Blob)" in str(raised.value)
    assert store.streams() == []


def test_handlers_for_a_saga_name_every_handler_it_lacks(runtime: TaskRuntime) -> None:
    from stepsaga.examples.orders.handlers import HANDLERS
    from stepsaga.examples.orders.sagas import SAGAS
    from stepsaga.workflows.saga import MissingHandlerError

    steps = {name: step for name, step in HANDLERS.items() if not name.startswith("Notify")}

    with pytest.raises(MissingHandlerError) as raised:
        runtime.handlers(steps, sagas=SAGAS)

    assert [(p.step, p.role, p.handler) for p in raised.value.problems] == [
        ("NotifyCustomer", "notification", "NotifyCustomer"),
        ("NotifyOrderFailed", "failure notification", "NotifyOrderFailed"),
    ]
