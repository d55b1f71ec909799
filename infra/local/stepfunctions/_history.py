"""Execution history, recorded cheaply and rendered as GetExecutionHistory returns it.

Recording an event stores Python values; JSON text (``input``, ``output``, ``parameters``,
``assignedVariables``) is produced only when the history is read, so an execution nobody
inspects pays nothing for serialisation. The engine never mutates a value after handing it to
the history (paths and ResultPath copy on write), which is what makes the deferral safe.

Each read renders anew and nothing rendered is kept: an engine retains many executions, and a
kept rendering would double what each of them holds (and what dropping it costs later).
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any, Final

from stepsaga.infra.local.stepfunctions._errors import InvalidExecutionInput, StatesError
from stepsaga.workflows import facts
from stepsaga.workflows._expressions import JsonValueError, check_json_value, load_json_text
from stepsaga.workflows.facts import MAX_PAYLOAD_BYTES

# Fields whose value is JSON text in the API; their "<field>Details" carries `truncated`.
_JSON_FIELDS: Final = frozenset({"input", "output", "parameters"})
_DETAILS_OF: Final = {"input": "inputDetails", "output": "outputDetails"}


LAST_EVENT_ID: Final = facts.MAX_HISTORY_EVENTS
"""The id of the last event a history may hold: an execution's closing event at the latest."""


def history_full() -> StatesError:
    """The failure of an execution whose next event would be past :data:`LAST_EVENT_ID`.

    AWS fails the execution with it, and its ExecutionFailed is event 25,000: "The execution
    reached the maximum number of history events (25000)." (error ``States.Runtime``, no
    state prefix). https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html
    """
    return StatesError(
        facts.STATES_RUNTIME,
        f"The execution reached the maximum number of history events ({facts.MAX_HISTORY_EVENTS}).",
    )


# Built once: json.dumps() with any argument builds an encoder per call, which costs more
# than encoding a small value.
_ENCODER: Final = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_ENCODER_FRAMES: Final = 100


def to_json(value: Any) -> str:
    """JSON text as Step Functions writes it: compact, UTF-8, keys in insertion order."""
    try:
        return _ENCODER.encode(value)
    except RecursionError:
        # The encoder recurses once a level, within the interpreter's limit wherever the
        # caller stands: a value nested as deep as JSON may be (MAX_JSON_DEPTH) gets room.
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(limit + facts.MAX_JSON_DEPTH + _ENCODER_FRAMES)
        try:
            return _ENCODER.encode(value)
        finally:
            sys.setrecursionlimit(limit)


def over_payload_limit(value: Any) -> bool:
    """Whether ``value`` as compact UTF-8 JSON is over the 256 KiB a payload may hold.

    This runs on every state's new output, so it first bounds the size from above with
    ``repr`` (C, and cheaper than encoding): no character takes more than 4 UTF-8 bytes in
    JSON for each one ``repr`` writes (``"`` is 2 for 1, ``😀`` 4 for 1, U+001F 6 for 4;
    ``repr`` spends more on separators, quotes and ``True`` than JSON does). Only a value the
    bound cannot clear is encoded and measured.
    """
    if value is None or value is True or value is False or type(value) in (int, float):
        return False
    try:
        if 4 * len(repr(value)) <= MAX_PAYLOAD_BYTES:
            return False
    except RecursionError:
        pass  # nested deeper than repr goes: measured below, as the history will write it
    if type(value) is str and len(value) + 2 > MAX_PAYLOAD_BYTES:
        return True  # each character is a byte at least
    text = to_json(value)
    if len(text) * 4 <= MAX_PAYLOAD_BYTES:
        return False
    return len(text.encode("utf-8", "surrogatepass")) > MAX_PAYLOAD_BYTES


def execution_input(input: Any) -> Any:
    """The JSON value StartExecution accepts as ``input`` (None is ``{}``), else why not.

    AWS's StartExecution takes JSON text of at most 262,144 bytes in UTF-8
    (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html,
    "Length constraints apply to the payload size, and are expressed as bytes in UTF-8
    encoding"): a larger or malformed input is refused before anything runs. A Python value
    is measured as the compact JSON text the engine would send.

    Raises:
        InvalidExecutionInput: naming the JSON pointer of the offending value, or the size.
    """
    what = "the execution input"
    try:
        if isinstance(input, str):
            size = len(input.encode("utf-8", "surrogatepass"))
            value = load_json_text(input, what)
        else:
            value = {} if input is None else input
            check_json_value(value, what)
            size = -1 if not over_payload_limit(value) else len(to_json(value).encode())
    except JsonValueError as exc:
        raise InvalidExecutionInput(str(exc), exc.pointer) from None
    if size > facts.MAX_PAYLOAD_BYTES:
        raise InvalidExecutionInput(
            f"{what} is {size:,} bytes of UTF-8 JSON, over the {facts.MAX_PAYLOAD_BYTES:,} "
            "a Step Functions payload may hold"
        )
    return value


def data_limit_exceeded(state_name: str) -> StatesError:
    """The failure of a state whose input or output is over the payload limit.

    The cause names the state, as AWS's does for a state's own output (for a task's result
    it names the resource instead: see the Task step); ``States.ALL`` does not catch it
    (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html,
    "States.DataLimitExceeded").
    """
    return StatesError(
        facts.STATES_DATA_LIMIT_EXCEEDED,
        f"The state/task '{state_name}' returned a result with a size exceeding the maximum "
        "number of bytes service limit.",
    )


def _render_details(details: dict[str, Any], texts: dict[int, str]) -> dict[str, Any]:
    rendered: dict[str, Any] = {}
    for key, value in details.items():
        if key in _JSON_FIELDS:
            # One text per value object: a state's input is most often the previous state's
            # output, the same object, and a loop passes the same values round again. The
            # history keeps every value alive, so an id names one object for the whole render.
            text = texts.get(id(value))
            if text is None:
                text = texts[id(value)] = to_json(value)
            details_key = _DETAILS_OF.get(key)
            truncated = False
            if len(text) * 4 > MAX_PAYLOAD_BYTES:
                encoded = text.encode()
                if len(encoded) > MAX_PAYLOAD_BYTES:
                    text = encoded[:MAX_PAYLOAD_BYTES].decode(errors="ignore")
                    truncated = True
            rendered[key] = text
            if details_key is not None:
                rendered[details_key] = {"truncated": truncated}
        elif key == "assignedVariables":
            rendered[key] = {name: to_json(var) for name, var in value.items()}
            rendered["assignedVariablesDetails"] = {"truncated": False}
        else:
            rendered[key] = value
    return rendered


class History:
    """The events of one execution, in order, with AWS's ids and previousEventIds."""

    __slots__ = ("events",)

    def __init__(self) -> None:
        # (timestamp, type, id, previousEventId, details key, details); the interpreter's hot
        # path appends to this list directly (id == position + 1).
        self.events: list[tuple[datetime, str, int, int, str | None, dict[str, Any] | None]] = []

    @property
    def last_id(self) -> int:
        """The id of the newest event (0 before the first)."""
        return len(self.events)

    def add(
        self,
        timestamp: datetime,
        event_type: str,
        previous: int,
        details_key: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> int:
        """Record an event and return its id.

        Args:
            timestamp: when it happened (the execution's clock).
            event_type: e.g. ``"PassStateEntered"``.
            previous: the ``previousEventId``.
            details_key: e.g. ``"stateEnteredEventDetails"``; None for events without details.
            details: the details, with Python values where the API has JSON text.

        Raises:
            StatesError: :func:`history_full`, when the event would be past the last one the
                execution may record besides its closing event.
        """
        events = self.events
        event_id = len(events) + 1
        if event_id >= LAST_EVENT_ID:
            raise history_full()
        events.append((timestamp, event_type, event_id, previous, details_key, details))
        return event_id

    def note(
        self,
        timestamp: datetime,
        event_type: str,
        previous: int,
        details_key: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> int:
        """Record an event if the history has room left, else nothing; return the last id.

        For the events a failure records on its way out (the states it aborts): the failure
        that stops them is recorded at the close either way, and must not be replaced by the
        history's own.
        """
        if len(self.events) + 1 >= LAST_EVENT_ID:
            return len(self.events)
        return self.add(timestamp, event_type, previous, details_key, details)

    def close(
        self,
        timestamp: datetime,
        event_type: str,
        previous: int,
        details_key: str,
        details: dict[str, Any],
    ) -> int:
        """Record the execution's closing event, which the limit keeps room for."""
        events = self.events
        event_id = len(events) + 1
        events.append((timestamp, event_type, event_id, previous, details_key, details))
        return event_id

    def __len__(self) -> int:
        return len(self.events)

    def types(self) -> list[str]:
        """The event types in order (cheap: renders nothing)."""
        return [event[1] for event in self.events]

    def render(self) -> list[dict[str, Any]]:
        """The events as boto3's ``get_execution_history()["events"]`` holds them (a new list)."""
        rendered = []
        texts: dict[int, str] = {}
        for timestamp, event_type, event_id, previous, key, details in self.events:
            event: dict[str, Any] = {
                "timestamp": timestamp,
                "type": event_type,
                "id": event_id,
                "previousEventId": previous,
            }
            if key is not None:
                event[key] = _render_details(details, texts) if details else {}
            rendered.append(event)
        return rendered
