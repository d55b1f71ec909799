"""The embedded Step Functions engine: JSONPath-mode ASL on a virtual clock.

Runs a definition in-process, records a history shaped exactly like GetExecutionHistory,
calls Lambda tasks as Python handlers (or over the Lambda Invoke API) and lets tests mock or
fail any Task.
"""

from infra.local.stepfunctions._clock import RealClock, VirtualClock
from infra.local.stepfunctions._errors import DefinitionError, StatesError
from infra.local.stepfunctions._facade import Execution, LocalStepFunctions
from infra.local.stepfunctions._tasks import LambdaContext, TaskCall, TaskMock, TaskOutcome

__all__ = (
    "DefinitionError",
    "Execution",
    "LambdaContext",
    "LocalStepFunctions",
    "RealClock",
    "StatesError",
    "TaskCall",
    "TaskMock",
    "TaskOutcome",
    "VirtualClock",
)
