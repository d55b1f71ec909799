"""Is an execution's outcome the one the machine must produce?"""

from __future__ import annotations

from stepsaga.infra.bench._machines import JSON, BenchMachine
from stepsaga.infra.bench._peers import Outcome


def first_difference(expected: JSON, actual: JSON, path: str = "$") -> str | None:
    """Where `actual` first differs from `expected`, as a JSONPath and both values.

    Comparison is by JSON type as well as value: `true` is not `1`, and `2` is not `2.0`.
    """
    if type(expected) is not type(actual):
        return f"{path}: expected {expected!r}, got {actual!r}"
    if isinstance(expected, dict):
        for key in expected:
            if key not in actual:
                return f"{path}.{key}: missing"
            found = first_difference(expected[key], actual[key], f"{path}.{key}")
            if found:
                return found
        extra = [key for key in actual if key not in expected]
        return f"{path}.{extra[0]}: unexpected" if extra else None
    if isinstance(expected, list):
        if len(expected) != len(actual):
            return f"{path}: expected {len(expected)} items, got {len(actual)}"
        for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
            found = first_difference(want, got, f"{path}[{index}]")
            if found:
                return found
        return None
    return None if expected == actual else f"{path}: expected {expected!r}, got {actual!r}"


def check_outcome(machine: BenchMachine, outcome: Outcome) -> str | None:
    """What is wrong with `outcome` for `machine`, or None when it is the expected one."""
    if outcome.status != "SUCCEEDED":
        return f"status {outcome.status}: {outcome.error}: {outcome.cause}"
    return first_difference(machine.expected_output, outcome.output)
