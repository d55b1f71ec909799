"""Sagas written in Python, compiled to Step Functions ASL, and the envelope their tasks receive.

The contract between a compiled saga and its task Lambdas (the `tasks` runtime follows it):

**Execution input.** `ExecutionInput`: `{"command": {...}, "meta": {"tenant", "commandId",
"commandType", "requestedBy", "idempotencyKey"}}`.

**One Lambda function per handler.** A step's action, its compensation and each notification
name a *handler* (e.g. `ReserveStock`, `ReleaseStock`, `NotifyCustomer`); every handler is its
own Lambda function. The compiled definition names it in the `FunctionName` parameter of an
`arn:aws:states:::lambda:invoke` Task, through `FunctionNames`:

- `FunctionNames.local()` (the default) uses the handler name itself as the function name, which is
  the name the local engine registers the Python handler under (`FunctionNames.local(prefix="x-")`
  prefixes it);
- `FunctionNames.deployment()` writes the placeholder `${<Handler>FunctionArn}`, which the deployed
  state machine's `DefinitionSubstitutions` replaces with that function's ARN.

**Step envelope.** Each task's `Payload` is a `StepEnvelope`: `command`, `meta`, `results` (the
results of the steps completed so far, by step name, each `{"Payload": <what the step returned>}`),
`error` (`{"Error", "Cause"}`, for compensations and the failure notification), `execution`
(`id` = `$$.Execution.Id`, `name`, `startTime`) and `state` (`name` = `$$.State.Name`,
`retryCount` = `$$.State.RetryCount`). State names: an action's state is its step name, a
compensation's is `Compensate<Step>`, a notification's is its name.

**Shape of a compiled saga.** `Begin` (a Pass creating `$.results`), then each step's action in
order. An action's `Catch` (`States.ALL`, into `$.error`) leads to the compensations of the
steps completed before it, latest first (`Compensate<Step>`), then the failure notification if
the saga declares one, then `Failed`, which fails the execution with the caught error and
cause. Steps after the pivot retry every error (until they succeed, their attempts run out or
the saga times out); if one still fails, nothing is compensated (the pivot committed the saga)
and it goes straight to `Failed`. A compensation that fails after its retries goes to
`CompensationFailed`.

**Errors.** A task signals:

- a retryable failure by raising an error named `RETRYABLE_ERROR` (`Saga.Retryable`), retried as
  the step's `RetryPolicy` says;
- a business failure by raising an error with its own name (e.g. `PaymentDeclined`): not retried
  (unless the policy lists it), caught, and the completed steps are compensated, latest first; the
  execution then fails with that error name and cause;
- the transient Lambda errors (`TRANSIENT_LAMBDA_ERRORS`) are always retried.

A compensation that still fails after its retries ends the execution with `COMPENSATION_FAILED`
(`Saga.CompensationFailed`), for an operator to see.
"""

from workflows.saga._compiler import (
    SagaCompileError,
    SagaProblem,
    compensation_state,
    compile_saga,
)
from workflows.saga._dsl import (
    COMPENSATION_RETRY,
    DEFAULT_RETRY,
    TRANSIENT_RETRY,
    UNTIL_SUCCESS,
    FunctionNames,
    Notification,
    RetryPolicy,
    Saga,
    Step,
)
from workflows.saga._envelope import (
    COMPENSATION_FAILED,
    RESULT_PAYLOAD_KEY,
    RETRYABLE_ERROR,
    TRANSIENT_LAMBDA_ERRORS,
    CommandMeta,
    ExecutionContext,
    ExecutionInput,
    StateContext,
    StepEnvelope,
    StepError,
    StepResult,
)

__all__ = (
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
)
