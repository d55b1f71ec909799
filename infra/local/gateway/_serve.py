"""`stepsaga serve`: a whole service on one local port, on the same code path as on AWS.

One process holds:

- the API Gateway emulator (`ApiGateway`), verifying each request's development JWT;
- the trigger Lambda (`stepsaga.infra.aws.trigger`) behind it, whose `Starter` talks to the
  engine through the engine's in-process boto3 `stepfunctions` client, exactly as on AWS it
  talks to Step Functions;
- the embedded engine (server clock, as `stepsaga local`), one state machine per saga
  (`<service>-<Saga>`, STANDARD or EXPRESS as the saga says), with the service's handlers as its
  Lambda functions;
- the event store and the notifier: moto's DynamoDB and SES v2 in-process (`moto_service`), or
  the in-memory ones (`stores="memory"`, what the bench compares with).

With a service that has a demo (the reference service), the demo's seed runs for each tenant
given (the stock `stepsaga demo` starts with).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from aws_lambda_powertools import Logger

from stepsaga.infra.aws import Starter
from stepsaga.infra.aws.trigger import build_trigger, trigger_handler
from stepsaga.infra.local.gateway._http import ApiGateway, GatewayRequest
from stepsaga.infra.local.gateway._tokens import DEFAULT_TTL_SECONDS, DevKey
from stepsaga.infra.local.service import LocalService, moto_service
from stepsaga.infra.local.stepfunctions import Execution, LocalStepFunctions, observe_executions
from stepsaga.infra.project import Service, load_service
from stepsaga.tasks import EventStore, InMemoryEventStore, InMemoryNotifier
from stepsaga.workflows.saga import FunctionNames, compile_saga

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

__all__ = ("Serving", "serve")

Stores = Literal["moto", "memory"]


@dataclass(frozen=True, slots=True)
class Serving:
    """A running `serve`.

    Attributes:
        service: The service served.
        gateway: The API Gateway emulator (its `url`, `issuer`, `port`).
        engine: The engine running the executions.
        client: The in-process `stepfunctions` client the trigger uses.
        state_machines: Saga name to state machine ARN.
        event_store: The store the steps write to.
        key: The development key whose tokens are accepted.
    """

    service: Service
    gateway: ApiGateway
    engine: LocalStepFunctions
    client: SFNClient
    state_machines: dict[str, str]
    event_store: EventStore
    key: DevKey

    @property
    def url(self) -> str:
        """The base URL: `http://<host>:<port>`."""
        return self.gateway.url

    def token(
        self,
        tenant: str,
        sub: str,
        *,
        email: str | None = None,
        groups: Sequence[str] = (),
        ttl: int = DEFAULT_TTL_SECONDS,
    ) -> str:
        """A token this `serve` accepts (as `stepsaga token --port <port>` prints)."""
        return self.key.issue(
            issuer=self.gateway.issuer, tenant=tenant, sub=sub, email=email, groups=groups, ttl=ttl
        )


def request_line(request: GatewayRequest) -> str:
    """The log line of one request."""
    tenant = f" tenant={request.tenant}" if request.tenant else ""
    return f"{request.method} {request.path} {request.status} {request.millis:.1f} ms{tenant}"


def execution_line(execution: Execution) -> str:
    """The log line of one execution's outcome."""
    machine = execution.state_machine_arn.rsplit(":", 1)[-1]
    error = f" {execution.error}" if execution.error else ""
    return f"execution {execution.name} {machine} {execution.status}{error}"


@contextmanager
def _stores(service: Service, stores: Stores, tenant: str) -> Iterator[LocalService]:
    if stores == "moto":
        with moto_service(service, tenant=tenant) as local:
            yield local
        return
    yield LocalService(
        tuple(service.sagas.values()),
        service.handlers,
        event_store=InMemoryEventStore(),
        notifier=InMemoryNotifier(),
        tenant=tenant,
        service=service.name,
    )


@contextmanager
def serve(
    service: str | Service | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    stores: Stores = "moto",
    tenants: Sequence[str] = ("acme",),
    key: Path | DevKey | None = None,
    admin_group: str | None = "admins",
    log: Callable[[str], None] | None = None,
) -> Iterator[Serving]:
    """Serve `service` over HTTP on `host:port` while the context is open.

    Args:
        service: The service or its module (None: found as the command line finds it).
        host: The address to bind (loopback by default).
        port: The port (0: a free one; read it from `Serving.url`).
        stores: `"moto"` (DynamoDB and SES v2, in-process) or `"memory"`.
        tenants: The tenants the demo's seed runs for.
        key: The development key or its file (default: `DevKey.load()`).
        admin_group: The Cognito group that may act for another tenant.
        log: Receives one line per request and one per execution outcome.

    Raises:
        ServiceError: The service cannot be loaded.
        OSError: The address cannot be bound.
    """
    loaded = service if isinstance(service, Service) else load_service(service)
    signer = key if isinstance(key, DevKey) else DevKey.load(key)
    with _stores(loaded, stores, tenants[0] if tenants else "acme") as local:
        if loaded.demo is not None and loaded.demo.seed is not None:
            for tenant in tenants:
                loaded.demo.seed(local.event_store, tenant)
        engine = LocalStepFunctions(clock="server")
        functions = FunctionNames.local()
        for name, handler in local.handlers.items():
            engine.register_lambda(functions.function_name(name), handler)
        client = engine.client()
        machines: dict[str, str] = {}
        for saga in loaded.sagas.values():
            created = client.create_state_machine(
                name=f"{loaded.name}-{saga.name}",
                definition=json.dumps(compile_saga(saga, functions).to_dict()),
                roleArn=engine.role_arn,
                type=saga.workflow_type,
            )
            machines[saga.name] = created["stateMachineArn"]
        # The trigger logs warnings only: `serve` writes the one line per request itself.
        logger = Logger(service=f"{loaded.name}-trigger", level="WARNING")
        app = build_trigger(
            Starter(client, loaded.sagas.values(), machines),
            admin_group=admin_group,
            logger=logger,
            title=f"{loaded.name} commands",
        )
        gateway = ApiGateway(
            trigger_handler(app, logger),
            key=signer,
            host=host,
            port=port,
            on_request=None if log is None else (lambda r: log(request_line(r))),
        )
        ours = set(machines.values())

        def outcome(execution: Execution) -> None:
            if log is not None and execution.state_machine_arn in ours:
                log(execution_line(execution))

        unsubscribe = observe_executions(outcome)
        gateway.start()
        try:
            yield Serving(loaded, gateway, engine, client, machines, local.event_store, signer)
        finally:
            gateway.stop()
            unsubscribe()
            with contextlib.suppress(Exception):
                engine.close()
