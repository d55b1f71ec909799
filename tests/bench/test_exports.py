"""The bench exports exactly what its command uses (the list is pinned in test_public_api)."""

from __future__ import annotations

import ast
import inspect

import stepsaga.infra.bench
import stepsaga.infra.cli._bench


def test_the_cli_uses_exactly_the_public_surface() -> None:
    # GIVEN the `stepsaga bench` command's source  WHEN its imports from stepsaga.infra.bench are
    # read
    tree = ast.parse(inspect.getsource(stepsaga.infra.cli._bench))
    imported = [
        (node.module, alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        and (node.module or "").startswith("stepsaga.infra.bench")
        for alias in node.names
    ]
    # THEN they name the package itself, never its private modules, and the package exports
    # nothing its command does not use
    assert {module for module, _ in imported} == {"stepsaga.infra.bench"}
    assert {name for _, name in imported} == set(stepsaga.infra.bench.__all__)
