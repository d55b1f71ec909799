"""Failures raised while a state machine runs, named as AWS Step Functions names them."""

from __future__ import annotations

from typing import Final

# The names of evaluation failures come from the expression languages, which report them.
from stepsaga.workflows.expressions import QUERY_EVALUATION_ERROR as QUERY_EVALUATION_ERROR
from stepsaga.workflows.expressions import RUNTIME as RUNTIME

ALL: Final = "States.ALL"
TASK_FAILED: Final = "States.TaskFailed"
TIMEOUT: Final = "States.Timeout"
HEARTBEAT_TIMEOUT: Final = "States.HeartbeatTimeout"
DATA_LIMIT_EXCEEDED: Final = "States.DataLimitExceeded"
NO_CHOICE_MATCHED: Final = "States.NoChoiceMatched"
EXCEED_TOLERATED_FAILURE_THRESHOLD: Final = "States.ExceedToleratedFailureThreshold"

# The payload limit of Step Functions: 256 KiB of UTF-8 per input, output or result.
PAYLOAD_LIMIT_BYTES: Final = 256 * 1024


class StatesError(Exception):
    """A named failure inside an execution (what a Retrier or Catcher matches).

    Attributes:
        error: the error name, e.g. ``"States.Timeout"`` or a Lambda exception class name.
        cause: the cause text, or None when AWS records none.
    """

    def __init__(self, error: str, cause: str | None = None) -> None:
        super().__init__(error if cause is None else f"{error}: {cause}")
        self.error = error
        self.cause = cause


class DefinitionError(ValueError):
    """A definition the engine cannot run (invalid ASL, or a feature it does not support).

    Attributes:
        pointer: the JSON pointer of the offending field, e.g. ``"/States/A/Resource"``.
    """

    def __init__(self, message: str, *, pointer: str = "") -> None:
        super().__init__(f"{message} (at {pointer})" if pointer else message)
        self.message = message
        self.pointer = pointer
