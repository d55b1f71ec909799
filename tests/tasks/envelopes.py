"""Step envelopes as the compiled saga sends them, for driving handlers directly."""

from __future__ import annotations

from typing import Any

EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:PlaceOrder:run-1"


def envelope(
    command: dict[str, Any],
    *,
    state: str,
    execution: str = EXECUTION,
    retry_count: int = 0,
    results: dict[str, Any] | None = None,
    error: dict[str, str] | None = None,
    tenant: str = "acme",
    command_type: str = "PlaceOrder",
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    """The envelope of `state` in `execution`.

    Each execution is its own command unless `idempotency_key` says otherwise: the default
    key is derived from the execution, so that retries (one execution) share it.
    """
    body: dict[str, Any] = {
        "command": command,
        "meta": {
            "tenant": tenant,
            "commandId": "cmd-1",
            "commandType": command_type,
            "requestedBy": "user-1",
            "idempotencyKey": idempotency_key or f"idem-{execution.rsplit(':', 1)[-1]}",
        },
        "results": {name: {"Payload": value} for name, value in (results or {}).items()},
        "execution": {
            "id": execution,
            "name": execution.rsplit(":", 1)[-1],
            "startTime": "2026-01-02T03:04:05.000Z",
        },
        "state": {"name": state, "retryCount": retry_count},
    }
    if error is not None:
        body["error"] = error
    return body
