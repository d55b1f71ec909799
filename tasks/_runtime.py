"""Lambda entry points for saga steps; the contract is documented in the `tasks` package."""

from __future__ import annotations

import inspect
import json
import os
import threading
import time
import typing
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from typing import Any, ClassVar

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from pydantic import BaseModel, ValidationError

from stepsaga.domain import (
    BusinessFailure,
    ConcurrencyError,
    DomainError,
    FencedError,
    PayloadTooLargeError,
    RetryableError,
    TenantId,
)
from stepsaga.tasks._context import StepContext
from stepsaga.tasks._ports import EventStore, Fence, Notifier
from stepsaga.workflows.facts import MAX_PAYLOAD_BYTES
from stepsaga.workflows.saga import (
    FENCED_ERROR,
    RETRYABLE_ERROR,
    Saga,
    StepEnvelope,
    check_handlers,
    command_key,
    failure_message,
)

__all__ = (
    "InvalidStepInput",
    "LambdaHandler",
    "StepFunction",
    "TaskFailed",
    "TaskRuntime",
    "on_lambda",
    "task_error",
)

StepFunction = Callable[[Any, StepContext], Any]
"""A step: `(command, ctx) -> result`, where `command` is an instance of the step's model."""

LambdaHandler = Callable[[Any, Any], Any]
"""A Lambda handler: `(event, context) -> JSON`."""


def on_lambda() -> bool:
    """True inside the AWS Lambda runtime (not SAM local, not a test)."""
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME")) and not os.environ.get("AWS_SAM_LOCAL")


class InvalidStepInput(DomainError, ValueError):
    """The step envelope or its command did not validate; nothing was run or written.

    Attributes:
        field: Dotted path of the first offending field (`meta.tenant`, `command.items.0.sku`).
        problems: Every problem, as `(field, message)` pairs.
    """

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        self.field = problems[0][0] if problems else ""
        detail = "; ".join(f"{field}: {message}" for field, message in problems)
        super().__init__(f"invalid step input: {detail}")

    @classmethod
    def from_validation(cls, error: ValidationError, prefix: str = "") -> InvalidStepInput:
        """Build from a pydantic error, prefixing every location with `prefix`."""
        return cls(
            [
                (
                    ".".join([prefix, *map(str, item["loc"])] if prefix else map(str, item["loc"])),
                    item["msg"],
                )
                for item in error.errors()
            ]
        )


class TaskFailed(Exception):
    """Base of the exceptions the runtime raises; the class name is the Step Functions error.

    Attributes:
        error_name: The Step Functions error name (the class name).
        details: Context for operators (a business failure's details, say).
    """

    error_name: ClassVar[str] = "TaskFailed"

    def __init__(self, message: str, *, details: Mapping[str, Any] | None = None) -> None:
        self.details = dict(details or {})
        super().__init__(message)


_TASK_ERRORS: dict[str, type[TaskFailed]] = {}
_TASK_ERRORS_LOCK = threading.Lock()


def task_error(name: str) -> type[TaskFailed]:
    """The `TaskFailed` subclass whose class name is the error name `name`.

    Class names may contain dots (`Saga.Retryable`) when built with `type()`; the same class
    is returned for the same name.
    """
    with _TASK_ERRORS_LOCK:
        if name not in _TASK_ERRORS:
            _TASK_ERRORS[name] = type(name, (TaskFailed,), {"error_name": name})
        return _TASK_ERRORS[name]


#: What a compensation or failure notification returns when another execution of its command
#: committed it: it ran nothing.
_SKIPPED: Mapping[str, str] = {
    "skipped": "the command was committed by another execution: nothing to undo or report"
}


class _NoSegment:
    def put_annotation(self, key: str, value: str) -> None:
        return None


_NO_SEGMENT = _NoSegment()


def _json(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    return value


def _annotated_model(step: StepFunction) -> type[BaseModel] | None:
    """The command model the step's first parameter is annotated with, if any."""
    try:
        parameters = list(inspect.signature(step).parameters)
        hints = typing.get_type_hints(step)
    except (NameError, TypeError, ValueError):
        # An annotation naming a class the function's module cannot see, or no signature.
        return None
    model = hints.get(parameters[0]) if parameters else None
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _command_model(step: StepFunction, name: str) -> type[BaseModel]:
    model = _annotated_model(step)
    if model is None:
        raise TypeError(
            f"handler {name!r} ({getattr(step, '__qualname__', repr(step))}): annotate its first "
            "parameter with the command model, or pass command= (or the sagas it serves, "
            "sagas=) to TaskRuntime"
        )
    return model


class TaskRuntime:
    """Runs step functions as Lambda handlers, with their adapters and observability.

    Outside Lambda (tests, the local engine) the runtime switches Powertools tracing and
    metrics off through their documented switches (`Tracer(disabled=True)`, and the
    `POWERTOOLS_TRACE_DISABLED` / `POWERTOOLS_METRICS_DISABLED` environment variables when
    they are unset) and logs at WARNING unless `POWERTOOLS_LOG_LEVEL` says otherwise.

    Args:
        event_store: Where steps read and append events.
        notifier: Where steps send mail (None if no step sends any).
        service: The service name for logs, traces and metrics.
        metrics_namespace: The CloudWatch namespace of the metrics.
        logger: A Powertools logger (default: one for `service`).
        tracer: A Powertools tracer (default: one for `service`, disabled outside Lambda).
        clock: The time stamped on events (default: the wall clock, UTC).
    """

    def __init__(
        self,
        *,
        event_store: EventStore,
        notifier: Notifier | None = None,
        service: str = "stepsaga",
        metrics_namespace: str = "stepsaga",
        logger: Logger | None = None,
        tracer: Tracer | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        local = not on_lambda()
        if local:
            os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
            os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
        level = None
        if local and not (os.environ.get("POWERTOOLS_LOG_LEVEL") or os.environ.get("LOG_LEVEL")):
            level = "WARNING"
        self.event_store = event_store
        self.notifier = notifier
        self.service = service
        self.metrics_namespace = metrics_namespace
        self.logger = logger or Logger(service=service, level=level)
        self.tracer = tracer or Tracer(service=service, disabled=local)
        self._clock = clock or (lambda: datetime.now(UTC))

    def handlers(
        self, steps: Mapping[str, StepFunction], *, sagas: Iterable[Saga] = ()
    ) -> dict[str, LambdaHandler]:
        """Lambda handlers for a service's steps, keyed by handler name.

        Args:
            steps: Handler name to step function.
            sagas: The sagas the handlers serve. When given, every handler they invoke must be
                in `steps`, and a step function whose first parameter is not annotated takes
                the command model of the saga that invokes it.

        Raises:
            MissingHandlerError: `sagas` invoke handlers `steps` lacks (all are named).
            TypeError: A step function has no command model to read its command with.
        """
        sagas = tuple(sagas)
        check_handlers(sagas, steps)
        commands: dict[str, set[type[BaseModel]]] = {}
        for saga in sagas:
            for handler in saga.handlers():
                commands.setdefault(handler, set()).add(saga.command)
        built: dict[str, LambdaHandler] = {}
        for name, step in steps.items():
            models = commands.get(name, set())
            fallback = next(iter(models)) if len(models) == 1 else None
            built[name] = self.handler(step, name=name, command=_annotated_model(step) or fallback)
        return built

    def handler(
        self,
        step: StepFunction,
        *,
        name: str | None = None,
        command: type[BaseModel] | None = None,
    ) -> LambdaHandler:
        """Turn a step function into a Lambda handler.

        Args:
            step: `(command, ctx) -> result`.
            name: The handler name (default: the function's name).
            command: The command model (default: the annotation of the first parameter).

        Returns:
            `(event, context) -> JSON`, raising `TaskFailed` subclasses named as documented.
        """
        handler_name: str = name or str(getattr(step, "__name__", "step"))
        model = command or _command_model(step, handler_name)

        def lambda_handler(event: Any, context: Any) -> Any:
            return self._invoke(handler_name, step, model, event, context)

        lambda_handler.__name__ = handler_name
        lambda_handler.__qualname__ = handler_name
        return lambda_handler

    # -- one invocation -------------------------------------------------------------------

    def _parse(
        self, model: type[BaseModel], event: Any
    ) -> tuple[StepEnvelope, TenantId, BaseModel]:
        if not isinstance(event, Mapping):
            raise InvalidStepInput([("", f"expected a JSON object, got {type(event).__name__}")])
        try:
            envelope = StepEnvelope.model_validate(event)
        except ValidationError as invalid:
            raise InvalidStepInput.from_validation(invalid) from None
        try:
            tenant = TenantId(envelope.meta.tenant)
        except ValueError as invalid:
            raise InvalidStepInput([("meta.tenant", str(invalid))]) from None
        try:
            command = model.model_validate(envelope.command)
        except ValidationError as invalid:
            raise InvalidStepInput.from_validation(invalid, "command") from None
        return envelope, tenant, command

    def _invoke(
        self,
        name: str,
        step: StepFunction,
        model: type[BaseModel],
        event: Any,
        context: Any,
    ) -> Any:
        metrics = EphemeralMetrics(namespace=self.metrics_namespace, service=self.service)
        metrics.add_dimension(name="Handler", value=name)
        started = time.perf_counter()
        outcome = "Errored"
        try:
            with self._subsegment(name) as segment:
                try:
                    envelope, tenant, command = self._parse(model, event)
                except InvalidStepInput as invalid:
                    outcome = "InvalidInput"
                    self.logger.error(
                        "invalid step input", extra={"handler": name, "problems": invalid.problems}
                    )
                    raise
                self.logger.thread_safe_append_keys(
                    correlation_id=envelope.execution.id,
                    tenant=str(tenant),
                    handler=name,
                    state=envelope.state.name,
                    retry_count=envelope.state.retry_count,
                    command_id=envelope.meta.command_id,
                    function_request_id=getattr(context, "aws_request_id", None),
                )
                segment.put_annotation("tenant", str(tenant))
                segment.put_annotation("state", envelope.state.name)
                segment.put_annotation("execution", envelope.execution.name)
                fence = Fence(
                    tenant=tenant,
                    command=command_key(envelope.meta),
                    step=envelope.state.name,
                    commits=envelope.commits,
                )
                ctx = StepContext(
                    tenant=tenant,
                    meta=envelope.meta,
                    execution=envelope.execution,
                    state=envelope.state,
                    results={key: value.payload for key, value in envelope.results.items()},
                    error=envelope.error,
                    event_store=self.event_store,
                    notifier=self.notifier,
                    logger=self.logger,
                    metrics=metrics,
                    clock=self._clock,
                    # An action writes behind its command's fence; a compensation or failure
                    # notification raises the fence before it runs, and writes past it.
                    fence=fence if envelope.error is None else None,
                )
                result = self._run(step, command, ctx, fence)
                outcome = "Succeeded" if result is not _SKIPPED else "Skipped"
                return dict(_SKIPPED) if result is _SKIPPED else result
        except TaskFailed as failed:
            outcome = "Retryable" if failed.error_name == RETRYABLE_ERROR else "BusinessFailure"
            raise
        finally:
            metrics.add_metric(name=f"Step{outcome}", unit=MetricUnit.Count, value=1)
            metrics.add_metric(
                name="StepDuration",
                unit=MetricUnit.Milliseconds,
                value=(time.perf_counter() - started) * 1000,
            )
            metrics.flush_metrics()
            self.logger.thread_safe_clear_keys()

    def _subsegment(self, name: str) -> AbstractContextManager[Any]:
        # The X-Ray SDK builds dummy entities even when disabled; skip it outright.
        if self.tracer.disabled:
            return nullcontext(_NO_SEGMENT)
        return self.tracer.provider.in_subsegment(f"## {name}")

    def _check_fence(self, ctx: StepContext, fence: Fence) -> None:
        """Refuse an action that went on from work done earlier, if its command is fenced.

        It wrote nothing, so no fence stood in its way to refuse it, yet its command may have
        been compensated meanwhile.
        """
        if ctx.error is None and ctx.relied_on_earlier_work:
            fenced_by = self.event_store.fenced_by(fence)
            if fenced_by:
                raise FencedError(fence.tenant, fence.command, fence.step, fenced_by)

    def _run(self, step: StepFunction, command: BaseModel, ctx: StepContext, fence: Fence) -> Any:
        self.logger.debug("step started")
        try:
            if ctx.error is not None and not self.event_store.fence_command(fence):
                # Another execution of the command committed it: there is nothing to undo,
                # and no failure to report.
                self.logger.warning("command committed by another execution: skipped")
                return _SKIPPED
            try:
                result = _json(step(command, ctx))
            except BusinessFailure:
                # A refusal drawn from undone work (a refunded charge) is the fence's to tell.
                self._check_fence(ctx, fence)
                raise
            self._check_fence(ctx, fence)
            if fence.commits and not ctx.committed:
                self.event_store.commit_command(fence)  # a pivot that appended nothing
        except FencedError as fenced:
            self.logger.warning("command fenced", extra={"fenced_by": fenced.fenced_by})
            details = {"command": fenced.command, "fencedBy": list(fenced.fenced_by)}
            raise task_error(FENCED_ERROR)(
                failure_message(str(fenced), details), details=details
            ) from fenced
        except BusinessFailure as failure:
            self.logger.info(
                "business failure", extra={"error": failure.name, "details": failure.details}
            )
            raise task_error(failure.name)(
                failure_message(failure.message, failure.details), details=failure.details
            ) from failure
        except (RetryableError, ConcurrencyError) as transient:
            self.logger.warning("retryable failure", extra={"cause": str(transient)})
            raise task_error(RETRYABLE_ERROR)(str(transient)) from transient
        except Exception:
            self.logger.exception("step failed")
            raise
        size = len(json.dumps(result, separators=(",", ":")).encode())
        if size > MAX_PAYLOAD_BYTES:
            raise PayloadTooLargeError("result", size, MAX_PAYLOAD_BYTES)
        self.logger.info("step succeeded")
        return result
