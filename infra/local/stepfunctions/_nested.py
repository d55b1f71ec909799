"""Nested executions: ``states:startExecution`` and the ``aws-sdk:sfn`` actions, on this engine.

``arn:aws:states:::states:startExecution`` starts an execution of a state machine created on
the engine (``create_state_machine``), with ``Input`` (any JSON; JSON text is taken as it is,
null as ``{}``) and an optional ``Name``:

- request-response: the result is StartExecution's response (``ExecutionArn``, ``StartDate``
  in epoch milliseconds, and the Java SDK's ``SdkHttpMetadata``);
- ``.sync``: that response is the TaskSubmitted event; the task ends when the child does:
  with DescribeExecution's view of it (``Output`` as JSON text) when it succeeded, else with
  ``States.TaskFailed`` whose cause is that view (``Error``, ``Cause``, ``Status``) as JSON;
- ``.sync:2``: the same, with ``Output`` parsed;
- ``.waitForTaskToken``: the child runs on its own; the task waits for its token.

As AWS, the engine links a child to its parent only through the input: passing
``"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"`` in ``Input`` is what the
console shows as "Started by" (:attr:`Execution.started_by` here).

``arn:aws:states:::aws-sdk:sfn:<action>`` reaches the same engine: ``startExecution``,
``startSyncExecution`` (an EXPRESS machine, waited for; a failure is in its result, not the
task's), ``sendTaskSuccess`` / ``sendTaskFailure`` / ``sendTaskHeartbeat`` (what a consumer
machine does with a token it received), ``describeExecution`` and ``stopExecution``, with the
aws-sdk conventions (PascalCase members, ISO-8601 timestamps, ``Sfn.<Code>Exception``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from stepsaga.infra.local.stepfunctions._aws_sdk import instant_text
from stepsaga.infra.local.stepfunctions._errors import ApiError, InvalidExecutionInput
from stepsaga.infra.local.stepfunctions._history import to_json
from stepsaga.infra.local.stepfunctions._jobs import ExecutionWait, RunningJob
from stepsaga.infra.local.stepfunctions._optimised import sdk_metadata
from stepsaga.infra.local.stepfunctions._tasks import TaskCall, TaskOutcome
from stepsaga.workflows import facts

if TYPE_CHECKING:
    from stepsaga.infra.local.stepfunctions._execution import Execution, Run
    from stepsaga.infra.local.stepfunctions._facade import LocalStepFunctions


def epoch_millis(instant: datetime) -> int:
    """A timestamp as the Java SDK 1.x serialises a Date: milliseconds since the epoch."""
    return int(instant.timestamp() * 1000)


def describe(execution: Execution, *, parsed_output: bool, millis: bool = True) -> dict[str, Any]:
    """An execution as a nested task's result shows it (DescribeExecution, PascalCase)."""

    def when(instant: datetime | None) -> Any:
        if instant is None:
            return None
        return epoch_millis(instant) if millis else instant_text(instant)

    view: dict[str, Any] = {}
    if execution.status != "SUCCEEDED":
        if execution.cause is not None:
            view["Cause"] = execution.cause
        if execution.error is not None:
            view["Error"] = execution.error
    view["ExecutionArn"] = execution.arn
    view["Input"] = to_json(execution.input)
    view["InputDetails"] = {"Included": True}
    view["Name"] = execution.name
    if execution.status == "SUCCEEDED":
        view["Output"] = execution.output if parsed_output else to_json(execution.output)
        view["OutputDetails"] = {"Included": True}
        view["RedriveCount"] = 0
        view["RedriveStatus"] = "NOT_REDRIVABLE"
        view["RedriveStatusReason"] = "Execution is SUCCEEDED and cannot be redriven"
    view["StartDate"] = when(execution.start_date)
    view["StateMachineArn"] = execution.state_machine_arn
    view["Status"] = execution.status
    view["StopDate"] = when(execution.stop_date)
    return view


def _input_text(parameters: Mapping[str, Any]) -> str:
    """The child's input as StartExecution is sent it: JSON text, ``{}`` for none."""
    value = parameters.get("Input")
    if value is None:
        return "{}"
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError as exc:
            raise InvalidExecutionInput(str(exc)) from None
        return value
    return to_json(value)


def _v1_failure(exc: ApiError, request_id: str) -> TaskOutcome:
    prefix, service, _ = facts.OPTIMISED_SERVICE_ERRORS["states"]
    return TaskOutcome.failure(
        f"{prefix}.{exc.code}Exception",
        f"{exc.message} (Service: {service}; Status Code: 400; Error Code: {exc.code}; "
        f"Request ID: {request_id}; Proxy: null)",
    )


def _v2_failure(exc: ApiError, request_id: str) -> TaskOutcome:
    return TaskOutcome.failure(
        f"Sfn.{exc.code}Exception",
        f"{exc.message} (Service: Sfn, Status Code: 400, Request ID: {request_id})",
    )


def start_execution(
    engine: LocalStepFunctions,
    run: Run,
    call: TaskCall,
    pattern: str,
    request_id: str,
    date: str,
) -> TaskOutcome | RunningJob:
    """``states:startExecution`` with ``pattern`` ("", ``.sync``, ``.sync:2`` or a token)."""
    parameters = call.parameters
    if not isinstance(parameters, Mapping) or not isinstance(
        parameters.get("StateMachineArn"), str
    ):
        return TaskOutcome.failure(
            facts.STATES_RUNTIME,
            "states:startExecution needs Parameters with a StateMachineArn string",
        )
    name = parameters.get("Name")
    try:
        child = engine._start_machine(parameters["StateMachineArn"], _input_text(parameters), name)
    except ApiError as exc:
        return _v1_failure(exc, request_id)
    execution = child.execution
    body = {"executionArn": execution.arn, "startDate": execution.start_date.timestamp()}
    response = {
        "ExecutionArn": execution.arn,
        "StartDate": epoch_millis(execution.start_date),
        **sdk_metadata("states", body, request_id, date),
    }
    if pattern in (facts.SYNC, facts.SYNC_2):
        parsed = pattern == facts.SYNC_2

        def outcome(closed: Run) -> TaskOutcome:
            view = describe(closed.execution, parsed_output=parsed)
            if closed.execution.status == "SUCCEEDED":
                return TaskOutcome.success(view)
            return TaskOutcome.failure(facts.STATES_TASK_FAILED, to_json(view))

        return RunningJob(response, ExecutionWait(run, child, call.state_name, outcome))
    return TaskOutcome.success(response)


def sfn_action(
    engine: LocalStepFunctions, run: Run, call: TaskCall, action: str, request_id: str
) -> TaskOutcome | RunningJob:
    """An ``aws-sdk:sfn`` action, answered by this engine."""
    parameters = call.parameters if isinstance(call.parameters, Mapping) else {}
    try:
        return _sfn(engine, run, call, action, parameters)
    except ApiError as exc:
        return _v2_failure(exc, request_id)


def _text(parameters: Mapping[str, Any], key: str) -> str | None:
    value = parameters.get(key)
    return None if value is None else str(value)


def _sfn(
    engine: LocalStepFunctions,
    run: Run,
    call: TaskCall,
    action: str,
    parameters: Mapping[str, Any],
) -> TaskOutcome | RunningJob:
    callbacks = run.callbacks
    if action == "startExecution":
        child = engine._start_machine(
            str(parameters.get("StateMachineArn")), _input_text(parameters), parameters.get("Name")
        )
        execution = child.execution
        return TaskOutcome.success(
            {"ExecutionArn": execution.arn, "StartDate": instant_text(execution.start_date)}
        )
    if action == "startSyncExecution":
        arn = str(parameters.get("StateMachineArn"))
        record = engine.describe_state_machine(arn)
        if record.type != "EXPRESS":
            raise _NotExpress(arn)
        child = engine._start_machine(arn, _input_text(parameters), parameters.get("Name"))

        def finished(closed: Run) -> TaskOutcome:
            view = describe(closed.execution, parsed_output=False, millis=False)
            for key in ("RedriveCount", "RedriveStatus", "RedriveStatusReason"):
                view.pop(key, None)
            view["BillingDetails"] = {
                "BilledDurationInMilliseconds": 100,
                "BilledMemoryUsedInMB": 64,
            }
            return TaskOutcome.success(view)

        return RunningJob(None, ExecutionWait(run, child, call.state_name, finished))
    if action == "sendTaskSuccess":
        output = parameters.get("Output")
        wait = callbacks.find(parameters.get("TaskToken"))
        value = json.loads(output) if isinstance(output, str) else output
        wait.resolve(TaskOutcome.success(value), "it was answered (SendTaskSuccess)")
        return TaskOutcome.success({})
    if action == "sendTaskFailure":
        wait = callbacks.find(parameters.get("TaskToken"))
        failure = TaskOutcome.failure(_text(parameters, "Error"), _text(parameters, "Cause"))
        wait.resolve(failure, "it was answered (SendTaskFailure)")
        return TaskOutcome.success({})
    if action == "sendTaskHeartbeat":
        callbacks.find(parameters.get("TaskToken")).beat(run.clock.now())
        return TaskOutcome.success({})
    if action == "describeExecution":
        found = engine._execution(str(parameters.get("ExecutionArn")))
        view = describe(found, parsed_output=False, millis=False)
        return TaskOutcome.success({key: value for key, value in view.items() if value is not None})
    if action == "stopExecution":
        found = engine._execution(str(parameters.get("ExecutionArn")))
        target = engine._runs.get(found.arn)
        if target is not None:
            target.abort(_text(parameters, "Error"), _text(parameters, "Cause"))
        stopped = found.stop_date or run.clock.now()
        return TaskOutcome.success({"StopDate": instant_text(stopped)})
    return TaskOutcome.failure(
        facts.STATES_RUNTIME,
        f"The resource 'aws-sdk:sfn:{action}' is not answered by the local engine (it answers "
        "startExecution, startSyncExecution, sendTaskSuccess, sendTaskFailure, "
        "sendTaskHeartbeat, describeExecution and stopExecution).",
    )


class _NotExpress(ApiError):
    """StartSyncExecution of a STANDARD machine (AWS answers ``StateMachineTypeNotSupported``)."""

    def __init__(self, arn: str) -> None:
        super().__init__(f"This operation is not supported by this type of state machine: '{arn}'")

    @property
    def code(self) -> str:
        """AWS's code for it."""
        return "StateMachineTypeNotSupported"
