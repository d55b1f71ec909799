"""The engine's only door to the expression languages in ``workflows.expressions``.

Names are looked up when a definition is compiled, not when this module is imported, so the
engine stays importable while that package grows.
"""

from __future__ import annotations

from typing import Any

import workflows.expressions as _expressions
from workflows.expressions import EvaluationError, Scope

__all__ = (
    "EvaluationError",
    "Scope",
    "choice_rule",
    "jsonata_template",
    "path",
    "reference_path",
    "template",
)


def path(text: str) -> Any:
    """A compiled path (``.evaluate(data, scope)``)."""
    return _expressions.compile_path(text)


def reference_path(text: str) -> Any:
    """A compiled reference path (``.get(data, scope)``, ``.set(target, value)``)."""
    return _expressions.compile_reference_path(text)


def template(value: Any, field: str) -> Any:
    """A compiled payload template (Parameters, ResultSelector, ItemSelector, Assign)."""
    compile_template = _expressions.compile_template  # type: ignore[attr-defined,unused-ignore]
    return compile_template(value, field=field)


def choice_rule(rule: Any) -> Any:
    """A compiled Choice rule (``.matches(data, scope)``)."""
    compile_choice_rule = _expressions.compile_choice_rule  # type: ignore[attr-defined,unused-ignore]
    return compile_choice_rule(rule)


def jsonata_template(value: Any, field: str) -> Any:
    """A compiled JSONata-mode field (``.evaluate(states, scope)`` with ``$states`` bound)."""
    compile_jsonata_template = _expressions.compile_jsonata_template  # type: ignore[attr-defined,unused-ignore]
    literals: dict[str, str] = {}
    guarded = _guard_literals(value, literals)
    template = compile_jsonata_template(guarded, field=field)
    return _LiteralsRestored(template, literals) if literals else template


# Workaround: AWS evaluates a string only when it *starts* with "{%" and *ends* with "%}";
# " {% x %} " (with spaces) is a literal, which workflows.expressions currently evaluates. Such
# strings are swapped for tokens before compiling and put back in the results.
def _guard_literals(value: Any, literals: dict[str, str]) -> Any:
    if isinstance(value, str):
        stripped = value.strip()
        if value != stripped and stripped.startswith("{%") and stripped.endswith("%}"):
            token = f"\x00stepsaga-literal-{len(literals)}\x00"
            literals[token] = value
            return token
        return value
    if isinstance(value, dict):
        return {key: _guard_literals(item, literals) for key, item in value.items()}
    if isinstance(value, list):
        return [_guard_literals(item, literals) for item in value]
    return value


def _restore(value: Any, literals: dict[str, str]) -> Any:
    if isinstance(value, str):
        return literals.get(value, value)
    if isinstance(value, dict):
        return {key: _restore(item, literals) for key, item in value.items()}
    if isinstance(value, list):
        return [_restore(item, literals) for item in value]
    return value


class _LiteralsRestored:
    """A JSONata template whose whitespace-padded ``{% %}`` literals are kept literal."""

    __slots__ = ("_literals", "_template", "is_constant", "source")

    def __init__(self, template: Any, literals: dict[str, str]) -> None:
        self._template = template
        self._literals = literals
        self.is_constant = False
        self.source = _restore(template.source, literals)

    def evaluate(self, states: Any, scope: Any = None) -> Any:
        return _restore(self._template.evaluate(states, scope), self._literals)
