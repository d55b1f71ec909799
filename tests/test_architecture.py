"""Dependencies flow one way: domain ← workflows ← tasks ← infra; the engine imports only workflows.

DESIGN.md's layout table is a promise: the engine could one day be split into its own
distribution, and the domain model stays free of AWS. These tests read every module's imports
(statically, so a lazy import inside a function counts too) and fail on any arrow that points
the wrong way.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT_PACKAGES = ("domain", "workflows", "tasks", "infra", "examples", "testing")
# Where each package's files are: a top-level folder that `stepsaga/` links to, or (the testing
# kit) a folder inside `stepsaga/` itself.
FOLDERS = {
    package: ROOT / "stepsaga" / package if package == "testing" else ROOT / package
    for package in PROJECT_PACKAGES
}

# What each layer may import from the project (its own package always allowed).
ALLOWED: dict[str, frozenset[str]] = {
    "domain": frozenset(),
    "workflows": frozenset({"domain"}),
    "tasks": frozenset({"domain", "workflows"}),
    # Not examples: the demo and the bench find the reference service through the loader.
    "infra": frozenset({"domain", "workflows", "tasks"}),
    # The testing kit drives everything a service is made of, as infra does; nothing imports it.
    "testing": frozenset({"domain", "workflows", "tasks", "infra"}),
}
ENGINE = ROOT / "infra" / "local" / "stepfunctions"
# Third-party libraries the domain model may use: it is pure (no AWS, no I/O).
DOMAIN_THIRD_PARTY = frozenset(
    {"pydantic", "pydantic_core", "annotated_types", "typing_extensions"}
)


def _modules(folder: Path) -> Iterator[Path]:
    yield from sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def _imported(path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def _top(name: str) -> str:
    """The project layer an import names (`stepsaga.tasks._x` -> `tasks`), else its top name."""
    parts = name.split(".")
    if parts[0] == "stepsaga" and len(parts) > 1:
        return parts[1]
    return parts[0]


def test_project_modules_are_imported_only_under_stepsaga() -> None:
    # A bare `import domain` would pick up a user's own `domain/` package (issue 7).
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}"
        for layer in PROJECT_PACKAGES
        for path in _modules(FOLDERS[layer])
        for name in _imported(path)
        if name.split(".", 1)[0] in PROJECT_PACKAGES
    ]
    assert wrong == []


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layer_imports_only_the_layers_below_it(layer: str) -> None:
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in _modules(FOLDERS[layer])
        for name in _imported(path)
        if _top(name) in PROJECT_PACKAGES
        and _top(name) != layer
        and _top(name) not in ALLOWED[layer]
    ]
    assert wrong == []


def test_engine_imports_nothing_from_domain_tasks_or_examples() -> None:
    assert ENGINE.is_dir(), "the embedded engine lives in infra/local/stepfunctions"
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in _modules(ENGINE)
        for name in _imported(path)
        if _top(name) in {"domain", "tasks", "examples"}
        or (_top(name) == "infra" and not name.startswith("stepsaga.infra.local.stepfunctions"))
    ]
    assert wrong == []


def test_domain_is_pure() -> None:
    stdlib = frozenset(__import__("sys").stdlib_module_names)
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in _modules(ROOT / "domain")
        for name in _imported(path)
        if _top(name) not in stdlib
        and _top(name) not in DOMAIN_THIRD_PARTY | {"domain"}
        and not name.startswith("stepsaga.domain")
    ]
    assert wrong == []


def test_every_class_name_is_unique_in_the_library() -> None:
    # Each name means one thing (issue 7): two `Graph`s, `Scope`s or `ChoiceRule`s make a reader
    # (and an import completion) guess which one a module means.
    defined: dict[str, list[str]] = {}
    for layer in PROJECT_PACKAGES:
        for path in _modules(FOLDERS[layer]):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef):
                    defined.setdefault(node.name, []).append(
                        f"{path.relative_to(ROOT)}:{node.lineno}"
                    )
    repeated = {name: places for name, places in defined.items() if len(places) > 1}
    assert repeated == {}


def test_the_query_libraries_are_loaded_only_on_demand_by_the_expression_languages() -> None:
    # jsonata-python and jsonpath-ng belong to the `local` extra: a module importing them at its
    # top would break `import stepsaga.workflows.asl` in the lean runtime. `_expressions`
    # loads them by name (`_libraries.load`) on the first expression that needs one.
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}"
        for layer in PROJECT_PACKAGES
        for path in _modules(FOLDERS[layer])
        for name in _imported(path)
        if name.split(".")[0] in {"jsonata", "jsonpath_ng"}
    ]
    assert wrong == []
