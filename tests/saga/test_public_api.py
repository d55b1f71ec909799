"""The public names of `stepsaga.workflows.saga` and `stepsaga.workflows.render` are pinned:
changes are reviewed."""

from __future__ import annotations

import importlib

import pytest

PUBLIC = {
    "stepsaga.workflows.saga": (
        "COMPENSATION_FAILED",
        "COMPENSATION_RETRY",
        "DEFAULT_RETRY",
        "RESULT_PAYLOAD_KEY",
        "RETRYABLE_ERROR",
        "TRANSIENT_LAMBDA_ERRORS",
        "TRANSIENT_RETRY",
        "UNTIL_SUCCESS",
        "CommandMeta",
        "ExecutionContext",
        "ExecutionInput",
        "FunctionNames",
        "Notification",
        "RetryPolicy",
        "Saga",
        "SagaCompileError",
        "SagaProblem",
        "StateContext",
        "Step",
        "StepEnvelope",
        "StepError",
        "StepResult",
        "compensation_state",
        "compile_saga",
    ),
    "stepsaga.workflows.render": (
        "FORMATS",
        "Cluster",
        "Diagram",
        "Edge",
        "Node",
        "build_diagram",
        "render",
        "to_asl_json",
        "to_dot",
        "to_mermaid",
    ),
}


@pytest.mark.parametrize("package", sorted(PUBLIC))
def test_public_names_are_pinned_and_resolve(package: str) -> None:
    module = importlib.import_module(package)
    assert module.__all__ == PUBLIC[package]
    for name in module.__all__:
        assert getattr(module, name) is not None


def test_error_names_are_the_documented_contract() -> None:
    saga = importlib.import_module("stepsaga.workflows.saga")
    assert saga.RETRYABLE_ERROR == "Saga.Retryable"
    assert saga.COMPENSATION_FAILED == "Saga.CompensationFailed"
    assert set(saga.TRANSIENT_LAMBDA_ERRORS) == {
        "Lambda.ServiceException",
        "Lambda.AWSLambdaException",
        "Lambda.SdkClientException",
        "Lambda.TooManyRequestsException",
    }
