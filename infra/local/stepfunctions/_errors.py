"""Failures raised while a state machine runs (the names AWS gives them: `workflows.facts`)."""

from __future__ import annotations


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


class ExecutionAlreadyExists(Exception):
    """An execution of this state machine already has this name, with another input.

    AWS refuses such a StartExecution; with the same input, it is the same execution.

    Attributes:
        name: the execution name asked for.
        arn: the ARN of the existing execution.
    """

    def __init__(self, name: str, arn: str) -> None:
        super().__init__(f"Execution Already Exists: '{arn}' (name {name!r}, another input)")
        self.name = name
        self.arn = arn
