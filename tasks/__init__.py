"""The Lambda side of a saga: step, compensation and notification runtime and its ports.

A step is a plain function `(command, ctx: StepContext) -> result`: the command arrives
validated against its pydantic model (the annotation of the first parameter), the context
gives the tenant-scoped event store and notifier, earlier results and, for compensations and
failure notifications, the caught error.

The saga contract (execution input, step envelope, one Lambda function per handler, what a
compensation may undo, the error names) is written once, in `stepsaga.workflows.saga`; this
package is the Lambda side of it. `TaskRuntime.handler(step)` turns one step function into a
Lambda handler; `TaskRuntime.handlers({"ReserveStock": reserve_stock, ...})` does it for a
whole service, keyed by handler name.

**Outcomes and their Step Functions error names.** AWS records a Python Lambda's error under
the exception's class name, so the runtime raises exceptions whose class *is* the error name:

- the step returns a value (JSON or a pydantic model): no error, the value is the `Payload`;
- it raises `BusinessFailure` (e.g. `PaymentDeclined`): the failure's `name`
  (`PaymentDeclined`); not retried, the saga compensates; the error message is the JSON of the
  failure's message and details, which compensations and the failure notification read back
  as `ctx.error.message` and `ctx.error.details`;
- it raises `RetryableError` or `ConcurrencyError`: `Saga.Retryable` (`RETRYABLE_ERROR`);
  retried under the step's policy (the AWS adapters in `stepsaga.infra.aws` report throttling,
  service-side and connection errors as `RetryableError`);
- its append is refused because a compensation of its command has run (`FencedError`), or it
  went on from work done earlier for a command fenced since: `Saga.Fenced` (`FENCED_ERROR`),
  never retried; nothing of it was written;
- the envelope or the command does not validate, or the tenant is invalid:
  `InvalidStepInput`, raised before the step runs;
- it returns a result over Step Functions' 256 KiB payload limit
  (`stepsaga.workflows.facts.MAX_PAYLOAD_BYTES`): `PayloadTooLargeError`;
- it raises anything else: that exception's own class name (`KeyError`, `ClientError`).

Business and retryable outcomes raise a `TaskFailed` subclass whose `__cause__` is the
original error; invalid input raises `InvalidStepInput` itself, before the step runs, so
nothing is written.

**How the runtime keeps retries safe.** Events a step appends get ids derived from the command
(`stepsaga.workflows.saga.command_key`: tenant, command type, idempotency key), the state, the
stream and the event's index in it; mails get idempotency keys from (command, state, n). So a
retry, and a second execution of the same command, writes and sends nothing twice: the event
store keeps event ids unique per stream, the notifier sends once per key. `StepContext.decide`
first looks its own events up by id, then re-reads before deciding; a compensation gets the
caught error as `ctx.error` and finds what its action appended by id
(`ctx.appended_by(step, stream)`). A compensation or the failure notification fences its
command first, so that no late attempt of an action writes past it; the pivot's appends commit
the command. A hot stream is read through a `Projection` (`ctx.decide_from`, `fold`): the
stream's snapshot and the events after it.
"""

from stepsaga.tasks._context import Decider, StepContext, event_id_for
from stepsaga.tasks._email import EmailTemplate, TemplateError
from stepsaga.tasks._limits import (
    MAX_EVENTS_PER_APPEND,
    MAX_ITEM_BYTES,
    MAX_TRANSACTION_BYTES,
    append_items,
    check_append,
    check_snapshot,
    encode_json,
    encode_payload,
    event_item_size,
    guard_item_size,
    raise_partially_stored,
    snapshot_item_size,
)
from stepsaga.tasks._memory import InMemoryEventStore, InMemoryNotifier
from stepsaga.tasks._ports import (
    EmailMessage,
    EventStore,
    Fence,
    IdempotencyConflictError,
    Notifier,
    SentEmail,
    Snapshot,
)
from stepsaga.tasks._projection import Folded, Projection, fold
from stepsaga.tasks._runtime import (
    InvalidStepInput,
    LambdaHandler,
    StepFunction,
    TaskFailed,
    TaskRuntime,
    on_lambda,
    task_error,
)

__all__ = (
    "MAX_EVENTS_PER_APPEND",
    "MAX_ITEM_BYTES",
    "MAX_TRANSACTION_BYTES",
    "Decider",
    "EmailMessage",
    "EmailTemplate",
    "EventStore",
    "Fence",
    "Folded",
    "IdempotencyConflictError",
    "InMemoryEventStore",
    "InMemoryNotifier",
    "InvalidStepInput",
    "LambdaHandler",
    "Notifier",
    "Projection",
    "SentEmail",
    "Snapshot",
    "StepContext",
    "StepFunction",
    "TaskFailed",
    "TaskRuntime",
    "TemplateError",
    "append_items",
    "check_append",
    "check_snapshot",
    "encode_json",
    "encode_payload",
    "event_id_for",
    "event_item_size",
    "fold",
    "guard_item_size",
    "on_lambda",
    "raise_partially_stored",
    "snapshot_item_size",
    "task_error",
)
