"""Run a stepsaga service locally: its sagas on the embedded engine, its steps in-process.

    from stepsaga.infra.local.service import LocalService

    with LocalService.start() as service:  # the configured service, on moto's DynamoDB, SES v2
        seed_stock(service.event_store, "acme", "SKU-1", 5)
        run = service.execute("PlaceOrder", {"orderId": "o-1", ...})
        run.status, run.path, run.events, run.emails

The sagas are compiled with concrete local function names (`<service>-<Handler>`), each
handler is registered in-process, and the steps write to the injected event store and send
through the injected notifier. `LocalService.start` wires moto in-process with fake
credentials and finds the service as the command line does (`stepsaga.infra.project`);
construct `LocalService` directly to use other stores (the in-memory ones). `run_demo` runs a
service's demo scenarios (its `demo.DEMO`) that way. `local_endpoint` is `stepsaga local`: a
Step Functions endpoint over HTTP whose Lambda functions are a service's handlers
(`service_lambdas`, named as `FunctionNames.local()` names them).
"""

from stepsaga.infra.local.service._demo import DemoRun, run_demo
from stepsaga.infra.local.service._endpoint import local_endpoint, service_lambdas
from stepsaga.infra.local.service._moto import moto_partitioned_dynamodb, moto_service
from stepsaga.infra.local.service._service import (
    LocalService,
    SentMail,
    ServiceRun,
    execution_path,
)

__all__ = (
    "DemoRun",
    "LocalService",
    "SentMail",
    "ServiceRun",
    "execution_path",
    "local_endpoint",
    "moto_partitioned_dynamodb",
    "moto_service",
    "run_demo",
    "service_lambdas",
)
