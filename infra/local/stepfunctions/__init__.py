"""The embedded Step Functions engine: ASL (JSONPath and JSONata) on a virtual clock.

Runs a definition in-process, records a history shaped exactly like GetExecutionHistory,
calls Lambda tasks as Python handlers (or over the Lambda Invoke API) and lets tests mock or
fail any Task::

    sfn = LocalStepFunctions(seed=1)
    sfn.register_lambda("reserve", handler)          # handler(event, context)
    sfn.mock_tasks(lambda call: TaskOutcome.failure("Stock.Out") if call.state_name == "Pay"
                   else None)                        # fault injection; None = run for real
    ex = sfn.run(definition, {"orderId": "o-1"})
    ex.status, ex.output, ex.error, ex.cause, ex.history

Step Functions Local's MockConfigFile works too:
``sfn.mock_tasks(MockConfig("mocks.json").mock("PlaceOrder", "PaymentFails"))``.

Time is virtual: Wait states, retry back-off and timeouts move the clock at once, and history
timestamps follow it. A handler spends virtual time with ``context.elapse(seconds)`` (or a
mock with ``TaskOutcome.success(..., seconds=N)``), which is how a test reaches a Task's
TimeoutSeconds or HeartbeatSeconds deterministically. ``LocalStepFunctions(real_time=True)``
uses the wall clock instead, for demos.

Not yet supported (a clear DefinitionError says so): Map ItemReader / ItemBatcher /
ResultWriter. ``.waitForTaskToken`` and ``.sync`` tasks are answered by a mock (the token is in
``TaskCall.task_token``; ``TaskOutcome(submitted=...)`` records the TaskSubmitted event).
"""

from stepsaga.infra.local.stepfunctions._clock import RealClock, VirtualClock
from stepsaga.infra.local.stepfunctions._errors import (
    DefinitionError,
    ExecutionAlreadyExists,
    StatesError,
)
from stepsaga.infra.local.stepfunctions._facade import Execution, LocalStepFunctions
from stepsaga.infra.local.stepfunctions._mock_config import MockConfig
from stepsaga.infra.local.stepfunctions._tasks import LambdaContext, TaskCall, TaskMock, TaskOutcome

__all__ = (
    "DefinitionError",
    "Execution",
    "ExecutionAlreadyExists",
    "LambdaContext",
    "LocalStepFunctions",
    "MockConfig",
    "RealClock",
    "StatesError",
    "TaskCall",
    "TaskMock",
    "TaskOutcome",
    "VirtualClock",
)
