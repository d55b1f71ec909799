"""`stepsaga.workflows.facts` is the one place each AWS fact is written, and it stays light.

The validator, the compiler, the engine and the task runtime used to write error names, limits and
the Lambda integration's ARN each on their own; these tests fail when a module writes one again
instead of importing it, and when `facts` grows an import the task Lambdas would have to carry.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from stepsaga.workflows import facts

ROOT = Path(__file__).resolve().parent.parent
FACTS = ROOT / "workflows" / "facts.py"
LIBRARY = ("domain", "workflows", "tasks", "infra", "examples")
# ASL documents written out as data (the bench's machines) spell their resources and errors as
# a definition would.
DEFINITIONS_AS_DATA = frozenset({"infra/bench/_machines.py"})
# Vocabulary a definition *uses* (`jitter="FULL"`, an operator's implementation keyed by its
# name) rather than a fact it would restate.
VOCABULARY = frozenset({"CHOICE_OPERATORS", "JITTER_STRATEGIES", "JitterStrategy"})
# Numbers equal to a fact by coincidence: (file, value) pairs that mean something else.
COINCIDENCES = frozenset({("infra/bench/_runner.py", 10_000)})  # executions a benchmark runs


def _written_facts() -> tuple[set[str], set[int]]:
    strings: set[str] = set()
    numbers: set[int] = set()
    for name in facts.__all__:
        value = getattr(facts, name)
        if name in VOCABULARY:
            continue
        if isinstance(value, str):
            strings.add(value)
        elif isinstance(value, tuple):
            strings.update(value)
        elif isinstance(value, int) and value > 1000:  # 80 or 64 are too common to flag
            numbers.add(value)
    return strings, numbers


def _constants(tree: ast.AST) -> Iterator[tuple[int, object]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant):
            yield node.lineno, node.value
        elif isinstance(node, ast.BinOp) and all(
            isinstance(side, ast.Constant) for side in (node.left, node.right)
        ):  # `256 * 1024`
            try:
                yield node.lineno, eval(compile(ast.Expression(node), "<fact>", "eval"), {})
            except ArithmeticError:
                continue


def test_no_library_module_writes_an_aws_fact_again() -> None:
    strings, numbers = _written_facts()
    again = [
        f"{path.relative_to(ROOT)}:{line} writes {value!r}"
        for top in LIBRARY
        for path in sorted((ROOT / top).rglob("*.py"))
        if path != FACTS and str(path.relative_to(ROOT)) not in DEFINITIONS_AS_DATA
        for line, value in _constants(ast.parse(path.read_text(encoding="utf-8")))
        if (isinstance(value, str) and value in strings)
        or (
            type(value) is int
            and value in numbers
            and (str(path.relative_to(ROOT)), value) not in COINCIDENCES
        )
    ]
    assert again == []


def test_facts_imports_nothing_but_the_standard_library() -> None:
    tree = ast.parse(FACTS.read_text(encoding="utf-8"))
    imported = {
        (alias.name if isinstance(node, ast.Import) else node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}


def test_importing_facts_loads_nothing_else() -> None:
    # The task Lambdas import it: it must not pull the ASL model or a query library in.
    code = (
        "import sys, stepsaga\n"
        "before = set(sys.modules)\n"
        "import stepsaga.workflows.facts\n"
        "print(sorted(set(sys.modules) - before))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    beyond_stdlib = {
        name
        for name in ast.literal_eval(loaded)
        if name.split(".")[0] not in sys.stdlib_module_names
    }
    assert beyond_stdlib <= {"stepsaga.workflows", "stepsaga.workflows.facts"}
