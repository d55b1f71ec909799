"""The one error shape every answer of the trigger (and of the local gateway) has."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, Field

__all__ = ("ErrorBody", "ErrorDetail", "ErrorInfo", "HttpError", "error_body")


class ErrorDetail(BaseModel):
    """One thing wrong with a request.

    Attributes:
        path: Where: `body.items.0.sku`, `header.idempotency-key`, `path.execution_id`.
        message: What is wrong there.
    """

    path: str
    message: str


class ErrorInfo(BaseModel):
    """An error's code (stable, for machines), message (for people) and details."""

    code: str
    message: str
    details: list[ErrorDetail] = Field(default_factory=list)


class ErrorBody(BaseModel):
    """`{"error": {"code", "message", "details": [{"path", "message"}]}}`."""

    error: ErrorInfo


def error_body(code: str, message: str, details: Sequence[Mapping[str, str]] = ()) -> str:
    """The JSON text of an error answer."""
    info = {"code": code, "message": message, "details": [dict(d) for d in details]}
    return json.dumps({"error": info}, ensure_ascii=False)


class HttpError(Exception):
    """An answer other than success, raised anywhere in a route and answered in the one shape.

    Attributes:
        status: The HTTP status.
        code: The error code.
        message: The message.
        details: Per-field details.
        headers: Extra response headers (`Retry-After`, `Allow`).
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Sequence[Mapping[str, str]] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.details = tuple(details)
        self.headers: dict[str, Any] = dict(headers or {})
        super().__init__(f"{status} {code}: {message}")
