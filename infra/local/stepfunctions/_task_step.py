"""The Task state: its integrations, its callbacks, its timeouts, and the events it records.

One attempt of a Task records, as AWS does:

- ``TaskScheduled``, ``TaskStarted``, then ``TaskSucceeded`` / ``TaskFailed`` /
  ``TaskTimedOut`` for a service integration (``lambda:invoke`` included); ``TaskSubmitted``
  (the service's response) comes before the outcome for ``.sync`` and ``.waitForTaskToken``;
- ``LambdaFunctionScheduled`` ... for a bare function ARN;
- ``ActivityScheduled``, ``ActivityStarted`` (when a worker takes it, with its name), then
  ``ActivitySucceeded`` / ``ActivityFailed`` / ``ActivityTimedOut`` for an activity.

A mock (``mock_tasks``) answers first; its answer is the task's outcome. Otherwise the
integration runs: a ``.waitForTaskToken`` task submits (the Lambda's response to the invoke
is only the submission), then waits for its token; an activity task waits for a worker.
A lapsed heartbeat is recorded as AWS records it, ``States.Timeout`` (see
``tests/conformance/recordings/services.jsonl``, ``test_heartbeat_*``), and is matched by
``States.HeartbeatTimeout`` Retriers and Catchers as well.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from stepsaga.infra.local.stepfunctions._callbacks import TaskWait
from stepsaga.infra.local.stepfunctions._dataflow import QueryLanguage, positive_int
from stepsaga.infra.local.stepfunctions._errors import StatesError
from stepsaga.infra.local.stepfunctions._history import (
    data_limit_exceeded,
    over_payload_limit,
    to_json,
)
from stepsaga.infra.local.stepfunctions._jobs import RunningJob
from stepsaga.infra.local.stepfunctions._scheduler import Sleep, StrandBody
from stepsaga.infra.local.stepfunctions._steps import StateStep
from stepsaga.infra.local.stepfunctions._tasks import TaskCall, TaskOutcome
from stepsaga.workflows import facts
from stepsaga.workflows._expressions import EvaluationError, check_json_value

if TYPE_CHECKING:
    from stepsaga.infra.local.stepfunctions._execution import Run
    from stepsaga.infra.local.stepfunctions._scheduler import Strand

# The Lambda integration in any partition (its ARN past `arn:aws:`), waiting for a token or not.
_LAMBDA_INVOKE: Final = re.compile(
    r"^arn:[^:]+:"
    + re.escape(facts.LAMBDA_INVOKE.removeprefix("arn:aws:"))
    + f"({re.escape(facts.WAIT_FOR_TASK_TOKEN)})?$"
)
_LAMBDA_ARN: Final = re.compile(r"^arn:[^:]+:lambda:[^:]*:[^:]*:function:.+$")
_ACTIVITY_ARN: Final = re.compile(r"^arn:[^:]+:states:[^:]+:[^:]+:activity:.+$")
_SERVICE: Final = re.compile(r"^arn:[^:]+:states:::(aws-sdk:[^:]+|[^:]+):(.+)$")


@functools.lru_cache(maxsize=1024)  # a machine has few resources
def task_kind(resource: str) -> tuple[str, str, str]:
    """Classify a Task resource: (kind, resourceType, resource) as history events name them.

    kind is ``"lambda-invoke"``, ``"lambda-arn"``, ``"activity"`` or ``"service"``.
    """
    if _LAMBDA_INVOKE.match(resource):
        return "lambda-invoke", "lambda", resource.rsplit(":", 1)[1]
    if _LAMBDA_ARN.match(resource):
        return "lambda-arn", "lambda", resource
    if _ACTIVITY_ARN.match(resource):
        return "activity", "activity", resource
    match = _SERVICE.match(resource)
    if match:
        return "service", match.group(1), match.group(2)
    return "service", "unknown", resource


class TaskStep(StateStep):
    """A Task state."""

    __slots__ = (
        "_lower",
        "base",
        "callback",
        "credentials",
        "heartbeat",
        "heartbeat_path",
        "integration",
        "prefix",
        "resource",
        "timeout",
        "timeout_path",
    )

    waits = True
    abort_event = "TaskStateAborted"

    def __init__(self, name: str, kind: str, pointer: str, scope: str, language: QueryLanguage):
        super().__init__(name, kind, pointer, scope, language)
        self.resource = ""
        self.timeout: int | None = None
        self.timeout_path: Any = None
        self.heartbeat: int | None = None
        self.heartbeat_path: Any = None
        self.credentials: Any = None
        self.integration = "service"
        self.callback = False
        self.prefix = "Task"
        self._lower = "task"
        self.base: dict[str, Any] = {}

    def set_resource(self, resource: str) -> None:
        """Classify the resource once: which integration, which events, which details."""
        self.resource = resource
        kind, resource_type, short = task_kind(resource)
        self.integration = kind
        self.callback = resource.endswith(facts.WAIT_FOR_TASK_TOKEN) and kind != "activity"
        if kind == "lambda-arn":
            self.prefix, self.base = "LambdaFunction", {}
        elif kind == "activity":
            self.prefix, self.base = "Activity", {}
        else:
            self.prefix, self.base = "Task", {"resource": short, "resourceType": resource_type}
        self._lower = self.prefix[0].lower() + self.prefix[1:]

    def attempt(self, run: Run, data: Any, strand: Strand, retry_count: int) -> StrandBody:
        """Run one attempt: schedule, call (or wait), record the outcome, build the output."""
        language, scope = self.language, strand
        token = None
        if self.callback or self.integration == "activity":
            token = run.new_token()
        if self.callback:
            context = dict(scope.context) if scope.context else {}
            context["Task"] = {"Token": token}
            scope.context = context
        credentials = None
        if self.credentials is not None:
            credentials = language.credentials(self, data, scope)
        effective = language.arguments(self, data, scope)
        if effective is not data and over_payload_limit(effective):
            raise data_limit_exceeded(self.name)  # the input after Parameters/Arguments
        timeout: int | None = self.timeout
        if self.timeout_path is not None:
            timeout = positive_int(
                language.value(self.timeout_path, data, scope), "TimeoutSecondsPath"
            )
        heartbeat: int | None = self.heartbeat
        if self.heartbeat_path is not None:
            heartbeat = positive_int(
                language.value(self.heartbeat_path, data, scope), "HeartbeatSecondsPath"
            )
        call = TaskCall(
            state_name=self.name,
            resource=self.resource,
            parameters=effective,
            execution_arn=run.execution_arn,
            retry_count=retry_count,
            timeout_seconds=timeout,
            task_token=token,
        )
        if self.integration == "activity":
            assert token is not None
            outcome = yield from self._activity(run, strand, call, effective, timeout, heartbeat)
        else:
            started = self._schedule(run, strand, effective, timeout, heartbeat, credentials)
            mocked = run.mock_answer(call)
            if self.callback and (
                mocked is None or mocked.awaits_callback or mocked.answers_callback
            ):
                # The integration only submits: the outcome is the token's answer, in time.
                outcome = yield from self._callback(
                    run, strand, call, mocked, effective, started, timeout, heartbeat
                )
            else:
                answer = mocked if mocked is not None else run.integrate(call, self.integration)
                if isinstance(answer, RunningJob):
                    # A .sync task: the service runs a job; its end is the outcome.
                    outcome = yield from self._job(run, strand, answer, started, timeout)
                else:
                    outcome = answer
                if outcome.seconds > 0 or outcome.timed_out or outcome.submitted is not None:
                    # A coroutine only when time passes (most attempts take none).
                    outcome = yield from self._timed(
                        run, strand, outcome, started, timeout, heartbeat
                    )
        result = self._result(run, strand, outcome)
        output, assigned = language.output(self, data, result, scope)
        return output, self.next, assigned

    # -- the kinds of attempt --------------------------------------------------------------

    def _schedule(
        self,
        run: Run,
        strand: Strand,
        effective: Any,
        timeout: int | None,
        heartbeat: int | None,
        credentials: Any,
    ) -> datetime:
        """Record the Scheduled and Started events; return when the task started."""
        history, now = strand.history, run.clock.now()
        if self.integration == "lambda-arn":
            details: dict[str, Any] = {"input": effective, "resource": self.resource}
            scheduled_key = "lambdaFunctionScheduledEventDetails"
            started_key = None
        else:
            details = {"parameters": effective, "region": run.region, **self.base}
            scheduled_key = "taskScheduledEventDetails"
            started_key = "taskStartedEventDetails"
        if timeout is not None:
            details["timeoutInSeconds"] = timeout
        if heartbeat is not None:
            details["heartbeatInSeconds"] = heartbeat
        if isinstance(credentials, dict) and "RoleArn" in credentials:
            details["taskCredentials"] = {"roleArn": credentials["RoleArn"]}
        cursor = history.add(now, f"{self.prefix}Scheduled", strand.cursor, scheduled_key, details)
        strand.cursor = history.add(
            now,
            f"{self.prefix}Started",
            cursor,
            started_key,
            None if started_key is None else self.base,
        )
        return now

    def _callback(
        self,
        run: Run,
        strand: Strand,
        call: TaskCall,
        mocked: TaskOutcome | None,
        effective: Any,
        now: datetime,
        timeout: int | None,
        heartbeat: int | None,
    ) -> StrandBody:
        """A callback: the integration only submits; the outcome is its token's answer."""
        assert call.task_token is not None
        wait = TaskWait(
            run.callbacks,
            run,
            call.task_token,
            self.name,
            self.resource,
            effective,
            now,
            timeout,
            heartbeat,
        )
        answers = mocked if mocked is not None and mocked.answers_callback else None
        if mocked is not None and answers is None:
            submission = mocked
        else:
            integrated = run.integrate(call, self.integration)
            if isinstance(integrated, RunningJob):  # a job, not a submission: no token to wait
                wait.close("its integration cannot wait for a token")
                integrated.wait.cancel(run.core.scheduler, aborted=False)
                return TaskOutcome.failure(
                    facts.STATES_RUNTIME, f"The resource '{self.resource}' cannot wait for a token."
                )
            submission = integrated
        submitted = yield from self._timed(
            run, strand, submission, now, timeout, heartbeat, submission=True
        )
        if submitted.is_failure or submitted.timed_out:
            wait.close("its submission failed")
            return submitted
        response = submitted.submitted if submitted.awaits_callback else submitted.output
        self._submitted(run, strand, response)
        if answers is not None:  # a fault: it answers the callback, when it would come
            wait.close("a fault answered it")
            answered = dataclasses.replace(answers, answers_callback=False)
            return (yield from self._timed(run, strand, answered, now, timeout, heartbeat))
        answer: TaskOutcome = yield wait
        return answer

    def _activity(
        self,
        run: Run,
        strand: Strand,
        call: TaskCall,
        effective: Any,
        timeout: int | None,
        heartbeat: int | None,
    ) -> StrandBody:
        mocked = run.mock_answer(call)
        if mocked is None and not run.callbacks.activity_exists(self.resource):
            raise EvaluationError(
                facts.STATES_RUNTIME, f"The activity {self.resource} does not exist."
            )
        now = run.clock.now()
        details: dict[str, Any] = {"input": effective, "resource": self.resource}
        if timeout is not None:
            details["timeoutInSeconds"] = timeout
        if heartbeat is not None:
            details["heartbeatInSeconds"] = heartbeat
        history = strand.history
        strand.cursor = history.add(
            now, "ActivityScheduled", strand.cursor, "activityScheduledEventDetails", details
        )
        if mocked is not None:
            strand.cursor = history.add(
                now, "ActivityStarted", strand.cursor, "activityStartedEventDetails", {}
            )
            return (yield from self._timed(run, strand, mocked, now, timeout, heartbeat))
        assert call.task_token is not None
        wait = TaskWait(
            run.callbacks,
            run,
            call.task_token,
            self.name,
            self.resource,
            effective,
            now,
            timeout,
            heartbeat,
            activity_arn=self.resource,
        )
        answer: TaskOutcome = yield wait
        return answer

    def _job(
        self,
        run: Run,
        strand: Strand,
        job: RunningJob,
        started: datetime,
        timeout: int | None,
    ) -> StrandBody:
        """Wait for a job a ``.sync`` integration started (its TaskSubmitted comes first)."""
        if job.submitted is not None:
            self._submitted(run, strand, job.submitted)
        job.wait.time_out_at(started, timeout)
        outcome: TaskOutcome = yield job.wait
        return outcome

    # -- time and outcome ------------------------------------------------------------------

    def _timed(
        self,
        run: Run,
        strand: Strand,
        outcome: TaskOutcome,
        started: datetime,
        timeout: int | None,
        heartbeat: int | None,
        *,
        submission: bool = False,
    ) -> StrandBody:
        """Let the time the attempt took pass; a timeout when it overran (or was told to).

        Returns the outcome, turned into a timeout when the attempt's time passed its
        TimeoutSeconds or HeartbeatSeconds (a handler cannot send heartbeats). A mocked
        callback's submission is recorded first: it comes at once, its answer after the time.
        """
        if not submission and outcome.submitted is not None:
            self._submitted(run, strand, outcome.submitted)
            outcome = dataclasses.replace(outcome, submitted=None)
        if outcome.timed_out:
            lapse = heartbeat if outcome.heartbeat_lapsed else timeout
            if lapse is not None:
                yield Sleep(run.later(started, lapse))
            return outcome
        seconds = outcome.seconds
        if not seconds > 0:  # NaN too: a handler's elapse() of nothing
            return outcome
        limit = min((x for x in (timeout, heartbeat) if x is not None), default=None)
        if limit is not None and seconds > limit:
            yield Sleep(run.later(started, limit))
            lapsed = (
                heartbeat is not None
                and seconds > heartbeat
                and (timeout is None or heartbeat < timeout)
            )
            return TaskOutcome(timed_out=True, heartbeat_lapsed=lapsed)
        yield Sleep(run.later(started, seconds))
        return outcome

    def _submitted(self, run: Run, strand: Strand, response: Any) -> None:
        strand.cursor = strand.history.add(
            run.clock.now(),
            f"{self.prefix}Submitted",
            strand.cursor,
            f"{self._lower}SubmittedEventDetails",
            {**self.base, "output": response},
        )

    def _result(self, run: Run, strand: Strand, outcome: TaskOutcome) -> Any:
        """Record the outcome's event; return the result, or raise the failure."""
        history, now, prefix, lower = strand.history, run.clock.now(), self.prefix, self._lower
        if outcome.timed_out:
            strand.cursor = history.add(
                now,
                f"{prefix}TimedOut",
                strand.cursor,
                f"{lower}TimedOutEventDetails",
                {**self.base, "error": facts.STATES_TIMEOUT},
            )
            raise StatesError(facts.STATES_TIMEOUT, heartbeat=outcome.heartbeat_lapsed)
        error, cause = outcome.error, outcome.cause
        failed = outcome.is_failure
        if not failed and _exceeds_payload_limit(outcome, self.name):
            failed, error = True, facts.STATES_DATA_LIMIT_EXCEEDED
            task_name = "lambda" if self.integration == "lambda-invoke" else self.resource
            cause = (
                f"The state/task '{task_name}' returned a result with a size exceeding the "
                "maximum number of bytes service limit."
            )
        if failed:
            details = dict(self.base)
            if error is not None:
                details["error"] = error
            if cause is not None:
                details["cause"] = cause
            strand.cursor = history.add(
                now, f"{prefix}Failed", strand.cursor, f"{lower}FailedEventDetails", details
            )
            raise StatesError(error, cause)
        strand.cursor = history.add(
            now,
            f"{prefix}Succeeded",
            strand.cursor,
            f"{lower}SucceededEventDetails",
            {**self.base, "output": outcome.output},
        )
        return outcome.output


def _exceeds_payload_limit(outcome: TaskOutcome, state_name: str) -> bool:
    """Whether a task's result is over the 256 KiB limit (its compact UTF-8 JSON).

    Raises:
        JsonValueError: a mock's result is not JSON (a set, NaN ...): the test's own mistake,
            named with the value's place rather than left to a TypeError from deep inside.
    """
    bound = outcome.output_bytes_at_most
    if bound is not None and bound <= facts.MAX_PAYLOAD_BYTES:
        return False  # the integration vouches for a size within the limit: skip serialising
    if bound is None:
        check_json_value(outcome.output, f"the result mocked for the task of state {state_name!r}")
    return len(to_json(outcome.output).encode()) > facts.MAX_PAYLOAD_BYTES
