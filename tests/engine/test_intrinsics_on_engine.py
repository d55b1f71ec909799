"""The 18 intrinsic functions, evaluated by the engine inside Parameters."""

from __future__ import annotations

import re
from typing import Any

import pytest

from stepsaga.infra.local.stepfunctions import LocalStepFunctions

INPUT = {"a": 1, "b": 2, "list": [1, 2, 2, 3], "text": "a,b", "obj": {"k": "v"}}

CASES: list[tuple[str, Any]] = [
    ("States.Format('{} and {}', $.a, $.text)", "1 and a,b"),
    ("States.StringToJson('{\"x\":1}')", {"x": 1}),
    ("States.JsonToString($.obj)", '{"k":"v"}'),
    ("States.Array($.a, $.b)", [1, 2]),
    ("States.ArrayPartition($.list, 3)", [[1, 2, 2], [3]]),
    ("States.ArrayContains($.list, 3)", True),
    ("States.ArrayRange(1, 9, 4)", [1, 5, 9]),
    ("States.ArrayGetItem($.list, 3)", 3),
    ("States.ArrayLength($.list)", 4),
    ("States.ArrayUnique($.list)", [1, 2, 3]),
    ("States.Base64Encode('hi')", "aGk="),
    ("States.Base64Decode('aGk=')", "hi"),
    ("States.Hash('abc', 'SHA-1')", "a9993e364706816aba3e25717850c26c9cd0d89d"),
    ("States.JsonMerge($.obj, States.StringToJson('{\"z\":2}'), false)", {"k": "v", "z": 2}),
    ("States.MathAdd($.a, $.b)", 3),
    ("States.StringSplit($.text, ',')", ["a", "b"]),
]


@pytest.mark.parametrize(("expression", "expected"), CASES, ids=[c[0][:24] for c in CASES])
def test_intrinsic_function_in_parameters(expression: str, expected: Any) -> None:
    definition = {
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Parameters": {"v.$": expression}, "End": True}},
    }
    ex = LocalStepFunctions().run(definition, INPUT)
    assert ex.status == "SUCCEEDED", ex.cause
    assert ex.output == {"v": expected}


def test_random_intrinsics_follow_the_engine_seed() -> None:
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Pass",
                "Parameters": {"r.$": "States.MathRandom(1, 100)", "u.$": "States.UUID()"},
                "End": True,
            }
        },
    }
    first = LocalStepFunctions(seed=11).run(definition, {}).output
    again = LocalStepFunctions(seed=11).run(definition, {}).output
    assert first == again
    assert 1 <= first["r"] <= 100
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", first["u"]
    )


def test_real_time_mode_uses_the_wall_clock() -> None:
    from datetime import UTC, datetime

    before = datetime.now(UTC)
    definition = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 0, "End": True}}}
    ex = LocalStepFunctions(clock="real").run(definition, {})
    assert ex.status == "SUCCEEDED"
    assert ex.start_date >= before
