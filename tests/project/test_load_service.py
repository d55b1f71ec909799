"""One loader finds a service (`--service`, `[tool.stepsaga]`, the reference) and names faults."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from stepsaga.infra.project import REFERENCE_SERVICE, ServiceError, load_service
from tests.project.services import HANDLERS, SAGAS, write_service


@pytest.fixture(autouse=True)
def _restore_sys_path(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # The loader may put a project's folder on sys.path; each test starts from the same path.
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield


def _project(root: Path, pyproject: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    return root


def _error(name: str | None, start: Path) -> str:
    with pytest.raises(ServiceError) as raised:
        load_service(name, start=start)
    return str(raised.value)


# --- which service ---------------------------------------------------------------------------


def test_without_a_pyproject_it_is_the_reference_service(tmp_path: Path) -> None:
    service = load_service(start=tmp_path)
    assert service.module == REFERENCE_SERVICE
    assert service.name == "orders"
    assert list(service.sagas) == ["PlaceOrder"]
    assert set(service.sagas["PlaceOrder"].handlers()) <= set(service.handlers)


def test_a_pyproject_without_the_table_means_the_reference_service(tmp_path: Path) -> None:
    project = _project(tmp_path / "p", '[project]\nname = "mine"\n')
    assert load_service(start=project).module == REFERENCE_SERVICE


def test_the_nearest_pyproject_names_the_service_and_its_folder_is_searched(
    tmp_path: Path,
) -> None:
    # GIVEN a project whose service is not installed, and a subfolder to start from
    project = _project(tmp_path / "shop", '[tool.stepsaga]\nservice = "shop_service"\n')
    write_service(project, "shop_service")
    inner = project / "docs"
    inner.mkdir()
    # WHEN loading from the subfolder  THEN the project's service is found and imported
    service = load_service(start=inner)
    assert service.module == "shop_service"
    assert list(service.sagas) == ["ShipIt"]
    assert set(service.handlers) == {"Pack", "Unpack"}


def test_an_explicit_name_wins_over_the_pyproject(tmp_path: Path) -> None:
    project = _project(tmp_path / "p", '[tool.stepsaga]\nservice = "not_this_one"\n')
    assert load_service(REFERENCE_SERVICE, start=project).module == REFERENCE_SERVICE


def test_the_sagas_and_handlers_submodules_are_read_not_the_package_init(tmp_path: Path) -> None:
    # GIVEN a package whose __init__ exposes a different SAGAS (the loader must not use it)
    write_service(tmp_path, "svc_init", init="SAGAS = ()\n")
    sys.path.insert(0, str(tmp_path))
    assert list(load_service("svc_init", start=tmp_path).sagas) == ["ShipIt"]


def test_the_loaded_service_cannot_be_changed(tmp_path: Path) -> None:
    service = load_service(start=tmp_path)
    with pytest.raises(TypeError):
        service.sagas["Other"] = service.sagas["PlaceOrder"]  # type: ignore[index]


# --- the [tool.stepsaga] table ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("pyproject", "message"),
    [
        ("[tool.stepsaga\n", "cannot read it"),
        ("[tool]\nstepsaga = 3\n", "[tool.stepsaga] must be a table, got int"),
        (
            '[tool.stepsaga]\nservise = "x"\n',
            "unknown key 'servise' (did you mean 'service'?); known keys: service",
        ),
        ("[tool.stepsaga]\nservice = 3\n", "service must be a module name"),
        ('[tool.stepsaga]\nservice = ""\n', "service must be a module name"),
        ('[tool.stepsaga]\nservice = "my-service"\n', "got 'my-service'"),
    ],
)
def test_a_malformed_tool_table_is_refused_naming_the_file_and_key(
    tmp_path: Path, pyproject: str, message: str
) -> None:
    project = _project(tmp_path / "p", pyproject)
    error = _error(None, project)
    assert str(project / "pyproject.toml") in error
    assert message in error


# --- the module -------------------------------------------------------------------------------


def test_a_missing_service_module_is_named(tmp_path: Path) -> None:
    assert "no module named 'no_such_service'" in _error("no_such_service", tmp_path)


def test_a_missing_subpackage_of_an_existing_package_is_named(tmp_path: Path) -> None:
    assert "no module named 'stepsaga.examples.nope'" in _error("stepsaga.examples.nope", tmp_path)


def test_an_import_error_inside_the_service_is_not_reported_as_a_missing_service(
    tmp_path: Path,
) -> None:
    # GIVEN a service whose sagas module imports a library that is not installed
    write_service(tmp_path, "svc_broken_dep", sagas="import not_installed_lib\n")
    sys.path.insert(0, str(tmp_path))
    error = _error("svc_broken_dep", tmp_path)
    # THEN the error names the module that failed and what it could not import
    assert "importing 'svc_broken_dep.sagas' failed" in error
    assert "not_installed_lib" in error


def test_an_exception_raised_while_importing_the_service_is_named(tmp_path: Path) -> None:
    write_service(tmp_path, "svc_raises", init="raise RuntimeError('bad config')\n")
    sys.path.insert(0, str(tmp_path))
    error = _error("svc_raises", tmp_path)
    assert "importing 'svc_raises' failed: RuntimeError: bad config" in error


# --- SAGAS and HANDLERS ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sagas", "handlers", "message"),
    [
        (None, HANDLERS, "has no module '{package}.sagas' (it must define SAGAS)"),
        ("X = 1\n", HANDLERS, "{package}.sagas defines no SAGAS"),
        ("SAGAS = {}\n", HANDLERS, "{package}.sagas.SAGAS must be a tuple of Saga, got dict"),
        (SAGAS + "SAGAS = (*SAGAS, 'Extra')\n", HANDLERS, "SAGAS[1] is a str, not a Saga"),
        (SAGAS + "SAGAS = SAGAS * 2\n", HANDLERS, "names the saga 'ShipIt' twice"),
        (SAGAS, None, "has no module '{package}.handlers' (it must define HANDLERS)"),
        (SAGAS, "X = 1\n", "{package}.handlers defines no HANDLERS"),
        (SAGAS, "HANDLERS = [1]\n", "must map handler names to step functions, got list"),
        (SAGAS, "HANDLERS = {'Pack': 1}\n", "HANDLERS['Pack'] is a int, not a function"),
        (SAGAS, "HANDLERS = {1: print}\n", "has the key 1; handler names are strings"),
    ],
)
def test_sagas_and_handlers_of_the_wrong_shape_are_named(
    tmp_path: Path, sagas: str | None, handlers: str | None, message: str
) -> None:
    package = f"svc_{tmp_path.name}"  # one package per case: imported modules stay cached
    write_service(tmp_path, package, sagas=sagas, handlers=handlers)
    sys.path.insert(0, str(tmp_path))
    assert message.format(package=package) in _error(package, tmp_path)


def test_a_handler_the_saga_needs_is_named_with_its_saga_step_and_a_suggestion(
    tmp_path: Path,
) -> None:
    # GIVEN HANDLERS with a typo in the compensation's name
    handlers = HANDLERS.replace('"Unpack": unpack', '"Unpak": unpack')
    write_service(tmp_path, "svc_typo", handlers=handlers)
    sys.path.insert(0, str(tmp_path))
    # THEN the saga, the step, the handler and the likely intended name are all given
    assert _error("svc_typo", tmp_path) == (
        "saga 'ShipIt', step 'Pack': its compensation handler 'Unpack' is not in "
        "svc_typo.handlers.HANDLERS (did you mean 'Unpak'?)"
    )


def test_every_missing_handler_is_named_not_just_the_first(tmp_path: Path) -> None:
    handlers = HANDLERS.replace('{"Pack": pack, "Unpack": unpack}', "{}")
    write_service(tmp_path, "svc_bare", handlers=handlers)
    sys.path.insert(0, str(tmp_path))

    assert _error("svc_bare", tmp_path).splitlines() == [
        "saga 'ShipIt', step 'Pack': its action handler 'Pack' is not in "
        "svc_bare.handlers.HANDLERS",
        "saga 'ShipIt', step 'Pack': its compensation handler 'Unpack' is not in "
        "svc_bare.handlers.HANDLERS",
    ]


def test_an_unknown_saga_is_named_with_a_suggestion_and_the_known_ones(tmp_path: Path) -> None:
    service = load_service(start=tmp_path)
    with pytest.raises(ServiceError) as raised:
        service.saga("PlaceOrdr")
    assert str(raised.value) == (
        "service 'stepsaga.examples.orders' has no saga 'PlaceOrdr' "
        "(did you mean 'PlaceOrder'?); it has: PlaceOrder"
    )


# --- the demo ----------------------------------------------------------------------------------

DEMO = """
from stepsaga.infra.project import Demo, Scenario
DEMO = {demo}
"""


def test_the_reference_service_brings_its_demo_scenarios(tmp_path: Path) -> None:
    demo = load_service(start=tmp_path).demo
    assert demo is not None
    assert [(s.name, s.saga) for s in demo.scenarios] == [
        ("order-succeeds", "PlaceOrder"),
        ("payment-declined", "PlaceOrder"),
    ]
    assert demo.seed is not None and demo.summary is not None


def test_a_service_without_a_demo_module_has_no_demo(tmp_path: Path) -> None:
    write_service(tmp_path, "svc_no_demo")
    sys.path.insert(0, str(tmp_path))
    assert load_service("svc_no_demo", start=tmp_path).demo is None


@pytest.mark.parametrize(
    ("demo", "message"),
    [
        (None, "{package}.demo defines no DEMO"),
        ("[]", "{package}.demo.DEMO must be a stepsaga.infra.project.Demo, got list"),
        ("Demo(scenarios=())", "DEMO.scenarios must list at least one Scenario"),
        ("Demo(scenarios=('x',))", "DEMO.scenarios[0] is a str, not a Scenario"),
        (
            "Demo(scenarios=(Scenario('a b', 'ShipIt', {'id': '1'}),))",
            "DEMO.scenarios[0].name must be 1 to 75 letters, digits, '-' or '_', got 'a b'",
        ),
        (
            "Demo(scenarios=(Scenario('a', 'ShipIt', {'id': '1'}),) * 2)",
            "names the scenario 'a' twice",
        ),
        (
            "Demo(scenarios=(Scenario('a', 'Shipit', {'id': '1'}),))",
            "scenario 'a' runs saga 'Shipit', which {package} does not have "
            "(did you mean 'ShipIt'?)",
        ),
        (
            "Demo(scenarios=(Scenario('a', 'ShipIt', {'id': 3}),))",
            "scenario 'a': its command is not a valid Ship: id: Input should be a valid string",
        ),
        (
            "Demo(scenarios=(Scenario('a', 'ShipIt', {'id': '1'}),), seed=3)",
            "DEMO.seed must be a function or None",
        ),
    ],
)
def test_a_malformed_demo_is_named(tmp_path: Path, demo: str | None, message: str) -> None:
    package = f"svc_{tmp_path.name}"
    source = "X = 1\n" if demo is None else DEMO.format(demo=demo)
    write_service(tmp_path, package, demo=source)
    sys.path.insert(0, str(tmp_path))
    assert message.format(package=package) in _error(package, tmp_path)


def test_an_import_error_in_the_demo_module_is_named(tmp_path: Path) -> None:
    write_service(tmp_path, "svc_demo_dep", demo="import not_installed_lib\n")
    sys.path.insert(0, str(tmp_path))
    assert "importing 'svc_demo_dep.demo' failed" in _error("svc_demo_dep", tmp_path)
