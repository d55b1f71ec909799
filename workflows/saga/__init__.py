"""Sagas written in Python, compiled to Step Functions ASL, and the envelope their tasks receive.

The contract between a compiled saga and its task Lambdas (the `tasks` runtime follows it):

**Execution input.** `ExecutionInput`: `{"command": {...}, "meta": {"tenant", "commandId",
"commandType", "requestedBy", "idempotencyKey"}}`.

**One command, one identity.** A command is identified by its idempotency key, within its tenant
and command type: every submission of it is the same command. From the key derive:

- the execution name, `execution_name_for(tenant, idempotency_key)` (`{tenant}-{hex digest}`, at
  most 80 characters of `[A-Za-z0-9_-]`): a trigger starts the saga under it, so Step Functions
  itself refuses a second execution of the command (`ExecutionAlreadyExists`; a running one with
  the same input is the same execution);
- the command key, `command_key(meta)` (SHA-256 of tenant, command type and key), from which
  the runtime derives event ids (command, state, stream, index) and mail idempotency keys
  (command, state, n): should a second execution of the command run anyway, it writes the same
  events and sends the same mails, which the stores and notifiers take as retries.

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
`error` (`{"Error", "Cause"}`, for compensations and the failure notification; `StepError`
reads a business failure's name, message and details back from it), `execution`
(`id` = `$$.Execution.Id`, `name`, `startTime`) and `state` (`name` = `$$.State.Name`,
`retryCount` = `$$.State.RetryCount`). State names: an action's state is its step name, a
compensation's is `Compensate<Step>`, a notification's is its name.

**Shape of a compiled saga.** `Begin` (a Pass creating `$.results`), then each step's action in
order. An action before the pivot catches every error (`States.ALL`, into `$.error`) and leads
to its *own* compensation first (`Compensate<Step>`, if the step has one), then to the
compensations of the steps completed before it, latest first, then the failure notification if
the saga declares one, then `Failed`, which fails the execution with the caught error and cause.
The failed step's own compensation runs because a failed action may still have done its work:
it answered after its `TimeoutSeconds` (`States.Timeout`), its runtime died after the append
(`Runtime.ExitError`), or it crashed after the append on every attempt. A compensation that
fails after its retries goes to `CompensationFailed`.

**Compensations undo what this command did, and nothing else.** A compensation receives the
caught `error` and decides from the event store, not from the step's result (a failed step has
none): it undoes only what the store shows this command's action did (found by the action's
event ids), and is a no-op when the action did nothing (a business failure raised before any
append, a timeout before the work). Running it twice, or in two executions of the command,
undoes once.

**A compensated command is fenced; a committed one cannot be.** Before a compensation or the
failure notification runs, the runtime fences its command in the event store
(`EventStore.fence_command`): from then on every action append of the command is refused with
`FENCED_ERROR` (`Saga.Fenced`, never retried, nothing written), so neither a Lambda still
running after its Task timed out nor a second execution of the command writes what nothing
would undo. The pivot's task carries `"commits": true` in its payload: its appends commit the
command in the same write (`Fence.commits`), and a committed command cannot be fenced. If
another execution of the command committed it, a compensation or failure notification does
nothing and returns `{"skipped": ...}`. A saga without a pivot has no commit point: a second
execution of such a command may compensate what the first one completed.

**Retries.** Every task is idempotent under retries (deterministic event ids, idempotent mail
keys), so a timed-out attempt is safe to run again: an action's default policy
(`DEFAULT_RETRY`, and any `RetryPolicy` left at its default `errors`) retries `Saga.Retryable`
and `States.Timeout`; the transient Lambda errors are always retried; compensations
(`COMPENSATION_RETRY`) and the failure notification (the same policy unless it declares its own)
retry every error.

**The pivot.** The pivot commits the saga, and when it fails the saga cannot tell whether its
commit landed (a late answer, a crash after the append). Compensating then could leave a
committed saga undone and notified as failed (an order both confirmed and rejected). So the
pivot is retried like the steps after it: every error (`States.ALL`, `UNTIL_SUCCESS` by default;
the `retry-after-pivot` rule refuses any other list) but `Saga.Fenced` (never retried), until it
succeeds, its attempts run out or the saga times out; it is never compensated. If it, or a step
after it, still fails, the execution goes to `CommitFailed`, a Fail state of its own whose error
is `COMMIT_FAILED` (`Saga.CommitFailed`) and whose cause is the caught `{"Error", "Cause"}` as
JSON, so that an operator tells it from a compensated saga at a glance. The command is then:

- cause `Saga.Fenced` at the pivot: compensated by another execution of the same command before
  this one could commit; nothing of it stands, nothing is left to do;
- any other cause at the pivot: in doubt. Its commit may have landed (the command's fence item
  then records `committed_by`, and the pivot's events are in the store) or not; the steps before
  the pivot hold their effects, uncompensated. An operator completes it (runs the pivot again:
  it is idempotent) or compensates it;
- a cause at a step after the pivot: committed; that step and the ones after it did not finish
  (a confirmation mail not sent, say), and are safe to run again.

A timeout of the whole saga ends the execution `TIMED_OUT`, in the same states. Two errors no
`Catch` can see, `States.Runtime` and `States.DataLimitExceeded`, end the execution at once
wherever they happen, with nothing compensated; the runtime keeps step results under the payload
limit (`PayloadTooLargeError` is a Lambda error, caught as any other). Business checks that may
refuse the command belong in steps before the pivot. A saga whose first step is the pivot can
never compensate, so its failure notification and its `Failed` state are left out.

Reserved state names: `Begin`, `Compensate<Step>`, `Failed`, `CompensationFailed`,
`CommitFailed`.

**Errors.** A task signals:

- a retryable failure by raising an error named `RETRYABLE_ERROR` (`Saga.Retryable`), retried as
  the step's `RetryPolicy` says;
- a business failure by raising an error with its own name (e.g. `PaymentDeclined`): not retried
  (unless the policy lists it), caught before the pivot, and the failed step and the completed
  steps are compensated, latest first; the execution then fails with that error name and cause.
  Its Lambda `errorMessage` is the JSON `{"message": ..., "details": {...}}`
  (`failure_message`), so that the compensations and the failure notification receive the
  failure whole (`StepError.name`, `.message`, `.details`);
- the transient Lambda errors (`TRANSIENT_LAMBDA_ERRORS`) are always retried.

A compensation that still fails after its retries ends the execution with `COMPENSATION_FAILED`
(`Saga.CompensationFailed`), for an operator to see.
"""

from typing import TYPE_CHECKING

from stepsaga.workflows.saga._dsl import (
    COMPENSATION_RETRY,
    DEFAULT_RETRY,
    TRANSIENT_RETRY,
    UNTIL_SUCCESS,
    FunctionNames,
    MissingHandler,
    MissingHandlerError,
    Notification,
    RetryPolicy,
    Saga,
    Step,
    check_handlers,
    missing_handlers,
)
from stepsaga.workflows.saga._envelope import (
    COMMIT_FAILED,
    COMPENSATE_PREFIX,
    COMPENSATION_FAILED,
    FENCED_ERROR,
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
    command_key,
    execution_name_for,
    failure_message,
)

if TYPE_CHECKING:
    from stepsaga.workflows.saga._compiler import (
        SagaCompileError,
        SagaProblem,
        compensation_state,
        compile_saga,
    )

__all__ = (
    "COMMIT_FAILED",
    "COMPENSATE_PREFIX",
    "COMPENSATION_FAILED",
    "COMPENSATION_RETRY",
    "DEFAULT_RETRY",
    "FENCED_ERROR",
    "RESULT_PAYLOAD_KEY",
    "RETRYABLE_ERROR",
    "TRANSIENT_LAMBDA_ERRORS",
    "TRANSIENT_RETRY",
    "UNTIL_SUCCESS",
    "CommandMeta",
    "ExecutionContext",
    "ExecutionInput",
    "FunctionNames",
    "MissingHandler",
    "MissingHandlerError",
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
    "check_handlers",
    "command_key",
    "compensation_state",
    "compile_saga",
    "execution_name_for",
    "failure_message",
    "missing_handlers",
)

# A task Lambda imports this package for the envelope contract alone; the compiler loads the ASL
# model and, through its validator, the expression libraries, none of which a Lambda ships. So
# the compiler's names are imported on first use (PEP 562), and cached here.
_COMPILER_NAMES = frozenset(
    {"SagaCompileError", "SagaProblem", "compensation_state", "compile_saga"}
)


def _compiler_name(name: str) -> object:
    if name not in _COMPILER_NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from stepsaga.workflows.saga import _compiler

    value = getattr(_compiler, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_COMPILER_NAMES})


# Hidden from type checkers, which would otherwise accept any attribute of this module; they read
# the compiler's names from the imports under TYPE_CHECKING instead.
if not TYPE_CHECKING:
    __getattr__ = _compiler_name
