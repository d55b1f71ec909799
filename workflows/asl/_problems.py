"""Validation problems and the error that carries them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ("ASLValidationError", "Problem", "json_kind")


def json_kind(value: Any) -> str:
    """How a problem names what it found: ``null``, ``a boolean``, ``an array``..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, float) and not value.is_integer():
        return f"the fractional number {value}"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a definition.

    Attributes:
        pointer: RFC 6901 JSON pointer to the offending value in the definition (``""`` for the
            whole document), e.g. ``"/States/Charge/Retry/0/BackoffRate"``.
        message: what is wrong and what to do about it.
        code: the rule that was broken. AWS's diagnostic codes are used where AWS has one
            (``SCHEMA_VALIDATION_FAILED``, ``MISSING_TRANSITION_TARGET``, ``UNREACHABLE_STATE``,
            ``MISSING_END_STATE``, ``DUPLICATE_STATE_NAME``, ``INVALID_STATE_NAME``,
            ``INVALID_RESOURCE``, ``INVALID_JSON_DESCRIPTION``); the expression checks use
            ``INVALID_JSONPATH``, ``INVALID_REFERENCE_PATH``, ``INVALID_INTRINSIC_FUNCTION`` and
            ``INVALID_JSONATA``.
    """

    pointer: str
    message: str
    code: str = "SCHEMA_VALIDATION_FAILED"

    def __str__(self) -> str:
        return f"{self.code}: {self.message} at {self.pointer or '/'}"


class ASLValidationError(ValueError):
    """A definition is not valid ASL; :attr:`problems` lists every problem found.

    Attributes:
        problems: each problem with its JSON pointer, in document order.
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__(self._render())

    def _render(self) -> str:
        count = len(self.problems)
        head = f"invalid state machine definition ({count} problem{'s' if count != 1 else ''})"
        return "\n".join([head + ":", *(f"  - {problem}" for problem in self.problems)])

    def __str__(self) -> str:
        return self._render()
