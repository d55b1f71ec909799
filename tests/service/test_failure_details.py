"""A business failure reaches the compensations and the failure notification whole.

`BusinessFailure(details=...)` is for the failure notification: its name, message and details
arrive in `ctx.error` as they were raised, not as a Lambda error cause to parse. And no error
cause names where stepsaga or the service is installed on this machine.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from stepsaga.domain import BusinessFailure, Command
from stepsaga.infra.local.service import LocalService
from stepsaga.tasks import InMemoryEventStore, InMemoryNotifier, StepContext
from stepsaga.workflows.saga import Notification, Saga, Step

ROOT = Path(__file__).resolve().parent.parent.parent


class Book(Command):
    seat: str


class SeatTaken(BusinessFailure):
    """The seat is someone else's."""


seen: list[tuple[str, Any]] = []


def hold(command: Book, ctx: StepContext) -> dict[str, str]:
    return {"held": command.seat}


def release(command: Book, ctx: StepContext) -> dict[str, str]:
    assert ctx.error is not None
    seen.append(("release", (ctx.error.name, ctx.error.message, ctx.error.details)))
    return {}


def pay(command: Book, ctx: StepContext) -> dict[str, str]:
    raise SeatTaken(
        f"seat {command.seat} is taken",
        details={"seat": command.seat, "takenBy": "o-9", "alternatives": ["12B", "12C"]},
    )


def crash(command: Book, ctx: StepContext) -> dict[str, str]:
    return {}[command.seat]  # a KeyError, deep in the service's code


def refund(command: Book, ctx: StepContext) -> dict[str, str]:
    return {}


def tell(command: Book, ctx: StepContext) -> dict[str, str]:
    assert ctx.error is not None
    seen.append(("tell", (ctx.error.name, ctx.error.message, ctx.error.details)))
    return {}


def saga(failing: str) -> Saga:
    return Saga(
        name=f"Book{failing}",
        command=Book,
        steps=(
            Step("Hold", action="Hold", compensation="Release"),
            Step("Pay", action=failing, compensation="Refund"),
        ),
        on_failure=Notification("Tell", action="Tell"),
    )


HANDLERS = {"Hold": hold, "Release": release, "Pay": pay, "Crash": crash, "Refund": refund}
HANDLERS["Tell"] = tell


def service() -> LocalService:
    return LocalService(
        [saga("Pay"), saga("Crash")],
        HANDLERS,
        event_store=InMemoryEventStore(),
        notifier=InMemoryNotifier(),
    )


def test_compensations_and_the_failure_notification_get_the_failure_name_message_and_details() -> (
    None
):
    seen.clear()
    run = service().execute("BookPay", {"seat": "12A"})

    assert run.status == "FAILED"
    assert run.execution.error == "SeatTaken"
    failure = (
        "SeatTaken",
        "seat 12A is taken",
        {"seat": "12A", "takenBy": "o-9", "alternatives": ["12B", "12C"]},
    )
    assert seen == [("release", failure), ("tell", failure)]


def test_any_other_error_arrives_with_its_message_and_no_details() -> None:
    seen.clear()
    run = service().execute("BookCrash", {"seat": "12A"})

    assert run.execution.error == "KeyError"
    assert seen[-1] == ("tell", ("KeyError", "'12A'", {}))


def _installation_paths() -> list[str]:
    return sorted({str(ROOT), sys.prefix, sys.base_prefix, str(Path.home())}, key=len)


def test_error_causes_name_no_absolute_path_of_the_installation() -> None:
    for name in ("BookPay", "BookCrash"):
        run = service().execute(name, {"seat": "12A"})
        cause = json.loads(run.execution.cause or "{}")

        assert cause["stackTrace"], cause  # a trace is kept ...
        for line in cause["stackTrace"]:
            # ... of module paths, as the package is laid out, not as this machine holds it
            assert not any(path in line for path in _installation_paths()), line
            assert 'File "/' not in line, line
        assert any("stepsaga/tasks/_runtime.py" in line for line in cause["stackTrace"])
