"""Everything stepsaga ships lives under `stepsaga`, and `import stepsaga` gives the common names.

`stepsaga/__init__` re-exports a few names lazily (pydantic's pattern), so a task Lambda, which
runs it first, still loads nothing it does not use; type checkers read the same names from
imports under TYPE_CHECKING. `stepsaga.__all__` itself is pinned in `test_public_api.py`.

The second half builds a user's project with its own `domain/`, `infra/`, `tasks.py` and
`examples/` and shows stepsaga and the user's code importing and running in one process.
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import stepsaga
from tests.test_architecture import PROJECT_PACKAGES, _imported, _modules

ROOT = Path(__file__).resolve().parent.parent
# Nothing of this may load on `import stepsaga` alone.
HEAVY = (
    "stepsaga.domain",
    "stepsaga.workflows",
    "stepsaga.tasks",
    "stepsaga.infra",
    "stepsaga.examples",
    "pydantic",
    "boto3",
    "jsonata",
    "jsonpath_ng",
    "moto",
    "click",
    "rich",
)


def _fresh_modules(code: str, cwd: Path) -> list[str]:
    """The modules `code` loads in a fresh interpreter, beyond those of its startup."""
    program = f"import json, sys\nat_start = set(sys.modules)\n{code}\n"
    program += "print(json.dumps(sorted(set(sys.modules) - at_start)))\n"
    done = subprocess.run(
        [sys.executable, "-I", "-c", program],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    modules: list[str] = json.loads(done.stdout)
    return modules


def _loaded(modules: list[str], prefixes: tuple[str, ...]) -> list[str]:
    return [m for m in modules if any(m == p or m.startswith(f"{p}.") for p in prefixes)]


def _type_checking_imports() -> dict[str, str]:
    """What `stepsaga/__init__` imports under `if TYPE_CHECKING:`, name -> module."""
    tree = ast.parse((ROOT / "stepsaga" / "__init__.py").read_text(encoding="utf-8"))
    imports: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for child in node.body:
                assert isinstance(child, ast.ImportFrom) and child.module
                imports.update((alias.name, child.module) for alias in child.names)
    return imports


def _public_home(value: object) -> str:
    """The public package holding `value`: its defining module, less the private parts."""
    parts = str(getattr(value, "__module__", "")).split(".")
    while parts and parts[-1].startswith("_"):
        parts.pop()
    return ".".join(parts)


@pytest.mark.parametrize("name", stepsaga.__all__)
def test_each_top_level_name_is_its_home_packages_object(name: str) -> None:
    home = _public_home(getattr(stepsaga, name))
    assert home.startswith("stepsaga."), f"{name} comes from {home!r}"
    assert name in importlib.import_module(home).__all__, f"{home} does not export {name}"
    assert getattr(stepsaga, name) is getattr(importlib.import_module(home), name)


def test_type_checkers_see_the_names_the_runtime_resolves() -> None:
    # The imports under TYPE_CHECKING are what editors and mypy read; `_HOMES` is what runs.
    imports = _type_checking_imports()
    assert imports == stepsaga._HOMES
    assert sorted(imports) == sorted(stepsaga.__all__)


def test_unknown_top_level_name_is_an_attribute_error_naming_it() -> None:
    with pytest.raises(AttributeError, match="'stepsaga' has no attribute 'Sagaa'"):
        _ = stepsaga.Sagaa
    assert not hasattr(stepsaga, "Sagaa")


def test_dir_lists_the_lazy_names() -> None:
    assert set(stepsaga.__all__) <= set(dir(stepsaga))


def test_import_stepsaga_alone_loads_none_of_its_packages(tmp_path: Path) -> None:
    modules = _fresh_modules("import stepsaga", tmp_path)
    assert "stepsaga" in modules
    assert _loaded(modules, HEAVY) == []


def test_a_saga_name_loads_the_saga_dsl_but_not_the_engine(tmp_path: Path) -> None:
    modules = _fresh_modules("import stepsaga\nstepsaga.Saga", tmp_path)
    assert "stepsaga.workflows.saga" in modules
    assert _loaded(modules, ("stepsaga.infra", "stepsaga.workflows.asl", "jsonata", "moto")) == []


def test_top_level_names_type_check_and_typos_do_not(tmp_path: Path) -> None:
    source = textwrap.dedent(
        """\
        import stepsaga
        from stepsaga import LocalStepFunctions, Saga, compile_saga

        engine: LocalStepFunctions = stepsaga.LocalStepFunctions()
        saga_type: type[Saga] = stepsaga.Saga
        compile_type = compile_saga
        not_an_int: int = engine  # error: the engine is typed, not Any
        from stepsaga import Sagaa  # error: a typo
        stepsaga.LocalStepFunction  # error: a typo
        """
    )
    (tmp_path / "uses_stepsaga.py").write_text(source, encoding="utf-8")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(tmp_path / "mypy-cache"),
            "--no-error-summary",
            str(tmp_path / "uses_stepsaga.py"),
        ],
        cwd=ROOT,  # where mypy finds the `stepsaga` folder
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    lines = source.splitlines()
    flagged = {int(out.split(":")[1]) for out in done.stdout.splitlines() if ": error:" in out}
    expected = {number for number, line in enumerate(lines, 1) if "# error" in line}
    assert flagged == expected, done.stdout + done.stderr
    assert 'expression has type "LocalStepFunctions"' in done.stdout


def test_stepsagas_own_modules_import_from_home_packages_not_the_top_level() -> None:
    # `stepsaga` re-exports from every layer; a layer importing it would hide an upward import
    # from test_architecture and could import itself in a cycle.
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}"
        for layer in PROJECT_PACKAGES
        for path in _modules(ROOT / layer)
        for name in _imported(path)
        if name == "stepsaga"
    ]
    assert wrong == []


# --- a user's project beside the installed package (issue 7) ------------------------------------
#
# A CQRS service usually has its own `domain/`, often `infra/`, a `tasks.py` and `examples/`: the
# names stepsaga's layers had when they were top-level packages. Then `from tasks import
# TaskRuntime` found the user's `domain` (`cannot import name 'ConcurrencyError' from 'domain'`),
# and `stepsaga render` of the user's saga found stepsaga's (`cannot import name 'USER_DOMAIN'`).

USER_PROJECT: dict[str, str] = {
    "domain/__init__.py": """
        from pydantic import BaseModel

        USER_DOMAIN = True


        class ShipParcel(BaseModel):
            parcel_id: str
        """,
    "infra/__init__.py": "USER_INFRA = True\n",
    "tasks.py": """
        USER_TASKS = True


        def label_for(parcel_id: str) -> str:
            return f"LABEL-{parcel_id}"
        """,
    "examples/__init__.py": "USER_EXAMPLES = True\n",
    # The user's own service, laid out like stepsaga's reference service.
    "shipping/__init__.py": "",
    "shipping/sagas.py": """
        from domain import USER_DOMAIN, ShipParcel
        from stepsaga import Saga, Step

        assert USER_DOMAIN
        SAGAS = (Saga("ShipParcel", ShipParcel, [Step("Pack", action="Pack")]),)
        """,
    "shipping/handlers.py": """
        from domain import ShipParcel
        from stepsaga import StepContext
        from tasks import label_for


        def pack(command: ShipParcel, ctx: StepContext) -> dict[str, str]:
            return {"label": label_for(command.parcel_id)}


        HANDLERS = {"Pack": pack}
        """,
}

# Runs in the user's project (its folder first on sys.path, as for any script run there): the
# user's modules, then stepsaga's reference saga and the user's saga on the embedded engine, then
# `stepsaga render` of the user's saga through the command line, all in one process.
USER_PROGRAM = textwrap.dedent(
    """
    import json, os, sys

    facts = {"sys_path": [os.path.abspath(p or os.getcwd()) for p in sys.path]}

    import domain, examples, infra, tasks

    def user_modules():
        return {
            name: {
                "file": sys.modules[name].__file__,
                "mark": getattr(sys.modules[name], "USER_" + name.upper(), None),
            }
            for name in ("domain", "infra", "tasks", "examples")
        }

    facts["user_before"] = user_modules()

    from stepsaga import InMemoryEventStore, InMemoryNotifier, LocalService, compile_saga
    from stepsaga.examples.orders import handlers
    from stepsaga.examples.orders.sagas import SAGAS

    facts["reference_start_at"] = compile_saga(SAGAS[0]).start_at
    store = InMemoryEventStore()
    service = LocalService(
        SAGAS, handlers.HANDLERS, event_store=store, notifier=InMemoryNotifier()
    )
    handlers.seed_stock(store, "acme", "SKU-1", 5)
    order = {
        "orderId": "o-1",
        "customerEmail": "ann@example.com",
        "items": [{"sku": "SKU-1", "quantity": 2, "unitPrice": "9.50"}],
        "paymentToken": "tok_ok",
    }
    placed = service.execute("PlaceOrder", order)
    declined = service.execute(
        "PlaceOrder", {**order, "orderId": "o-2", "paymentToken": "tok_decline"}
    )
    facts["placed"] = placed.status
    facts["declined"] = [declined.status, declined.execution.error]
    facts["stock"] = handlers.stock_level(store, "acme", "SKU-1")

    from shipping import handlers as user_handlers, sagas as user_sagas

    user_service = LocalService(
        user_sagas.SAGAS, user_handlers.HANDLERS, event_store=InMemoryEventStore()
    )
    shipped = user_service.execute("ShipParcel", {"parcel_id": "p-1"})
    facts["user_saga"] = [shipped.status, shipped.execution.output]

    from click.testing import CliRunner
    from stepsaga.infra.cli import cli

    rendered = CliRunner().invoke(
        cli, ["render", "ShipParcel", "--service", "shipping", "--format", "asl"]
    )
    facts["render"] = [rendered.exit_code, rendered.output]

    facts["user_after"] = user_modules()
    facts["stepsaga_layers"] = {
        name: sys.modules["stepsaga." + name].__file__
        for name in ("domain", "infra", "tasks", "examples")
    }
    print(json.dumps(facts))
    """
)


def _write_user_project(root: Path) -> Path:
    project = root / "user-project"
    for relative, text in USER_PROJECT.items():
        path = project / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return project


def _user_environment() -> dict[str, str]:
    # pytest puts the repository on its own sys.path (tests/ is a package); a child inherits
    # only PYTHONPATH, which must not point there either, or the repository's own top-level
    # folders (`domain/`, `tasks/`, ...) could stand in for the user's.
    return {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONSAFEPATH"}}


@pytest.fixture(scope="module")
def user_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write_user_project(tmp_path_factory.mktemp("collision"))


@pytest.fixture(scope="module")
def user_process(user_project: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", USER_PROGRAM],
        cwd=user_project,
        env=_user_environment(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    facts: dict[str, Any] = json.loads(done.stdout)
    return facts


def test_user_process_runs_without_the_repository_on_its_path(
    user_process: dict[str, Any], user_project: Path
) -> None:
    assert str(ROOT) not in user_process["sys_path"]
    assert str(user_project) in user_process["sys_path"]


@pytest.mark.parametrize("when", ["user_before", "user_after"])
def test_users_domain_infra_tasks_and_examples_stay_theirs(
    user_process: dict[str, Any], user_project: Path, when: str
) -> None:
    for name, module in user_process[when].items():
        assert Path(module["file"]).is_relative_to(user_project), name
        assert module["mark"] is True, name


def test_stepsaga_layers_are_its_own_beside_the_users(
    user_process: dict[str, Any], user_project: Path
) -> None:
    for name, file in user_process["stepsaga_layers"].items():
        assert not Path(file).is_relative_to(user_project), name
        assert Path(file).parent.name == name


def test_reference_saga_compiles_and_runs_beside_the_users_modules(
    user_process: dict[str, Any],
) -> None:
    assert user_process["reference_start_at"] == "Begin"
    assert user_process["placed"] == "SUCCEEDED"
    assert user_process["declined"] == ["FAILED", "PaymentDeclined"]
    assert user_process["stock"] == 3  # two reserved by o-1, o-2's reservation released


def test_users_own_saga_on_their_own_domain_runs_beside_stepsaga(
    user_process: dict[str, Any],
) -> None:
    status, output = user_process["user_saga"]
    assert status == "SUCCEEDED"
    assert output["results"]["Pack"]["Payload"] == {"label": "LABEL-p-1"}


def test_render_of_the_users_saga_in_the_same_process(user_process: dict[str, Any]) -> None:
    code, output = user_process["render"]
    assert code == 0, output
    definition = json.loads(output)
    assert definition["StartAt"] == "Begin" and "Pack" in definition["States"]


def test_console_script_renders_the_users_saga_from_their_project(user_project: Path) -> None:
    # The console script's sys.path holds its own bin folder, not the project: stepsaga's layers
    # load first, and the user's saga must still get the user's `domain`.
    script = Path(sys.executable).parent / "stepsaga"
    done = subprocess.run(
        [str(script), "render", "ShipParcel", "--service", "shipping", "--format", "mermaid"],
        cwd=user_project,
        env=_user_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Pack" in done.stdout
