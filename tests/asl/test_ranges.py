"""The value ranges AWS enforces on a definition, refused with the pointer and AWS's code.

Each range is the one AWS's documentation states (cited per test); a value inside it is
accepted, the first value outside it refused with ``SCHEMA_VALIDATION_FAILED`` (the code AWS's
ValidateStateMachineDefinition gives schema problems) at the field's JSON pointer.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from stepsaga.workflows.asl import ASLValidationError, parse_definition

TASK: dict[str, Any] = {
    "StartAt": "T",
    "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True},
    },
}


def _with(path: tuple[str, ...], value: Any, base: dict[str, Any] = TASK) -> dict[str, Any]:
    definition = copy.deepcopy(base)
    node: Any = definition
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return definition


def _problems(definition: dict[str, Any]) -> list[tuple[str, str]]:
    try:
        parse_definition(definition)
    except ASLValidationError as error:
        return [(problem.pointer, problem.code) for problem in error.problems]
    return []


def _retrier(**fields: Any) -> dict[str, Any]:
    return _with(("States", "T", "Retry"), [{"ErrorEquals": ["States.ALL"], **fields}])


@pytest.mark.parametrize(
    ("field", "accepted", "refused"),
    [
        ("IntervalSeconds", [1, 99_999_999], [0, -1, 100_000_000]),
        ("MaxAttempts", [0, 99_999_999], [-1, 100_000_000]),
        ("BackoffRate", [1, 1.0, 2.5, 1000], [0.99, 0, -1]),
        ("MaxDelaySeconds", [1, 31_622_400], [0, 31_622_401]),
    ],
)
def test_retrier_ranges(field: str, accepted: list[Any], refused: list[Any]) -> None:
    """IntervalSeconds 1-99999999; MaxAttempts 0-99999999 (0: never retried); BackoffRate at
    least 1.0; MaxDelaySeconds 1-31622400.

    https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html#error-handling-retrying-after-an-error
    """
    for value in accepted:
        assert _problems(_retrier(**{field: value})) == [], value
    for value in refused:
        pointer = f"/States/T/Retry/0/{field}"
        assert _problems(_retrier(**{field: value})) == [(pointer, "SCHEMA_VALIDATION_FAILED")]


def test_an_interval_of_zero_is_refused_even_when_nothing_is_retried() -> None:
    """The documented range of IntervalSeconds holds whatever MaxAttempts says: AWS validates
    each field on its own (the page states no exception for MaxAttempts 0)."""
    assert _problems(_retrier(IntervalSeconds=0, MaxAttempts=0)) == [
        ("/States/T/Retry/0/IntervalSeconds", "SCHEMA_VALIDATION_FAILED")
    ]
    assert _problems(_retrier(IntervalSeconds=1, MaxAttempts=0)) == []


def test_jitter_strategy_is_full_or_none() -> None:
    assert _problems(_retrier(JitterStrategy="FULL")) == []
    assert _problems(_retrier(JitterStrategy="SOME")) == [
        ("/States/T/Retry/0/JitterStrategy", "SCHEMA_VALIDATION_FAILED")
    ]


@pytest.mark.parametrize("field", ["TimeoutSeconds", "HeartbeatSeconds"])
def test_task_timeouts_are_positive_integers(field: str) -> None:
    """ "TimeoutSeconds ... must be a positive, non-zero integer" (likewise HeartbeatSeconds),
    at most 99999999. https://docs.aws.amazon.com/step-functions/latest/dg/state-task.html"""
    assert _problems(_with(("States", "T", field), 99_999_998)) == []
    for value in (0, -5, 100_000_000):
        assert _problems(_with(("States", "T", field), value)) == [
            (f"/States/T/{field}", "SCHEMA_VALIDATION_FAILED")
        ]


def test_heartbeat_must_be_smaller_than_the_timeout() -> None:
    """ "If provided, the HeartbeatSeconds interval must be smaller than the TimeoutSeconds
    value." https://docs.aws.amazon.com/step-functions/latest/dg/state-task.html"""
    task = _with(("States", "T", "TimeoutSeconds"), 10)
    assert _problems(_with(("States", "T", "HeartbeatSeconds"), 9, task)) == []
    for heartbeat in (10, 11):
        assert _problems(_with(("States", "T", "HeartbeatSeconds"), heartbeat, task)) == [
            ("/States/T/HeartbeatSeconds", "SCHEMA_VALIDATION_FAILED")
        ]


def test_the_state_machine_timeout_is_a_positive_integer() -> None:
    """The top-level TimeoutSeconds, like a Task's, is a positive integer up to 99999999: an
    execution that may run for no time at all is refused.
    https://docs.aws.amazon.com/step-functions/latest/dg/statemachine-structure.html"""
    assert _problems(_with(("TimeoutSeconds",), 1)) == []
    for value in (0, -1, 100_000_000):
        assert _problems(_with(("TimeoutSeconds",), value)) == [
            ("/TimeoutSeconds", "SCHEMA_VALIDATION_FAILED")
        ]


WAIT: dict[str, Any] = {"StartAt": "W", "States": {"W": {"Type": "Wait", "End": True}}}


def test_wait_seconds_run_from_0_to_99999999() -> None:
    """ "You must specify time as an integer value from 0 to 99999999."
    https://docs.aws.amazon.com/step-functions/latest/dg/state-wait.html"""
    for value in (0, 99_999_999):
        assert _problems(_with(("States", "W", "Seconds"), value, WAIT)) == []
    for value in (-1, 100_000_000):
        assert _problems(_with(("States", "W", "Seconds"), value, WAIT)) == [
            ("/States/W/Seconds", "SCHEMA_VALIDATION_FAILED")
        ]


@pytest.mark.parametrize(
    ("timestamp", "valid"),
    [
        ("2026-03-14T01:59:00Z", True),
        ("2026-03-14T01:59:00.123+05:30", True),
        ("2026-03-14t01:59:00z", False),  # uppercase T and Z
        ("2026-03-14T01:59:00+05:60", False),
        ("2026-03-14T01:59:00", False),
        ("2026-02-30T01:59:00Z", False),
    ],
)
def test_wait_timestamp_is_rfc_3339_with_uppercase_t_and_z(timestamp: str, valid: bool) -> None:
    """ "Timestamps must conform to the RFC3339 profile of ISO 8601, with the further
    restrictions that an uppercase T must separate the date and time portions, and an uppercase
    Z must denote that a numeric time zone offset is not present".
    https://docs.aws.amazon.com/step-functions/latest/dg/state-wait.html"""
    problems = _problems(_with(("States", "W", "Timestamp"), timestamp, WAIT))
    assert problems == ([] if valid else [("/States/W/Timestamp", "SCHEMA_VALIDATION_FAILED")])


@pytest.mark.parametrize("field", ["Parameters", "ResultSelector"])
@pytest.mark.parametrize("value", ["$.x", 1, ["a"], None, True])
def test_payload_templates_must_be_objects(field: str, value: Any) -> None:
    """A payload template is a JSON object (https://states-language.net/spec.html#payload-template;
    https://docs.aws.amazon.com/step-functions/latest/dg/input-output-inputpath-params.html)."""
    assert _problems(_with(("States", "T", field), {"a.$": "$.x"})) == []
    assert _problems(_with(("States", "T", field), value)) == [
        (f"/States/T/{field}", "SCHEMA_VALIDATION_FAILED")
    ]


def test_pass_and_map_templates_must_be_objects_too() -> None:
    pass_state = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": [1], "End": True}}}
    assert _problems(pass_state) == [("/States/P/Parameters", "SCHEMA_VALIDATION_FAILED")]
    body = {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}
    map_state = {
        "StartAt": "M",
        "States": {"M": {"Type": "Map", "ItemProcessor": body, "ItemSelector": "x", "End": True}},
    }
    assert _problems(map_state) == [("/States/M/ItemSelector", "SCHEMA_VALIDATION_FAILED")]
