"""`stepsaga local`: a service's handlers as Lambda functions behind the Step Functions API."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, cast

from stepsaga.infra.local.stepfunctions import LocalStepFunctions, MockConfig
from stepsaga.infra.local.stepfunctions.api import StepFunctionsServer
from stepsaga.infra.project import Service
from stepsaga.tasks import InMemoryEventStore, InMemoryNotifier, LambdaHandler, TaskRuntime
from stepsaga.workflows import facts
from stepsaga.workflows.saga import FunctionNames

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

    from stepsaga.tasks import EventStore, Notifier

__all__ = ("local_endpoint", "service_lambdas")

# How long GetActivityTask holds a poll over HTTP: AWS's minute, less a margin, because
# botocore's default read timeout is a minute too; a poll answered just after the client gave
# up would hand its task to no one.
HTTP_ACTIVITY_POLL_SECONDS = facts.ACTIVITY_TASK_POLL_SECONDS - 10


def service_lambdas(
    service: Service,
    *,
    event_store: EventStore | None = None,
    notifier: Notifier | None = None,
) -> dict[str, LambdaHandler]:
    """A service's step handlers as Lambda functions, by the names its sagas invoke.

    The names are those `compile_saga(saga, FunctionNames.local())` writes: the handler names.

    Args:
        service: The service.
        event_store: Where the steps' events go (default: a fresh in-memory store).
        notifier: Where the steps' mails go (default: a fresh in-memory notifier).
    """
    runtime = TaskRuntime(
        event_store=event_store or InMemoryEventStore(),
        notifier=notifier or InMemoryNotifier(),
        service=service.name,
    )
    names = FunctionNames.local()
    return {
        names.function_name(name): handler
        for name, handler in runtime.handlers(service.handlers).items()
    }


def _lambda_client(endpoint: str, region: str) -> LambdaClient:
    """A Lambda client of ``endpoint``, signed with this machine's credentials if it has any.

    Like the Step Functions Local container, ``stepsaga local`` needs no AWS configuration: a
    local Lambda emulator does not check signatures, so fake credentials do without one.
    """
    import boto3
    import botocore.session
    from botocore.exceptions import BotoCoreError

    try:
        session = boto3.Session(region_name=region)
        if session.get_credentials() is not None:
            return session.client("lambda", endpoint_url=endpoint)
    except BotoCoreError:  # e.g. an AWS_PROFILE this machine does not have
        pass
    # No profile is read (one that does not exist would refuse to build the client).
    bare = botocore.session.Session(session_vars={"profile": (None, None, None, None)})
    client = bare.create_client(
        "lambda",
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id="stepsaga",
        aws_secret_access_key="stepsaga",
    )
    return cast("LambdaClient", client)


def local_endpoint(
    service: Service | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = facts.STEP_FUNCTIONS_LOCAL_PORT,
    mock_config: MockConfig | None = None,
    region: str = "us-east-1",
    account_id: str = "123456789012",
    time_scale: float = 1.0,
    lambda_endpoint: str | None = None,
) -> StepFunctionsServer:
    """A Step Functions endpoint on a fresh engine on the server clock (not yet serving).

    Start it with `.start()` (a thread) or `.serve_forever()`; stop it with `.stop()`, then
    close its engine (`server.api.engine.close()`).

    Args:
        service: The service whose handlers answer Lambda tasks (`service_lambdas`, on
            in-memory stores); None registers none.
        host: The address to bind.
        port: The port (0 picks a free one).
        mock_config: The MockConfigFile whose test cases `stateMachineArn#TestCase` chooses.
        region: The region in ARNs.
        account_id: The account in ARNs.
        time_scale: Virtual seconds per wall-clock second for the timers that run in real
            time (a waiting task's TimeoutSeconds and HeartbeatSeconds).
        lambda_endpoint: Call Lambda functions over the Invoke API there instead of the
            service's handlers (default: env `LAMBDA_ENDPOINT`).

    Raises:
        OSError: the address cannot be bound.
    """
    endpoint = lambda_endpoint or os.environ.get("LAMBDA_ENDPOINT")
    engine = LocalStepFunctions(
        clock="server",
        time_scale=time_scale,
        region=region,
        account_id=account_id,
        lambda_client=None if endpoint is None else _lambda_client(endpoint, region),
    )
    if service is not None:
        for name, handler in service_lambdas(service).items():
            engine.register_lambda(name, handler)
    api = engine.api
    api.mock_config = mock_config
    api.activity_poll_seconds = HTTP_ACTIVITY_POLL_SECONDS
    try:
        return StepFunctionsServer(api, host, port)
    except OSError:
        engine.close()
        raise
