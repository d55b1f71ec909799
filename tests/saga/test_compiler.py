"""The compiler turns a saga into the ASL the saga contract describes (DESIGN.md)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from stepsaga.examples.orders.sagas import PLACE_ORDER
from stepsaga.workflows.saga import (
    COMPENSATION_FAILED,
    FENCED_ERROR,
    RETRYABLE_ERROR,
    TRANSIENT_LAMBDA_ERRORS,
    FunctionNames,
    StepEnvelope,
    compile_saga,
)

GOLDEN = Path(__file__).parent / "golden" / "place_order.asl.json"


def _sample_envelope() -> dict[str, Any]:
    return {
        "command": {"orderId": "o-1"},
        "meta": {
            "tenant": "acme",
            "commandId": "c-1",
            "commandType": "PlaceOrder",
            "requestedBy": "u-1",
            "idempotencyKey": "k-1",
        },
        "execution": {"id": "arn", "name": "e", "startTime": "2026-01-01T00:00:00Z"},
        "state": {"name": "ConfirmOrder", "retryCount": 0},
    }


def _compiled(functions: FunctionNames | None = None) -> dict[str, Any]:
    return compile_saga(PLACE_ORDER, functions).to_dict()


def test_reference_saga_matches_the_golden_definition() -> None:
    # GIVEN the checked-in definition WHEN the reference saga compiles THEN nothing changed.
    # Regenerate deliberately: python -m tests.saga.test_compiler
    assert _compiled() == json.loads(GOLDEN.read_text())


def test_happy_path_runs_every_step_in_order_and_keeps_results() -> None:
    states = _compiled()["States"]
    order = []
    name = _compiled()["StartAt"]
    while True:
        state = states[name]
        order.append(name)
        if state.get("End"):
            break
        name = state["Next"]
    assert order == ["Begin", "ReserveStock", "ChargePayment", "ConfirmOrder", "NotifyCustomer"]
    assert states["Begin"] == {
        "Type": "Pass",
        "Result": {},
        "ResultPath": "$.results",
        "Next": "ReserveStock",
    }
    for step in order[1:]:
        assert states[step]["ResultPath"] == f"$.results.{step}"
        assert states[step]["ResultSelector"] == {"Payload.$": "$.Payload"}
        assert states[step]["Resource"] == "arn:aws:states:::lambda:invoke"


def test_payment_decline_compensates_the_payment_then_stock_then_notifies_and_fails() -> None:
    states = _compiled()["States"]
    # The failed step's own compensation runs first: its work may have landed before it failed.
    (catcher,) = states["ChargePayment"]["Catch"]
    assert catcher == {
        "ErrorEquals": ["States.ALL"],
        "ResultPath": "$.error",
        "Next": "CompensateChargePayment",
    }
    refund = states["CompensateChargePayment"]
    assert refund["Parameters"]["FunctionName"] == "RefundPayment"
    assert refund["Parameters"]["Payload"]["error.$"] == "$.error"
    assert refund["Next"] == "CompensateReserveStock"
    release = states["CompensateReserveStock"]
    assert release["Parameters"]["FunctionName"] == "ReleaseStock"
    assert release["Parameters"]["Payload"]["error.$"] == "$.error"
    assert release["Next"] == "NotifyOrderFailed"
    assert states["NotifyOrderFailed"]["Next"] == "Failed"
    assert states["Failed"]["ErrorPath"] == "$.error.Error"
    assert states["Failed"]["CausePath"] == "$.error.Cause"


def test_the_first_step_that_fails_runs_its_own_compensation() -> None:
    states = _compiled()["States"]
    (catcher,) = states["ReserveStock"]["Catch"]
    assert catcher["Next"] == "CompensateReserveStock"


def test_the_failure_notification_retries_every_error() -> None:
    # It is idempotent, and a timed-out failure mail must not be lost.
    (retrier,) = _compiled()["States"]["NotifyOrderFailed"]["Retry"]
    assert retrier["ErrorEquals"] == ["States.ALL"]
    assert retrier["MaxAttempts"] >= 3


def test_failing_compensation_ends_in_the_operator_visible_fail() -> None:
    states = _compiled()["States"]
    for name in ("CompensateChargePayment", "CompensateReserveStock"):
        (catcher,) = states[name]["Catch"]
        assert states[catcher["Next"]]["Type"] == "Fail"
        assert states[catcher["Next"]]["Error"] == COMPENSATION_FAILED
        # Compensations retry every error before giving up.
        assert states[name]["Retry"][-1]["ErrorEquals"] == ["States.ALL"]


def test_the_pivot_and_later_steps_retry_every_error_and_have_no_compensation() -> None:
    # The pivot may have committed when it fails, so it is never compensated: it retries.
    states = _compiled()["States"]
    assert "CompensateConfirmOrder" not in states
    assert "CompensateNotifyCustomer" not in states
    for name in ("ConfirmOrder", "NotifyCustomer"):
        # ... every error but a fenced command's, which no retry can lift
        never, retrier = states[name]["Retry"]
        assert never == {"ErrorEquals": [FENCED_ERROR], "MaxAttempts": 0}
        assert retrier["ErrorEquals"] == ["States.ALL"]
        assert retrier["MaxAttempts"] >= 1000
        # ... and if it still fails, that is a commit failure, not a compensated saga's
        assert states[name]["Catch"][0]["Next"] == "CommitFailed"
    assert states["CommitFailed"] == {
        "Type": "Fail",
        "Comment": states["CommitFailed"]["Comment"],
        "Error": "Saga.CommitFailed",
        "CausePath": "States.JsonToString($.error)",
    }


def test_only_the_pivots_task_says_it_commits_the_command() -> None:
    states = _compiled()["States"]
    commits = {
        name
        for name, state in states.items()
        if state["Type"] == "Task" and state["Parameters"]["Payload"].get("commits")
    }
    assert commits == {"ConfirmOrder"}
    envelope = StepEnvelope.model_validate(
        {
            **_sample_envelope(),
            "commits": states["ConfirmOrder"]["Parameters"]["Payload"]["commits"],
        }
    )
    assert envelope.commits is True


def test_actions_retry_transient_lambda_errors_the_retryable_error_and_timeouts() -> None:
    retry = _compiled()["States"]["ChargePayment"]["Retry"]
    assert retry[0]["ErrorEquals"] == list(TRANSIENT_LAMBDA_ERRORS)
    assert retry[1]["ErrorEquals"] == [RETRYABLE_ERROR, "States.Timeout"]
    assert retry[1]["MaxDelaySeconds"] == 20
    assert retry[1]["JitterStrategy"] == "FULL"


def test_deployment_names_are_definition_substitution_placeholders() -> None:
    text = json.dumps(_compiled(FunctionNames.deployment()))
    names = set(re.findall(r'"FunctionName": "([^"]*)"', text))
    assert names == {"${" + h + "FunctionArn}" for h in PLACE_ORDER.handlers()}


def test_local_names_can_be_prefixed() -> None:
    text = json.dumps(_compiled(FunctionNames.local(prefix="orders-")))
    names = set(re.findall(r'"FunctionName": "([^"]*)"', text))
    assert names == {"orders-" + h for h in PLACE_ORDER.handlers()}


def test_payload_builds_a_step_envelope() -> None:
    # GIVEN the Payload template with its JSONPaths resolved by hand against a running execution
    payload = _compiled()["States"]["CompensateReserveStock"]["Parameters"]["Payload"]
    data = {
        "command": {"orderId": "o-1"},
        "meta": {
            "tenant": "t",
            "commandId": "c",
            "commandType": "PlaceOrder",
            "requestedBy": "u",
            "idempotencyKey": "k",
        },
        "results": {"ReserveStock": {"Payload": {"ok": True}}},
        "error": {"Error": "PaymentDeclined", "Cause": "declined"},
    }
    context = {
        "Execution": {"Id": "arn:x", "Name": "x", "StartTime": "2026-01-01T00:00:00Z"},
        "State": {"Name": "CompensateReserveStock", "RetryCount": 0},
    }

    def resolve(template: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in template.items():
            if isinstance(value, dict):
                out[key] = resolve(value)
                continue
            assert key.endswith(".$")
            root, *parts = value.split(".")
            node: Any = context if root == "$$" else data
            for part in parts:
                node = node[part]
            out[key[:-2]] = node
        return out

    # WHEN the task runtime parses it THEN every envelope field is there
    envelope = StepEnvelope.model_validate(resolve(payload))
    assert envelope.state.name == "CompensateReserveStock"
    assert envelope.error is not None and envelope.error.error == "PaymentDeclined"
    assert envelope.results["ReserveStock"].payload == {"ok": True}


if __name__ == "__main__":
    GOLDEN.write_text(json.dumps(_compiled(), indent=2) + "\n")
