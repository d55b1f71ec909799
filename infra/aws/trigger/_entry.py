"""The trigger's Lambda entry point: the one place its real `stepfunctions` client is built."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final

from stepsaga.infra.aws._lambda import MissingSettingError

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

    from stepsaga.workflows.saga import Saga

__all__ = (
    "ADMIN_GROUP_VARIABLE",
    "STATE_MACHINES_VARIABLE",
    "state_machines_from_environment",
    "trigger_entry_point",
)

STATE_MACHINES_VARIABLE: Final = "STEPSAGA_STATE_MACHINES"
ADMIN_GROUP_VARIABLE: Final = "STEPSAGA_ADMIN_GROUP"

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


def state_machines_from_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """Saga name to state machine ARN, from `STEPSAGA_STATE_MACHINES` (a JSON object).

    Raises:
        MissingSettingError: The variable is not set.
        ValueError: It is not a JSON object of strings.
    """
    text = environ.get(STATE_MACHINES_VARIABLE)
    if not text:
        raise MissingSettingError(STATE_MACHINES_VARIABLE, "saga name to state machine ARN, JSON")
    try:
        value = json.loads(text)
    except ValueError as error:
        raise ValueError(f"{STATE_MACHINES_VARIABLE} is not JSON: {error}") from None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ValueError(
            f'{STATE_MACHINES_VARIABLE} must be a JSON object of strings: {{"Saga": "arn:..."}}'
        )
    return value


def trigger_entry_point(
    sagas: Iterable[Saga],
    *,
    service: str,
    client: Callable[[], SFNClient] | None = None,
    environ: Mapping[str, str] | None = None,
) -> LambdaHandler:
    """The trigger's Lambda handler for a service's sagas, built on its first invocation.

    The environment variables are read then (see `stepsaga.infra.aws.trigger`), so that importing
    the handler module needs no AWS configuration.

    Args:
        sagas: The service's sagas; those named in `STEPSAGA_STATE_MACHINES` can be started.
        service: The service name (Powertools' `service`, unless `POWERTOOLS_SERVICE_NAME`).
        client: Builds the `stepfunctions` client (default: `boto3.client("stepfunctions")`).
        environ: The variables (default: `os.environ`).
    """
    chosen = tuple(sagas)
    lock = threading.Lock()
    built: list[LambdaHandler] = []

    def build() -> LambdaHandler:
        from aws_lambda_powertools import Logger

        from stepsaga.infra.aws._starter import Starter
        from stepsaga.infra.aws.trigger._app import build_trigger, trigger_handler

        env = os.environ if environ is None else environ
        machines = state_machines_from_environment(env)
        if client is None:
            import boto3

            sfn: SFNClient = boto3.client("stepfunctions")
        else:
            sfn = client()
        logger = Logger(service=env.get("POWERTOOLS_SERVICE_NAME") or service)
        app = build_trigger(
            Starter(sfn, chosen, machines),
            admin_group=env.get(ADMIN_GROUP_VARIABLE) or None,
            logger=logger,
        )
        return trigger_handler(app, logger)

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        with lock:
            if not built:
                built.append(build())
        return built[0](event, context)

    return handler
