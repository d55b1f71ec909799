"""Round trip: any valid definition parses, validates, and is emitted back unchanged."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stepsaga.workflows.asl import parse_definition

Json = Any

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
json_values: st.SearchStrategy[Json] = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
paths = st.sampled_from(["$", "$.a", "$.a.b[0]", "$['odd key']", "$.list[2].x"])
nullable_paths = st.none() | paths
comments = st.text(max_size=20)
errors = st.sampled_from(["States.TaskFailed", "States.Timeout", "Custom.Error", "Lambda.Unknown"])


def retriers() -> st.SearchStrategy[list[dict[str, Json]]]:
    one = st.fixed_dictionaries(
        {"ErrorEquals": st.lists(errors, min_size=1, max_size=2, unique=True)},
        optional={
            "IntervalSeconds": st.integers(1, 60),
            "MaxAttempts": st.integers(0, 10),
            "BackoffRate": st.sampled_from([1, 1.0, 1.5, 2, 2.0]),
            "MaxDelaySeconds": st.integers(1, 600),
            "JitterStrategy": st.sampled_from(["FULL", "NONE"]),
            "Comment": comments,
        },
    )
    return st.lists(one, min_size=1, max_size=2)


def jsonpath_io() -> dict[str, st.SearchStrategy[Json]]:
    return {"Comment": comments, "InputPath": nullable_paths, "OutputPath": nullable_paths}


def parameters() -> st.SearchStrategy[dict[str, Json]]:
    return st.dictionaries(st.sampled_from(["a", "b.$", "c"]), paths, max_size=3).map(
        lambda d: {k: v if k.endswith(".$") else {"literal": v} for k, v in d.items()}
    )


@st.composite
def jsonpath_state(draw: st.DrawFn, name: str, follower: str | None, sink: str) -> dict[str, Json]:
    """A JSONPath state going to ``follower`` (None: it must end); catchers go to ``sink``."""
    kinds = ["Pass", "Task", "Wait", "Parallel", "Map"]
    kinds += ["Choice"] if follower else ["Succeed", "Fail"]
    kind = draw(st.sampled_from(kinds))
    optional = jsonpath_io()
    state: dict[str, Json] = {"Type": kind}
    if kind == "Pass":
        optional |= {
            "Result": json_values,
            "ResultPath": nullable_paths,
            "Parameters": parameters(),
        }
    elif kind == "Task":
        state["Resource"] = draw(
            st.sampled_from(["arn:aws:states:::lambda:invoke", "${ChargeFunctionArn}"])
        )
        optional |= {
            "Parameters": parameters(),
            "ResultSelector": parameters(),
            "ResultPath": nullable_paths,
            "TimeoutSeconds": st.integers(100, 200),
            "HeartbeatSeconds": st.integers(1, 99),
            "Retry": retriers(),
            "Catch": st.just(
                [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": sink}]
            ),
        }
    elif kind == "Wait":
        state.update(
            draw(
                st.sampled_from(
                    [
                        {"Seconds": 0},
                        {"Seconds": 5},
                        {"Timestamp": "2026-01-31T08:00:00Z"},
                        {"SecondsPath": "$.wait"},
                        {"TimestampPath": "$.at"},
                    ]
                )
            )
        )
    elif kind == "Parallel":
        state["Branches"] = [
            {"StartAt": f"{name}.b{i}", "States": {f"{name}.b{i}": {"Type": "Pass", "End": True}}}
            for i in range(draw(st.integers(1, 2)))
        ]
        optional |= {"ResultPath": nullable_paths, "Retry": retriers()}
    elif kind == "Map":
        body = {"StartAt": f"{name}.item", "States": {f"{name}.item": {"Type": "Succeed"}}}
        state["ItemProcessor" if draw(st.booleans()) else "Iterator"] = body
        optional |= {
            "ItemsPath": paths,
            "ItemSelector": parameters(),
            "MaxConcurrency": st.integers(0, 10),
            "ResultPath": nullable_paths,
        }
    elif kind == "Choice":
        state["Choices"] = [
            draw(
                st.sampled_from(
                    [
                        {"Variable": "$.n", "NumericLessThan": 1.5, "Next": follower},
                        {"Not": {"Variable": "$.s", "StringMatches": "a*"}, "Next": follower},
                        {
                            "And": [
                                {"Variable": "$.t", "IsPresent": True},
                                {"Variable": "$.t", "TimestampEqualsPath": "$.u"},
                            ],
                            "Next": follower,
                        },
                    ]
                )
            )
        ]
        state["Default"] = follower
    elif kind == "Fail":
        optional = {"Error": st.text(max_size=8), "CausePath": paths, "Comment": comments}
    state.update(draw(st.fixed_dictionaries({}, optional=optional)))
    if kind in ("Pass", "Task", "Wait", "Parallel", "Map"):
        if follower is None:
            state["End"] = True
        else:
            state["Next"] = follower
    return state


@st.composite
def jsonpath_machines(draw: st.DrawFn) -> dict[str, Json]:
    names = draw(
        st.lists(
            st.text(min_size=1, max_size=12).filter(lambda n: "." not in n),
            min_size=1,
            max_size=5,
            unique=True,
        )
    )
    sink = names[-1]
    states = {
        name: draw(jsonpath_state(name, names[i + 1] if i + 1 < len(names) else None, sink))
        for i, name in enumerate(names)
    }
    top = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "Comment": comments,
                "Version": st.just("1.0"),
                "TimeoutSeconds": st.integers(1, 3600),
                "QueryLanguage": st.just("JSONPath"),
            },
        )
    )
    return {**top, "StartAt": names[0], "States": states}


@st.composite
def jsonata_machines(draw: st.DrawFn) -> dict[str, Json]:
    expressions = st.sampled_from(
        ["{% $states.input %}", "{% $x + 1 %}", "literal", "{% [1, 2] %}"]
    )
    payload = st.dictionaries(st.sampled_from(["a", "b"]), expressions | json_values, max_size=2)
    optional: dict[str, st.SearchStrategy[Json]] = {
        "Output": expressions | payload,
        "Assign": st.dictionaries(st.sampled_from(["x", "total", "_tmp"]), expressions, max_size=2),
        "Comment": comments,
    }
    task: dict[str, Json] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Next": "Route",
    }
    task |= draw(st.fixed_dictionaries({}, optional=optional | {"Arguments": payload}))
    route = {
        "Type": "Choice",
        "Choices": [{"Condition": "{% $states.input.ok %}", "Next": "Done"}],
        "Default": "Done",
    }
    done = {"Type": "Pass", "End": True} | draw(st.fixed_dictionaries({}, optional=optional))
    return {
        "QueryLanguage": "JSONata",
        "StartAt": "Call",
        "States": {"Call": task, "Route": route, "Done": done},
    }


ROUND_TRIP = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@ROUND_TRIP
@given(jsonpath_machines() | jsonata_machines())
def test_valid_definition_round_trips_unchanged(definition: dict[str, Json]) -> None:
    # GIVEN a valid definition WHEN it is parsed (with full validation) and emitted
    machine = parse_definition(definition)
    # THEN the mapping, the indented JSON and the compact JSON all give the input back
    assert machine.to_dict() == definition
    assert json.loads(machine.to_json()) == definition
    assert parse_definition(machine.to_json(indent=None)).to_dict() == definition


@ROUND_TRIP
@given(jsonpath_machines())
def test_emitted_json_is_canonical(definition: dict[str, Json]) -> None:
    # Emitting twice gives the same text: parse(emit(x)) emits emit(x) again, byte for byte.
    text = parse_definition(definition).to_json()
    assert parse_definition(text).to_json() == text


def test_integers_and_floats_keep_their_json_form() -> None:
    # BackoffRate 2 and 2.0 are different JSON texts; emitting must not turn one into the other.
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Retry": [
                    {"ErrorEquals": ["A"], "BackoffRate": 2},
                    {"ErrorEquals": ["B"], "BackoffRate": 2.0},
                ],
                "End": True,
            }
        },
    }
    text = parse_definition(definition).to_json(indent=None)
    assert '"BackoffRate":2}' in text and '"BackoffRate":2.0}' in text
