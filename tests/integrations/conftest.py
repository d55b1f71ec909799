"""moto in-process for the service integration tests, started once per module.

Starting moto costs tens of milliseconds and every test would pay it: the tests of a module
share one :class:`ServiceClients` (and so one moto), each using resources of its own names.
The fixture stops moto at the module's end, so that no other test module sees its data.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from stepsaga.infra.local.stepfunctions import LocalStepFunctions, ServiceClients

REGION = "us-east-1"


@pytest.fixture(scope="module")
def services() -> Iterator[ServiceClients]:
    """moto in-process (started on first use, stopped at the module's end)."""
    with ServiceClients() as clients:
        yield clients


@pytest.fixture
def sfn(services: ServiceClients) -> Iterator[LocalStepFunctions]:
    """An engine whose integrations call moto."""
    with LocalStepFunctions(services=services, region=REGION) as engine:
        yield engine


_names = itertools.count(1)


@pytest.fixture
def unique() -> Callable[[str], str]:
    """Resource names of this test's own (moto is shared by the module's tests)."""
    number = next(_names)
    return lambda base: f"{base}-{number}"


@pytest.fixture
def client(services: ServiceClients) -> Callable[[str], Any]:
    """The boto3 client of a service, on the same moto as the engine."""
    return lambda service: services.client(service, REGION)


def task(resource: str, parameters: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A one-Task machine calling ``resource`` with ``parameters``."""
    state = {"Type": "Task", "Resource": resource, "Parameters": parameters, "End": True}
    state.update(fields)
    return {"StartAt": "Call", "States": {"Call": state}}
