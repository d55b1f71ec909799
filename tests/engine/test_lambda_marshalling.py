"""Lambda tasks marshal JSON as Lambda does: copies both ways, sizes, headers on the clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from stepsaga.infra.local.stepfunctions import LambdaContext, LocalStepFunctions

INVOKE = "arn:aws:states:::lambda:invoke"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:f"
LIMIT = 256 * 1024
NO_PAYLOAD: dict[str, Any] = {"payload": {}}


def invoke_machine(*names: str) -> dict[str, Any]:
    """Tasks calling function `f` in a row, each keeping its result under `$.<name>`."""
    states: dict[str, Any] = {}
    for position, name in enumerate(names):
        state: dict[str, Any] = {
            "Type": "Task",
            "Resource": INVOKE,
            "Parameters": {"FunctionName": "f", "Payload.$": "$.payload"},
            "ResultPath": f"$.{name}",
        }
        if position == len(names) - 1:
            state["End"] = True
        else:
            state["Next"] = names[position + 1]
        states[name] = state
    return {"StartAt": names[0], "States": states}


def arn_machine() -> dict[str, Any]:
    return {
        "StartAt": "T",
        "States": {"T": {"Type": "Task", "Resource": FUNCTION_ARN, "End": True}},
    }


def engine(handler: Any) -> LocalStepFunctions:
    sfn = LocalStepFunctions(seed=7)
    sfn.register_lambda("f", handler)
    return sfn


# JSON-ish values as a Python caller may hand them over: tuples and int keys included, which
# JSON turns into lists and string keys.
_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(st.text(max_size=5) | st.integers(), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None)
@given(payload=_values, result=_values)
def test_handler_sees_and_returns_json_as_a_round_trip_would(payload: Any, result: Any) -> None:
    # GIVEN a handler that mutates whatever it receives and returns `result`
    seen: list[Any] = []

    def handler(event: Any, context: Any) -> Any:
        seen.append(json.dumps(event))
        if isinstance(event, dict):
            event["mutated"] = True
        elif isinstance(event, list):
            event.append("mutated")
        return result

    # WHEN a task sends it `payload`
    ex = engine(handler).run(invoke_machine("T"), {"payload": payload})

    # THEN the handler got the payload as parsed JSON (a null payload is none, which Lambda
    # hands over as {}: services.jsonl's TestTaskServiceLambda::test_invoke), the result came
    # back the same way, and the handler's mutation reached neither the state's data nor its
    # history
    assert seen == [json.dumps({} if payload is None else json.loads(json.dumps(payload)))]
    assert ex.status == "SUCCEEDED"
    assert json.dumps(ex.output["T"]["Payload"]) == json.dumps(json.loads(json.dumps(result)))
    assert json.dumps(ex.output["payload"]) == json.dumps(payload)
    scheduled = next(e for e in ex.history if e["type"] == "TaskScheduled")
    parameters = json.loads(scheduled["taskScheduledEventDetails"]["parameters"])
    assert parameters["Payload"] == json.loads(json.dumps(payload))


def test_a_result_changed_after_the_handler_returned_does_not_reach_the_execution() -> None:
    # GIVEN a handler that returns one shared object and changes it on each call
    shared: dict[str, Any] = {"calls": []}

    def handler(event: Any, context: Any) -> Any:
        shared["calls"].append(len(shared["calls"]))
        return shared

    # WHEN two tasks call it
    ex = engine(handler).run(invoke_machine("A", "B"), {"payload": {}})

    # THEN each task kept what the handler returned at the time
    assert ex.output["A"]["Payload"] == {"calls": [0]}
    assert ex.output["B"]["Payload"] == {"calls": [0, 1]}


def test_an_unmarshallable_result_fails_with_runtime_marshal_error() -> None:
    ex = engine(lambda event, context: {"tags": {"a", "b"}}).run(invoke_machine("T"), NO_PAYLOAD)
    assert ex.error == "Runtime.MarshalError"
    assert ex.cause is not None
    assert "Object of type set is not JSON serializable" in json.loads(ex.cause)["errorMessage"]


def test_content_length_counts_the_body_lambda_sends() -> None:
    # Lambda's body is compact JSON with non-ASCII characters escaped.
    for payload in ({"name": "Ada"}, {"name": "Zoë ✓"}):
        ex = engine(lambda event, context, p=payload: p).run(invoke_machine("T"), NO_PAYLOAD)
        headers = ex.output["T"]["SdkHttpMetadata"]["HttpHeaders"]
        body = json.dumps(payload, separators=(",", ":")).encode()
        assert headers["Content-Length"] == str(len(body))
        all_headers = ex.output["T"]["SdkHttpMetadata"]["AllHttpHeaders"]
        assert all_headers["Content-Length"] == [str(len(body))]


def test_date_header_and_log_stream_follow_the_virtual_clock() -> None:
    # GIVEN a handler that spends 50 000 virtual seconds per call
    streams: list[str] = []

    def handler(event: Any, context: LambdaContext) -> Any:
        streams.append(context.log_stream_name)
        context.elapse(50_000)
        return None

    sfn = LocalStepFunctions(start_time=datetime(2025, 3, 4, 12, 0, 0, 500_000, tzinfo=UTC))
    sfn.register_lambda("f", handler)
    # WHEN two tasks run one after the other
    ex = sfn.run(invoke_machine("A", "B"), NO_PAYLOAD)

    # THEN each response is dated when its call was made, and each log stream by its day
    dates = [ex.output[name]["SdkHttpMetadata"]["HttpHeaders"]["Date"] for name in ("A", "B")]
    assert dates == ["Tue, 04 Mar 2025 12:00:00 GMT", "Wed, 05 Mar 2025 01:53:20 GMT"]
    assert [stream[:11] for stream in streams] == ["2025/03/04/", "2025/03/05/"]


def _succeeded_size(ex: Any) -> int:
    """The UTF-8 size of the task result the history shows (its compact JSON text)."""
    event = next(e for e in ex.history if e["type"] in ("TaskSucceeded", "LambdaFunctionSucceeded"))
    details = event.get("taskSucceededEventDetails") or event["lambdaFunctionSucceededEventDetails"]
    return len(details["output"].encode())


def _largest_filler(machine: dict[str, Any], char: str) -> int:
    """The most `char`s a payload can hold while the task result stays within the limit."""
    width = len(char.encode())
    count = 10
    for _ in range(8):
        ex = engine(lambda event, context, s=char * count: {"s": s}).run(machine, NO_PAYLOAD)
        if ex.status != "SUCCEEDED":  # overshot: the Content-Length header grew digits too
            count -= 64
            continue
        size = _succeeded_size(ex)
        if LIMIT - width < size <= LIMIT:
            return count
        count += (LIMIT - size) // width
    raise AssertionError("did not converge")


def test_results_up_to_256_kib_pass_and_a_byte_more_fails() -> None:
    # The limit is on the whole task result: for lambda:invoke, the response around the
    # payload too; for a function ARN, the function's value. ASCII and multi-byte payloads.
    for machine, char in (
        (invoke_machine("T"), "x"),
        (invoke_machine("T"), "é"),
        (arn_machine(), "x"),
        (arn_machine(), "€"),
    ):
        count = _largest_filler(machine, char)
        fits = engine(lambda event, context, s=char * count: {"s": s}).run(machine, NO_PAYLOAD)
        assert fits.status == "SUCCEEDED", (machine, char)
        assert LIMIT - len(char.encode()) < _succeeded_size(fits) <= LIMIT
        one_more = char * (count + 1)
        over = engine(lambda event, context, s=one_more: {"s": s}).run(machine, NO_PAYLOAD)
        assert over.error == "States.DataLimitExceeded", (machine, char)
