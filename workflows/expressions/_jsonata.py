"""JSONata (``{% ... %}``) expressions: syntax checking with jsonata-python."""

from __future__ import annotations

from typing import Any

import jsonata

from workflows.expressions._errors import ExpressionSyntaxError


def strip_jsonata(text: str) -> str | None:
    """Return the body of a ``{% ... %}`` string, or None when ``text`` is not one."""
    stripped = text.strip()
    if len(stripped) >= 4 and stripped.startswith("{%") and stripped.endswith("%}"):
        return stripped[2:-2]
    return None


def compile_jsonata(text: str) -> Any:
    """Compile a JSONata expression (a ``{% %}`` string or its bare body).

    Returns:
        The compiled jsonata-python expression.

    Raises:
        ExpressionSyntaxError: the expression is empty or malformed.
    """
    body = strip_jsonata(text)
    if body is None:
        body = text
    if not body.strip():
        raise ExpressionSyntaxError("empty JSONata expression", expression=text)
    try:
        return jsonata.Jsonata(body)
    except Exception as exc:  # jsonata-python raises JException and plain errors alike
        raise ExpressionSyntaxError(
            f"malformed JSONata expression ({exc})", expression=text
        ) from exc


def check_jsonata(text: str) -> None:
    """Validate a JSONata expression (a ``{% %}`` string or its bare body).

    Raises:
        ExpressionSyntaxError: the expression is empty or malformed.
    """
    compile_jsonata(text)
