"""Canonical ASL JSON, and the one entry point that picks a format."""

from __future__ import annotations

import json
from typing import Literal

from stepsaga.workflows.render._diagram import Definition, as_dict
from stepsaga.workflows.render._dot import to_dot
from stepsaga.workflows.render._mermaid import to_mermaid

Format = Literal["asl", "mermaid", "dot"]
#: The formats `render` knows.
FORMATS: tuple[Format, ...] = ("asl", "mermaid", "dot")


def to_asl_json(definition: Definition) -> str:
    """The definition as indented JSON, keys in definition order, ending with a newline."""
    return json.dumps(as_dict(definition), indent=2, ensure_ascii=False) + "\n"


def render(definition: Definition, format: str) -> str:
    """Render `definition` in `format` (one of `FORMATS`).

    Raises:
        ValueError: `format` is not one of `FORMATS`.
    """
    if format == "asl":
        return to_asl_json(definition)
    if format == "mermaid":
        return to_mermaid(definition)
    if format == "dot":
        return to_dot(definition)
    raise ValueError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
