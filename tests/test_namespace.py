"""Everything stepsaga ships lives under `stepsaga`, and `import stepsaga` gives the common names.

`stepsaga/__init__` re-exports a few names lazily (pydantic's pattern), so a task Lambda, which
runs it first, still loads nothing it does not use; type checkers read the same names from
imports under TYPE_CHECKING. `stepsaga.__all__` itself is pinned in `test_public_api.py`.
"""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import stepsaga

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
