"""Replay recorded TestState calls on the engine's ``test_state`` and compare the answers.

A recorded call is a line ``{"id", "request", "response", "transformers"}`` of a ``.jsonl``
file (``tests/conformance/recordings/test_state.jsonl``, whose README says how AWS's answers
were normalised). Each call is made again offline and judged at four levels
(:data:`TEST_STATE_LEVELS`):

- ``status``: SUCCEEDED, FAILED, RETRIABLE or CAUGHT_ERROR as recorded; for a call AWS refused,
  refused with the same error code;
- ``output``: the output, error and cause (JSON text compared as the value it encodes); for a
  refused call, the same message too;
- ``nextState``: the same next state (none for a refused call);
- ``inspection``: the same ``inspectionData``.

An unmocked Task (one that invoked a real Lambda function on AWS) calls a handler registered
on the engine as ``lambda_func_00000001``, doing what the recorded test's function did (the
README names ``id_function`` and ``return_bytes_str``): the engine's Lambda integration, not
the recording, makes the result, so the output and inspection data are the engine's own.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Final

from stepsaga.infra.local.replay._normalise import (
    first_difference,
    normalise_response,
    rename_resources,
)
from stepsaga.infra.local.replay._replay import (
    KNOWN_FUNCTIONS,
    CaseResult,
    ReplayReport,
    is_test_state_call,
    read_lines,
)
from stepsaga.infra.local.stepfunctions import ApiError, LocalStepFunctions
from stepsaga.infra.local.stepfunctions._test_state import test_state as run_test_state

TEST_STATE_LEVELS: Final = ("status", "output", "nextState", "inspection")

# The account of the recordings (their README); the region is the engine's default.
_ACCOUNT: Final = "111111111111"
# The one Lambda function the recorded calls invoke, and what it was in each recorded test
# (its name is the test's function, the id's last part before ``[``): the README says it
# behaves as ``id_function`` or ``return_bytes_str``; the recorded results show which.
_FUNCTION: Final = "lambda_func_00000001"
_FUNCTION_OF_TEST: Final = {
    "test_base_lambda_task_state": "return_bytes_str",
    "test_base_lambda_service_task_state": "id_function",
}


@dataclass(frozen=True)
class TestStateRecord:
    """One recorded TestState call (a line of ``test_state.jsonl``).

    Attributes:
        id: the record's id.
        request: the request as recorded: the definition as an object, ``input``,
            ``variables``, ``context`` and ``mock.result`` as JSON text.
        response: AWS's answer: ``status``, ``output`` ... or, for a refused call, its error
            (``{"Error": {"Code", "Message"}}`` or ``{"exception_typename",
            "exception_value"}``).
        transformers: replacements the recorder applied to the response.
    """

    __test__: ClassVar[bool] = False  # not a pytest test class, whatever its name says

    id: str
    request: Mapping[str, Any]
    response: Mapping[str, Any]
    transformers: list[Mapping[str, Any]] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TestStateRecord:
        """Build a record from one parsed line.

        Raises:
            ValueError: a field is missing or of the wrong JSON type (the message names it).
        """
        for name in ("id", "request", "response"):
            if name not in data:
                raise ValueError(f"no field {name!r}")
        for name in ("request", "response"):
            if not isinstance(data[name], dict):
                raise ValueError(f"field {name!r} must be an object")
        transformers = data.get("transformers") or []
        if not isinstance(transformers, list):
            raise ValueError("field 'transformers' must be an array")
        return cls(str(data["id"]), data["request"], data["response"], list(transformers))

    @property
    def refusal(self) -> tuple[str, str] | None:
        """AWS's error code and message when it refused the call, else None."""
        error = self.response.get("Error")
        if isinstance(error, Mapping):
            return str(error.get("Code", "")), str(error.get("Message", ""))
        if "exception_typename" in self.response:
            text = str(self.response.get("exception_value", ""))
            return str(self.response["exception_typename"]), text.split("operation: ", 1)[-1]
        return None


def load_test_state_records(path: str | Path) -> list[TestStateRecord]:
    """Read the TestState calls of a ``.jsonl`` file, or of every ``.jsonl`` file in a folder.

    Recorded executions in the same files are skipped (``load_records`` reads those).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: a line is not JSON, or not a TestState call (the message names file and
            line).
    """
    records = []
    for where, data in read_lines(path):
        if not is_test_state_call(data):
            continue
        try:
            records.append(TestStateRecord.from_json(data))
        except ValueError as exc:
            raise ValueError(f"{where}: not a recorded TestState call ({exc})") from None
    return records


def replay_test_state_record(record: TestStateRecord) -> CaseResult:
    """Make a recorded call again on a fresh engine and compare with AWS's answer."""
    engine = LocalStepFunctions(account_id=_ACCOUNT)
    behaviour = _FUNCTION_OF_TEST.get(record.id.rsplit("::", 1)[-1].split("[")[0].split("#")[0])
    if behaviour is not None:
        engine.register_lambda(_FUNCTION, KNOWN_FUNCTIONS[behaviour])
    refusal = record.refusal
    try:
        response = run_test_state(engine, _api_request(record.request))
    except ApiError as exc:
        return _judge_refused(record, refusal, (exc.code, _message(exc.message, record, engine)))
    except Exception as exc:  # an engine failure is a difference to report, not a crash
        reason = f"engine: {type(exc).__name__}: {exc}"
        return CaseResult(
            record.id, dict.fromkeys(TEST_STATE_LEVELS, False), reason, refusal is not None
        )
    if refusal is not None:
        return _judge_refused(record, refusal, None, response)
    actual = normalise_response(response, record.transformers, engine.region)
    expected = rename_resources(dict(record.response))
    differences: list[str] = []
    status_ok = actual.get("status") == expected.get("status")
    if not status_ok:
        differences.append(f"status: expected {expected.get('status')}, got {actual.get('status')}")
    output_diff = None
    for name in ("output", "error", "cause"):
        output_diff = output_diff or first_difference(expected.get(name), actual.get(name), name)
    if output_diff:
        differences.append(output_diff)
    next_ok = actual.get("nextState") == expected.get("nextState")
    if not next_ok:
        differences.append(
            f"nextState: expected {expected.get('nextState')}, got {actual.get('nextState')}"
        )
    inspection_diff = first_difference(
        expected.get("inspectionData"), actual.get("inspectionData"), "inspectionData"
    )
    if inspection_diff:
        differences.append(inspection_diff)
    levels = {
        "status": status_ok,
        "output": output_diff is None,
        "nextState": next_ok,
        "inspection": inspection_diff is None,
    }
    return CaseResult(record.id, levels, differences[0] if differences else "", False)


def replay_test_state(
    records: Iterable[TestStateRecord], progress: Callable[[CaseResult], None] | None = None
) -> ReplayReport:
    """Replay TestState ``records`` in order, calling ``progress`` after each case."""
    cases = []
    for record in records:
        case = replay_test_state_record(record)
        cases.append(case)
        if progress is not None:
            progress(case)
    return ReplayReport(cases, TEST_STATE_LEVELS)


def _api_request(recorded: Mapping[str, Any]) -> dict[str, Any]:
    """The request body as the API takes it: the definition as JSON text."""
    request = dict(recorded)
    definition = request.get("definition")
    if not isinstance(definition, str):
        request["definition"] = json.dumps(definition)
    return request


def _message(message: str, record: TestStateRecord, engine: LocalStepFunctions) -> str:
    """A refusal's message in the recording's conventions (its names, partition, region)."""
    normalised = normalise_response({"message": message}, record.transformers, engine.region)
    return str(normalised["message"])


def _judge_refused(
    record: TestStateRecord,
    refusal: tuple[str, str] | None,
    ours: tuple[str, str] | None,
    response: Mapping[str, Any] | None = None,
) -> CaseResult:
    if refusal is None:  # AWS answered, the engine refused
        assert ours is not None
        reason = (
            f"refused: expected status {record.response.get('status')}, got {ours[0]}: {ours[1]}"
        )
        return CaseResult(record.id, dict.fromkeys(TEST_STATE_LEVELS, False), reason, False)
    if ours is None:  # AWS refused, the engine answered
        status = (response or {}).get("status")
        reason = f"expected {refusal[0]} ({refusal[1]}), got status {status}"
        return CaseResult(record.id, dict.fromkeys(TEST_STATE_LEVELS, False), reason, True)
    code_ok = ours[0] == refusal[0]
    message_ok = code_ok and ours[1] == refusal[1]
    reason = ""
    if not code_ok:
        reason = f"error: expected {refusal[0]}, got {ours[0]}: {ours[1]}"
    elif not message_ok:
        reason = f"message: expected {refusal[1]!r}, got {ours[1]!r}"
    levels = {"status": code_ok, "output": message_ok, "nextState": True, "inspection": True}
    return CaseResult(record.id, levels, reason, True)
