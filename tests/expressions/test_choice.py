"""Choice rules: every operator, AWS's type-mismatch semantics, and AWS's recorded branches."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stepsaga.workflows._expressions import (
    EvaluationError,
    EvaluationScope,
    ExpressionSyntaxError,
    compile_choice_rule,
)
from stepsaga.workflows.facts import CHOICE_OPERATORS
from tests.conformance import entered_states, parsed, records


def holds(operator: str, operand: Any, value: Any) -> bool:
    rule = {"Variable": "$.v", operator: operand, "Next": "X"}
    return compile_choice_rule(rule).matches({"v": value})


@pytest.mark.parametrize(
    ("operator", "operand", "value", "expected"),
    [
        ("StringEquals", "a", "a", True),
        ("StringEquals", "a", "b", False),
        ("StringLessThan", "b", "a", True),
        ("StringGreaterThan", "a", "b", True),
        ("StringLessThanEquals", "a", "a", True),
        ("StringGreaterThanEquals", "b", "a", False),
        ("NumericEquals", 1, 1.0, True),
        ("NumericEquals", 0, 0.0, True),
        ("NumericLessThan", 2, 1.5, True),
        ("NumericGreaterThan", 2, 3, True),
        ("NumericLessThanEquals", 2, 2, True),
        ("NumericGreaterThanEquals", 2, 1, False),
        ("BooleanEquals", True, True, True),
        ("BooleanEquals", False, True, False),
        ("TimestampEquals", "2012-10-09T19:00:55Z", "2012-10-09T21:00:55+02:00", True),
        ("TimestampLessThan", "2012-10-09T19:00:56Z", "2012-10-09T19:00:55.999999999Z", True),
        ("TimestampGreaterThan", "2012-10-09T19:00:55Z", "2012-10-09T19:00:55.000000001Z", True),
        ("TimestampLessThanEquals", "2012-10-09T19:00:55Z", "2012-10-09T19:00:55Z", True),
        ("TimestampGreaterThanEquals", "2012-10-09T19:00:56Z", "2012-10-09T19:00:55Z", False),
        ("StringMatches", "log-*.txt", "log-2024.txt", True),
        ("StringMatches", "log-*.txt", "log-2024.csv", False),
        ("StringMatches", "a\\*b", "a*b", True),
        ("StringMatches", "a\\*b", "axb", False),
        ("StringMatches", "*", "", True),
        ("IsNull", True, None, True),
        ("IsNull", False, 0, True),
        ("IsNumeric", True, 1.5, True),
        ("IsNumeric", True, True, False),
        ("IsNumeric", True, "1", False),
        ("IsString", True, "", True),
        ("IsBoolean", True, False, True),
        ("IsBoolean", True, 0, False),
        ("IsTimestamp", True, "2012-10-09T19:00:55Z", True),
        ("IsTimestamp", True, "2023-02-24 12:15:56.832957", False),
        ("IsPresent", True, None, True),
    ],
)
def test_operator(operator: str, operand: Any, value: Any, expected: bool) -> None:
    assert holds(operator, operand, value) is expected


TYPE_SAMPLES: list[Any] = ["", "x", 0, 1.5, True, False, None, [], {}, "2012-10-09T19:00:55Z"]


@pytest.mark.parametrize(
    ("operator", "operand", "accepts"),
    [
        ("StringEquals", "x", lambda v: isinstance(v, str)),
        ("NumericEquals", 0, lambda v: isinstance(v, int | float) and not isinstance(v, bool)),
        ("BooleanEquals", True, lambda v: isinstance(v, bool)),
        ("TimestampEquals", "2012-10-09T19:00:55Z", lambda v: v == "2012-10-09T19:00:55Z"),
    ],
)
def test_a_value_of_another_type_never_matches_and_never_fails(
    operator: str, operand: Any, accepts: Any
) -> None:
    for value in TYPE_SAMPLES:
        matched = holds(operator, operand, value)
        if not accepts(value):
            assert matched is False, (operator, value)


def test_path_variants_compare_with_another_node() -> None:
    rule = {"Variable": "$.a", "NumericLessThanPath": "$.b", "Next": "X"}
    assert compile_choice_rule(rule).matches({"a": 1, "b": 2})
    assert not compile_choice_rule(rule).matches({"a": 1, "b": "2"})
    with pytest.raises(EvaluationError) as caught:
        compile_choice_rule(rule).matches({"a": 1})
    assert caught.value.cause == (
        "Invalid path '$.b': The choice state's condition path references an invalid value."
    )


def test_missing_variable_fails_except_under_is_present() -> None:
    rule = compile_choice_rule({"Variable": "$.x", "IsNull": True, "Next": "X"})
    with pytest.raises(EvaluationError) as caught:
        rule.matches({})
    # AWS's wording, as users quote it from their failed executions.
    assert caught.value.error == "States.Runtime"
    assert caught.value.cause == (
        "Invalid path '$.x': The choice state's condition path references an invalid value."
    )
    present = compile_choice_rule({"Variable": "$.x", "IsPresent": False, "Next": "X"})
    assert present.matches({})


def test_and_or_not_combine_nested_rules() -> None:
    rule = {
        "And": [
            {"Variable": "$.n", "NumericGreaterThan": 0},
            {
                "Or": [
                    {"Variable": "$.s", "StringEquals": "a"},
                    {"Not": {"Variable": "$.b", "BooleanEquals": True}},
                ]
            },
        ],
        "Next": "X",
    }
    compiled = compile_choice_rule(rule)
    assert compiled.next == "X"
    assert compiled.matches({"n": 1, "s": "a", "b": True})
    assert compiled.matches({"n": 1, "s": "z", "b": False})
    assert not compiled.matches({"n": 1, "s": "z", "b": True})
    assert not compiled.matches({"n": 0, "s": "a", "b": False})


def test_variables_and_context_can_be_compared() -> None:
    scope = EvaluationScope(context={"State": {"RetryCount": 2}}, variables={"limit": 3})
    rule = {"Variable": "$$.State.RetryCount", "NumericLessThanPath": "$limit", "Next": "X"}
    assert compile_choice_rule(rule).matches({}, scope)


AWS_OPERATORS = [
    "StringEquals",
    "StringEqualsPath",
    "StringLessThan",
    "StringLessThanPath",
    "StringGreaterThan",
    "StringGreaterThanPath",
    "StringLessThanEquals",
    "StringLessThanEqualsPath",
    "StringGreaterThanEquals",
    "StringGreaterThanEqualsPath",
    "StringMatches",
    "NumericEquals",
    "NumericEqualsPath",
    "NumericLessThan",
    "NumericLessThanPath",
    "NumericGreaterThan",
    "NumericGreaterThanPath",
    "NumericLessThanEquals",
    "NumericLessThanEqualsPath",
    "NumericGreaterThanEquals",
    "NumericGreaterThanEqualsPath",
    "BooleanEquals",
    "BooleanEqualsPath",
    "TimestampEquals",
    "TimestampEqualsPath",
    "TimestampLessThan",
    "TimestampLessThanPath",
    "TimestampGreaterThan",
    "TimestampGreaterThanPath",
    "TimestampLessThanEquals",
    "TimestampLessThanEqualsPath",
    "TimestampGreaterThanEquals",
    "TimestampGreaterThanEqualsPath",
    "IsNull",
    "IsPresent",
    "IsNumeric",
    "IsString",
    "IsBoolean",
    "IsTimestamp",
]


def test_the_operator_set_is_the_one_the_aws_documentation_lists() -> None:
    assert set(AWS_OPERATORS) == CHOICE_OPERATORS


@pytest.mark.parametrize(
    "rule",
    [
        {"Variable": "$.x", "Next": "X"},
        {"Variable": "$.x", "StringEquals": 1, "Next": "X"},
        {"Variable": "$.x", "NumericEquals": "1", "Next": "X"},
        {"Variable": "$.x", "NumericEquals": True, "Next": "X"},
        {"Variable": "$.x", "TimestampEquals": "yesterday", "Next": "X"},
        {"Variable": "$.x", "IsNull": "yes", "Next": "X"},
        {"Variable": "$.x", "StringEqualsPath": "not a path", "Next": "X"},
        {"Variable": "x", "StringEquals": "a", "Next": "X"},
        {"Variable": "$.x", "StringEquals": "a", "NumericEquals": 1, "Next": "X"},
        {"Variable": "$.x", "Bogus": 1, "Next": "X"},
        {"And": [], "Next": "X"},
        {"Not": [], "Next": "X"},
        {"Variable": "$.x", "StringEquals": "a"},
    ],
)
def test_malformed_rules_are_refused_at_compile_time(rule: dict[str, Any]) -> None:
    with pytest.raises(ExpressionSyntaxError):
        compile_choice_rule(rule)


def test_aws_recorded_branches_for_every_operator_and_operand_type() -> None:
    # GIVEN 289 one-Choice machines run on AWS (the Choice receives the execution input)
    passed: list[str] = []
    failed: list[str] = []
    for record in records("choice_operators.jsonl"):
        state = record["definition"]["States"][record["definition"]["StartAt"]]
        data = json.loads(record["input"])
        # WHEN the rules are evaluated in order
        chosen = state.get("Default")
        for rule in state["Choices"]:
            if compile_choice_rule(rule).matches(data):
                chosen = rule["Next"]
                break
        # THEN the branch taken is the one whose Pass state produced the recorded output
        expected = record["definition"]["States"][chosen]["Result"]
        (passed if expected == record["output"] else failed).append(record["id"])
    assert len(passed) + len(failed) == 289
    assert failed == []


def test_choice_decisions_in_aws_histories() -> None:
    # GIVEN every JSONPath Choice state AWS ran in the recorded executions
    compared = 0
    mismatches: list[str] = []
    for record in records("jsonpath.jsonl"):
        history = record["history"]
        for index, entered, state, variables in entered_states(record, "ChoiceStateEntered"):
            if "$$" in json.dumps(state):
                continue  # the context object holds values the recorder replaced
            later = history[index + 1 :]
            exited = next(
                e
                for e in later
                if e["type"] == "ChoiceStateExited"
                and e["stateExitedEventDetails"]["name"] == entered["name"]
            )
            after = history[history.index(exited) + 1 :]
            taken = next(e for e in after if e["type"].endswith("StateEntered"))
            # WHEN its rules are evaluated on the input it received
            scope = EvaluationScope(variables=variables)
            chosen = state.get("Default")
            try:
                for rule in state["Choices"]:
                    if compile_choice_rule(rule).matches(parsed(entered["input"]), scope):
                        chosen = rule["Next"]
                        break
            except EvaluationError as exc:
                chosen = f"error {exc}"
            # THEN the state chosen is the one AWS entered next
            compared += 1
            if chosen != taken["stateEnteredEventDetails"]["name"]:
                mismatches.append(f"{record['id']} / {entered['name']}: {chosen}")
    assert compared >= 20
    assert mismatches == []


# --- StringMatches and timestamps at their edges -------------------------------------------


def _reference_match(pattern: str, text: str) -> bool:
    """A plain reading of the rule, by dynamic programming over (pattern token, text index)."""
    tokens: list[str | None] = []  # None is a star
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\" and i + 1 < len(pattern):
            tokens.append(pattern[i + 1])
            i += 2
        else:
            tokens.append(None if pattern[i] == "*" else pattern[i])
            i += 1
    reachable = {0}
    for token in tokens:
        if token is None:
            reachable = set(range(min(reachable), len(text) + 1)) if reachable else set()
        else:
            reachable = {k + 1 for k in reachable if k < len(text) and text[k] == token}
    return len(text) in reachable


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("*.log", "a.log", True),
        ("*.log", ".log", True),
        ("*.log", "a.log.gz", False),
        ("a*b*c", "abc", True),
        ("a*b*c", "aXbYbZc", True),
        ("a*b*c", "acb", False),
        ("ab*ba", "aba", False),  # prefix and suffix may not overlap
        ("**", "", True),
        ("x\\*", "x*", True),
        ("x\\*", "xy", False),
        ("x\\\\*", "x\\yz", True),  # an escaped backslash, then a star
        ("x\\", "x\\", True),  # a trailing backslash escapes nothing: it is literal
        ("", "", True),
        ("", "a", False),
    ],
)
def test_string_matches_stars_and_escapes(pattern: str, text: str, expected: bool) -> None:
    """``*`` matches any run of characters and a backslash escapes ``*`` or ``\\``.

    https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html (StringMatches).
    """
    assert holds("StringMatches", pattern, text) is expected
    assert _reference_match(pattern, text) is expected


@given(
    st.text(alphabet="ab*\\", max_size=8),
    st.text(alphabet="ab*\\", max_size=10),
)
def test_string_matches_agrees_with_a_plain_reading_of_the_rule(pattern: str, text: str) -> None:
    assert holds("StringMatches", pattern, text) is _reference_match(pattern, text)


def test_string_matches_takes_linear_time_on_adversarial_patterns() -> None:
    # A backtracking regex needs tens of seconds here; a greedy scan needs microseconds.
    text = "a" * 100_000
    started = time.perf_counter()
    assert holds("StringMatches", "*a*a*a*a*a*a*a*b", text) is False
    assert holds("StringMatches", "*a*a*a*a*a*a*a*a", text) is True
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("2016-03-14T01:59:00Z", True),
        ("2016-03-14T01:59:00.123456789+23:59", True),
        ("2016-03-14T01:59:00-00:00", True),
        ("2016-03-14T01:59:00+24:00", False),  # offset hours run 00-23
        ("2016-03-14T01:59:00+05:60", False),  # offset minutes run 00-59
        ("2016-03-14T01:59:00+5:00", False),
        ("2016-03-14T01:59:00+0500", False),
        ("2016-03-14t01:59:00Z", False),  # ASL asks for an uppercase T ...
        ("2016-03-14T01:59:00z", False),  # ... and an uppercase Z
        ("2016-03-14T01:59:60Z", False),
        ("2016-02-30T01:59:00Z", False),
        ("2016-03-14T01:59:00", False),  # an offset is required
        ("2016-03-14T01:59:00.1234567890Z", False),  # at most nanoseconds
    ],
)
def test_is_timestamp_follows_rfc_3339_with_the_asl_restrictions(value: str, valid: bool) -> None:
    """RFC 3339 ``date-time`` (section 5.6: offset hours 00-23, minutes 00-59), uppercase T and Z.

    https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html: "Timestamps must
    conform to RFC3339 profile ISO 8601, with further restrictions that an uppercase T must
    separate the date and time portions, and an uppercase Z must denote that a numeric time
    zone offset is not present".
    """
    assert holds("IsTimestamp", True, value) is valid
    # A timestamp comparison against a malformed value is false, never an error.
    assert holds("TimestampEquals", "2016-03-14T01:59:00Z", value) is (
        valid and value.startswith("2016-03-14T01:59:00") and value[19:] in ("Z", "-00:00")
    )


def test_timestamps_with_offsets_compare_as_instants() -> None:
    assert holds("TimestampEquals", "2016-03-14T01:59:00Z", "2016-03-14T03:29:00+01:30")
    assert holds("TimestampLessThan", "2016-03-14T01:59:00Z", "2016-03-14T01:59:00+00:01")
