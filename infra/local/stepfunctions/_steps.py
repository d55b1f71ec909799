"""The plan of each state kind and how it runs: Pass, Succeed, Fail, Choice and Wait.

A state's plan is built once from the validated ASL model (``_plan``). Each kind runs its
own logic, reading and writing data through its query language (``_dataflow``); the state's
lifecycle around it (entered and exited events, retries, catchers) is the execution's
(``_execution``). States that never wait (Pass, Succeed, Fail, Choice) run as a call,
:meth:`StateStep.execute`; those that can (Wait, Task, Parallel, Map) run as a coroutine,
:meth:`StateStep.attempt`, one per attempt.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from stepsaga.infra.local.stepfunctions._dataflow import (
    KEEP,
    QueryLanguage,
    field_text,
    show,
    wait_until,
)
from stepsaga.infra.local.stepfunctions._errors import StatesError
from stepsaga.infra.local.stepfunctions._observe import Transition
from stepsaga.infra.local.stepfunctions._scheduler import Sleep, StrandBody
from stepsaga.workflows import facts
from stepsaga.workflows._expressions import EvaluationError, EvaluationScope

if TYPE_CHECKING:
    from stepsaga.infra.local.stepfunctions._execution import Run
    from stepsaga.infra.local.stepfunctions._scheduler import Strand

Edge = tuple["StateStep | None", Transition]
"""Where a state goes: the next state (None: its scope ends) and the transition taken."""

Attempt = tuple[Any, Edge, Any]
"""What running a state gives: its output, the edge it takes and its assignments (or None)."""


class StateStep:
    """A compiled state: what it reads and writes, where it goes, and how it runs.

    The data-flow fields (``input_path`` ... ``assign``) are set by the state's query
    language; the fields a kind or a language does not use stay at KEEP or None.

    Attributes:
        name: the state's name.
        kind: its ``Type``.
        pointer: its JSON pointer in the whole definition.
        scope: the JSON pointer of the graph it belongs to ("" for the top level).
        language: its query language.
        next: the edge it takes when it succeeds (resolved once the graph is built).
        retriers: its Retry entries.
        catchers: its Catch entries.
        uses_context: whether it reads the context object (``$$``), built only then.
    """

    __slots__ = (
        "assign",
        "catchers",
        "entered_type",
        "exited_type",
        "fail_transition",
        "input_path",
        "kind",
        "language",
        "name",
        "next",
        "next_name",
        "output",
        "output_path",
        "parameters",
        "pointer",
        "result",
        "result_path",
        "result_selector",
        "retriers",
        "scope",
        "uses_context",
    )

    waits: ClassVar[bool] = False
    """Whether the kind runs as a coroutine (:meth:`attempt`) rather than a call."""
    abort_event: ClassVar[str | None] = None
    """The event recorded when the state is stopped because a sibling branch failed."""

    def __init__(self, name: str, kind: str, pointer: str, scope: str, language: QueryLanguage):
        self.name = name
        self.kind = kind
        self.pointer = pointer
        self.scope = scope
        self.language = language
        self.entered_type = f"{kind}StateEntered"
        self.exited_type = f"{kind}StateExited"
        self.next_name: str | None = None
        self.next: Edge = (None, Transition(scope, name, None, "End"))
        self.fail_transition = Transition(scope, name, None, "Fail")
        self.retriers: tuple[RetryRule, ...] = ()
        self.catchers: tuple[CatchRule, ...] = ()
        self.uses_context = language.name == "JSONata"
        self.input_path: Any = KEEP
        self.output_path: Any = KEEP
        self.result_path: Any = KEEP
        self.result_selector: Any = None
        self.parameters: Any = None
        self.result: Any = KEEP
        self.output: Any = None
        self.assign: Any = None

    def execute(self, run: Run, data: Any, strand: Strand) -> Attempt:
        """Run a state that never waits."""
        raise NotImplementedError

    def attempt(self, run: Run, data: Any, strand: Strand, retry_count: int) -> StrandBody:
        """Run one attempt of a state that can wait (a coroutine returning an Attempt)."""
        raise NotImplementedError

    def aborted(self, now: datetime, strand: Strand) -> None:
        """Record that the state was stopped because a sibling branch failed."""
        if self.abort_event is not None:
            strand.cursor = strand.history.add(now, self.abort_event, strand.cursor)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r} at {self.pointer!r})"


class RetryRule:
    """One ``Retry`` entry, and the transition a retry takes."""

    __slots__ = (
        "backoff_rate",
        "errors",
        "interval",
        "jitter_full",
        "matches_all",
        "max_attempts",
        "max_delay",
        "transition",
    )

    def __init__(
        self,
        errors: list[str],
        interval: float,
        max_attempts: int,
        backoff_rate: float,
        max_delay: float | None,
        jitter_full: bool,
        transition: Transition,
    ) -> None:
        self.errors = frozenset(errors)
        self.matches_all = facts.STATES_ALL in self.errors
        self.interval = interval
        self.max_attempts = max_attempts
        self.backoff_rate = backoff_rate
        self.max_delay = max_delay
        self.jitter_full = jitter_full
        self.transition = transition


class CatchRule:
    """One ``Catch`` entry: its data flow (per query language) and where it goes."""

    __slots__ = ("assign", "edge", "errors", "matches_all", "next_name", "output", "result_path")

    def __init__(self, errors: list[str], next_name: str) -> None:
        self.errors = frozenset(errors)
        self.matches_all = facts.STATES_ALL in self.errors
        self.next_name = next_name
        self.edge: Edge | None = None
        self.result_path: Any = KEEP
        self.output: Any = None
        self.assign: Any = None


def matches(errors: frozenset[str], matches_all: bool, failure: StatesError, kind: str) -> bool:
    """Whether a Retrier's or Catcher's ErrorEquals takes ``failure`` of a ``kind`` state."""
    error = failure.error
    if error in errors:
        return True
    if error == facts.STATES_RUNTIME or error == facts.STATES_DATA_LIMIT_EXCEEDED:
        return False
    if failure.heartbeat and facts.STATES_HEARTBEAT_TIMEOUT in errors:
        return True
    if matches_all:
        return True
    return kind == "Task" and facts.STATES_TASK_FAILED in errors and error != facts.STATES_TIMEOUT


# -- states that never wait ---------------------------------------------------------------------


class PassStep(StateStep):
    """A Pass state."""

    __slots__ = ()

    def execute(self, run: Run, data: Any, strand: Strand) -> Attempt:
        """Pass its result (or its payload) on."""
        language, scope = self.language, strand
        result = language.pass_result(self, data, scope)
        output, assigned = language.output(self, data, result, scope)
        return output, self.next, assigned


class SucceedStep(StateStep):
    """A Succeed state."""

    __slots__ = ()

    def execute(self, run: Run, data: Any, strand: Strand) -> Attempt:
        """End the scope with the (filtered) input."""
        language, scope = self.language, strand
        effective = language.input(self, data, scope)
        output, assigned = language.output(self, data, effective, scope)
        return output, self.next, assigned


class FailStep(StateStep):
    """A Fail state."""

    __slots__ = (
        "cause",
        "cause_path",
        "error",
        "error_path",
    )

    def __init__(self, name: str, kind: str, pointer: str, scope: str, language: QueryLanguage):
        super().__init__(name, kind, pointer, scope, language)
        self.error: str | None = None
        self.cause: str | None = None
        self.error_path: Any = None
        self.cause_path: Any = None

    def execute(self, run: Run, data: Any, strand: Strand) -> Attempt:
        """Fail with the state's error and cause."""
        error, cause = self.language.fail_fields(self, data, strand)
        raise StatesError(error if error is not None else "", cause)


class JsonataCondition:
    """A JSONata Choice rule's ``Condition``, read like a JSONPath rule: ``matches(data)``."""

    __slots__ = ("_template",)

    def __init__(self, template: Any) -> None:
        self._template = template

    def matches(self, data: Any, scope: EvaluationScope) -> bool:
        """Evaluate the condition over ``$states`` (it must give a boolean)."""
        verdict = self._template.evaluate({"input": data, "context": scope.context}, scope)
        if not isinstance(verdict, bool):
            raise EvaluationError(
                facts.STATES_QUERY_EVALUATION_ERROR,
                f"The Condition of a Choice rule must be a boolean, but was: {show(verdict)}",
            )
        return verdict


class ChoiceCase:
    """One rule of a Choice state: its test, where it goes, its Assign and (JSONata) Output."""

    __slots__ = ("assign", "edge", "next_name", "output", "test")

    def __init__(self, test: Any, next_name: str, assign: Any, output: Any) -> None:
        self.test = test
        self.next_name = next_name
        self.assign = assign
        self.output = output
        self.edge: Edge | None = None


class ChoiceStep(StateStep):
    """A Choice state."""

    __slots__ = (
        "cases",
        "default",
        "default_name",
    )

    def __init__(self, name: str, kind: str, pointer: str, scope: str, language: QueryLanguage):
        super().__init__(name, kind, pointer, scope, language)
        self.cases: tuple[ChoiceCase, ...] = ()
        self.default_name: str | None = None
        self.default: Edge | None = None

    def execute(self, run: Run, data: Any, strand: Strand) -> Attempt:
        """Take the first rule that matches, else the Default."""
        language, scope = self.language, strand
        effective = language.input(self, data, scope)
        for case in self.cases:
            if case.test.matches(effective, scope):
                assert case.edge is not None
                output, assigned = language.choice_output(self, case, data, effective, scope)
                return output, case.edge, assigned
        if self.default is None:
            raise StatesError(facts.STATES_NO_CHOICE_MATCHED, "No Matches!")
        output, assigned = language.choice_output(self, None, data, effective, scope)
        return output, self.default, assigned


# -- Wait ---------------------------------------------------------------------------------------


class WaitStep(StateStep):
    """A Wait state: sleeps on the engine's clock."""

    __slots__ = (
        "seconds",
        "seconds_path",
        "timestamp",
        "timestamp_path",
    )

    waits = True
    abort_event = "WaitStateAborted"

    def __init__(self, name: str, kind: str, pointer: str, scope: str, language: QueryLanguage):
        super().__init__(name, kind, pointer, scope, language)
        self.seconds: Any = None
        self.seconds_path: Any = None
        self.timestamp: Any = None
        self.timestamp_path: Any = None

    def attempt(self, run: Run, data: Any, strand: Strand, retry_count: int) -> StrandBody:
        """Sleep until the instant the state names, then pass its input on."""
        language, scope = self.language, strand
        effective = language.input(self, data, scope)
        until = self.until(run.clock.now(), language, effective, scope)
        if until is not None:
            yield Sleep(until)
        output, assigned = language.output(self, data, effective, scope)
        return output, self.next, assigned

    def until(
        self, now: datetime, language: QueryLanguage, effective: Any, scope: EvaluationScope
    ) -> datetime | None:
        """The instant the state waits until (None: it does not wait), read from ``effective``.

        Raises:
            EvaluationError: a ``SecondsPath`` or ``TimestampPath`` that reads no valid value.
        """
        if self.seconds is not None:
            return now + timedelta(seconds=self.seconds) if self.seconds > 0 else None
        if self.seconds_path is not None:
            value = language.value(self.seconds_path, effective, scope)
            where = f"{field_text(self.seconds_path)} == {show(value)}"
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or (isinstance(value, float) and not value.is_integer())
            ):
                raise EvaluationError(
                    facts.STATES_RUNTIME,
                    f"The SecondsPath parameter cannot be parsed as a long value: {where}",
                )
            if value < 0:
                raise EvaluationError(
                    facts.STATES_RUNTIME,
                    f"The SecondsPath parameter references a negative value: {where}",
                )
            return now + timedelta(seconds=value) if value > 0 else None
        if self.timestamp is not None:
            text: Any = self.timestamp
            where = f"Timestamp == {text}"
        else:
            text = language.value(self.timestamp_path, effective, scope)
            where = f"{field_text(self.timestamp_path)} == {show(text)}"
        target = wait_until(text)
        if target is not None:
            target = target.astimezone(UTC)  # the clock shows UTC, whatever offset was written
        if target is None:
            raise EvaluationError(
                facts.STATES_RUNTIME,
                "The TimestampPath parameter does not reference a valid ISO-8601 "
                f"extended offset date-time format string: {where}",
            )
        return target if target > now else None
