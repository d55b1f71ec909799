"""Where the AWS conformance recordings are, for every test that reads them.

The recordings live in the project (`tests/conformance/recordings/`, with their README and
NOTICE), so every clone runs the conformance tests. `STEPSAGA_CONFORMANCE` points the tests at
another folder of recordings laid out the same way (a newer copy, say); tests that need a file
the folder lacks skip, saying so.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

RECORDINGS = Path(__file__).resolve().parent / "recordings"
MISSING = "conformance recordings not found (tests/conformance/recordings, or STEPSAGA_CONFORMANCE)"


def conformance_dir() -> Path | None:
    """The folder of recordings, or None when there is none."""
    configured = os.environ.get("STEPSAGA_CONFORMANCE")
    folder = Path(configured) if configured else RECORDINGS
    return folder.resolve() if folder.is_dir() else None


def conformance_file(name: str) -> Path:
    """The path of one recordings file; skips the calling test when it is not there."""
    folder = conformance_dir()
    if folder is None or not (folder / name).is_file():
        pytest.skip(f"{MISSING} (looking for {name})")
    return folder / name


def records(name: str) -> Iterator[dict[str, Any]]:
    """The recorded executions of a `.jsonl` file, one dict per line."""
    with conformance_file(name).open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


def find_state(node: Any, name: str) -> dict[str, Any] | None:
    """The state called ``name`` anywhere in a definition (branches and item processors too)."""
    if isinstance(node, dict):
        states = node.get("States")
        if isinstance(states, dict) and isinstance(states.get(name), dict):
            found: dict[str, Any] = states[name]
            return found
        children: Any = node.values()
    elif isinstance(node, list):
        children = node
    else:
        return None
    for child in children:
        found_below = find_state(child, name)
        if found_below is not None:
            return found_below
    return None


def parsed(value: Any) -> Any:
    """A recorded value that may be JSON text, parsed."""
    return json.loads(value) if isinstance(value, str) else value


def entered_states(
    record: dict[str, Any], event_type: str
) -> Iterator[tuple[int, dict[str, Any], dict[str, Any], dict[str, Any]]]:
    """Each state of a recorded history entered with ``event_type`` (e.g. ``PassStateEntered``).

    Yields ``(index of the event, its stateEnteredEventDetails, the state's definition, the
    variables assigned before it)``, the variables as a fresh dict for the caller to keep.
    """
    variables: dict[str, Any] = {}
    for index, event in enumerate(record["history"]):
        details = event.get("stateExitedEventDetails") or {}
        for name, value in (details.get("assignedVariables") or {}).items():
            variables[name] = parsed(value)
        if event["type"] != event_type:
            continue
        entered = event["stateEnteredEventDetails"]
        state = find_state(record["definition"], entered["name"])
        assert state is not None, f"{record['id']}: no state {entered['name']!r}"
        yield index, entered, state, dict(variables)
