"""Requests per second of `POST /commands/PlaceOrder` through `stepsaga serve`, end to end.

HTTP on 127.0.0.1 → the API Gateway emulator (JWT verified) → the trigger Lambda → the engine
through the in-process boto3 client → the reference handlers → the stores: in memory, and on
moto's DynamoDB and SES. One client, one keep-alive connection, one request after another:
this is the latency of the whole path, not a load test.
"""

from __future__ import annotations

import http.client
import json
import time
from dataclasses import dataclass
from typing import Literal

from stepsaga.infra.bench._machines import JSON
from stepsaga.infra.bench._report import Timing
from stepsaga.infra.local.gateway import DevKey
from stepsaga.infra.project import REFERENCE_SERVICE, load_service

Stores = Literal["memory", "moto"]
#: The kinds of store the serve benchmark runs on, in report order.
SERVE_STORES: tuple[Stores, ...] = ("memory", "moto")


@dataclass(frozen=True)
class ServeResult:
    """`POST /commands/PlaceOrder` requests through `serve`, on one kind of store.

    Attributes:
        stores: `memory` or `moto`.
        requests: Requests timed.
        timing: Wall time per request, as the client saw it.
        problem: What went wrong (an answer other than 202, an execution that did not
            succeed), if anything.
    """

    stores: Stores
    requests: int
    timing: Timing | None
    problem: str | None = None

    @property
    def per_second(self) -> float | None:
        """Requests per second, from the mean time per request."""
        return None if self.timing is None else 1.0 / self.timing.mean

    def to_json(self) -> dict[str, JSON]:
        """The JSON form."""
        rate = self.per_second
        return {
            "stores": self.stores,
            "requests": self.requests,
            "requests_per_second": None if rate is None else round(rate, 1),
            "timing": None if self.timing is None else self.timing.to_json(),
            "problem": self.problem,
        }


def measure_serve(count: int, stores: Stores, key: DevKey | None = None) -> ServeResult:
    """Time `count` orders through a `serve` of the reference service on `stores`.

    Each order is the reference demo's first scenario (an order that succeeds) for its own
    tenant, seeded by the demo, so every request does the same work. Tokens are signed before
    the clock starts. After the timed requests, every execution must have SUCCEEDED.
    """
    from stepsaga.infra.local.gateway import serve

    service = load_service(REFERENCE_SERVICE)
    demo = service.demo
    if demo is None:
        return ServeResult(stores, count, None, f"{service.module} has no demo scenarios")
    scenario = demo.scenarios[0]
    tenants = tuple(f"bench-{n}" for n in range(count))
    body = json.dumps(
        service.saga(scenario.saga)
        .command.model_validate(scenario.command)
        .model_dump(mode="json", by_alias=True)
    )
    signer = key or DevKey.generate()  # the bench's tokens need no key kept on disk
    with serve(service, port=0, stores=stores, tenants=tenants, key=signer) as serving:
        tokens = [serving.token(tenant, "bench") for tenant in tenants]
        connection = http.client.HTTPConnection("127.0.0.1", serving.gateway.port, timeout=60)
        samples: list[float] = []
        arns: list[str] = []
        try:
            for token in tokens:
                headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
                started = time.perf_counter()
                connection.request("POST", f"/commands/{scenario.saga}", body, headers)
                answer = connection.getresponse()
                text = answer.read()
                samples.append(time.perf_counter() - started)
                if answer.status != 202:
                    return ServeResult(
                        stores, count, None, f"answered {answer.status}: {text[:200]!r}"
                    )
                arns.append(json.loads(text)["executionArn"])
        finally:
            connection.close()
        for arn in arns:
            status = serving.client.describe_execution(executionArn=arn)["status"]
            if status != "SUCCEEDED":
                return ServeResult(stores, count, None, f"{arn} ended {status}")
    return ServeResult(stores, count, Timing.of(samples))
