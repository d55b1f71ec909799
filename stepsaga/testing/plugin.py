"""The stepsaga pytest plugin: fixtures, options and `--sfn-coverage` (see `stepsaga.testing`).

pytest loads it in every run of an environment where stepsaga is installed (the `stepsaga`
entry point of the `pytest11` group), including a lean runtime install without the engine's
libraries; so it imports nothing at import time beyond pytest and stepsaga's own light
modules: the engine, the service loader, moto and the query libraries are imported by the
fixture or the hook that needs them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from stepsaga.testing._coverage import CoverageCollector, CoverageReport

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

    from stepsaga.infra.local.service import LocalService
    from stepsaga.infra.local.stepfunctions import LocalStepFunctions
    from stepsaga.infra.local.stepfunctions_local import StepFunctionsLocalBackend
    from stepsaga.infra.project import Service

__all__ = ()

# Where a pytest-xdist worker puts its coverage counts for the controller.
_WORKER_OUTPUT = "stepsaga_sfn_coverage"
_SERVICE = pytest.StashKey["Service"]()
_MARKER = "saga_service"
_MARKER_OPTIONS = ("moto",)


def pytest_addoption(parser: pytest.Parser) -> None:
    """Declare the plugin's options (`pytest --help`, group "stepsaga")."""
    group = parser.getgroup("stepsaga", "stepsaga: sagas on the embedded Step Functions engine")
    group.addoption(
        "--stepsaga-service",
        metavar="MODULE",
        default=None,
        help="the service the saga_service fixture runs (default: [tool.stepsaga] service "
        "in the nearest pyproject.toml, else the reference service)",
    )
    group.addoption(
        "--stepsaga-seed",
        metavar="N",
        type=int,
        default=0,
        help="the seed of the sfn and saga_service engines (default: 0)",
    )
    group.addoption(
        "--sfn-coverage",
        action="store_true",
        default=False,
        help="report, per state machine executed, the states and transitions exercised",
    )
    group.addoption(
        "--sfn-coverage-json",
        metavar="PATH",
        default=None,
        help="also write the coverage report as JSON to PATH (implies --sfn-coverage)",
    )
    group.addoption(
        "--sfn-coverage-fail-under",
        metavar="PCT",
        type=float,
        default=None,
        help="fail the run when a state machine's transition coverage is below PCT percent "
        "(implies --sfn-coverage)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker, and the coverage when asked for."""
    config.addinivalue_line(
        "markers",
        f"{_MARKER}(moto=False): how the saga_service fixture runs the service; moto=True "
        "puts it on moto's DynamoDB and SES v2 instead of the in-memory stores",
    )
    json_path = config.getoption("sfn_coverage_json")
    fail_under = config.getoption("sfn_coverage_fail_under")
    if not (config.getoption("sfn_coverage") or json_path or fail_under is not None):
        return
    if fail_under is not None and not 0 <= fail_under <= 100:
        raise pytest.UsageError(
            f"--sfn-coverage-fail-under must be a percentage from 0 to 100, got {fail_under:g}"
        )
    coverage = _SfnCoverage(config, json_path, fail_under)
    config.pluginmanager.register(coverage, "stepsaga-sfn-coverage")
    coverage.subscribe()


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def sfn(request: pytest.FixtureRequest) -> LocalStepFunctions:
    """A fresh embedded Step Functions engine, seeded with `--stepsaga-seed`."""
    from stepsaga.infra.local.stepfunctions import LocalStepFunctions

    seed: int = request.config.getoption("stepsaga_seed")
    return LocalStepFunctions(seed=seed)


@pytest.fixture
def sfn_client(sfn: LocalStepFunctions) -> SFNClient:
    """A boto3 `stepfunctions` client answered in-process by the test's `sfn` engine."""
    return sfn.client()


@pytest.fixture(scope="session")
def sfn_local_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of a `stepsaga local` server on a free 127.0.0.1 port, one per session.

    It serves the configured service's handlers as Lambda functions (as `stepsaga local
    --service` does) on the server clock, with the MockConfigFile `SFN_MOCK_CONFIG` names, if
    any; it stops at the end of the session. Its state machines and executions last the
    whole session.
    """
    import os

    from stepsaga.infra.local.service import local_endpoint
    from stepsaga.infra.local.stepfunctions import DefinitionError, MockConfig

    mock_path = os.environ.get("SFN_MOCK_CONFIG")
    mocks = None
    if mock_path:
        try:
            mocks = MockConfig(Path(mock_path))
        except (DefinitionError, ValueError, OSError) as error:
            pytest.fail(f"sfn_local_url: SFN_MOCK_CONFIG {mock_path}: {error}", pytrace=False)
    server = local_endpoint(_service(request.config), port=0, mock_config=mocks).start()
    try:
        yield server.url
    finally:
        server.stop()
        server.api.engine.close()


@pytest.fixture
def saga_service(request: pytest.FixtureRequest) -> Iterator[LocalService]:
    """The configured service, run locally: its sagas on the engine, its steps in-process.

    The service is `--stepsaga-service`, else `[tool.stepsaga] service`, else the reference
    service (`stepsaga.infra.project.load_service`, from the rootdir). Each test gets a fresh
    `LocalService` on empty in-memory stores; `@pytest.mark.saga_service(moto=True)` runs it
    on moto's DynamoDB and SES v2 instead.
    """
    from stepsaga.infra.local.service import LocalService

    service = _service(request.config)
    seed: int = request.config.getoption("stepsaga_seed")
    if _wants_moto(request.node.get_closest_marker(_MARKER)):
        try:
            import moto  # noqa: F401 - only to name the missing extra clearly
        except ImportError:
            pytest.fail(
                "@pytest.mark.saga_service(moto=True) needs moto: pip install 'stepsaga[local]'",
                pytrace=False,
            )
        with LocalService.start(service, seed=seed) as running:
            yield running
        return
    yield LocalService.in_memory(service, seed=seed)


@pytest.fixture
def stepfunctions_local(request: pytest.FixtureRequest) -> Iterator[StepFunctionsLocalBackend]:
    """Step Functions Local in a container, calling the configured service's handlers.

    The handlers run in-process on fresh in-memory stores, served by a local Lambda endpoint
    the container's `LAMBDA_ENDPOINT` points at; compile sagas with
    `FunctionNames.local(prefix=FUNCTION_ARN_PREFIX)` and run them with `.run(...)`. Skips,
    giving the reason, when no Docker engine answers.
    """
    from stepsaga.infra.local.stepfunctions_local import (
        StepFunctionsLocalBackend,
        docker_available,
    )
    from stepsaga.tasks import InMemoryEventStore, InMemoryNotifier, TaskRuntime

    reason = docker_available()
    if reason is not None:
        pytest.skip(f"stepfunctions_local needs Docker: {reason}")
    service = _service(request.config)
    runtime = TaskRuntime(
        event_store=InMemoryEventStore(), notifier=InMemoryNotifier(), service=service.name
    )
    with StepFunctionsLocalBackend(runtime.handlers(service.handlers)) as backend:
        yield backend


def _service(config: pytest.Config) -> Service:
    """The configured service, loaded once per session."""
    if _SERVICE not in config.stash:
        from stepsaga.infra.project import ServiceError, load_service

        try:
            config.stash[_SERVICE] = load_service(
                config.getoption("stepsaga_service"), start=config.rootpath
            )
        except ServiceError as error:
            pytest.fail(f"saga_service: {error}", pytrace=False)
    return config.stash[_SERVICE]


def _wants_moto(marker: pytest.Mark | None) -> bool:
    if marker is None:
        return False
    where = f"@pytest.mark.{_MARKER}"
    if marker.args:
        options = ", ".join(_MARKER_OPTIONS)
        pytest.fail(f"{where} takes keyword options only ({options})", pytrace=False)
    for option in marker.kwargs:
        if option not in _MARKER_OPTIONS:
            options = ", ".join(_MARKER_OPTIONS)
            pytest.fail(f"{where} has no option {option!r}; it takes {options}", pytrace=False)
    moto = marker.kwargs.get("moto", False)
    if not isinstance(moto, bool):
        pytest.fail(f"{where}: moto must be True or False, got {moto!r}", pytrace=False)
    return moto


# -- coverage -------------------------------------------------------------------------------


class _SfnCoverage:
    """`--sfn-coverage` in one pytest process: the controller, a worker, or a lone session.

    Every process counts the executions its engines close. A pytest-xdist worker hands its
    counts to the controller when it finishes; the controller (or a session without workers)
    merges them, writes the JSON, checks the threshold and prints the table.
    """

    def __init__(self, config: pytest.Config, json_path: str | None, fail_under: float | None):
        self.collector = CoverageCollector()
        self.worker = hasattr(config, "workerinput")
        self.json_path = None if json_path is None else config.invocation_params.dir / json_path
        self.fail_under = fail_under
        self.report: CoverageReport | None = None
        self.failures: list[str] = []
        self.json_written = False
        self._unsubscribe: Callable[[], None] | None = None

    def subscribe(self) -> None:
        """Watch every execution any engine in this process closes, from now on."""
        try:
            from stepsaga.infra.local import stepfunctions as engine
        except ImportError as error:
            raise pytest.UsageError(
                f"--sfn-coverage needs the embedded engine ({error}): pip install 'stepsaga[local]'"
            ) from error
        # Read by name: an engine without the coverage interface gets a clear error, not a crash.
        observe = getattr(engine, "observe_executions", None)
        if observe is None:
            raise pytest.UsageError(
                "--sfn-coverage needs an engine that reports its executions "
                "(stepsaga.infra.local.stepfunctions.observe_executions); this one does not"
            )
        self._unsubscribe = observe(self.collector.record)

    def _stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: object, error: object) -> None:
        """On the controller: take a finished worker's counts."""
        output = getattr(node, "workeroutput", None) or {}
        payload = output.get(_WORKER_OUTPUT)
        if payload is not None:
            self.collector.merge_payload(payload)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Generator[None, object, object]:
        """After the tests (and every worker) are done: report, and fail below the threshold."""
        result = yield
        # A collect-only run executes nothing: there is no coverage to judge.
        if not self.worker and not session.config.option.collectonly:
            self._stop()
            self._conclude()
            if self.failures:
                # As a failed test would: the run's exit code becomes 1.
                session.testsfailed += 1
        return result

    def _conclude(self) -> None:
        report = self.report = self.collector.report()
        if self.json_path is not None:
            try:
                self.json_path.parent.mkdir(parents=True, exist_ok=True)
                text = json.dumps(report.to_json(), indent=2, ensure_ascii=False)
                self.json_path.write_text(text + "\n", encoding="utf-8")
                self.json_written = True
            except OSError as error:
                self.failures.append(f"cannot write --sfn-coverage-json {self.json_path}: {error}")
        if self.fail_under is None:
            return
        if not report.definitions:
            self.failures.append(
                "no Step Functions execution was observed, so none reaches "
                f"--sfn-coverage-fail-under {self.fail_under:g}%"
            )
        for coverage in report.below(self.fail_under):
            self.failures.append(
                f"{coverage.label}: transition coverage {coverage.transition_percent:.1f}% "
                f"({coverage.transitions_covered}/{len(coverage.transitions)}) is below "
                f"--sfn-coverage-fail-under {self.fail_under:g}%"
            )

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """On a worker: hand the counts to the controller (pytest-xdist sends them on)."""
        self._stop()
        if self.worker:
            workeroutput: dict[str, object] = getattr(session.config, "workeroutput")  # noqa: B009
            workeroutput[_WORKER_OUTPUT] = self.collector.to_payload()

    def pytest_unconfigure(self) -> None:
        """Stop watching, whatever ended the session (pytest's own tests run many in-process)."""
        self._stop()

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """Print the table, what each definition missed, and why the run fails, if it does."""
        if self.report is None:
            return
        terminalreporter.write_sep("-", "stepsaga: Step Functions coverage")
        for line in self.report.lines():
            terminalreporter.write_line(line)
        if self.json_written:
            terminalreporter.write_line(f"JSON report: {self.json_path}")
        for failure in self.failures:
            terminalreporter.write_line(f"FAIL {failure}", red=True, bold=True)
