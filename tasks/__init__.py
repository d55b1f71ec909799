"""The Lambda side of a saga: step, compensation and notification runtime and its ports.

A step is a plain function `(command, ctx: StepContext) -> result`; `TaskRuntime` turns it into
a Lambda handler (see `tasks._runtime` for how steps map to Lambda functions and how outcomes
map to Step Functions error names).
"""

from tasks._context import Decider, StepContext, event_id_for
from tasks._email import EmailTemplate, TemplateError
from tasks._limits import (
    MAX_EVENTS_PER_APPEND,
    MAX_ITEM_BYTES,
    MAX_STEP_PAYLOAD_BYTES,
    check_append,
    encode_payload,
    event_item_size,
)
from tasks._memory import InMemoryEventStore, InMemoryNotifier
from tasks._ports import EmailMessage, EventStore, Notifier, SentEmail
from tasks._runtime import (
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
    "MAX_STEP_PAYLOAD_BYTES",
    "Decider",
    "EmailMessage",
    "EmailTemplate",
    "EventStore",
    "InMemoryEventStore",
    "InMemoryNotifier",
    "InvalidStepInput",
    "LambdaHandler",
    "Notifier",
    "SentEmail",
    "StepContext",
    "StepFunction",
    "TaskFailed",
    "TaskRuntime",
    "TemplateError",
    "check_append",
    "encode_payload",
    "event_id_for",
    "event_item_size",
    "on_lambda",
    "task_error",
)
