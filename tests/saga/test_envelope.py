"""The step envelope a task Lambda receives parses from the JSON the compiled Payload produces."""

from __future__ import annotations

import re
from typing import Any

import pytest
from pydantic import ValidationError

from stepsaga.workflows.saga import (
    COMPENSATION_FAILED,
    RETRYABLE_ERROR,
    TRANSIENT_LAMBDA_ERRORS,
    CommandMeta,
    ExecutionInput,
    StepEnvelope,
    command_key,
    execution_name_for,
)

META = {
    "tenant": "acme",
    "commandId": "cmd-1",
    "commandType": "PlaceOrder",
    "requestedBy": "user-7",
    "idempotencyKey": "idem-1",
}


def _envelope(**extra: Any) -> dict[str, Any]:
    return {
        "command": {"orderId": "o-1"},
        "meta": META,
        "results": {"ReserveStock": {"Payload": {"reservationId": "r-9"}}},
        "execution": {
            "id": "arn:aws:states:us-east-1:123456789012:execution:PlaceOrder:e-1",
            "name": "e-1",
            "startTime": "2026-11-25T00:00:00.000Z",
        },
        "state": {"name": "ChargePayment", "retryCount": 2},
        **extra,
    }


def test_execution_input_uses_camel_case_meta() -> None:
    parsed = ExecutionInput.model_validate({"command": {"a": 1}, "meta": META})
    assert parsed.meta.command_type == "PlaceOrder"
    assert parsed.meta.idempotency_key == "idem-1"
    assert parsed.model_dump(by_alias=True)["meta"] == META


def test_meta_rejects_an_empty_tenant_naming_the_field() -> None:
    with pytest.raises(ValidationError, match="tenant"):
        CommandMeta.model_validate({**META, "tenant": ""})


def test_envelope_exposes_earlier_results_and_context() -> None:
    envelope = StepEnvelope.model_validate(_envelope())
    assert envelope.results["ReserveStock"].payload == {"reservationId": "r-9"}
    assert envelope.state.retry_count == 2
    assert envelope.execution.name == "e-1"
    assert envelope.error is None


def test_compensation_envelope_carries_the_caught_error() -> None:
    raw = _envelope(error={"Error": "PaymentDeclined", "Cause": '{"errorMessage": "no"}'})
    envelope = StepEnvelope.model_validate(raw)
    assert envelope.error is not None
    assert envelope.error.error == "PaymentDeclined"
    assert envelope.error.cause == '{"errorMessage": "no"}'


def test_error_names_are_the_documented_contract() -> None:
    assert RETRYABLE_ERROR == "Saga.Retryable"
    assert COMPENSATION_FAILED == "Saga.CompensationFailed"
    assert set(TRANSIENT_LAMBDA_ERRORS) == {
        "Lambda.ServiceException",
        "Lambda.AWSLambdaException",
        "Lambda.SdkClientException",
        "Lambda.TooManyRequestsException",
    }


@pytest.mark.parametrize(
    "key", ["idem-1", "a" * 2000, "naïve 🚀 key/with:every#odd?char", "\x00\n\t"]
)
@pytest.mark.parametrize("tenant", ["acme", "t" * 63])
def test_execution_names_are_step_functions_names_derived_from_tenant_and_key(
    tenant: str, key: str
) -> None:
    from stepsaga.workflows import facts

    name = execution_name_for(tenant, key)

    assert name == execution_name_for(tenant, key)  # every submission: one name
    assert len(name) <= facts.MAX_NAME_LENGTH
    assert re.fullmatch(r"[A-Za-z0-9_-]+", name)
    assert name.startswith(f"{tenant}-")
    assert len(name) - len(tenant) - 1 >= 16  # at least 64 bits of the digest


def test_execution_names_differ_per_tenant_and_per_key() -> None:
    names = {
        execution_name_for(tenant, key) for tenant in ("acme", "globex") for key in ("k-1", "k-2")
    }
    assert len(names) == 4


def test_an_execution_name_cannot_be_derived_from_an_empty_key_or_an_odd_tenant() -> None:
    with pytest.raises(ValueError, match="idempotency_key"):
        execution_name_for("acme", "")
    with pytest.raises(ValueError, match="tenant"):
        execution_name_for("ac me", "k")


def test_the_command_key_is_one_per_tenant_command_type_and_idempotency_key() -> None:
    meta = CommandMeta.model_validate(META)
    resubmitted = meta.model_copy(update={"command_id": "cmd-2", "requested_by": "user-8"})

    assert command_key(resubmitted) == command_key(meta)
    for field, value in (
        ("tenant", "globex"),
        ("command_type", "Cancel"),
        ("idempotency_key", "x"),
    ):
        assert command_key(meta.model_copy(update={field: value})) != command_key(meta)
