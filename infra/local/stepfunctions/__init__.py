"""The embedded Step Functions engine: ASL (JSONPath and JSONata) on a clock of its own.

Runs a definition in-process, records a history shaped exactly like GetExecutionHistory,
calls Lambda tasks as Python handlers (or over the Lambda Invoke API) and lets tests mock or
fail any Task::

    sfn = LocalStepFunctions(seed=1)
    sfn.register_lambda("reserve", handler)          # handler(event, context)
    sfn.mock_tasks(TaskFault.failure("Pay", "Stock.Out"))   # fault injection
    ex = sfn.run(definition, {"orderId": "o-1"})
    ex.status, ex.output, ex.error, ex.cause, ex.history, ex.transitions

Step Functions Local's MockConfigFile works too:
``sfn.mock_tasks(MockConfig("mocks.json").mock("PlaceOrder", "PaymentFails"))``.

Executions that wait
--------------------
``start()`` returns an execution that may still be running: a ``.waitForTaskToken`` task
waits for ``send_task_success`` / ``send_task_failure`` with its token (``$$.Task.Token``;
``pending_tasks()`` lists the tokens awaited), an activity task for a worker
(``get_activity_task``), and ``stop_execution`` aborts. ``run()`` is ``start()`` then
``wait()``: it returns the ended execution, or raises :class:`ExecutionStillWaiting` when it
waits for a callback that nothing can send. Parallel branches and Map iterations progress
concurrently on the clock, in a fixed order (deterministic for a seed); a machine that never
waits records the same history as one run branch after branch.

The clock, per mode (``LocalStepFunctions(clock=...)``)
-------------------------------------------------------
- ``"virtual"`` (default, for tests in-process): time moves only in ``run()``, ``wait()`` and
  ``advance(seconds)``, which jump to each timer in turn whenever nothing else can progress:
  Wait states, retry back-off, a handler's ``context.elapse(seconds)``, and a waiting task's
  own TimeoutSeconds and HeartbeatSeconds too (in-process the test is the only one who can
  answer, and it answers between calls). ``start()`` and ``send_task_*()`` run an execution
  until it ends or waits, at the current instant, so the test gets its turn: a machine that
  polls for something the test does next cannot run away. An hour of Waits takes a
  millisecond.
- ``"server"`` (for ``stepsaga local``, where callbacks come from outside): Wait states and
  back-off are still jumped past when nothing else can progress, but a waiting task's
  TimeoutSeconds and HeartbeatSeconds (and the machine's TimeoutSeconds while a callback is
  awaited) run in real time, ``time_scale`` times as fast, so that a client has time to
  answer. A timer thread of the engine's fires them; ``close()`` stops it.
- ``"real"`` (demos): every timer fires in wall-clock time, Waits included.

One engine is safe to use from several threads: a lock serialises its calls, and the Lambda
handlers and mocks it runs for them (a handler may call the engine itself, e.g. to answer
its own token; a handler that waits for another thread to call the engine deadlocks).

Not yet supported (a clear DefinitionError says so): Map ItemReader / ItemBatcher /
ResultWriter. Other services' integrations (``sqs:sendMessage`` ...) are answered by mocks;
for a ``.waitForTaskToken`` one, ``TaskOutcome.awaiting_callback(submitted=...)`` makes it
wait for its callback. ``Run.on_close`` is the hook nested executions (``.sync``) will use.
"""

from stepsaga.infra.local.stepfunctions._callbacks import Activity, ActivityTask, PendingTask
from stepsaga.infra.local.stepfunctions._errors import (
    ActivityDoesNotExist,
    ApiError,
    DefinitionError,
    ExecutionAlreadyExists,
    ExecutionDoesNotExist,
    ExecutionStillWaiting,
    InvalidArn,
    InvalidDefinition,
    InvalidExecutionInput,
    InvalidOutput,
    InvalidToken,
    StatesError,
    TaskDoesNotExist,
    TaskTimedOut,
    ValidationException,
)
from stepsaga.infra.local.stepfunctions._execution import Execution
from stepsaga.infra.local.stepfunctions._facade import LocalStepFunctions
from stepsaga.infra.local.stepfunctions._faults import TaskFault, combine_mocks
from stepsaga.infra.local.stepfunctions._mock_config import MockConfig
from stepsaga.infra.local.stepfunctions._observe import Transition, observe_executions
from stepsaga.infra.local.stepfunctions._tasks import LambdaContext, TaskCall, TaskMock, TaskOutcome

__all__ = (
    "Activity",
    "ActivityDoesNotExist",
    "ActivityTask",
    "ApiError",
    "DefinitionError",
    "Execution",
    "ExecutionAlreadyExists",
    "ExecutionDoesNotExist",
    "ExecutionStillWaiting",
    "InvalidArn",
    "InvalidDefinition",
    "InvalidExecutionInput",
    "InvalidOutput",
    "InvalidToken",
    "LambdaContext",
    "LocalStepFunctions",
    "MockConfig",
    "PendingTask",
    "StatesError",
    "TaskCall",
    "TaskDoesNotExist",
    "TaskFault",
    "TaskMock",
    "TaskOutcome",
    "TaskTimedOut",
    "Transition",
    "ValidationException",
    "combine_mocks",
    "observe_executions",
)
