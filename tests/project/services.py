"""Service packages written to a temporary folder, for tests of the loader and the commands."""

from __future__ import annotations

import textwrap
from pathlib import Path

SAGAS = """
from pydantic import BaseModel
from stepsaga.workflows.saga import Saga, Step

class Ship(BaseModel):
    id: str

SAGAS = (Saga("ShipIt", Ship, [Step("Pack", action="Pack", compensation="Unpack")]),)
"""

HANDLERS = """
from .sagas import Ship

def pack(command: Ship, ctx):
    return {"packed": command.id}

def unpack(command: Ship, ctx):
    return {}

HANDLERS = {"Pack": pack, "Unpack": unpack}
"""


def write_service(
    root: Path,
    package: str,
    *,
    sagas: str | None = SAGAS,
    handlers: str | None = HANDLERS,
    init: str = "",
    **modules: str,
) -> Path:
    """Write the package `package` under `root`: `sagas.py`, `handlers.py`, any other modules.

    A module given as None is left out. Returns the package's folder.
    """
    folder = root / package
    folder.mkdir(parents=True)
    sources = {"__init__": init, "sagas": sagas, "handlers": handlers, **modules}
    for name, source in sources.items():
        if source is not None:
            (folder / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    return folder
