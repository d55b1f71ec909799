"""Replay recorded executions on the engine and compare them at four levels."""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from stepsaga.infra.local.replay._normalise import first_difference, json_equal, normalise_history
from stepsaga.infra.local.stepfunctions import (
    Execution,
    LocalStepFunctions,
    TaskCall,
    TaskOutcome,
)
from stepsaga.workflows._expressions import JsonValueError, load_json_text

LEVELS: Final = ("status", "output", "types", "full")
_ACTIVITY: Final = re.compile(r"^arn:[^:]+:states:[^:]+:[^:]+:activity:.+$")

_SUCCEEDED: Final = frozenset({"TaskSucceeded", "LambdaFunctionSucceeded"})
_FAILED: Final = frozenset({"TaskFailed", "LambdaFunctionFailed"})
_TIMED_OUT: Final = frozenset({"TaskTimedOut", "LambdaFunctionTimedOut"})


@dataclass(frozen=True)
class Record:
    """One recorded execution (a line of a ``.jsonl`` recording).

    Attributes:
        id: the record's id.
        definition: the ASL definition.
        input: the execution input as JSON text.
        status: the recorded status.
        history: the recorded events, or None when only the output was recorded.
        output: the recorded output (only for records without history).
        transformers: replacements the recorder applied to its history.
        lambdas: function placeholder → what that function did (``id_function``, ...).
    """

    id: str
    definition: Mapping[str, Any]
    input: str
    status: str
    history: list[dict[str, Any]] | None
    output: Any = None
    transformers: list[Mapping[str, Any]] = field(default_factory=list)
    lambdas: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Record:
        """Build a record from one parsed line.

        Raises:
            ValueError: a field is missing or of the wrong JSON type (the message names it).
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"a record is a JSON object, got {_json_kind(data)}")
        for name in ("id", "definition", "status"):
            if name not in data:
                raise ValueError(f"no field {name!r}")
        expected: dict[str, tuple[type, ...]] = {
            "definition": (dict,),
            "input": (str, type(None)),
            "status": (str,),
            "history": (list, type(None)),
            "transformers": (list, type(None)),
            "lambdas": (dict, type(None)),
        }
        for name, types in expected.items():
            if name in data and not isinstance(data[name], types):
                raise ValueError(f"field {name!r} cannot be {_json_kind(data[name])}")
        history = data.get("history")
        if history is not None and not all(isinstance(event, dict) for event in history):
            raise ValueError("field 'history' must be a list of events (objects)")
        return cls(
            id=str(data["id"]),
            definition=data["definition"],
            input=data.get("input") or "{}",
            status=data["status"],
            history=history,
            output=data.get("output"),
            transformers=list(data.get("transformers") or []),
            lambdas=dict(data.get("lambdas") or {}),
        )


def _json_kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), "null" if value is None else "a number"
    )


@dataclass(frozen=True)
class CaseResult:
    """How one replayed execution compares with its recording.

    Attributes:
        id: the record's id.
        levels: ``status``, ``output``, ``types``, ``full`` → whether that level matches (a
            TestState call's levels are ``TEST_STATE_LEVELS``).
        first_difference: the first difference found, "" when everything matches.
        refused: for a TestState call, whether AWS refused it (None for an execution).
    """

    id: str
    levels: dict[str, bool]
    first_difference: str
    refused: bool | None = None

    def to_json(self) -> dict[str, Any]:
        """The case as the ``--json`` report lists it."""
        case: dict[str, Any] = {
            "id": self.id,
            "levels": self.levels,
            "first_difference": self.first_difference,
        }
        if self.refused is not None:
            case["refused"] = self.refused
        return case


@dataclass(frozen=True)
class ReplayReport:
    """The outcome of replaying a set of recordings.

    Attributes:
        cases: each case, in order.
        levels: the levels its cases are judged at (executions' :data:`LEVELS`, or TestState
            calls' ``TEST_STATE_LEVELS``).
    """

    cases: list[CaseResult]
    levels: tuple[str, ...] = LEVELS

    @property
    def total(self) -> int:
        """How many records were replayed."""
        return len(self.cases)

    def passed(self, level: str) -> int:
        """How many cases match at ``level``."""
        return sum(1 for case in self.cases if case.levels[level])

    def rate(self, level: str) -> float:
        """The share of cases matching at ``level`` (0..1)."""
        return self.passed(level) / self.total if self.cases else 0.0

    def to_json(self) -> dict[str, Any]:
        """``{"total", <each level>: count, "cases": [...]}``.

        For TestState calls, also ``"answered"`` and ``"refused"``: the same counts over the
        calls AWS answered and over those it refused (``code`` and ``message`` there: how many
        were refused with AWS's error code, and with its message too).
        """
        report: dict[str, Any] = {"total": self.total}
        for level in self.levels:
            report[level] = self.passed(level)
        if any(case.refused is not None for case in self.cases):
            answered = [case for case in self.cases if not case.refused]
            refused = [case for case in self.cases if case.refused]
            report["answered"] = {"total": len(answered)} | {
                level: sum(case.levels[level] for case in answered) for level in self.levels
            }
            report["refused"] = {
                "total": len(refused),
                "code": sum(case.levels["status"] for case in refused),
                "message": sum(case.levels["output"] for case in refused),
            }
        report["cases"] = [case.to_json() for case in self.cases]
        return report


def load_records(path: str | Path) -> list[Record]:
    """Read the records of a ``.jsonl`` file, or of every ``.jsonl`` file in a folder.

    TestState recordings (``{"request", "response"}`` lines) are not executions and are skipped.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: a line is not a record, or not JSON, or not UTF-8 text (the message names
            file and line).
    """
    records = []
    for where, data in read_lines(path):
        if is_test_state_call(data):
            continue  # a TestState call (test_state.jsonl), not an execution
        try:
            records.append(Record.from_json(data))
        except ValueError as exc:
            raise ValueError(f"{where}: not a recorded execution ({exc})") from None
    return records


def is_test_state_call(data: Any) -> bool:
    """Whether a recorded line is a TestState call (``{"request", "response"}``)."""
    return isinstance(data, dict) and "request" in data and "response" in data


def read_lines(path: str | Path) -> Iterator[tuple[str, Any]]:
    """Each JSON line of a ``.jsonl`` file, or of every ``.jsonl`` file in a folder.

    Yields ``("file:line", parsed value)``.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: a line is not JSON, or not UTF-8 text (the message names file and line).
    """
    root = Path(path)
    files = sorted(root.glob("*.jsonl")) if root.is_dir() else [root]
    for file in files:
        # Bytes, split on newlines only: a binary or mis-encoded file fails on its own line.
        for number, line in enumerate(file.read_bytes().split(b"\n"), 1):
            if not line.strip():
                continue
            where = f"{file}:{number}"
            try:
                data = load_json_text(line, f"line {number}")
            except JsonValueError as exc:
                raise ValueError(f"{where}: not JSON ({exc.reason})") from None
            yield where, data


def recorded_outcomes(history: Iterable[Mapping[str, Any]]) -> list[TaskOutcome]:
    """The outcome of every task attempt a recorded history holds, in order."""
    outcomes = []
    submitted: Any = None
    for event in history:
        kind = event.get("type", "")
        if kind == "TaskSubmitted":
            submitted = _as_value(_details(event).get("output"))
        elif kind in _SUCCEEDED:
            details = _details(event)
            output = _as_value(details.get("output"))
            outcomes.append(TaskOutcome.success(output, submitted=submitted))
            submitted = None
        elif kind in _FAILED:
            details = _details(event)
            cause = details.get("cause")
            if cause is not None and not isinstance(cause, str):
                cause = json.dumps(cause, separators=(",", ":"))
            # A failure may name no error (SendTaskFailure without one): keep it None.
            error = details.get("error")
            outcomes.append(TaskOutcome.failure(error, cause, submitted=submitted))
            submitted = None
        elif kind in _TIMED_OUT:
            outcomes.append(TaskOutcome.timeout(submitted=submitted))
            submitted = None
    return outcomes


def recorded_activities(
    history: Iterable[Mapping[str, Any]],
) -> list[tuple[str | None, TaskOutcome]]:
    """Each activity task a recorded history holds, in order: (worker name, outcome).

    The replay's workers take each task with the recorded worker name and answer it as the
    recorded worker did (a timeout: they leave it unanswered).
    """
    tasks = []
    worker = None
    for event in history:
        kind = event.get("type", "")
        details = _details(event)
        if kind == "ActivityStarted":
            worker = details.get("workerName")
        elif kind == "ActivitySucceeded":
            tasks.append((worker, TaskOutcome.success(_as_value(details.get("output")))))
        elif kind == "ActivityFailed":
            tasks.append((worker, TaskOutcome.failure(details.get("error"), details.get("cause"))))
        elif kind == "ActivityTimedOut":
            tasks.append((worker, TaskOutcome.timeout()))
    return tasks


def _activity_arns(definition: Any) -> set[str]:
    """The activity ARNs a definition's Tasks name (in branches and Map bodies too)."""
    found: set[str] = set()
    if isinstance(definition, Mapping):
        resource = definition.get("Resource")
        if isinstance(resource, str) and _ACTIVITY.match(resource):
            found.add(resource)
        for value in definition.values():
            found |= _activity_arns(value)
    elif isinstance(definition, list):
        for value in definition:
            found |= _activity_arns(value)
    return found


def _drive(
    engine: LocalStepFunctions,
    execution: Execution,
    activities: deque[tuple[str | None, TaskOutcome]],
) -> None:
    """Drive the execution to its end, answering its activity tasks as recorded."""
    while execution.status == "RUNNING":
        waiting = [
            task.activity_arn
            for task in engine.pending_tasks(execution)
            if task.activity_arn is not None and task.worker_name is None
        ]
        if not (waiting and activities):
            engine.wait(execution)
            return
        worker, outcome = activities.popleft()
        task = engine.get_activity_task(waiting[0], worker_name=worker)
        if task is None or outcome.timed_out:
            continue  # left unanswered: the engine times it out
        if outcome.is_failure:
            engine.send_task_failure(task.token, error=outcome.error, cause=outcome.cause)
        else:
            engine.send_task_success(task.token, json.dumps(outcome.output))


def _details(event: Mapping[str, Any]) -> Mapping[str, Any]:
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, Mapping):
            return value
    return {}


def _as_value(output: Any) -> Any:
    if isinstance(output, str):
        try:
            return json.loads(output)
        except ValueError:
            return output
    return output


class _RecordedTasks:
    """A task mock answering each attempt with the next outcome of a recording."""

    def __init__(self, outcomes: list[TaskOutcome]) -> None:
        self._outcomes = deque(outcomes)

    def __call__(self, call: TaskCall) -> TaskOutcome | None:
        # Tasks of child executions (distributed Map) are not in the parent's history: those
        # fall through to the functions the recording describes (see KNOWN_FUNCTIONS).
        # Activity tasks go to the engine's workers (see _drive).
        if _ACTIVITY.match(call.resource):
            return None
        return self._outcomes.popleft() if self._outcomes else None


def _identity(event: Any, context: Any) -> Any:
    return event


def _raise_exception(event: Any, context: Any) -> Any:
    raise Exception("Some exception was raised.")


def _return_bytes_str(event: Any, context: Any) -> Any:
    return "HelloWorld!"  # the function returns the bytes of this JSON string


# What the recordings' functions did (conformance README, "lambdas").
KNOWN_FUNCTIONS: Final[dict[str, Callable[[Any, Any], Any]]] = {
    "id_function": _identity,
    "raise_exception": _raise_exception,
    "return_bytes_str": _return_bytes_str,
}


def replay_record(record: Record) -> CaseResult:
    """Run a record's definition on the engine and compare with what was recorded."""
    names = _recorded_names(record.transformers)
    engine = LocalStepFunctions(account_id="111111111111", role_arn=names["snf_role_arn"])
    engine.mock_tasks(_RecordedTasks(recorded_outcomes(record.history or [])))
    for placeholder, behaviour in record.lambdas.items():
        function = KNOWN_FUNCTIONS.get(behaviour)
        if function is not None:
            engine.register_lambda(placeholder, function)
    activities = recorded_activities(record.history or [])
    if any(event.get("type") == "ActivityScheduled" for event in record.history or []):
        # The activity existed when the recording ran (else the recording shows it missing).
        for arn in _activity_arns(record.definition):
            engine.create_activity(arn.rsplit(":", 1)[1])
    try:
        execution = engine.start(
            record.definition,
            record.input,
            name=names["<ExecArnPart_0idx>"],
            state_machine_name=names["<ArnPart_0idx>"],
        )
        _drive(engine, execution, deque(activities))
    except Exception as exc:  # an engine failure is a difference to report, not a crash
        reason = f"engine: {type(exc).__name__}: {exc}"
        return CaseResult(record.id, dict.fromkeys(LEVELS, False), reason)
    differences: list[str] = []
    status_ok = execution.status == record.status
    if not status_ok:
        differences.append(f"status: expected {record.status}, got {execution.status}")
    if record.history is None:
        if execution.status == "SUCCEEDED":
            output_ok = json_equal(record.output, execution.output)
            if not output_ok:
                differences.append(
                    "output" + (first_difference(record.output, execution.output) or "")
                )
        else:
            output_ok = False
            differences.append(f"output: {execution.error}: {execution.cause}")
        levels = {"status": status_ok, "output": output_ok}
        levels["types"] = levels["full"] = status_ok and output_ok
        return CaseResult(record.id, levels, differences[0] if differences else "")
    actual = normalise_history(execution.history, record.transformers)
    expected = record.history
    output_diff = first_difference(_closing(expected), _closing(actual), "output")
    if output_diff:
        differences.append(output_diff)
    types_ok = [e.get("type") for e in expected] == [e.get("type") for e in actual]
    if not types_ok:
        differences.append(_type_difference(expected, actual))
    full_diff = None
    for index, (want, got) in enumerate(zip(expected, actual, strict=False)):
        full_diff = first_difference(want, got, f"event[{index}]({want.get('type')})")
        if full_diff:
            break
    if full_diff is None and len(expected) != len(actual):
        full_diff = f"events: expected {len(expected)}, got {len(actual)}"
    if full_diff:
        differences.append(full_diff)
    levels = {
        "status": status_ok,
        "output": output_diff is None,
        "types": types_ok,
        "full": full_diff is None,
    }
    return CaseResult(record.id, levels, differences[0] if differences else "")


def _recorded_names(transformers: list[Mapping[str, Any]]) -> dict[str, str]:
    """The execution, state machine and role names the recording ran with.

    When the recorder replaced real names by placeholders, its transformers say which; the
    replay runs under those real names so that the same replacements apply. Otherwise the
    placeholders themselves serve as names.
    """
    names = {key: key for key in ("<ExecArnPart_0idx>", "<ArnPart_0idx>", "snf_role_arn")}
    for transformer in transformers:
        replacement = transformer.get("replacement")
        regex = transformer.get("regex")
        if replacement in names and isinstance(regex, str) and names[replacement] == replacement:
            names[replacement] = regex
    return names


def _closing(events: list[dict[str, Any]]) -> Any:
    """The final output, or error and cause, from a history's closing event."""
    if not events:
        return None
    details = dict(_details(events[-1]))
    details.pop("outputDetails", None)
    return {"type": events[-1].get("type"), **details}


def _type_difference(expected: list[dict[str, Any]], actual: list[dict[str, Any]]) -> str:
    for index, (want, got) in enumerate(zip(expected, actual, strict=False)):
        if want.get("type") != got.get("type"):
            return f"types[{index}]: expected {want.get('type')}, got {got.get('type')}"
    return f"types: expected {len(expected)} events, got {len(actual)}"


def replay(
    records: Iterable[Record], progress: Callable[[CaseResult], None] | None = None
) -> ReplayReport:
    """Replay ``records`` in order, calling ``progress`` after each case."""
    cases = []
    for record in records:
        case = replay_record(record)
        cases.append(case)
        if progress is not None:
            progress(case)
    return ReplayReport(cases)
