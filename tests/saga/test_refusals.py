"""A saga that cannot compile is refused with every broken rule, each naming its step."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from stepsaga.workflows.saga import (
    FunctionNames,
    Notification,
    RetryPolicy,
    Saga,
    SagaCompileError,
    Step,
    compile_saga,
)


class _Command(BaseModel):
    id: str


def _saga(*steps: Step | Notification, **options: Any) -> Saga:
    return Saga(options.pop("name", "Orders"), _Command, steps, **options)


def _refusal(saga: Saga, functions: FunctionNames | None = None) -> SagaCompileError:
    with pytest.raises(SagaCompileError) as caught:
        compile_saga(saga, functions)
    return caught.value


def _assert_refused(saga: Saga, step: str | None, rule: str) -> None:
    error = _refusal(saga)
    assert (step, rule) in {(p.step, p.rule) for p in error.problems}, str(error)
    # The message a user reads names the rule and, when there is one, the step.
    assert f"[{rule}]" in str(error)
    if step is not None:
        assert f"step {step!r}" in str(error)


GOOD = Step("Reserve", action="Reserve", compensation="Release")
PIVOT = Step("Confirm", action="Confirm")

POLICY_CASES = {
    "interval below one": RetryPolicy(interval=0),
    "fractional interval": RetryPolicy(interval=1.5),  # type: ignore[arg-type]
    "negative attempts": RetryPolicy(max_attempts=-1),
    "attempts over the AWS limit": RetryPolicy(max_attempts=100_000_000),
    "backoff below one": RetryPolicy(backoff_rate=0.5),
    "max delay zero": RetryPolicy(max_delay=0),
    "unknown jitter": RetryPolicy(jitter="HALF"),  # type: ignore[arg-type]
    "no errors": RetryPolicy(errors=()),
    "States.ALL with others": RetryPolicy(errors=("States.ALL", "Saga.Retryable")),
    "repeated error": RetryPolicy(errors=("A", "A")),
}


@pytest.mark.parametrize("policy", POLICY_CASES.values(), ids=POLICY_CASES.keys())
def test_retry_policy_aws_would_reject(policy: RetryPolicy) -> None:
    bad = Step("Charge", action="Charge", compensation="Refund", retry=policy)
    _assert_refused(_saga(GOOD, bad, PIVOT, pivot="Confirm"), "Charge", "retry-policy")


def test_compensation_retry_policy_is_checked_too() -> None:
    bad = Step(
        "Charge",
        action="Charge",
        compensation="Refund",
        compensation_retry=RetryPolicy(backoff_rate=0),
    )
    error = _refusal(_saga(GOOD, bad, PIVOT, pivot="Confirm"))
    assert "compensation_retry" in str(error)


def test_duplicate_step_names() -> None:
    twin = Step("Reserve", action="ReserveAgain", compensation="ReleaseAgain")
    _assert_refused(_saga(GOOD, twin, PIVOT, pivot="Confirm"), "Reserve", "duplicate-name")


def test_step_named_like_a_generated_compensation_state() -> None:
    clash = Step("CompensateReserve", action="Other", compensation="UndoOther")
    _assert_refused(
        _saga(GOOD, clash, PIVOT, pivot="Confirm"), "CompensateReserve", "duplicate-name"
    )


@pytest.mark.parametrize("reserved", ["Begin", "Failed", "CompensationFailed", "CommitFailed"])
def test_step_named_like_a_state_the_compiler_adds(reserved: str) -> None:
    _assert_refused(
        _saga(GOOD, Step(reserved, action="X"), pivot=reserved), reserved, "duplicate-name"
    )


def test_failure_notification_named_like_a_step() -> None:
    saga = _saga(GOOD, PIVOT, pivot="Confirm", on_failure=Notification("Reserve", action="Tell"))
    _assert_refused(saga, "Reserve", "duplicate-name")


@pytest.mark.parametrize("name", ["has space", "9lives", "dot.ted", "$.x", "A" * 71, ""])
def test_step_names_asl_and_jsonpath_cannot_carry(name: str) -> None:
    saga = _saga(Step(name, action="Act", compensation="Undo"), PIVOT, pivot="Confirm")
    _assert_refused(saga, name, "step-name")


@pytest.mark.parametrize("action", ["", None])
def test_step_with_no_action(action: Any) -> None:
    saga = _saga(
        GOOD,
        Step("Charge", action=action, compensation="Refund"),
        PIVOT,
        pivot="Confirm",
    )
    _assert_refused(saga, "Charge", "no-action")


def test_handler_names_must_be_function_names() -> None:
    saga = _saga(
        Step("Reserve", action="reserve stock!", compensation="Release"), PIVOT, pivot="Confirm"
    )
    _assert_refused(saga, "Reserve", "handler-name")


def test_function_name_too_long_once_prefixed() -> None:
    saga = _saga(GOOD, PIVOT, pivot="Confirm")
    error = _refusal(saga, FunctionNames.local(prefix="p" * 60))
    assert ("Reserve", "handler-name") in {(p.step, p.rule) for p in error.problems}


def test_compensation_on_the_pivot() -> None:
    pivot = Step("Confirm", action="Confirm", compensation="Unconfirm")
    _assert_refused(_saga(GOOD, pivot, pivot="Confirm"), "Confirm", "compensation-past-pivot")


def test_compensation_past_the_pivot() -> None:
    late = Step("Ship", action="Ship", compensation="Unship")
    _assert_refused(_saga(GOOD, PIVOT, late, pivot="Confirm"), "Ship", "compensation-past-pivot")


def test_step_before_the_pivot_without_compensation() -> None:
    _assert_refused(
        _saga(Step("Reserve", action="Reserve"), PIVOT, pivot="Confirm"),
        "Reserve",
        "missing-compensation",
    )


def test_retry_past_the_pivot_must_retry_every_error() -> None:
    late = Notification("Mail", action="Mail", retry=RetryPolicy(errors=("Saga.Retryable",)))
    _assert_refused(_saga(GOOD, PIVOT, late, pivot="Confirm"), "Mail", "retry-after-pivot")


def test_the_pivot_must_retry_every_error_too() -> None:
    # It may have committed when it fails, so it is never compensated: it retries until it works.
    finite = Step("Confirm", action="Confirm", retry=RetryPolicy(max_attempts=2))
    _assert_refused(_saga(GOOD, finite, pivot="Confirm"), "Confirm", "retry-after-pivot")


def test_pivot_that_names_no_step() -> None:
    _assert_refused(_saga(GOOD, PIVOT, pivot="Nope"), None, "unknown-pivot")


def test_command_must_be_a_pydantic_model() -> None:
    saga = Saga("Orders", dict, [GOOD, PIVOT], pivot="Confirm")  # type: ignore[arg-type]
    _assert_refused(saga, None, "command-model")


def test_saga_without_steps() -> None:
    _assert_refused(_saga(), None, "no-steps")


def test_saga_name_a_state_machine_cannot_have() -> None:
    _assert_refused(_saga(GOOD, PIVOT, pivot="Confirm", name="place order"), None, "saga-name")


@pytest.mark.parametrize("timeout", [0, -5, 2.5, 100_000_000])
def test_step_timeout_aws_would_reject(timeout: Any) -> None:
    saga = _saga(GOOD, Step("Confirm", action="Confirm", timeout=timeout), pivot="Confirm")
    _assert_refused(saga, "Confirm", "timeout")


def test_saga_timeout_aws_would_reject() -> None:
    _assert_refused(_saga(GOOD, PIVOT, pivot="Confirm", timeout=0), None, "timeout")


def test_every_problem_is_reported_at_once() -> None:
    # GIVEN a saga with three independent mistakes
    saga = _saga(
        Step("Reserve", action="Reserve"),
        Step("Confirm", action="Confirm", compensation="Undo"),
        Step("Ship", action="", timeout=0),
        pivot="Confirm",
    )
    # WHEN it compiles THEN all of them are listed, and nothing is returned
    rules = {(p.step, p.rule) for p in _refusal(saga).problems}
    assert {
        ("Reserve", "missing-compensation"),
        ("Confirm", "compensation-past-pivot"),
        ("Ship", "no-action"),
        ("Ship", "timeout"),
    } <= rules


def test_last_step_without_pivot_may_omit_its_compensation() -> None:
    # A compensation only ever runs when a later step fails, so the last step needs none.
    states = compile_saga(_saga(GOOD, Step("Ship", action="Ship"))).to_dict()["States"]
    assert states["Ship"]["Catch"][0]["Next"] == "CompensateReserve"


def test_definition_the_asl_model_rejects_is_refused_not_returned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a compiler bug that emits a dangling Next (simulated)
    from stepsaga.workflows.saga import _compiler

    def broken(self: Any) -> dict[str, Any]:
        return {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}

    monkeypatch.setattr(_compiler._DefinitionBuilder, "build", broken)
    # WHEN compiling THEN the ASL model's problem surfaces as a refusal with its pointer
    error = _refusal(_saga(GOOD, PIVOT, pivot="Confirm"))
    assert error.problems[0].rule == "asl-invalid"
    assert "/States/A/Next" in str(error)
