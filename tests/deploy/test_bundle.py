"""`stepsaga package`: the service's bundle holds only what its Lambda entry points import, runs
from the bundle alone, is Lambda's build of its compiled dependencies, and is reproducible.

The first run downloads the wheels from PyPI into the wheelhouse (`~/.cache/stepsaga`); later
runs are offline.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from stepsaga.infra.aws.deploy import (
    LAMBDA_TARGET,
    Bundle,
    BundleError,
    Target,
    build_bundle,
)
from stepsaga.infra.cli import cli
from stepsaga.infra.project import Service, load_service

SERVICE = load_service("stepsaga.examples.orders")
HANDLERS = tuple(dict.fromkeys(h for s in SERVICE.sagas.values() for h in s.handlers()))
# What a task Lambda must never carry: stepsaga's compile-time and local machinery.
NOT_AT_RUN_TIME = (
    "stepsaga/workflows/asl/",
    "stepsaga/workflows/_expressions/",
    "stepsaga/workflows/render/",
    "stepsaga/infra/local/",
    "stepsaga/infra/cli/",
    "stepsaga/infra/bench/",
    "stepsaga/infra/aws/deploy/",
    "stepsaga/testing/",
    "moto/",
    "click/",
    "rich/",
    "jsonata/",
)


def build(tmp: Path, service: Service = SERVICE, **options: object) -> Bundle:
    try:
        return build_bundle(service, tmp, **options)  # type: ignore[arg-type]
    except BundleError as error:
        if "downloading the" in str(error):
            pytest.skip(f"the wheels are not cached and PyPI did not answer: {error}")
        raise


@pytest.fixture(scope="module")
def running_bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Bundle, Path]:
    """The bundle built for this interpreter, unpacked."""
    bundle = build(tmp_path_factory.mktemp("zip"), target=Target.running())
    unpacked = tmp_path_factory.mktemp("unpacked")
    with zipfile.ZipFile(bundle.path) as archive:
        archive.extractall(unpacked)
    return bundle, unpacked


@pytest.fixture(scope="module")
def lambda_bundle(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    return build(tmp_path_factory.mktemp("lambda"))


# Runs with `-I -S` and only the bundle on sys.path (plus the standard library).
CLEAN_PROGRAM = textwrap.dedent(
    """
    import json, sys
    bundle = sys.argv[1]
    sys.path[:] = [bundle] + [p for p in sys.path if "site-packages" not in p and p]
    handlers = json.loads(sys.argv[2])

    from stepsaga.examples.orders import lambda_entry
    missing = [name for name in handlers if not callable(getattr(lambda_entry, name, None))]

    # Run a step through the deployed wiring, on in-memory stores.
    from stepsaga.examples.orders import handlers as steps
    from stepsaga.infra.aws import lambda_entry_points, runtime_from_environment
    from stepsaga.tasks import InMemoryEventStore, InMemoryNotifier, TaskRuntime

    store = InMemoryEventStore()
    steps.seed_stock(store, "acme", "SKU-1", 5)
    entry = lambda_entry_points(
        steps.HANDLERS, service="orders",
        runtime=lambda: TaskRuntime(event_store=store, notifier=InMemoryNotifier()),
    )
    envelope = {
        "command": {"orderId": "o-1", "customerEmail": "ann@example.com",
                    "items": [{"sku": "SKU-1", "quantity": 2, "unitPrice": "9.50"}],
                    "paymentToken": "tok_ok"},
        "meta": {"tenant": "acme", "commandId": "c-1", "commandType": "PlaceOrder",
                 "requestedBy": "u-1", "idempotencyKey": "k-1"},
        "results": {},
        "execution": {"id": "arn:aws:states:us-east-1:1:execution:m:e", "name": "e",
                      "startTime": "2026-01-01T00:00:00Z"},
        "state": {"name": "ReserveStock", "retryCount": 0},
    }
    result = entry["ReserveStock"](envelope, None)
    # And the real clients, as a deployed function builds them (no call is made).
    import os
    os.environ.update(
        AWS_DEFAULT_REGION="us-east-1", AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x"
    )
    runtime_from_environment(
        service="orders",
        environ={"STEPSAGA_EVENT_STORE_TABLE": "t", "STEPSAGA_MAIL_FROM": "a@b.c"},
    )
    # The trigger's routes load on its first request: serve one, the open schema route.
    import types
    os.environ["STEPSAGA_STATE_MACHINES"] = json.dumps(
        {"PlaceOrder": "arn:aws:states:us-east-1:123456789012:stateMachine:orders-PlaceOrder"}
    )
    context = types.SimpleNamespace(
        function_name="Trigger", memory_limit_in_mb=512, aws_request_id="r",
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:Trigger",
    )
    schema = lambda_entry.Trigger(
        {"resource": "/openapi.json", "path": "/openapi.json", "httpMethod": "GET",
         "headers": {}, "multiValueHeaders": {}, "queryStringParameters": None,
         "multiValueQueryStringParameters": None, "pathParameters": None,
         "stageVariables": None, "body": None, "isBase64Encoded": False,
         "requestContext": {"resourcePath": "/openapi.json", "httpMethod": "GET",
                            "path": "/v1/openapi.json", "stage": "v1", "requestId": "r",
                            "identity": {"sourceIp": "127.0.0.1"}}},
        context,
    )
    outside = sorted(
        name for name, module in sys.modules.items()
        if getattr(module, "__file__", None) and not module.__file__.startswith(bundle)
        and "site-packages" in module.__file__
    )
    print(json.dumps({"missing": missing, "result": result, "outside": outside,
                      "schema": schema["statusCode"]}))
    """
)


def test_every_handler_imports_and_runs_from_the_unpacked_bundle_alone(
    running_bundle: tuple[Bundle, Path],
) -> None:
    """Built for *this* interpreter: the machine has Python 3.11 only, and the Lambda target's
    pydantic-core (cp312) cannot load here. It is the same code path as the Lambda build with a
    different `Target`; `-I -S` and a sys.path of the bundle alone mean nothing installed in the
    venv can stand in for something the bundle lacks."""
    _, unpacked = running_bundle
    done = subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",
            "-c",
            CLEAN_PROGRAM,
            str(unpacked),
            json.dumps([*HANDLERS, "Trigger"]),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=unpacked,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["missing"] == []
    assert report["outside"] == []
    assert report["schema"] == 200
    assert [(line["sku"], line["quantity"]) for line in report["result"]["lines"]] == [("SKU-1", 2)]


def test_the_bundle_holds_no_compile_time_or_local_code(
    running_bundle: tuple[Bundle, Path],
) -> None:
    bundle, _ = running_bundle
    with zipfile.ZipFile(bundle.path) as archive:
        names = archive.namelist()
    assert "stepsaga/examples/orders/lambda_entry.py" in names
    assert "stepsaga/infra/aws/_event_store.py" in names
    assert [n for n in names if n.startswith(NOT_AT_RUN_TIME)] == []
    assert [n for n in names if "__pycache__" in n or n.endswith(".pyc")] == []
    assert set(bundle.functions) == {*HANDLERS, "Trigger"}


def test_the_lambda_bundle_carries_the_targets_build_of_pydantic_core(
    lambda_bundle: Bundle,
) -> None:
    assert Target("3.12", "manylinux2014_x86_64", "cp") == LAMBDA_TARGET
    with zipfile.ZipFile(lambda_bundle.path) as archive:
        names = archive.namelist()
    compiled = [n for n in names if n.startswith("pydantic_core/") and n.endswith(".so")]
    assert compiled == ["pydantic_core/_pydantic_core.cpython-312-x86_64-linux-gnu.so"]
    assert any(n.startswith("botocore/") for n in names)
    assert any(n.startswith("aws_lambda_powertools/") for n in names)
    assert any(n.startswith("aws_xray_sdk/") for n in names)
    # Lambda's limits: 250 MB unzipped; 50 MB for a direct upload.
    assert lambda_bundle.unzipped_bytes < 250_000_000
    assert lambda_bundle.zipped_bytes < 50_000_000


def test_without_boto3_the_bundle_leaves_the_runtimes_sdk_out(
    lambda_bundle: Bundle, tmp_path: Path
) -> None:
    lean = build(tmp_path, include_boto3=False)
    with zipfile.ZipFile(lean.path) as archive:
        tops = {n.split("/")[0] for n in archive.namelist()}
    assert not tops & {"boto3", "botocore", "s3transfer", "jmespath"}
    assert "pydantic" in tops
    assert lean.zipped_bytes < lambda_bundle.zipped_bytes


def test_an_unchanged_service_packages_to_the_same_zip_and_name(
    tmp_path: Path, lambda_bundle: Bundle
) -> None:
    result = CliRunner().invoke(cli, ["package", "--out", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    manifest = json.loads(result.stdout)
    assert manifest["sha256"] == lambda_bundle.digest
    assert manifest["key"] == lambda_bundle.key == f"bundles/orders-{lambda_bundle.digest[:16]}.zip"
    assert manifest["zippedBytes"] == lambda_bundle.zipped_bytes
    assert (tmp_path / Path(manifest["path"]).name).is_file()


def test_a_service_without_a_lambda_entry_module_is_named(tmp_path: Path) -> None:
    from tests.project.services import write_service

    write_service(tmp_path, "shipping_service")
    service = load_service("shipping_service", start=tmp_path)
    with pytest.raises(BundleError, match=r"shipping_service\.lambda_entry"):
        build_bundle(service, tmp_path / "out", start=tmp_path)


def test_a_module_the_entry_imports_lazily_is_in_the_bundle(tmp_path: Path) -> None:
    from tests.project.services import write_service

    write_service(
        tmp_path,
        "late_service",
        lambda_entry="""
        def Pack(event, context):
            from late_service import _late  # loaded on the first invocation only

            return _late.VALUE
        """,
        _late="VALUE = 1\n",
    )
    service = load_service("late_service", start=tmp_path)
    bundle = build(tmp_path / "out", service, target=Target.running(), start=tmp_path)
    with zipfile.ZipFile(bundle.path) as archive:
        names = archive.namelist()
    assert "late_service/lambda_entry.py" in names
    assert "late_service/_late.py" in names
    assert service.module == "late_service"
