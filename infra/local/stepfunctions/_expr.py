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
    return compile_jsonata_template(value, field=field)
