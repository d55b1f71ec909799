"""A task Lambda runs on `pip install stepsaga` alone, which stays small (Lambda allows 250 MB).

The runtime distribution declares only what the Lambda side imports (pydantic, boto3,
Powertools); the engine's query languages, moto and the command line come with `[local]`. These
tests keep both halves of that promise: the declared split, and what the Lambda entry points
really load, in a fresh interpreter, when imported and when they run a step.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import tomllib
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))

RUNTIME_DISTRIBUTIONS = frozenset({"pydantic", "boto3", "aws-lambda-powertools"})
LOCAL_ONLY_DISTRIBUTIONS = frozenset({"jsonata-python", "moto", "click", "rich", "pyjwt"})
# What the Lambda side must never load: local tooling, and stepsaga's own compile-time machinery.
LOCAL_ONLY_MODULES = (
    "moto",
    "click",
    "rich",
    "flask",
    "jsonata",
    "jsonpath_ng",
    # The contract test classes ship for users' test suites, not their Lambdas.
    "stepsaga.testing",
    "pytest",
    "hypothesis",
    # `stepsaga token` and `serve` sign and verify JWTs; on AWS, API Gateway verifies them.
    "jwt",
)
COMPILE_TIME_MODULES = (
    "stepsaga.workflows.asl",
    "stepsaga.workflows.saga._compiler",
    "stepsaga.workflows.expressions",
    "stepsaga.workflows._expressions",
    "stepsaga.workflows.render",
    "stepsaga.infra.local",
    "stepsaga.infra.cli",
)
# Loaded when present but not required: botocore takes certifi's CA bundle if it is installed
# (moto's `requests` brings it) and its own otherwise.
OPTIONAL_IMPORTS = frozenset({"certifi"})

# Runs in a fresh interpreter outside the repository: imports the deployed entry points, then
# runs ReserveStock through the same `lambda_entry_points` wiring on in-memory stores (the
# deployed one builds boto3 clients from the environment on first call, which needs AWS).
LAMBDA_PROGRAM = textwrap.dedent(
    """
    import json, sys
    at_start = set(sys.modules)

    import stepsaga.examples.orders.lambda_entry

    imported = sorted(set(sys.modules) - at_start)

    from stepsaga.examples.orders import handlers
    from stepsaga.infra.aws import lambda_entry_points
    from stepsaga.tasks import InMemoryEventStore, InMemoryNotifier, TaskRuntime

    store = InMemoryEventStore()
    handlers.seed_stock(store, "acme", "SKU-1", 5)
    entry = lambda_entry_points(
        handlers.HANDLERS,
        service="orders",
        runtime=lambda: TaskRuntime(event_store=store, notifier=InMemoryNotifier()),
    )
    envelope = {
        "command": {
            "orderId": "o-1",
            "customerEmail": "ann@example.com",
            "items": [{"sku": "SKU-1", "quantity": 2, "unitPrice": "9.50"}],
            "paymentToken": "tok_ok",
        },
        "meta": {
            "tenant": "acme",
            "commandId": "cmd-1",
            "commandType": "PlaceOrder",
            "requestedBy": "user-1",
            "idempotencyKey": "idem-1",
        },
        "results": {},
        "execution": {
            "id": "arn:aws:states:us-east-1:123456789012:execution:PlaceOrder:run-1",
            "name": "run-1",
            "startTime": "2026-01-02T03:04:05.000Z",
        },
        "state": {"name": "ReserveStock", "retryCount": 0},
    }
    entry["ReserveStock"](envelope, None)
    stock = handlers.stock_level(store, "acme", "SKU-1")

    # The trigger: the deployed entry point serves its schema; a command starts through the
    # same wiring on a stubbed client (the deployed one would reach AWS).
    import datetime, os
    import boto3
    from botocore.stub import Stubber
    from stepsaga.examples.orders.sagas import SAGAS
    from stepsaga.infra.aws.trigger import trigger_entry_point

    machine = "arn:aws:states:us-east-1:123456789012:stateMachine:orders-PlaceOrder"
    os.environ.update({
        "STEPSAGA_STATE_MACHINES": json.dumps({"PlaceOrder": machine}),
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    })

    class Context:
        function_name = "orders-Trigger"
        memory_limit_in_mb = 256
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:orders-Trigger"
        aws_request_id = "req-1"

    def event(method, path, body=None):
        claims = {"sub": "user-1", "custom:tenant": "acme"}
        return {
            "path": path, "httpMethod": method, "headers": {"Content-Type": "application/json"},
            "multiValueHeaders": {}, "queryStringParameters": None, "isBase64Encoded": False,
            "requestContext": {"path": path, "requestId": "r-1", "authorizer": {"claims": claims}},
            "body": None if body is None else json.dumps(body),
        }

    schema = stepsaga.examples.orders.lambda_entry.Trigger(event("GET", "/openapi.json"), Context())
    client = boto3.client("stepfunctions")
    stub = Stubber(client)
    stub.add_response("start_execution", {
        "executionArn": machine.replace("stateMachine", "execution") + ":x",
        "startDate": datetime.datetime(2026, 1, 2),
    })
    stub.activate()
    trigger = trigger_entry_point(SAGAS, service="orders", client=lambda: client)
    started = trigger(event("POST", "/commands/PlaceOrder", envelope["command"]), Context())
    ran = sorted(set(sys.modules) - at_start)
    statuses = [schema["statusCode"], started["statusCode"]]
    print(json.dumps({"imported": imported, "ran": ran, "stock": stock, "trigger": statuses}))
    """
)


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _name(requirement: str) -> str:
    return _normalised(Requirement(requirement).name)


def _loaded(modules: list[str], prefixes: tuple[str, ...]) -> list[str]:
    return [m for m in modules if any(m == p or m.startswith(f"{p}.") for p in prefixes)]


def _runtime_closure() -> set[str]:
    """The runtime's declared distributions and everything they require, extras included."""
    seen: set[str] = set()
    pending = [Requirement(r) for r in PYPROJECT["project"]["dependencies"]]
    while pending:
        requirement = pending.pop()
        name = _name(str(requirement))
        if name in seen:
            continue
        seen.add(name)
        environments = [{"extra": extra} for extra in requirement.extras] or [{"extra": ""}]
        for dependency in metadata.requires(name) or ():
            child = Requirement(dependency)
            if child.marker is None or any(child.marker.evaluate(e) for e in environments):
                pending.append(child)
    return seen


def _distributions_of(modules: list[str]) -> Iterator[tuple[str, str]]:
    owners = metadata.packages_distributions()
    for top in sorted({m.split(".", 1)[0] for m in modules}):
        # `_sysconfigdata_*` is the interpreter's own build configuration, loaded by `sysconfig`;
        # `__mp_main__` is `multiprocessing`'s alias of the main module (a boto3 client's
        # s3transfer imports it).
        if top in sys.stdlib_module_names or top.startswith("_sysconfigdata_"):
            continue
        if top == "__mp_main__":
            continue
        if top in OPTIONAL_IMPORTS or top == "stepsaga":
            continue
        for distribution in owners.get(top, [f"<no distribution for {top}>"]):
            yield top, _normalised(distribution)


@pytest.fixture(scope="module")
def lambda_modules(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    # Outside the repository, so only the installed package is importable.
    cwd = tmp_path_factory.mktemp("lambda")
    done = subprocess.run(
        [sys.executable, "-I", "-c", LAMBDA_PROGRAM],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    # The last line: the loggers of the step and of the trigger print theirs before it.
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_runtime_declares_only_what_the_lambda_side_imports() -> None:
    runtime = {_name(r) for r in PYPROJECT["project"]["dependencies"]}
    assert runtime == RUNTIME_DISTRIBUTIONS


def test_local_only_libraries_come_with_the_local_extra() -> None:
    local = {_name(r) for r in PYPROJECT["project"]["optional-dependencies"]["local"]}
    assert local >= LOCAL_ONLY_DISTRIBUTIONS
    runtime = {_name(r) for r in PYPROJECT["project"]["dependencies"]}
    assert runtime.isdisjoint(LOCAL_ONLY_DISTRIBUTIONS)


@pytest.mark.parametrize("when", ["imported", "ran"])
def test_lambda_entry_points_load_no_local_tooling(
    lambda_modules: dict[str, object], when: str
) -> None:
    modules = lambda_modules[when]
    assert isinstance(modules, list)
    assert _loaded(modules, LOCAL_ONLY_MODULES) == []


@pytest.mark.parametrize("when", ["imported", "ran"])
def test_lambda_entry_points_load_no_compiler_asl_model_or_engine(
    lambda_modules: dict[str, object], when: str
) -> None:
    modules = lambda_modules[when]
    assert isinstance(modules, list)
    assert _loaded(modules, COMPILE_TIME_MODULES) == []


def test_lambda_step_really_ran(lambda_modules: dict[str, object]) -> None:
    # Guards the two tests above: a step that failed early would load less.
    assert lambda_modules["stock"] == 3
    ran = lambda_modules["ran"]
    assert isinstance(ran, list) and "stepsaga.infra.aws._lambda" in ran


def test_importing_the_entry_points_does_not_load_the_triggers_routes(
    lambda_modules: dict[str, object],
) -> None:
    # Every task Lambda imports the module that names the trigger too: its cold start must not
    # pay for Powertools' event handler, which the trigger loads on its first request.
    imported = lambda_modules["imported"]
    assert isinstance(imported, list)
    assert (
        _loaded(
            imported, ("stepsaga.infra.aws.trigger._app", "aws_lambda_powertools.event_handler")
        )
        == []
    )


def test_trigger_really_ran(lambda_modules: dict[str, object]) -> None:
    # Guards the lean tests for the trigger: its schema served, a command started.
    assert lambda_modules["trigger"] == [200, 202]
    ran = lambda_modules["ran"]
    assert isinstance(ran, list) and "stepsaga.infra.aws.trigger._app" in ran


def test_lambda_entry_points_load_only_runtime_distributions(
    lambda_modules: dict[str, object],
) -> None:
    modules = lambda_modules["ran"]
    assert isinstance(modules, list)
    closure = _runtime_closure()
    outside = [
        f"{top} (from {distribution})"
        for top, distribution in _distributions_of(modules)
        if distribution not in closure
    ]
    assert outside == []


def test_runtime_closure_excludes_the_local_tooling() -> None:
    # The allow-list above is only as strict as this closure is small.
    closure = _runtime_closure()
    assert closure >= RUNTIME_DISTRIBUTIONS | {"botocore", "pydantic-core", "aws-xray-sdk"}
    assert closure.isdisjoint(LOCAL_ONLY_DISTRIBUTIONS | {"flask", "werkzeug"})
