"""Errors raised while compiling or evaluating ASL expressions."""

from __future__ import annotations


class ExpressionSyntaxError(ValueError):
    """An expression (path, intrinsic call, JSONata body, Choice rule) is malformed.

    Raised at compile time, when a definition is validated, never while it runs.

    Attributes:
        expression: the offending expression text as written in the definition.
        field: the ASL field or key that holds it, when known (e.g. ``"ResultPath"``).
    """

    def __init__(self, message: str, *, expression: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.expression = expression
        self.field = field

    def __str__(self) -> str:
        where = f" in {self.field}" if self.field else ""
        return f"{self.message}{where}: {self.expression!r}"


class EvaluationError(Exception):
    """A runtime failure of an expression, named and worded as AWS Step Functions reports it.

    Attributes:
        error: the AWS error name, one of ``stepsaga.workflows.facts``: ``STATES_RUNTIME``,
            ``STATES_QUERY_EVALUATION_ERROR`` or ``STATES_REFERENCE_PATH_CONFLICT``.
        cause: the cause text exactly as AWS writes it in the execution history.
        field: the field whose JSONata expression failed, nested keys included (e.g.
            ``"Output/result"``): the ``location`` AWS records; None for other failures.
    """

    def __init__(self, error: str, cause: str, *, field: str | None = None) -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause
        self.field = field
