"""The API Gateway trigger: a thin Lambda that validates, authorises, starts a saga and answers.

Clients start commands over HTTP: API Gateway (REST API, Cognito user pool authorizer) → this
Lambda (proxy integration) → Step Functions. The Lambda validates the body against the command's
model, takes the tenant from the verified token's claims, starts the saga through `Starter` on an
injected boto3 `stepfunctions` client, and answers. It holds no state of its own: idempotency is
Step Functions' own (the execution name derives from tenant and idempotency key).

**Deploying it.** One Lambda function per service, Python 3.11+, on `pip install stepsaga`
(the lean runtime: no engine, moto, click, rich, jsonata or jwt is imported):

- Handler: `stepsaga.examples.orders.lambda_entry.Trigger` for the reference service; a service
  of one's own exposes `trigger_entry_point(SAGAS, service="<name>")` the same way in its own
  Lambda module.
- Environment:

  - `STEPSAGA_STATE_MACHINES` (required): a JSON object, saga name → state machine ARN, e.g.
    `{"PlaceOrder": "arn:aws:states:eu-west-1:123456789012:stateMachine:orders-PlaceOrder"}`
    (in CloudFormation: `!Sub '{"PlaceOrder": "${PlaceOrderStateMachine}"}'`). A saga left out
    cannot be started over HTTP (404). A saga whose `workflow_type` is `"EXPRESS"` is started
    with StartSyncExecution and answered synchronously.
  - `STEPSAGA_ADMIN_GROUP` (optional): the Cognito group whose members may act for another
    tenant by sending the `X-Stepsaga-Tenant` header. Unset: nobody may (403).
  - `POWERTOOLS_SERVICE_NAME`, `POWERTOOLS_LOG_LEVEL` (optional): Powertools' own; the service
    name defaults to the one given to `trigger_entry_point`.

  boto3 finds the region and credentials as usual (and honours `AWS_ENDPOINT_URL`).
- IAM: `states:StartExecution` and `states:StartSyncExecution` on the state machines,
  `states:DescribeExecution` on their executions (`arn:aws:states:<region>:<account>:execution:
  <state machine name>:*`).
- API Gateway: `ANY /{proxy+}` (Lambda proxy integration) behind the Cognito authorizer, and
  `GET /openapi.json` without one. The authorizer puts the ID token's claims at
  `requestContext.authorizer.claims`: `custom:tenant`, `sub`, `email`, `cognito:groups`.

**Routes.**

- `POST /commands/{name}`: the body is the command; `Idempotency-Key` (optional header) names
  the command: the same key with the same body is the same execution (200), with another body
  409; without a key every request is a new command. 202 `{"executionArn", "executionId",
  "statusUrl"}` for a started execution; for an EXPRESS saga, 200 `{"status", "output"}` or 422
  with the business failure's name.
- `GET /executions/{id}`: `id` is the execution name (`executionId` above). Status, output or
  error and cause, start and stop dates. Only the tenant that started it sees it: 404 otherwise.
- `GET /openapi.json`: the OpenAPI schema of the routes above.

Every error answers `{"error": {"code", "message", "details": [{"path", "message"}]}}`.
"""

from typing import TYPE_CHECKING

from stepsaga.infra.aws.trigger._entry import (
    ADMIN_GROUP_VARIABLE,
    STATE_MACHINES_VARIABLE,
    state_machines_from_environment,
    trigger_entry_point,
)
from stepsaga.infra.aws.trigger._errors import (
    ErrorBody,
    ErrorDetail,
    ErrorInfo,
    HttpError,
    error_body,
)

if TYPE_CHECKING:
    from stepsaga.infra.aws.trigger._app import (
        TENANT_HEADER,
        Caller,
        ExecutionView,
        StartedView,
        SyncOutcomeView,
        build_trigger,
        caller_from_event,
        is_business_failure,
        trigger_handler,
    )

__all__ = (
    "ADMIN_GROUP_VARIABLE",
    "STATE_MACHINES_VARIABLE",
    "TENANT_HEADER",
    "Caller",
    "ErrorBody",
    "ErrorDetail",
    "ErrorInfo",
    "ExecutionView",
    "HttpError",
    "StartedView",
    "SyncOutcomeView",
    "build_trigger",
    "caller_from_event",
    "error_body",
    "is_business_failure",
    "state_machines_from_environment",
    "trigger_entry_point",
    "trigger_handler",
)

# The routes bring Powertools' event handler (a tenth of a second to import): a task Lambda's
# module that also names the trigger's entry point must not pay for it, so the resolver's names
# are imported on first use (PEP 562), and cached here.
_APP_NAMES = frozenset(
    {
        "TENANT_HEADER",
        "Caller",
        "ExecutionView",
        "StartedView",
        "SyncOutcomeView",
        "build_trigger",
        "caller_from_event",
        "is_business_failure",
        "trigger_handler",
    }
)


def _app_name(name: str) -> object:
    if name not in _APP_NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from stepsaga.infra.aws.trigger import _app

    value = getattr(_app, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_APP_NAMES})


# Hidden from type checkers, which read the names from the imports under TYPE_CHECKING instead.
if not TYPE_CHECKING:
    __getattr__ = _app_name
