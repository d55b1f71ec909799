"""The Step Functions API over one engine: AWS JSON 1.0 requests in, AWS's answers out.

:class:`StepFunctionsApi` is the one dispatcher behind every way to reach the engine as a
service (a boto3 client served in-process, ``stepsaga local`` over HTTP). Each operation is one
method, named as the operation in snake case (``StartExecution`` → ``start_execution``), that
takes the request body and returns the response body; the dispatcher finds it by that name,
checks the request against botocore's service model first, and turns an :class:`ApiError` into
AWS's error shape. Adding an operation is adding its method.

What the API adds to the engine lives here: named state machines (their definitions,
configurations and revisions), tags, the choice of a MockConfigFile test case with
``stateMachineArn#TestCase`` (Step Functions Local's convention), pagination, and AWS's rules
where the facade is laxer (StartExecution reuses a name only for a RUNNING execution with the
same input; Express executions cannot be described).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import json
import logging
import math
import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from stepsaga.infra.local.stepfunctions._errors import (
    ActivityDoesNotExist,
    ApiError,
    DefinitionError,
    ExecutionAlreadyExists,
    ExecutionDoesNotExist,
    InvalidExecutionInput,
    InvalidToken,
)
from stepsaga.infra.local.stepfunctions.api import _arns
from stepsaga.infra.local.stepfunctions.api._errors import (
    InvalidArn,
    InvalidDefinition,
    InvalidLoggingConfiguration,
    InvalidName,
    MissingRequiredParameter,
    ResourceNotFound,
    SerializationException,
    StateMachineAlreadyExists,
    StateMachineDeleting,
    StateMachineDoesNotExist,
    StateMachineTypeNotSupported,
    TooManyTags,
    UnknownOperationException,
    ValidationException,
)
from stepsaga.infra.local.stepfunctions.api._model import check_request, service_model
from stepsaga.workflows import facts
from stepsaga.workflows.asl import ASLValidationError, Problem, StateMachine, parse_definition

if TYPE_CHECKING:
    from stepsaga.infra.local.stepfunctions._execution import Execution
    from stepsaga.infra.local.stepfunctions._facade import LocalStepFunctions
    from stepsaga.infra.local.stepfunctions._mock_config import MockConfig

_log = logging.getLogger("stepsaga.local")

STANDARD: Final = "STANDARD"
EXPRESS: Final = "EXPRESS"
_DEFAULT_LOGGING: Final = {"level": "OFF", "includeExecutionData": False}
_DEFAULT_TRACING: Final = {"enabled": False}
# Resources an Express workflow cannot use (its executions never wait for the outside world).
_WAITING_SUFFIXES: Final = (".sync", ".sync:2", facts.WAIT_FOR_TASK_TOKEN)


@dataclass(frozen=True, slots=True)
class ApiResponse:
    """An answer of the dispatcher, ready for the wire.

    Attributes:
        status: the HTTP status (200, 400 for an AWS error, 500 for a failure of stepsaga's).
        body: the JSON body.
        operation: the operation answered (None when the target named none).
        error: the AWS error code of an error answer.
    """

    status: int
    body: bytes
    operation: str | None = None
    error: str | None = None

    @property
    def content_type(self) -> str:
        """The AWS JSON content type of the answer (``application/x-amz-json-1.0``)."""
        return content_type()


def content_type() -> str:
    """The model's AWS JSON content type (``application/x-amz-json-1.0``)."""
    return f"application/x-amz-json-{service_model()['metadata']['jsonVersion']}"


def target_prefix() -> str:
    """The model's ``X-Amz-Target`` prefix (``AWSStepFunctions``)."""
    prefix: str = service_model()["metadata"]["targetPrefix"]
    return prefix


@dataclass(slots=True)
class _Machine:
    """A state machine as the API holds it (one per name); revisions are copies of it."""

    arn: str
    name: str
    type: str
    definition: str
    model: StateMachine
    role_arn: str
    creation_date: datetime
    logging: dict[str, Any]
    tracing: dict[str, Any]
    encryption: dict[str, Any] | None
    update_date: datetime | None = None
    revision_id: str | None = None
    deleting: bool = False


class StepFunctionsApi:
    """The Step Functions API served by one :class:`LocalStepFunctions` engine.

    Use it through the engine (``engine.client()`` for a boto3 client in-process,
    ``engine.api`` for this object) or over HTTP (``stepsaga local``). :meth:`handle` takes a
    request as it comes off the wire; :meth:`call` takes an operation name and a parsed body
    and returns the answer's body, or raises the :class:`ApiError` AWS would answer with.

    On the engine's virtual clock, time passes between two polls: a DescribeExecution,
    GetExecutionHistory, ListExecutions or GetActivityTask that finds an execution waiting
    only on time (a Wait state, a retry's back-off) lets the clock jump to the next such
    timer, as it would have passed on AWS between two polls; a waiting task's own timeout is
    never jumped to by a poll (``engine.advance()`` does that).

    Args:
        engine: the engine that runs the executions.
        mock_config: the MockConfigFile whose test cases ``stateMachineArn#TestCase`` chooses.
        activity_poll_seconds: how long GetActivityTask waits for a task to be scheduled
            before it answers that there is none (0: it answers at once, as in-process).

    Attributes:
        mock_config: as given (settable).
        activity_poll_seconds: as given (settable).
    """

    def __init__(
        self,
        engine: LocalStepFunctions,
        *,
        mock_config: MockConfig | None = None,
        activity_poll_seconds: float = 0.0,
    ) -> None:
        self._engine = engine
        self.mock_config = mock_config
        self.activity_poll_seconds = activity_poll_seconds
        self._machines: dict[str, _Machine] = {}
        self._tags: dict[str, dict[str, str]] = {}
        self._activity_encryption: dict[str, dict[str, Any]] = {}
        # The revision each execution started through the API ran, for
        # DescribeStateMachineForExecution (pruned along with the engine's executions).
        self._revision_of: dict[str, _Machine] = {}

    @property
    def engine(self) -> LocalStepFunctions:
        """The engine that runs the executions."""
        return self._engine

    # -- the wire ---------------------------------------------------------------------------

    def handle(self, target: str | None, body: bytes) -> ApiResponse:
        """Answer one AWS JSON 1.0 request (``X-Amz-Target`` and body) as AWS would.

        Never raises: an AWS error is a 400 answer in AWS's shape, a failure of stepsaga's
        own a 500 (logged with its traceback).
        """
        operation: str | None = None
        try:
            operation = _operation_of(target)
            try:
                request = json.loads(body) if body.strip() else {}
            except (ValueError, UnicodeDecodeError) as exc:
                raise SerializationException(f"the request body is not JSON: {exc}") from None
            answer = self.call(operation, request)
            return ApiResponse(200, encode(answer), operation)
        except ApiError as error:
            shape = {"__type": error.code, "message": error.message, **error.fields()}
            return ApiResponse(400, encode(shape), operation, error.code)
        except Exception as exc:
            _log.exception("stepsaga failed to answer %s", operation or target)
            shape = {
                "__type": "InternalFailure",
                "message": f"stepsaga failed to answer {operation}: {type(exc).__name__}: {exc}",
            }
            return ApiResponse(500, encode(shape), operation, "InternalFailure")

    def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        """Answer ``operation`` with ``request`` (a parsed body) and return the answer's body.

        Raises:
            ApiError: the error AWS would answer with (its class name is AWS's code).
        """
        method = _methods().get(operation)
        if method is None:
            check_request(operation, request)  # an unknown operation says so first
            raise UnknownOperationException(
                operation, f"stepsaga does not implement the {operation} operation yet"
            )
        check_request(operation, request)
        handler: Callable[[dict[str, Any]], dict[str, Any]] = getattr(self, method)
        with self._engine._lock:
            return handler(request)

    @staticmethod
    def operations() -> frozenset[str]:
        """The operations this dispatcher serves (each one method, named in snake case)."""
        return frozenset(_methods())

    # -- state machines -----------------------------------------------------------------------

    def create_state_machine(self, request: dict[str, Any]) -> dict[str, Any]:
        """CreateStateMachine: idempotent for the same name, definition and configuration."""
        _no_versions(request)
        name = _check_name(request["name"])
        machine_type = request.get("type", STANDARD)
        _arns.check_role_arn(request["roleArn"])
        logging_config = _logging(request.get("loggingConfiguration"))
        tracing = dict(request.get("tracingConfiguration") or _DEFAULT_TRACING)
        encryption = request.get("encryptionConfiguration")
        tags = _tags(request.get("tags", []))
        arn = f"{self._prefix()}:stateMachine:{name}"
        existing = self._machines.get(arn)
        if existing is not None:
            if existing.deleting:
                raise StateMachineDeleting(f"State machine is being deleted: '{arn}'")
            same = (
                existing.definition == request["definition"]
                and existing.type == machine_type
                and existing.logging == logging_config
                and existing.tracing == tracing
                and existing.encryption == encryption
            )
            # AWS ignores another roleArn or other tags in a repeated request.
            if not same:
                raise StateMachineAlreadyExists(f"State Machine Already Exists: '{arn}'")
            return {"stateMachineArn": arn, "creationDate": existing.creation_date}
        model = self._definition(request["definition"], machine_type)
        self._check_tag_count(arn, {}, tags)
        machine = _Machine(
            arn=arn,
            name=name,
            type=machine_type,
            definition=request["definition"],
            model=model,
            role_arn=request["roleArn"],
            creation_date=self._engine.now(),
            logging=logging_config,
            tracing=tracing,
            encryption=encryption,
        )
        self._machines[arn] = machine
        self._tags[arn] = tags
        return {"stateMachineArn": arn, "creationDate": machine.creation_date}

    def update_state_machine(self, request: dict[str, Any]) -> dict[str, Any]:
        """UpdateStateMachine: running executions keep the revision they started with."""
        _no_versions(request)
        machine = self._machine(request["stateMachineArn"])
        changes = ("definition", "roleArn", "loggingConfiguration", "tracingConfiguration")
        if not any(key in request for key in (*changes, "encryptionConfiguration")):
            raise MissingRequiredParameter(
                "Either the definition, the role ARN, the LoggingConfiguration, "
                "the EncryptionConfiguration or the TracingConfiguration must be specified"
            )
        if machine.deleting:
            raise StateMachineDeleting(f"State machine is being deleted: '{machine.arn}'")
        updated = replace(machine)  # the old revision stays with its executions
        if "definition" in request:
            updated.model = self._definition(request["definition"], machine.type)
            updated.definition = request["definition"]
        if "roleArn" in request:
            _arns.check_role_arn(request["roleArn"])
            updated.role_arn = request["roleArn"]
        if "loggingConfiguration" in request:
            updated.logging = _logging(request["loggingConfiguration"])
        if "tracingConfiguration" in request:
            updated.tracing = dict(request["tracingConfiguration"])
        if "encryptionConfiguration" in request:
            updated.encryption = request["encryptionConfiguration"]
        updated.update_date = self._engine.now()
        updated.revision_id = self._new_name()
        self._machines[machine.arn] = updated
        return {"updateDate": updated.update_date, "revisionId": updated.revision_id}

    def describe_state_machine(self, request: dict[str, Any]) -> dict[str, Any]:
        """DescribeStateMachine."""
        machine = self._machine(request["stateMachineArn"])
        return _describe_machine(machine, request.get("includedData"))

    def list_state_machines(self, request: dict[str, Any]) -> dict[str, Any]:
        """ListStateMachines, by name."""
        machines = sorted(
            (machine for machine in self._live_machines() if not machine.deleting),
            key=lambda machine: machine.name,
        )
        page, token = _page(machines, lambda machine: machine.arn, request, "machines")
        items = [
            {
                "stateMachineArn": machine.arn,
                "name": machine.name,
                "type": machine.type,
                "creationDate": machine.creation_date,
            }
            for machine in page
        ]
        return _with_token({"stateMachines": items}, token)

    def delete_state_machine(self, request: dict[str, Any]) -> dict[str, Any]:
        """DeleteStateMachine: gone once its running executions end (DELETING until then)."""
        parsed = _arns.parse(request["stateMachineArn"], _arns.STATE_MACHINE)
        if len(parsed.parts) > 1:
            raise ValidationException(
                "stepsaga does not keep state machine versions or aliases: "
                f"'{parsed.text}' names one"
            )
        machine = self._machines.get(parsed.text)
        if machine is not None:
            machine.deleting = True
            self._tags.pop(machine.arn, None)
            self._forget_deleted()
        return {}

    def validate_state_machine_definition(self, request: dict[str, Any]) -> dict[str, Any]:
        """ValidateStateMachineDefinition: the validator's problems as diagnostics."""
        # Every problem stepsaga finds is an ERROR, so `severity` (ERROR, or WARNING and above)
        # changes nothing: stepsaga reports no warnings.
        problems = _problems(request["definition"], request.get("type", STANDARD))
        limit = request.get("maxResults") or facts.DEFAULT_PAGE_SIZE
        diagnostics = [
            {
                "severity": "ERROR",
                "code": problem.code,
                "message": problem.message,
                "location": problem.pointer or "/",
            }
            for problem in problems
        ]
        return {
            "result": "FAIL" if diagnostics else "OK",
            "diagnostics": diagnostics[:limit],
            "truncated": len(diagnostics) > limit,
        }

    # -- executions ---------------------------------------------------------------------------

    def start_execution(self, request: dict[str, Any]) -> dict[str, Any]:
        """StartExecution (``arn#TestCase`` picks a MockConfigFile test case)."""
        machine, mock = self._startable(request["stateMachineArn"])
        text = request.get("input", "{}")
        value = _execution_input(text)
        name = _check_name(request.get("name") or self._new_name())
        if machine.type == EXPRESS:
            # Not idempotent for Express: every start is a new execution.
            arn = f"{self._prefix()}:express:{machine.name}:{name}:{self._new_name()}"
            execution = self._start(machine, text, name, mock, arn)
            return {"executionArn": execution.arn, "startDate": execution.start_date}
        arn = f"{self._prefix()}:execution:{machine.name}:{name}"
        existing = self._known_execution(arn)
        if existing is not None:
            # AWS: the same name and input give the same execution only while it runs.
            if existing.status != "RUNNING":
                raise ExecutionAlreadyExists(name, arn, f"it is {existing.status}")
            if _canonical(existing.input) != _canonical(value):
                raise ExecutionAlreadyExists(name, arn)
            return {"executionArn": existing.arn, "startDate": existing.start_date}
        execution = self._start(machine, text, name, mock, arn)
        return {"executionArn": execution.arn, "startDate": execution.start_date}

    def start_sync_execution(self, request: dict[str, Any]) -> dict[str, Any]:
        """StartSyncExecution: an Express execution, answered once it has ended."""
        machine, mock = self._startable(request["stateMachineArn"])
        if machine.type != EXPRESS:
            raise StateMachineTypeNotSupported(
                "This operation is not supported by this type of state machine: "
                f"'{machine.arn}' is STANDARD"
            )
        text = request.get("input", "{}")
        _execution_input(text)
        name = _check_name(request.get("name") or self._new_name())
        arn = f"{self._prefix()}:express:{machine.name}:{name}:{self._new_name()}"
        started = time.monotonic()
        execution = self._engine.wait(self._start(machine, text, name, mock, arn))
        millis = (time.monotonic() - started) * 1000
        increment = facts.EXPRESS_BILLING_INCREMENT_MS
        answer: dict[str, Any] = {
            "executionArn": execution.arn,
            "stateMachineArn": machine.arn,
            "name": execution.name,
            "startDate": execution.start_date,
            "stopDate": execution.stop_date,
            "status": execution.status,
            "billingDetails": {
                "billedMemoryUsedInMB": facts.EXPRESS_BILLED_MEMORY_MB,
                "billedDurationInMilliseconds": max(1, math.ceil(millis / increment)) * increment,
            },
        }
        if request.get("includedData") != "METADATA_ONLY":
            answer["input"] = to_json(execution.input)
            answer["inputDetails"] = {"included": True}
            if execution.status == "SUCCEEDED":
                answer["output"] = to_json(execution.output)
                answer["outputDetails"] = {"included": True}
        else:
            answer["inputDetails"] = {"included": False}
            answer["outputDetails"] = {"included": False}
        _add_failure(answer, execution)
        if "traceHeader" in request:
            answer["traceHeader"] = request["traceHeader"]
        return answer

    def describe_execution(self, request: dict[str, Any]) -> dict[str, Any]:
        """DescribeExecution (a poll: time may pass on the virtual clock)."""
        execution = self._execution(request["executionArn"])
        if execution.status == "RUNNING":
            self._engine._poll_tick()
        answer: dict[str, Any] = {
            "executionArn": execution.arn,
            "stateMachineArn": execution.state_machine_arn,
            "name": execution.name,
            "status": execution.status,
            "startDate": execution.start_date,
            "redriveCount": 0,
            "redriveStatus": "NOT_REDRIVABLE",
            "redriveStatusReason": "stepsaga does not redrive executions",
        }
        if execution.stop_date is not None:
            answer["stopDate"] = execution.stop_date
        if request.get("includedData") == "METADATA_ONLY":
            answer["inputDetails"] = {"included": False}
            if execution.status == "SUCCEEDED":
                answer["outputDetails"] = {"included": False}
        else:
            answer["input"] = to_json(execution.input)
            answer["inputDetails"] = {"included": True}
            if execution.status == "SUCCEEDED":
                answer["output"] = to_json(execution.output)
                answer["outputDetails"] = {"included": True}
        _add_failure(answer, execution)
        return answer

    def list_executions(self, request: dict[str, Any]) -> dict[str, Any]:
        """ListExecutions of one state machine, newest first (statusFilter, pagination)."""
        if "mapRunArn" in request:
            raise ResourceNotFound(f"Resource not found: '{request['mapRunArn']}'")
        if "stateMachineArn" not in request:
            raise ValidationException(
                "1 validation error detected: Must provide a StateMachine ARN or MapRun ARN"
            )
        machine = self._machine(request["stateMachineArn"])
        if machine.type == EXPRESS:
            raise StateMachineTypeNotSupported(
                "This operation is not supported by this type of state machine: "
                f"'{machine.arn}' is EXPRESS"
            )
        executions = [
            execution
            for execution in self._engine.executions
            if execution.state_machine_arn == machine.arn
        ]
        if any(execution.status == "RUNNING" for execution in executions):
            self._engine._poll_tick()
        wanted = request.get("statusFilter")
        if request.get("redriveFilter") == "REDRIVEN":
            executions = []  # stepsaga never redrives
        chosen = [e for e in reversed(executions) if wanted is None or e.status == wanted]
        page, token = _page(chosen, lambda e: e.arn, request, f"executions {machine.arn}")
        items = []
        for execution in page:
            item: dict[str, Any] = {
                "executionArn": execution.arn,
                "stateMachineArn": execution.state_machine_arn,
                "name": execution.name,
                "status": execution.status,
                "startDate": execution.start_date,
            }
            if execution.stop_date is not None:
                item["stopDate"] = execution.stop_date
            items.append(item)
        return _with_token({"executions": items}, token)

    def stop_execution(self, request: dict[str, Any]) -> dict[str, Any]:
        """StopExecution: ABORTED (an ended execution stays as it ended)."""
        execution = self._execution(request["executionArn"])
        self._engine.stop_execution(
            execution.arn, error=request.get("error"), cause=request.get("cause")
        )
        return {"stopDate": execution.stop_date or self._engine.now()}

    def describe_state_machine_for_execution(self, request: dict[str, Any]) -> dict[str, Any]:
        """DescribeStateMachineForExecution: the revision the execution runs."""
        execution = self._execution(request["executionArn"])
        machine = self._revision_of.get(execution.arn)
        if machine is None:  # started through the facade: its definition is all there is
            answer: dict[str, Any] = {
                "stateMachineArn": execution.state_machine_arn,
                "name": execution.state_machine_arn.rsplit(":", 1)[-1],
                "definition": execution.definition.to_json(indent=None),
                "roleArn": self._engine.role_arn,
                "updateDate": execution.start_date,
                "loggingConfiguration": dict(_DEFAULT_LOGGING),
                "tracingConfiguration": dict(_DEFAULT_TRACING),
            }
        else:
            answer = {
                "stateMachineArn": machine.arn,
                "name": machine.name,
                "definition": machine.definition,
                "roleArn": machine.role_arn,
                "updateDate": machine.update_date or machine.creation_date,
                "loggingConfiguration": machine.logging,
                "tracingConfiguration": machine.tracing,
            }
            if machine.revision_id is not None:
                answer["revisionId"] = machine.revision_id
            if machine.encryption is not None:
                answer["encryptionConfiguration"] = machine.encryption
        if request.get("includedData") == "METADATA_ONLY":
            del answer["definition"]
        return answer

    def get_execution_history(self, request: dict[str, Any]) -> dict[str, Any]:
        """GetExecutionHistory (maxResults, nextToken, reverseOrder, includeExecutionData)."""
        execution = self._execution(request["executionArn"])
        if execution.status == "RUNNING":
            self._engine._poll_tick()
        events = execution.history
        reverse = bool(request.get("reverseOrder"))
        if reverse:
            events.reverse()
        scope = f"history {execution.arn} {'reverse' if reverse else 'forward'}"
        page, token = _page(events, lambda event: str(event["id"]), request, scope)
        if request.get("includeExecutionData") is False:
            page = [_without_data(event) for event in page]
        return _with_token({"events": page}, token)

    # -- callbacks ----------------------------------------------------------------------------

    def send_task_success(self, request: dict[str, Any]) -> dict[str, Any]:
        """SendTaskSuccess."""
        self._engine.send_task_success(request["taskToken"], request["output"])
        return {}

    def send_task_failure(self, request: dict[str, Any]) -> dict[str, Any]:
        """SendTaskFailure."""
        self._engine.send_task_failure(
            request["taskToken"], error=request.get("error"), cause=request.get("cause")
        )
        return {}

    def send_task_heartbeat(self, request: dict[str, Any]) -> dict[str, Any]:
        """SendTaskHeartbeat."""
        self._engine.send_task_heartbeat(request["taskToken"])
        return {}

    # -- activities ---------------------------------------------------------------------------

    def create_activity(self, request: dict[str, Any]) -> dict[str, Any]:
        """CreateActivity: idempotent by name (tags of a repeated request are ignored)."""
        name = _check_name(request["name"])
        tags = _tags(request.get("tags", []))
        arn = f"{self._prefix()}:activity:{name}"
        new = arn not in self._tags
        if new:
            self._check_tag_count(arn, {}, tags)
        activity = self._engine.create_activity(name)
        if new:
            self._tags[arn] = tags
            if "encryptionConfiguration" in request:
                self._activity_encryption[arn] = request["encryptionConfiguration"]
        return {"activityArn": activity.arn, "creationDate": activity.creation_date}

    def describe_activity(self, request: dict[str, Any]) -> dict[str, Any]:
        """DescribeActivity."""
        arn = _arns.parse(request["activityArn"], _arns.ACTIVITY).text
        for activity in self._engine.activities:
            if activity.arn == arn:
                answer: dict[str, Any] = {
                    "activityArn": activity.arn,
                    "name": activity.name,
                    "creationDate": activity.creation_date,
                }
                if arn in self._activity_encryption:
                    answer["encryptionConfiguration"] = self._activity_encryption[arn]
                return answer
        raise ActivityDoesNotExist(arn)

    def delete_activity(self, request: dict[str, Any]) -> dict[str, Any]:
        """DeleteActivity (deleting one that does not exist succeeds, as on AWS)."""
        arn = _arns.parse(request["activityArn"], _arns.ACTIVITY).text
        with contextlib.suppress(ActivityDoesNotExist):
            self._engine.delete_activity(arn)
        self._tags.pop(arn, None)
        self._activity_encryption.pop(arn, None)
        return {}

    def list_activities(self, request: dict[str, Any]) -> dict[str, Any]:
        """ListActivities, by name."""
        activities = sorted(self._engine.activities, key=lambda activity: activity.name)
        page, token = _page(activities, lambda activity: activity.arn, request, "activities")
        items = [
            {
                "activityArn": activity.arn,
                "name": activity.name,
                "creationDate": activity.creation_date,
            }
            for activity in page
        ]
        return _with_token({"activities": items}, token)

    def get_activity_task(self, request: dict[str, Any]) -> dict[str, Any]:
        """GetActivityTask: a long poll (bounded by ``activity_poll_seconds``)."""
        arn = _arns.parse(request["activityArn"], _arns.ACTIVITY).text
        worker = request.get("workerName")
        engine = self._engine
        deadline = time.monotonic() + self.activity_poll_seconds
        task = engine.get_activity_task(arn, worker)
        if task is None:
            engine._poll_tick()
            task = engine.get_activity_task(arn, worker)
        while task is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return {}
            engine._changed.wait(remaining)  # the engine's lock is released meanwhile
            task = engine.get_activity_task(arn, worker)
        return {"taskToken": task.token, "input": to_json(task.input)}

    # -- tags ---------------------------------------------------------------------------------

    def tag_resource(self, request: dict[str, Any]) -> dict[str, Any]:
        """TagResource (a state machine or an activity)."""
        arn = self._taggable(request["resourceArn"])
        tags = _tags(request["tags"])
        self._check_tag_count(arn, self._tags[arn], tags)
        self._tags[arn].update(tags)
        return {}

    def untag_resource(self, request: dict[str, Any]) -> dict[str, Any]:
        """UntagResource."""
        arn = self._taggable(request["resourceArn"])
        for key in request["tagKeys"]:
            self._tags[arn].pop(key, None)
        return {}

    def list_tags_for_resource(self, request: dict[str, Any]) -> dict[str, Any]:
        """ListTagsForResource."""
        arn = self._taggable(request["resourceArn"])
        return {"tags": [{"key": key, "value": value} for key, value in self._tags[arn].items()]}

    # -- TestState ----------------------------------------------------------------------------

    def test_state(self, request: dict[str, Any]) -> dict[str, Any]:
        """TestState, offline: the engine runs the one state (``_test_state``)."""
        from stepsaga.infra.local.stepfunctions._test_state import test_state

        return test_state(self._engine, request)

    # -- the machinery ------------------------------------------------------------------------

    def _prefix(self) -> str:
        return f"arn:aws:states:{self._engine.region}:{self._engine.account_id}"

    def _new_name(self) -> str:
        return str(uuid.UUID(int=self._engine._rng.getrandbits(128), version=4))

    def _definition(self, text: str, machine_type: str) -> StateMachine:
        """The definition, validated and compiled, or InvalidDefinition naming each problem."""
        problems = _problems(text, machine_type)
        if problems:
            listed = ", ".join(str(problem) for problem in problems)
            raise InvalidDefinition(f"Invalid State Machine Definition: '{listed}'")
        model = parse_definition(text)
        try:
            self._engine.compile(model)
        except DefinitionError as exc:
            raise InvalidDefinition(
                f"Invalid State Machine Definition: 'stepsaga cannot run it: {exc}'"
            ) from None
        return model

    def _machine(self, text: str) -> _Machine:
        parsed = _arns.parse(text, _arns.STATE_MACHINE)
        self._forget_deleted()
        machine = self._machines.get(parsed.text)
        if machine is None:
            raise StateMachineDoesNotExist(f"State Machine Does Not Exist: '{parsed.text}'")
        return machine

    def _startable(self, text: str) -> tuple[_Machine, Any]:
        """The machine ``text`` names and the task mock its ``#TestCase`` chooses, if any."""
        arn, _, test_case = text.partition("#")
        machine = self._machine(arn)
        if machine.deleting:
            raise StateMachineDeleting(f"State machine is being deleted: '{machine.arn}'")
        if not test_case:
            return machine, None
        if self.mock_config is None:
            raise InvalidName(
                f"Invalid mock test case name '{test_case}': no mock config is loaded "
                "(stepsaga local --mock-config FILE, or SFN_MOCK_CONFIG)"
            )
        try:
            return machine, self.mock_config.mock(machine.name, test_case)
        except DefinitionError as exc:
            raise InvalidName(
                f"Invalid mock test case name '{test_case}' for state machine "
                f"'{machine.name}': {exc.message}"
            ) from None

    def _start(self, machine: _Machine, text: str, name: str, mock: Any, arn: str) -> Execution:
        execution = self._engine._start_through_api(
            machine.model, text, name, machine.name, mock, arn, machine.role_arn
        )
        self._revision_of[execution.arn] = machine
        self._prune_revisions()
        return execution

    def _known_execution(self, arn: str) -> Execution | None:
        try:
            return self._engine.describe_execution(arn)
        except ExecutionDoesNotExist:
            return None

    def _execution(self, text: str) -> Execution:
        parsed = _arns.parse(text, _arns.EXECUTION, _arns.STATE_MACHINE, _arns.EXPRESS)
        if parsed.kind != _arns.EXECUTION:
            # An Express execution cannot be described (nor its history read, nor stopped).
            raise InvalidArn(
                f"Invalid Arn: 'Resource type not valid in this context: {parsed.kind.lower()}'"
            )
        return self._engine.describe_execution(parsed.text)

    def _live_machines(self) -> list[_Machine]:
        self._forget_deleted()
        return list(self._machines.values())

    def _forget_deleted(self) -> None:
        deleting = [machine for machine in self._machines.values() if machine.deleting]
        if not deleting:
            return
        running = {
            execution.state_machine_arn
            for execution in self._engine.executions
            if execution.status == "RUNNING"
        }
        for machine in deleting:
            if machine.arn not in running:
                del self._machines[machine.arn]

    def _prune_revisions(self) -> None:
        bound = 2 * self._engine._max_retained + 64
        if len(self._revision_of) > bound:
            kept = {execution.arn for execution in self._engine.executions}
            self._revision_of = {
                arn: machine for arn, machine in self._revision_of.items() if arn in kept
            }

    def _taggable(self, text: str) -> str:
        """The ARN of an existing state machine or activity (its tags are ``_tags[arn]``)."""
        parsed = _arns.parse(text, _arns.STATE_MACHINE, _arns.ACTIVITY)
        if parsed.kind == _arns.ACTIVITY:
            exists = any(activity.arn == parsed.text for activity in self._engine.activities)
        else:
            self._forget_deleted()
            machine = self._machines.get(parsed.text)
            exists = machine is not None and not machine.deleting
        if not exists:
            raise ResourceNotFound(f"Resource not found: '{parsed.text}'")
        self._tags.setdefault(parsed.text, {})
        return parsed.text

    def _check_tag_count(self, arn: str, current: dict[str, str], added: dict[str, str]) -> None:
        total = len(current.keys() | added.keys())
        if total > facts.MAX_TAGS_PER_RESOURCE:
            raise TooManyTags(
                f"Too many tags: '{arn}' would have {total}; a resource has at most "
                f"{facts.MAX_TAGS_PER_RESOURCE}",
                arn,
            )


@functools.cache
def _methods() -> dict[str, str]:
    """Each operation of the model the dispatcher has a method for, and the method's name."""
    return {
        operation: _snake(operation)
        for operation in service_model()["operations"]
        if callable(getattr(StepFunctionsApi, _snake(operation), None))
    }


def _snake(operation: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()


def _operation_of(target: str | None) -> str:
    prefix = target_prefix() + "."
    if target is None or not target.startswith(prefix):
        raise UnknownOperationException(
            str(target),
            f"Unknown operation: the X-Amz-Target header must be '{prefix}<Operation>', "
            f"got {target!r}",
        )
    return target[len(prefix) :]


def encode(body: Mapping[str, Any]) -> bytes:
    """JSON for the wire: timestamps as epoch seconds (with milliseconds), as AWS sends them."""
    return _WIRE.encode(body).encode()


def _timestamp(value: Any) -> float:
    if isinstance(value, datetime):
        return round(value.timestamp(), 3)
    raise TypeError(f"not JSON: {type(value).__name__}")


# Built once: json.dumps with options builds an encoder per call, a good share of an answer.
_WIRE: Final = json.JSONEncoder(default=_timestamp, separators=(",", ":"), ensure_ascii=False)
_TEXT: Final = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def to_json(value: Any) -> str:
    """JSON text as Step Functions writes inputs and outputs: compact, UTF-8, keys in order."""
    return _TEXT.encode(value)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


_FORBIDDEN: Final = re.compile(
    "[" + re.escape("".join(sorted(facts.NAME_FORBIDDEN_CHARACTERS))) + "\x00-\x1f\x7f-\x9f]"
)


def _check_name(name: str) -> str:
    """Refuse a name AWS refuses (its length is the model's to check)."""
    bad = _FORBIDDEN.search(name)
    if bad is not None:
        raise InvalidName(f"Invalid Name: '{name}' (it may not contain {bad.group()!r})")
    return name


def _execution_input(text: str | None) -> Any:
    if text is None:
        return {}
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InvalidExecutionInput(str(exc)) from None


def _no_versions(request: dict[str, Any]) -> None:
    if request.get("publish") or "versionDescription" in request:
        raise ValidationException(
            "stepsaga does not keep state machine versions: publish and versionDescription "
            "are not supported"
        )


def _logging(config: dict[str, Any] | None) -> dict[str, Any]:
    merged = {**_DEFAULT_LOGGING, **(config or {})}
    destinations = merged.get("destinations") or []
    if len(destinations) > 1 or (merged["level"] != "OFF" and not destinations):
        raise InvalidLoggingConfiguration(
            "Invalid Logging Configuration: Must specify exactly one Log Destination."
        )
    return merged


def _tags(tags: list[dict[str, str]]) -> dict[str, str]:
    return {tag["key"]: tag.get("value", "") for tag in tags}


def _describe_machine(machine: _Machine, included: str | None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "stateMachineArn": machine.arn,
        "name": machine.name,
        "status": "DELETING" if machine.deleting else "ACTIVE",
        "definition": machine.definition,
        "roleArn": machine.role_arn,
        "type": machine.type,
        "creationDate": machine.creation_date,
        "loggingConfiguration": machine.logging,
        "tracingConfiguration": machine.tracing,
    }
    if machine.revision_id is not None:
        answer["revisionId"] = machine.revision_id
    if machine.encryption is not None:
        answer["encryptionConfiguration"] = machine.encryption
    if included == "METADATA_ONLY":
        del answer["definition"]  # what METADATA_ONLY leaves out
    return answer


def _add_failure(answer: dict[str, Any], execution: Execution) -> None:
    if execution.status != "SUCCEEDED":
        if execution.error is not None:
            answer["error"] = execution.error
        if execution.cause is not None:
            answer["cause"] = execution.cause


def _without_data(event: dict[str, Any]) -> dict[str, Any]:
    trimmed = {}
    for key, value in event.items():
        if isinstance(value, dict) and key.endswith("EventDetails"):
            value = {k: v for k, v in value.items() if k not in ("input", "output")}
        trimmed[key] = value
    return trimmed


def _problems(definition: str, machine_type: str) -> list[Problem]:
    """Every problem of ``definition`` (the validator's, and what Express forbids)."""
    try:
        parse_definition(definition)
    except ASLValidationError as exc:
        return list(exc.problems)
    if machine_type != EXPRESS:
        return []
    return list(_express_problems(json.loads(definition).get("States", {}), "/States"))


def _express_problems(states: Any, pointer: str) -> list[Problem]:
    problems: list[Problem] = []
    if not isinstance(states, dict):
        return problems
    for name, state in states.items():
        if not isinstance(state, dict):
            continue
        here = f"{pointer}/{_escape(name)}"
        resource = state.get("Resource")
        if state.get("Type") == "Task" and isinstance(resource, str):
            if resource.startswith("arn:") and ":activity:" in resource:
                message = "Express state machine does not support Activity ARN"
                problems.append(Problem(f"{here}/Resource", message))
            for suffix in _WAITING_SUFFIXES:
                if resource.endswith(suffix):
                    problems.append(
                        Problem(
                            f"{here}/Resource",
                            f"Express state machine does not support '{suffix.split(':')[0]}' "
                            "service integration",
                        )
                    )
        for index, branch in enumerate(state.get("Branches") or ()):
            if isinstance(branch, dict):
                problems += _express_problems(
                    branch.get("States"), f"{here}/Branches/{index}/States"
                )
        for key in ("ItemProcessor", "Iterator"):
            body = state.get(key)
            if isinstance(body, dict):
                problems += _express_problems(body.get("States"), f"{here}/{key}/States")
    return problems


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _page(
    items: list[Any], key: Callable[[Any], str], request: dict[str, Any], scope: str
) -> tuple[list[Any], str | None]:
    """One page of ``items`` after ``request["nextToken"]``, and the token of the next one.

    A token names the list it belongs to and the last item it returned, so that items added
    meanwhile neither repeat nor vanish.

    Raises:
        InvalidToken: the token is not one this list gave out, or its item is gone.
    """
    size = request.get("maxResults") or facts.DEFAULT_PAGE_SIZE
    start = 0
    token = request.get("nextToken")
    if token is not None:
        after = _read_token(token, scope)
        for index, item in enumerate(items):
            if key(item) == after:
                start = index + 1
                break
        else:
            raise InvalidToken(token, f"Invalid Token: '{token}' (the item it follows is gone)")
    page = items[start : start + size]
    more = start + size < len(items)
    return page, _make_token(scope, key(page[-1])) if more and page else None


def _make_token(scope: str, after: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([scope, after]).encode()).decode()


def _read_token(token: str, scope: str) -> str:
    try:
        kept, after = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, TypeError, binascii.Error):
        raise InvalidToken(token, f"Invalid Token: '{token}'") from None
    if kept != scope or not isinstance(after, str):
        raise InvalidToken(token, f"Invalid Token: '{token}' belongs to another request")
    return after


def _with_token(answer: dict[str, Any], token: str | None) -> dict[str, Any]:
    if token is not None:
        answer["nextToken"] = token
    return answer
