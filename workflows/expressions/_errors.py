"""Errors raised while compiling or evaluating ASL expressions."""

from __future__ import annotations

from typing import Final

# The error names expressions fail with. AWS reserves States.IntrinsicFailure and
# States.ResultPathMatchFailure too, but reports failing intrinsics as States.Runtime and a
# ResultPath that cannot be applied as States.ReferencePathConflict.
RUNTIME: Final = "States.Runtime"
QUERY_EVALUATION_ERROR: Final = "States.QueryEvaluationError"
REFERENCE_PATH_CONFLICT: Final = "States.ReferencePathConflict"


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
        error: the AWS error name: :data:`RUNTIME`, :data:`QUERY_EVALUATION_ERROR` or
            ``"States.ReferencePathConflict"``.
        cause: the cause text exactly as AWS writes it in the execution history.
        field: the field whose JSONata expression failed, nested keys included (e.g.
            ``"Output/result"``): the ``location`` AWS records; None for other failures.
    """

    def __init__(self, error: str, cause: str, *, field: str | None = None) -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause
        self.field = field
