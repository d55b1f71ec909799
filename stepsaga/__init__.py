"""stepsaga: CQRS sagas in Python, compiled to AWS Step Functions, tested in-process.

The names most code needs, re-exported from the packages that hold them:

- a saga and its steps: `Saga`, `Step`, `Notification`, `RetryPolicy`, `compile_saga`
  (`stepsaga.workflows.saga`);
- the domain model a step works with: `Command`, `DomainEvent`, `BusinessFailure`,
  `RetryableError` (`stepsaga.domain`);
- the Lambda side: `TaskRuntime`, `StepContext`, and the in-memory `InMemoryEventStore` and
  `InMemoryNotifier` (`stepsaga.tasks`);
- running locally: `LocalService` (`stepsaga.infra.local.service`), a service's sagas with their
  handlers, and `LocalStepFunctions` (`stepsaga.infra.local.stepfunctions`), the embedded engine.

Everything else is imported from its package (`stepsaga.workflows.asl`, `stepsaga.infra.aws`, ...).
"""

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stepsaga.domain import BusinessFailure, Command, DomainEvent, RetryableError
    from stepsaga.infra.local.service import LocalService
    from stepsaga.infra.local.stepfunctions import LocalStepFunctions
    from stepsaga.tasks import InMemoryEventStore, InMemoryNotifier, StepContext, TaskRuntime
    from stepsaga.workflows.saga import Notification, RetryPolicy, Saga, Step, compile_saga

__all__ = (
    "BusinessFailure",
    "Command",
    "DomainEvent",
    "InMemoryEventStore",
    "InMemoryNotifier",
    "LocalService",
    "LocalStepFunctions",
    "Notification",
    "RetryPolicy",
    "RetryableError",
    "Saga",
    "Step",
    "StepContext",
    "TaskRuntime",
    "compile_saga",
)

# Every task Lambda runs this module first (it imports `stepsaga.tasks`), so it imports nothing
# itself: each name is imported from its package on first access (PEP 562) and then cached here.
# A Lambda never touches `LocalStepFunctions`, so it never loads the engine.
_HOMES: dict[str, str] = {
    "BusinessFailure": "stepsaga.domain",
    "Command": "stepsaga.domain",
    "DomainEvent": "stepsaga.domain",
    "RetryableError": "stepsaga.domain",
    "InMemoryEventStore": "stepsaga.tasks",
    "InMemoryNotifier": "stepsaga.tasks",
    "StepContext": "stepsaga.tasks",
    "TaskRuntime": "stepsaga.tasks",
    "LocalService": "stepsaga.infra.local.service",
    "LocalStepFunctions": "stepsaga.infra.local.stepfunctions",
    "Notification": "stepsaga.workflows.saga",
    "RetryPolicy": "stepsaga.workflows.saga",
    "Saga": "stepsaga.workflows.saga",
    "Step": "stepsaga.workflows.saga",
    "compile_saga": "stepsaga.workflows.saga",
}


def _export(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


# Hidden from type checkers, which would otherwise accept any attribute of `stepsaga`; they read
# the names from the imports under TYPE_CHECKING instead.
if not TYPE_CHECKING:
    __getattr__ = _export
