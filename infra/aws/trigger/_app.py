"""The trigger's routes, on Powertools' REST resolver with pydantic validation.

This module does not use `from __future__ import annotations`: Powertools reads each route's
parameter annotations at run time, and a route per saga is annotated with that saga's command
model, a value known only when the routes are built.
"""

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from typing import Annotated, Any, Final, Literal

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path
from aws_lambda_powertools.logging import correlation_paths
from pydantic import BaseModel

from stepsaga.domain import InvalidIdentifierError, PayloadTooLargeError, TenantId
from stepsaga.infra.aws._starter import (
    CommandConflictError,
    ExecutionStatus,
    StartedExecution,
    Starter,
    StepFunctionsUnavailableError,
)
from stepsaga.infra.aws.trigger._errors import ErrorBody, HttpError, error_body
from stepsaga.workflows.facts import MAX_NAME_LENGTH

__all__ = (
    "TENANT_HEADER",
    "Caller",
    "ExecutionView",
    "StartedView",
    "SyncOutcomeView",
    "build_trigger",
    "caller_from_event",
    "is_business_failure",
    "trigger_handler",
)

#: The header an admin names another tenant with (only members of the admin group may).
TENANT_HEADER: Final = "X-Stepsaga-Tenant"
IDEMPOTENCY_HEADER: Final = "Idempotency-Key"
# Idempotency keys are names, not documents: API Gateway allows 10 KiB of headers anyway.
_MAX_KEY_LENGTH: Final = 255
_JSON: Final = "application/json"
# Error names that are the machinery's, not a business refusal (the tasks runtime's contract).
_RESERVED_PREFIXES: Final = ("States.", "Saga.", "Lambda.", "Sandbox.", "Runtime.")
_RUNTIME_ERRORS: Final = frozenset({"InvalidStepInput", "PayloadTooLargeError", "ClientError"})


class StartedView(BaseModel):
    """202: the command's execution started (or, 200, had started before)."""

    executionArn: str
    executionId: str
    statusUrl: str


class SyncOutcomeView(BaseModel):
    """200: a synchronous command's execution succeeded; `output` is its output."""

    executionArn: str
    executionId: str
    status: Literal["SUCCEEDED"]
    output: Any = None


class ExecutionView(BaseModel):
    """An execution: its status, output or error and cause, and its dates."""

    executionId: str
    executionArn: str
    commandType: str | None = None
    status: Literal["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"]
    startDate: str | None = None
    stopDate: str | None = None
    output: Any = None
    error: str | None = None
    cause: str | None = None


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling, from the Cognito authorizer's claims.

    Attributes:
        tenant: The tenant the request acts for.
        subject: The caller's `sub`.
        email: The caller's `email`, if the token has one.
        groups: The caller's Cognito groups.
    """

    tenant: TenantId
    subject: str
    email: str | None
    groups: tuple[str, ...]


def _groups(value: Any) -> tuple[str, ...]:
    # API Gateway's REST authorizer hands claims over as strings: one group as is, several as
    # "[a, b]" (a JSON list or Cognito's own list text); a direct invocation may pass a list.
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    if not isinstance(value, str) or not value.strip():
        return ()
    text = value.strip()
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = text.strip("[]").replace(",", " ").split()
        return tuple(str(v) for v in parsed) if isinstance(parsed, list) else ()
    return tuple(text.replace(",", " ").split())


def caller_from_event(
    event: Mapping[str, Any], *, admin_group: str | None, tenant_override: str | None
) -> Caller:
    """The caller of a REST proxy event: tenant, subject, e-mail and groups from its claims.

    Raises:
        HttpError: 401 when the event has no authorizer claims at all (no verified token
            reached the Lambda: an unauthenticated route or a misconfigured authorizer); 403
            when the claims name no valid tenant or subject, or when someone outside the admin
            group sends the tenant header; 400 when an admin's tenant header is not a tenant.
    """
    context = event.get("requestContext") or {}
    authorizer = context.get("authorizer") if isinstance(context, Mapping) else None
    claims = authorizer.get("claims") if isinstance(authorizer, Mapping) else None
    if not isinstance(claims, Mapping) or not claims:
        raise HttpError(401, "Unauthorized", "this request carries no verified token")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise HttpError(403, "Forbidden", "the token names no subject (sub)")
    try:
        own = TenantId(str(claims.get("custom:tenant") or ""))
    except InvalidIdentifierError as error:
        raise HttpError(
            403, "Forbidden", f"the token names no valid tenant (custom:tenant): {error.reason}"
        ) from None
    groups = _groups(claims.get("cognito:groups"))
    tenant = own
    if tenant_override is not None:
        if admin_group is None or admin_group not in groups:
            raise HttpError(
                403,
                "Forbidden",
                f"only the admin group may act for another tenant ({TENANT_HEADER})",
            )
        try:
            tenant = TenantId(tenant_override)
        except InvalidIdentifierError as error:
            path = f"header.{TENANT_HEADER.lower()}"
            raise HttpError(
                400,
                "BadRequest",
                "the request is invalid",
                [{"path": path, "message": error.reason}],
            ) from None
    email = claims.get("email")
    return Caller(tenant, subject, email if isinstance(email, str) and email else None, groups)


def is_business_failure(error: str | None, cause: str | None) -> bool:
    """Whether an execution's error is a business refusal (422) rather than a fault (5xx).

    A step's business failure (`BusinessFailure`, e.g. `PaymentDeclined`) ends the execution
    with its own name and, as its cause, the Lambda error whose `errorMessage` is the failure's
    `{"message", "details"}` JSON (`stepsaga.workflows.saga.failure_message`). Anything else is
    the machinery's: reserved names (`States.Timeout`, `Saga.CompensationFailed`,
    `Saga.CommitFailed`, `Lambda.ServiceException`) and crashes (`KeyError`, whose message is
    plain text).
    """
    if not error or error.startswith(_RESERVED_PREFIXES) or error in _RUNTIME_ERRORS:
        return False
    return _failure_message(cause) is not None


def _failure_message(cause: str | None) -> str | None:
    """A business failure's message, from its execution cause; None for any other cause."""
    try:
        lambda_error = json.loads(cause or "")
        failure = json.loads(lambda_error["errorMessage"])
    except (ValueError, TypeError, KeyError):
        return None
    if isinstance(failure, dict) and set(failure) == {"message", "details"}:
        message = failure["message"]
        return message if isinstance(message, str) else None
    return None


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _json(
    status: int, body: BaseModel | str, headers: Mapping[str, str] | None = None
) -> Response[str]:
    text = body if isinstance(body, str) else body.model_dump_json()
    return Response(status_code=status, content_type=_JSON, body=text, headers=dict(headers or {}))


def _error_response(error: HttpError) -> Response[str]:
    return _json(error.status, error_body(error.code, error.message, error.details), error.headers)


def _detail_path(location: Sequence[Any]) -> str:
    return ".".join(str(part) for part in location) or "body"


def _responses(*statuses: int, ok: dict[int, type[BaseModel]]) -> dict[int, Any]:
    documented: dict[int, Any] = {
        status: {"description": HTTPStatus(status).phrase, "content": {_JSON: {"model": model}}}
        for status, model in ok.items()
    }
    for status in statuses:
        entry: dict[str, Any] = {
            "description": HTTPStatus(status).phrase,
            "content": {_JSON: {"model": ErrorBody}},
        }
        if status in (429, 503):
            entry["headers"] = {
                "Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}
            }
        documented[status] = entry
    return documented


def build_trigger(
    starter: Starter,
    *,
    admin_group: str | None = None,
    logger: Logger | None = None,
    title: str = "stepsaga commands",
) -> APIGatewayRestResolver:
    """The trigger's resolver: `POST /commands/<saga>` for each saga, `GET /executions/<id>`.

    Args:
        starter: Starts the sagas (holds the injected `stepfunctions` client).
        admin_group: The Cognito group that may send `X-Stepsaga-Tenant`; None: nobody.
        logger: Where the trigger logs (one line per started, found or refused command).
        title: The OpenAPI schema's title.
    """
    app = APIGatewayRestResolver(enable_validation=True)
    log = logger or Logger(service="stepsaga-trigger")
    routes: list[tuple[str, str]] = []  # (method, path template) for 405 answers

    def caller(tenant_override: str | None) -> Caller:
        return caller_from_event(
            app.current_event.raw_event, admin_group=admin_group, tenant_override=tenant_override
        )

    def status_url(name: str) -> str:
        # The API's base as the client reached it: the stage (and custom-domain base path)
        # is what `requestContext.path` has before the resource path.
        event = app.current_event.raw_event
        full = str((event.get("requestContext") or {}).get("path") or "")
        path = str(event.get("path") or "")
        base = full[: -len(path)] if path and full.endswith(path) else ""
        return f"{base}/executions/{name}"

    def answer_started(started: StartedExecution) -> Response[str]:
        outcome = started.outcome
        if outcome is None:
            url = status_url(started.name)
            view = StartedView(executionArn=started.arn, executionId=started.name, statusUrl=url)
            status = 202 if started.created else 200
            return _json(status, view, {"Location": url})
        if outcome.status == "SUCCEEDED":
            return _json(
                200,
                SyncOutcomeView(
                    executionArn=outcome.arn,
                    executionId=started.name,
                    status="SUCCEEDED",
                    output=outcome.output,
                ),
            )
        if outcome.status == "FAILED" and is_business_failure(outcome.error, outcome.cause):
            message = _failure_message(outcome.cause) or "the command was refused"
            raise HttpError(422, str(outcome.error), message)
        if outcome.status == "TIMED_OUT":
            raise HttpError(504, "ExecutionTimedOut", "the command did not finish in time")
        raise HttpError(
            500, "ExecutionFailed", f"the command failed ({outcome.error or outcome.status})"
        )

    def add_command(saga_name: str, model: type[BaseModel], express: bool) -> None:
        ok: dict[int, type[BaseModel]] = (
            {200: SyncOutcomeView} if express else {202: StartedView, 200: StartedView}
        )
        errors = [400, 401, 403, 409, 413, 429, 500, 503]
        if express:
            errors += [422, 504]

        def start_command(
            command: Annotated[model, Body()],  # type: ignore[valid-type]
            idempotency_key: Annotated[
                str | None,
                Header(alias=IDEMPOTENCY_HEADER, min_length=1, max_length=_MAX_KEY_LENGTH),
            ] = None,
            tenant: Annotated[str | None, Header(alias=TENANT_HEADER)] = None,
        ) -> Response[str]:
            who = caller(tenant)
            try:
                started = starter.start(
                    command,
                    saga=saga_name,
                    tenant=who.tenant,
                    requested_by=who.subject,
                    idempotency_key=idempotency_key,
                )
            except CommandConflictError as conflict:
                log.info("command refused", extra={"saga": saga_name, "reason": "conflict"})
                raise HttpError(409, "Conflict", str(conflict)) from None
            except PayloadTooLargeError as large:
                raise HttpError(
                    413,
                    "PayloadTooLarge",
                    f"the execution input would be {large.size} bytes, over Step Functions' "
                    f"{large.limit}",
                ) from None
            log.info(
                "command started" if started.created else "command found",
                extra={
                    "saga": saga_name,
                    "tenant": str(who.tenant),
                    "execution": started.name,
                    "requested_by": who.subject,
                },
            )
            return answer_started(started)

        rule = f"/commands/{saga_name}"
        app.post(
            rule,
            summary=f"Start {saga_name}",
            operation_id=f"start{saga_name}",
            responses=_responses(*errors, ok=ok),
        )(start_command)
        routes.append(("POST", rule))

    for saga in starter.sagas.values():
        add_command(saga.name, saga.command, saga.workflow_type == "EXPRESS")

    @app.get(
        "/executions/<execution_id>",
        summary="Read an execution",
        operation_id="describeExecution",
        responses=_responses(400, 401, 403, 404, 429, 500, 503, ok={200: ExecutionView}),
    )
    def describe_execution(
        execution_id: Annotated[
            str, Path(min_length=1, max_length=MAX_NAME_LENGTH, pattern=r"^[A-Za-z0-9_-]+$")
        ],
        tenant: Annotated[str | None, Header(alias=TENANT_HEADER)] = None,
    ) -> Response[str]:
        who = caller(tenant)
        found = starter.find(execution_id, tenant=who.tenant)
        if found is None:
            raise HttpError(404, "NotFound", f"no execution {execution_id!r}")
        return _json(200, _view(found))

    routes.append(("GET", "/executions/<execution_id>"))

    @app.get("/openapi.json", include_in_schema=False)
    def openapi() -> Response[str]:
        schema = app.get_openapi_json_schema(
            title=title,
            security_schemes={"cognito": HTTPBearer(bearerFormat="JWT")},
            security=[{"cognito": []}],
        )
        return Response(status_code=200, content_type=_JSON, body=_without_validation_422(schema))

    routes.append(("GET", "/openapi.json"))

    def api_error(error: HttpError) -> Response[str]:
        return _error_response(error)

    def invalid_request(error: RequestValidationError) -> Response[str]:
        found = [
            {"path": _detail_path(e.get("loc", ())), "message": str(e.get("msg", e.get("type")))}
            for e in error.errors()
        ]
        # Powertools also reports a container as empty once one of its items failed
        # (`body.items` beside `body.items.0.quantity`): only the most precise paths are kept.
        paths = [d["path"] for d in found]
        details = [d for d in found if not any(p.startswith(d["path"] + ".") for p in paths)]
        return _error_response(HttpError(400, "BadRequest", "the request is invalid", details))

    def unavailable(error: StepFunctionsUnavailableError) -> Response[str]:
        log.warning("step functions unavailable", extra={"code": error.code})
        status, code = (429, "Throttled") if error.throttled else (503, "Unavailable")
        return _error_response(
            HttpError(status, code, str(error), headers={"Retry-After": str(error.retry_after)})
        )

    def not_found(_: NotFoundError) -> Response[str]:
        event = app.current_event
        allowed = sorted(method for method, rule in routes if _matches(rule, event.path))
        if allowed:
            return _error_response(
                HttpError(
                    405,
                    "MethodNotAllowed",
                    f"{event.http_method} is not allowed here; use {', '.join(allowed)}",
                    headers={"Allow": ", ".join(allowed)},
                )
            )
        return _error_response(HttpError(404, "NotFound", f"no route {event.path!r}"))

    def undecodable(error: UnicodeDecodeError) -> Response[str]:
        detail = {"path": "body", "message": "the body is not UTF-8 text"}
        return _error_response(HttpError(400, "BadRequest", "the request is invalid", [detail]))

    def crashed(error: Exception) -> Response[str]:
        log.exception("trigger failed")
        return _error_response(HttpError(500, "InternalError", "the request could not be served"))

    app.exception_handler(HttpError)(api_error)
    app.exception_handler(RequestValidationError)(invalid_request)
    app.exception_handler(StepFunctionsUnavailableError)(unavailable)
    app.not_found(not_found)
    # A binary body reaches the Lambda base64-encoded; Powertools fails to decode it as text.
    app.exception_handler(UnicodeDecodeError)(undecodable)
    app.exception_handler(Exception)(crashed)
    return app


# What Powertools documents for its own validation answer, which the trigger answers 400.
_POWERTOOLS_SCHEMAS: Final = ("HTTPValidationError", "ValidationError", "ResponseValidationError")


def _without_validation_422(schema: str) -> str:
    """The schema without Powertools' 422 answers (and their models): bad requests are 400."""
    document = json.loads(schema)
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            content = responses.get("422", {}).get("content", {}).get(_JSON, {})
            if content.get("schema", {}).get("$ref", "").endswith("/HTTPValidationError"):
                del responses["422"]
    models = document.get("components", {}).get("schemas", {})
    for name in _POWERTOOLS_SCHEMAS:
        models.pop(name, None)
    return json.dumps(document)


def _matches(rule: str, path: str) -> bool:
    return re.fullmatch(re.sub(r"<\w+>", "[^/]+", rule), path) is not None


def _view(found: ExecutionStatus) -> ExecutionView:
    meta = found.input.get("meta")
    command_type = meta.get("commandType") if isinstance(meta, dict) else None
    return ExecutionView(
        executionId=found.name,
        executionArn=found.arn,
        commandType=command_type if isinstance(command_type, str) else None,
        status=found.status,
        startDate=_iso(found.start_date),
        stopDate=_iso(found.stop_date),
        output=found.output,
        error=found.error,
        cause=found.cause,
    )


def trigger_handler(
    app: APIGatewayRestResolver, logger: Logger
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda handler of a resolver, logging with the request id as correlation id."""

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return app.resolve(event, context)

    return handler
