"""A distributed Map over a JSON array in S3: one child execution per item, on moto's S3.

The items are read by the Map's ItemReader (``s3:getObject``, ``InputType: JSON``) from moto
in-process; each item runs as a child execution of the map run, ``MaxConcurrency`` 1,000 at a
time, and the output is checked item by item.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from stepsaga.infra.bench._machines import JSON
from stepsaga.infra.local.stepfunctions import LocalStepFunctions, ServiceClients
from stepsaga.workflows import facts

_BUCKET = "stepsaga-bench-items"
_KEY = "items.json"


@dataclass(frozen=True)
class DistributedMapResult:
    """One distributed Map over ``items`` S3 items.

    Attributes:
        items: the items in the S3 object (one child execution each).
        seconds: wall time of the execution (the S3 read included, the upload not).
        problem: what went wrong (a failed execution, a wrong output), if anything.
    """

    items: int
    seconds: float
    problem: str | None = None

    @property
    def items_per_second(self) -> float:
        """Child executions per second of wall time."""
        return self.items / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, JSON]:
        """The JSON form."""
        return {
            "items": self.items,
            "wall_seconds": round(self.seconds, 4),
            "items_per_second": round(self.items_per_second, 1),
            "problem": self.problem,
        }


def distributed_map_definition(bucket: str, key: str) -> dict[str, Any]:
    """The benchmarked machine: a distributed Map reading ``key`` whose children add one."""
    return {
        "StartAt": "EachItem",
        "States": {
            "EachItem": {
                "Type": "Map",
                "ItemReader": {
                    "Resource": facts.S3_GET_OBJECT,
                    "ReaderConfig": {"InputType": "JSON"},
                    "Parameters": {"Bucket": bucket, "Key": key},
                },
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "AddOne",
                    "States": {
                        "AddOne": {
                            "Type": "Pass",
                            "Parameters": {"n.$": "States.MathAdd($.n, 1)"},
                            "End": True,
                        }
                    },
                },
                "MaxConcurrency": 1000,
                "End": True,
            }
        },
    }


def run_distributed_map(items: int) -> DistributedMapResult:
    """Put ``items`` items in moto's S3 and time the distributed Map over them."""
    try:
        with ServiceClients() as services:
            s3 = services.client("s3", "us-east-1")
            s3.create_bucket(Bucket=_BUCKET)
            body = json.dumps([{"n": number} for number in range(items)])
            s3.put_object(Bucket=_BUCKET, Key=_KEY, Body=body.encode())
            with LocalStepFunctions(services=services) as sfn:
                started = time.perf_counter()
                execution = sfn.run(distributed_map_definition(_BUCKET, _KEY), {})
                seconds = time.perf_counter() - started
    except Exception as exc:  # reported, like any peer failure
        return DistributedMapResult(items, 0.0, f"raised {type(exc).__name__}: {exc}")
    if execution.status != "SUCCEEDED":
        problem = f"{execution.status}: {execution.error}: {execution.cause}"
        return DistributedMapResult(items, seconds, problem)
    expected = [{"n": number + 1} for number in range(items)]
    if execution.output != expected:
        return DistributedMapResult(items, seconds, "the output is not every item plus one")
    return DistributedMapResult(items, seconds)
