"""The pytest plugin as users run it: pytest sessions (pytester) loading it from its entry point.

Coverage is fed by a stand-in for the engine's coverage interface (`sfn_fakes`, installed by a
conftest in pytester's folder), so each table and figure below follows from transitions the
test chose; `test_coverage_of_real_engine_executions` runs the engine itself.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

import stepsaga.infra.local.stepfunctions as engine
from tests.project.services import write_service

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

FAKE_CONFTEST = """
import sfn_fakes

sfn_fakes.install()  # before the plugin subscribes, in pytest_configure


def pytest_unconfigure(config):
    sfn_fakes.uninstall()
"""

# Four executions of two definitions: `Approval` (named) and NESTED (unnamed).
COVERED_TESTS = """
import sfn_fakes
from definitions import APPROVAL, NESTED

APPROVAL_MACHINE = sfn_fakes.machine(APPROVAL)
NESTED_MACHINE = sfn_fakes.machine(NESTED)


def test_approved_at_once():
    sfn_fakes.run(
        APPROVAL_MACHINE,
        ("", "Check", "Approve", "Choices/0"),
        ("", "Approve", None, "End"),
        name="Approval",
    )


def test_reviewed_after_a_retry():
    sfn_fakes.run(
        APPROVAL_MACHINE,
        ("", "Check", "Review", "Default"),
        ("", "Review", "Review", "Retry/0"),
        ("", "Review", "Approve", "Next"),
        ("", "Approve", None, "End"),
        name="Approval",
    )


def test_nested_all_the_way():
    for _ in range(2):
        sfn_fakes.run(
            NESTED_MACHINE,
            ("/States/Fan/Branches/0", "A", None, "End"),
            ("/States/Fan/Branches/1", "B", "B2", "Next"),
            ("/States/Fan/Branches/1", "B2", None, "End"),
            ("", "Fan", "Each", "Next"),
            ("/States/Each/ItemProcessor", "Item", None, "End"),
            ("", "Each", "Old", "Next"),
            ("/States/Old/ItemProcessor", "OldItem", None, "End"),
            ("", "Old", None, "End"),
        )
"""

DECLINED_ORDER = """
ORDER = {
    "orderId": "o-1",
    "customerEmail": "ann@example.com",
    "items": [{"sku": "SKU-1", "quantity": 2, "unitPrice": "9.50"}],
    "paymentToken": "tok_decline",
}
"""


@pytest.fixture
def fake_engine(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester folder whose sessions observe fake executions instead of the engine's."""
    pytester.makepyfile(
        sfn_fakes=(HERE / "sfn_fakes.py").read_text(encoding="utf-8"),
        definitions=(HERE / "definitions.py").read_text(encoding="utf-8"),
    )
    pytester.makeconftest(FAKE_CONFTEST)
    return pytester


def nested_digest(pytester: pytest.Pytester) -> str:
    result = pytester.runpytest("--sfn-coverage-json", "digest.json", "-p", "no:cacheprovider")
    assert result.ret == 0
    report = json.loads((pytester.path / "digest.json").read_text(encoding="utf-8"))
    (digest,) = [d["key"] for d in report["definitions"] if d["name"] is None]
    return str(digest)


# -- how pytest finds it --------------------------------------------------------------------


def test_the_plugin_is_registered_as_the_pytest11_entry_point_stepsaga() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert declared["project"]["entry-points"]["pytest11"] == {
        "stepsaga": "stepsaga.testing.plugin"
    }
    installed = {e.name: e.value for e in metadata.entry_points(group="pytest11")}
    assert installed["stepsaga"] == "stepsaga.testing.plugin"


def test_the_options_are_in_pytest_help_and_no_stepsaga_turns_the_plugin_off(
    pytester: pytest.Pytester,
) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(
        [
            "stepsaga: sagas on the embedded Step Functions engine:",
            "  --stepsaga-service=MODULE*",
            "  --stepsaga-seed=N*",
            "  --sfn-coverage*",
            "  --sfn-coverage-json=PATH*",
            "  --sfn-coverage-fail-under=PCT*",
        ]
    )
    off = pytester.runpytest("-p", "no:stepsaga", "--sfn-coverage")
    assert off.ret == pytest.ExitCode.USAGE_ERROR
    off.stderr.fnmatch_lines(["*unrecognized arguments: --sfn-coverage*"])


HEAVY = (
    "stepsaga.infra",
    "stepsaga.workflows",
    "stepsaga.tasks",
    "stepsaga.domain",
    "moto",
    "jsonata",
    "jsonpath_ng",
    "boto3",
    "botocore",
    "pydantic",
)


def _heavy(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == h or m.startswith(f"{h}.") for h in HEAVY)]


def test_loading_the_plugin_imports_neither_the_engine_nor_moto_nor_a_query_library(
    tmp_path: Path,
) -> None:
    # pytest imports the plugin in every run where stepsaga is installed, a lean runtime
    # install without the engine's libraries included: it must cost nothing there.
    program = textwrap.dedent(
        """
        import json, sys
        import pytest
        before = set(sys.modules)
        import stepsaga.testing.plugin
        print(json.dumps(sorted(set(sys.modules) - before)))
        """
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", program],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    imported = json.loads(done.stdout)
    assert "stepsaga.testing.plugin" in imported  # guards the check below
    assert _heavy(imported) == []


def test_a_pytest_run_that_uses_no_fixture_loads_nothing_heavy(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import json, sys

        def test_modules(request):
            assert request.config.pluginmanager.has_plugin("stepsaga")
            with open("modules.json", "w") as out:
                json.dump(sorted(sys.modules), out)
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    modules = json.loads((pytester.path / "modules.json").read_text(encoding="utf-8"))
    assert "stepsaga.testing.plugin" in modules
    assert _heavy(modules) == []


# -- fixtures -------------------------------------------------------------------------------


SFN_TESTS = """
from stepsaga.infra.local.stepfunctions import LocalStepFunctions

PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


def test_an_engine_per_test(sfn):
    assert isinstance(sfn, LocalStepFunctions)
    assert sfn.executions == []
    sfn.run(PASS)


def test_a_fresh_one_again(sfn):
    assert sfn.executions == []


def test_seeded_with_seven(sfn):
    # Execution names are drawn from the engine's seeded randomness.
    assert sfn.run(PASS).name == LocalStepFunctions(seed=7).run(PASS).name
"""


def test_sfn_is_a_fresh_engine_per_test_seeded_by_the_option(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SFN_TESTS)

    pytester.runpytest("--stepsaga-seed", "7").assert_outcomes(passed=3)
    unseeded = pytester.runpytest()
    unseeded.assert_outcomes(passed=2, failed=1)
    unseeded.stdout.fnmatch_lines(["FAILED *test_seeded_with_seven*"])


CLIENT_TESTS = """
import json

PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": 1, "End": True}}}
ROLE = "arn:aws:iam::123456789012:role/r"


def test_the_client_is_answered_by_the_test_s_engine(sfn, sfn_client):
    arn = sfn_client.create_state_machine(
        name="P", definition=json.dumps(PASS), roleArn=ROLE
    )["stateMachineArn"]
    execution = sfn_client.start_execution(stateMachineArn=arn)["executionArn"]
    assert [e.arn for e in sfn.executions] == [execution]
    assert sfn_client.describe_execution(executionArn=execution)["output"] == "1"


def test_the_next_test_has_a_fresh_engine(sfn_client):
    assert sfn_client.list_state_machines()["stateMachines"] == []
"""

LOCAL_URL_TESTS = """
import json
import boto3

PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
ROLE = "arn:aws:iam::123456789012:role/r"
URLS = []


def client(url):
    return boto3.client(
        "stepfunctions", endpoint_url=url, region_name="us-east-1",
        aws_access_key_id="x", aws_secret_access_key="x",
    )


def test_a_machine_made_over_http(sfn_local_url):
    assert sfn_local_url.startswith("http://127.0.0.1:")
    URLS.append(sfn_local_url)
    client(sfn_local_url).create_state_machine(name="P", definition=json.dumps(PASS), roleArn=ROLE)


def test_the_same_server_for_the_session(sfn_local_url):
    assert URLS == [sfn_local_url]
    machines = client(sfn_local_url).list_state_machines()["stateMachines"]
    assert [machine["name"] for machine in machines] == ["P"]


def test_the_service_s_handlers_are_its_lambdas(sfn_local_url):
    definition = {
        "StartAt": "Reserve",
        "States": {"Reserve": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                               "Parameters": {"FunctionName": "ReserveStock", "Payload": {}},
                               "End": True}},
    }
    sfn = client(sfn_local_url)
    arn = sfn.create_state_machine(
        name="R", definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    described = sfn.describe_execution(executionArn=execution)
    # The service's handler ran, and refused an empty envelope (an unknown function would
    # fail with Lambda.ResourceNotFoundException).
    assert (described["status"], described["error"]) == ("FAILED", "InvalidStepInput")
"""


def test_sfn_client_is_a_boto3_client_of_the_test_s_engine(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(CLIENT_TESTS)
    pytester.runpytest().assert_outcomes(passed=2)


def test_sfn_local_url_is_one_stepsaga_local_per_session_stopped_at_the_end(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        LOCAL_URL_TESTS
        + """

def test_last(sfn_local_url):
    with open("url.txt", "w") as out:
        out.write(sfn_local_url)
"""
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=4)
    url = (pytester.path / "url.txt").read_text(encoding="utf-8")
    host, port = url.removeprefix("http://").rsplit(":", 1)
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect((host, int(port)))


MOCKED_TESTS = """
import json
import boto3

ASK = {"StartAt": "Ask", "States": {"Ask": {"Type": "Task",
       "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "ask"},
       "End": True}}}


def test_a_test_case_answers_from_sfn_mock_config(sfn_local_url):
    sfn = boto3.client("stepfunctions", endpoint_url=sfn_local_url, region_name="us-east-1",
                       aws_access_key_id="x", aws_secret_access_key="x")
    arn = sfn.create_state_machine(name="Asker", definition=json.dumps(ASK),
                                   roleArn="arn:aws:iam::123456789012:role/r")["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn + "#HappyPath")["executionArn"]
    described = sfn.describe_execution(executionArn=execution)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"answer": 42}
"""


def test_sfn_local_url_serves_the_mock_config_sfn_mock_config_names(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = pytester.path / "MockConfigFile.json"
    config.write_text(
        json.dumps(
            {
                "StateMachines": {"Asker": {"TestCases": {"HappyPath": {"Ask": "Answer"}}}},
                "MockedResponses": {"Answer": {"0": {"Return": {"answer": 42}}}},
            }
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("SFN_MOCK_CONFIG", str(config))
    pytester.makepyfile(MOCKED_TESTS)
    pytester.runpytest().assert_outcomes(passed=1)


def test_a_mock_config_that_cannot_be_read_fails_sfn_local_url_saying_why(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SFN_MOCK_CONFIG", str(pytester.path / "missing.json"))
    pytester.makepyfile(MOCKED_TESTS)
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*sfn_local_url: SFN_MOCK_CONFIG *missing.json*"])


def test_saga_service_runs_the_reference_service_on_fresh_in_memory_stores(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        DECLINED_ORDER
        + """
from stepsaga.examples.orders.handlers import seed_stock, stock_level
from stepsaga.tasks import InMemoryEventStore
from stepsaga.testing import assert_not_visited, assert_path


def test_a_declined_payment_releases_the_stock(saga_service):
    assert isinstance(saga_service.event_store, InMemoryEventStore)
    seed_stock(saga_service.event_store, "acme", "SKU-1", 5)
    run = saga_service.execute("PlaceOrder", ORDER)
    assert_path(run, ["Begin", "ReserveStock", "ChargePayment", ..., "Failed"])
    assert_not_visited(run, "ConfirmOrder", "NotifyCustomer")
    assert stock_level(saga_service.event_store, "acme", "SKU-1") == 5


def test_the_next_test_starts_empty(saga_service):
    assert stock_level(saga_service.event_store, "acme", "SKU-1") == 0
"""
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_saga_service_on_moto_when_the_test_asks_for_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        DECLINED_ORDER
        + """
import pytest
from stepsaga.examples.orders.handlers import seed_stock
from stepsaga.infra.aws import DynamoDBEventStore


@pytest.mark.saga_service(moto=True)
def test_on_moto(saga_service):
    assert isinstance(saga_service.event_store, DynamoDBEventStore)
    seed_stock(saga_service.event_store, "acme", "SKU-1", 5)
    run = saga_service.execute("PlaceOrder", dict(ORDER, paymentToken="tok_visa"))
    assert run.status == "SUCCEEDED"
    assert [mail.state for mail in run.emails] == ["NotifyCustomer"]


@pytest.mark.saga_service(mtoo=True)
def test_a_misspelt_option(saga_service):
    pass
"""
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*@pytest.mark.saga_service has no option 'mtoo'; it takes moto*"])


def test_saga_service_is_the_one_pyproject_names_unless_the_option_names_another(
    pytester: pytest.Pytester,
) -> None:
    write_service(pytester.path, "shipping_service")
    pytester.makepyprojecttoml('[tool.stepsaga]\nservice = "shipping_service"\n')
    pytester.makepyfile(
        """
        def test_the_service(saga_service, request):
            expected = request.config.getoption("stepsaga_service") or "shipping_service"
            names = {"shipping_service": {"ShipIt"}, "stepsaga.examples.orders": {"PlaceOrder"}}
            assert set(saga_service.definitions) == names[expected]
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)
    pytester.runpytest("--stepsaga-service", "stepsaga.examples.orders").assert_outcomes(passed=1)


def test_a_service_that_cannot_be_loaded_errors_with_the_loaders_message(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile("def test_it(saga_service): pass")
    result = pytester.runpytest("--stepsaga-service", "no_such_service")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*saga_service: no module named 'no_such_service'*"])


# -- --sfn-coverage -------------------------------------------------------------------------


def test_coverage_is_off_unless_asked_for(fake_engine: pytest.Pytester) -> None:
    fake_engine.makepyfile(
        """
        import sfn_fakes

        def test_nobody_listens():
            assert sfn_fakes._observers == []
        """
    )
    result = fake_engine.runpytest()
    result.assert_outcomes(passed=1)
    assert "Step Functions coverage" not in result.stdout.str()


def test_coverage_prints_a_table_and_what_each_definition_missed(
    fake_engine: pytest.Pytester,
) -> None:
    fake_engine.makepyfile(COVERED_TESTS)
    digest = nested_digest(fake_engine)

    result = fake_engine.runpytest("--sfn-coverage")

    assert result.ret == 0
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        [
            "*- stepsaga: Step Functions coverage -*",
            "definition              executions      states  transitions",
            "Approval                         2    3/4  75%     5/8  62%",
            f"{digest} (StartAt Fan)           2    8/8 100%     8/8 100%",
            "TOTAL                            4  11/12  91%   13/16  81%",
            "",
            "Approval: never entered:",
            "  /States/Reject",
            "Approval: never taken:",
            "  /States/Check/Choices/1 → Reject",
            "  /States/Review/Catch/0 → Reject",
            "  /States/Reject → (end)",
        ],
        consecutive=True,
    )


def test_coverage_json_holds_each_definition_with_its_counts_and_misses(
    fake_engine: pytest.Pytester,
) -> None:
    fake_engine.makepyfile(COVERED_TESTS)

    result = fake_engine.runpytest("--sfn-coverage-json", "reports/sfn.json")

    assert result.ret == 0
    path = fake_engine.path / "reports" / "sfn.json"
    result.stdout.fnmatch_lines([f"JSON report: {path}"])
    report = json.loads(path.read_text(encoding="utf-8"))
    assert report["totals"] == {
        "definitions": 2,
        "executions": 4,
        "states": {"covered": 11, "total": 12, "percent": 91.67},
        "transitions": {"covered": 13, "total": 16, "percent": 81.25},
    }
    approval, nested = report["definitions"]
    assert approval["missed_transitions"] == [
        "/States/Check/Choices/1 → Reject",
        "/States/Review/Catch/0 → Reject",
        "/States/Reject → (end)",
    ]
    taken = {t["pointer"]: t["taken"] for t in nested["transition_counts"]}
    assert taken["/States/Old/Iterator/States/OldItem/End"] == 2
    assert nested["name"] is None and nested["start_at"] == "Fan"


def test_fail_under_fails_the_run_naming_each_definition_below_it(
    fake_engine: pytest.Pytester,
) -> None:
    fake_engine.makepyfile(COVERED_TESTS)

    below = fake_engine.runpytest("--sfn-coverage-fail-under", "70")

    assert below.ret == pytest.ExitCode.TESTS_FAILED
    below.assert_outcomes(passed=3)  # every test passed: the coverage fails the run
    below.stdout.fnmatch_lines(
        ["FAIL Approval: transition coverage 62.5% (5/8) is below --sfn-coverage-fail-under 70%"]
    )
    assert "StartAt Fan): transition coverage" not in below.stdout.str()

    met = fake_engine.runpytest("--sfn-coverage-fail-under", "62.5")
    assert met.ret == pytest.ExitCode.OK
    assert "FAIL " not in met.stdout.str()


def test_fail_under_with_no_execution_observed_fails(fake_engine: pytest.Pytester) -> None:
    fake_engine.makepyfile("def test_nothing_runs(): pass")

    result = fake_engine.runpytest("--sfn-coverage-fail-under", "50")

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "no Step Functions execution was observed",
            "FAIL no Step Functions execution was observed, so none reaches "
            "--sfn-coverage-fail-under 50%",
        ]
    )


def test_a_collect_only_run_is_not_judged(fake_engine: pytest.Pytester) -> None:
    fake_engine.makepyfile("def test_nothing_runs(): pass")

    result = fake_engine.runpytest("--collect-only", "--sfn-coverage-fail-under", "50")

    assert result.ret == pytest.ExitCode.OK
    assert "Step Functions coverage" not in result.stdout.str()


def test_fail_under_must_be_a_percentage(fake_engine: pytest.Pytester) -> None:
    fake_engine.makepyfile("def test_nothing_runs(): pass")

    result = fake_engine.runpytest("--sfn-coverage-fail-under", "150")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--sfn-coverage-fail-under must be a percentage from 0 to 100, got 150*"]
    )

    result = fake_engine.runpytest("--sfn-coverage-fail-under", "most")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--sfn-coverage-fail-under: invalid float value: 'most'*"])


def test_an_engine_without_the_coverage_interface_is_a_clear_usage_error(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(
        """
        import stepsaga.infra.local.stepfunctions as engine

        saved = engine.__dict__.pop("observe_executions", None)  # an engine from before it


        def pytest_unconfigure(config):
            if saved is not None:
                engine.observe_executions = saved
        """
    )
    pytester.makepyfile("def test_nothing_runs(): pass")

    result = pytester.runpytest("--sfn-coverage")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--sfn-coverage needs an engine that reports its executions (*observe_executions)*"]
    )


def test_under_xdist_workers_send_their_counts_and_the_controller_reports_once(
    fake_engine: pytest.Pytester,
) -> None:
    # GIVEN every test run on each of two workers (`--dist each`), so both workers count all
    fake_engine.makepyfile(COVERED_TESTS)

    result = fake_engine.runpytest_subprocess(
        "-n",
        "2",
        "--dist",
        "each",
        "--sfn-coverage-json",
        "sfn.json",
        "--sfn-coverage-fail-under",
        "70",
        "-p",
        "no:cacheprovider",
    )

    # THEN the controller's report holds both workers' executions, printed once
    report = json.loads((fake_engine.path / "sfn.json").read_text(encoding="utf-8"))
    assert report["totals"]["executions"] == 2 * 4
    approval = report["definitions"][0]
    taken = {t["pointer"]: t["taken"] for t in approval["transition_counts"]}
    assert taken["/States/Approve"] == 2 * 2
    assert report["totals"]["transitions"]["covered"] == 13  # the same parts, counted twice
    assert result.stdout.str().count("stepsaga: Step Functions coverage") == 1
    # ... and the threshold fails the run from the controller
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["FAIL Approval: transition coverage 62.5% (5/8) is below *"])


@pytest.mark.skipif(
    not hasattr(engine, "observe_executions"),
    reason="the engine does not report its executions yet (observe_executions, issue 8)",
)
def test_coverage_of_real_engine_executions(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        (HERE / "definitions.py").read_text(encoding="utf-8")
        + DECLINED_ORDER
        + """

from stepsaga.examples.orders.handlers import seed_stock


def test_a_choice_on_the_engine(sfn):
    sfn.register_lambda("review", lambda event, context: event)
    assert sfn.run(APPROVAL, {"amount": 50}).status == "SUCCEEDED"
    assert sfn.run(APPROVAL, {"amount": 500}).status == "SUCCEEDED"


def test_a_saga(saga_service):
    seed_stock(saga_service.event_store, "acme", "SKU-1", 5)
    assert saga_service.execute("PlaceOrder", ORDER).status == "FAILED"
"""
    )

    result = pytester.runpytest("--sfn-coverage-json", "sfn.json")

    assert result.ret == 0
    report = json.loads((pytester.path / "sfn.json").read_text(encoding="utf-8"))
    saga, approval = report["definitions"]
    assert saga["name"] == "PlaceOrder" and saga["executions"] == 1
    assert "/States/ConfirmOrder" in saga["missed_states"]
    assert (
        "/States/ChargePayment/Catch/0 → CompensateChargePayment"
        not in (saga["missed_transitions"])
    )
    assert approval["name"] is None and approval["executions"] == 2
    assert approval["missed_transitions"] == [
        "/States/Check/Choices/1 → Reject",
        "/States/Review/Retry/0 → Review (retry)",
        "/States/Review/Catch/0 → Reject",
        "/States/Reject → (end)",
    ]


def test_the_documented_example_passes(pytester: pytest.Pytester) -> None:
    import stepsaga.testing

    doc = stepsaga.testing.__doc__ or ""
    example = doc.split("Example:", 1)[1].split("::\n", 1)[1]
    pytester.makepyfile(textwrap.dedent(example))

    pytester.runpytest().assert_outcomes(passed=1)
