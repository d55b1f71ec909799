"""Deployed Lambda entry points: the one place that builds real boto3 clients.

A service's Lambda module exposes one handler per saga handler name:

    from stepsaga.examples.orders.handlers import HANDLERS
    from stepsaga.infra.aws import lambda_entry_points

    globals().update(lambda_entry_points(HANDLERS, service="orders"))
    # the function for `ReserveStock` is configured with Handler `<module>.ReserveStock`

The runtime is built on the first invocation (not at import), from these environment
variables:

- `STEPSAGA_EVENT_STORE_TABLE` (required): the event store table;
- `STEPSAGA_MAIL_FROM`: the verified SES sender; without it steps cannot send mail;
- `STEPSAGA_SES_CONFIGURATION_SET`: the SES configuration set, if any;
- `STEPSAGA_TENANT_ROLE_ARN`: the role to reach the table through, assumed per tenant with the
  session tag `tenant` (`TenantRole`; the synthesised template sets it). Unset, the function's
  own credentials reach the table.

boto3 finds the region and credentials as usual, and honours `AWS_ENDPOINT_URL` for local
endpoints.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from typing import Any

from stepsaga.tasks import EventStore, LambdaHandler, Notifier, StepFunction, TaskRuntime

__all__ = ("MissingSettingError", "lambda_entry_points", "runtime_from_environment")

TABLE_VARIABLE = "STEPSAGA_EVENT_STORE_TABLE"
MAIL_FROM_VARIABLE = "STEPSAGA_MAIL_FROM"
CONFIGURATION_SET_VARIABLE = "STEPSAGA_SES_CONFIGURATION_SET"
TENANT_ROLE_VARIABLE = "STEPSAGA_TENANT_ROLE_ARN"


class MissingSettingError(RuntimeError):
    """A required environment variable is not set.

    Attributes:
        variable: The variable's name.
    """

    def __init__(self, variable: str, purpose: str) -> None:
        self.variable = variable
        super().__init__(f"environment variable {variable} is not set ({purpose})")


def runtime_from_environment(
    *, service: str, environ: Mapping[str, str] | None = None, session: Any = None
) -> TaskRuntime:
    """Build a `TaskRuntime` on DynamoDB and SES v2 from environment variables.

    Args:
        service: The service name for logs, traces and metrics.
        environ: The variables (default: `os.environ`).
        session: A `boto3.Session` to build clients from (default: a new one).

    Raises:
        MissingSettingError: `STEPSAGA_EVENT_STORE_TABLE` is not set.
    """
    import boto3

    from stepsaga.infra.aws._event_store import DynamoDBEventStore
    from stepsaga.infra.aws._notifier import SesNotifier

    env = os.environ if environ is None else environ
    table = env.get(TABLE_VARIABLE)
    if not table:
        raise MissingSettingError(TABLE_VARIABLE, "the event store table name")
    boto = session or boto3.session.Session()
    sender = env.get(MAIL_FROM_VARIABLE)
    configuration_set = env.get(CONFIGURATION_SET_VARIABLE) or None
    role_arn = env.get(TENANT_ROLE_VARIABLE)
    event_store: EventStore
    notifier: Notifier | None = None
    if role_arn:
        from stepsaga.infra.aws._tenant_role import (
            TenantRole,
            TenantRoleEventStore,
            TenantRoleNotifier,
        )

        role = TenantRole(boto.client("sts"), role_arn)
        event_store = TenantRoleEventStore(role, table)
        if sender:
            notifier = TenantRoleNotifier(
                role,
                boto.client("sesv2"),
                table,
                from_address=sender,
                configuration_set=configuration_set,
            )
    else:
        dynamodb = boto.client("dynamodb")
        event_store = DynamoDBEventStore(dynamodb, table)
        if sender:
            notifier = SesNotifier(
                boto.client("sesv2"),
                dynamodb,
                table,
                from_address=sender,
                configuration_set=configuration_set,
            )
    return TaskRuntime(event_store=event_store, notifier=notifier, service=service)


def lambda_entry_points(
    steps: Mapping[str, StepFunction],
    *,
    service: str,
    runtime: Callable[[], TaskRuntime] | None = None,
) -> dict[str, LambdaHandler]:
    """Lambda handlers for `steps`, keyed by handler name, sharing one lazily built runtime.

    Args:
        steps: Handler name to step function.
        service: The service name.
        runtime: Builds the runtime on first use (default: `runtime_from_environment`).
    """
    build = runtime or (lambda: runtime_from_environment(service=service))
    lock = threading.Lock()
    built: dict[str, LambdaHandler] = {}

    def resolve(name: str) -> LambdaHandler:
        with lock:
            if not built:
                built.update(build().handlers(steps))
            return built[name]

    def entry(name: str) -> LambdaHandler:
        def handler(event: Any, context: Any) -> Any:
            return resolve(name)(event, context)

        handler.__name__ = handler.__qualname__ = name
        return handler

    return {name: entry(name) for name in steps}
