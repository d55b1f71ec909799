"""Locate the conformance recordings (skip when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def conformance() -> Path:
    """The folder of AWS recordings: $STEPSAGA_CONFORMANCE or <repo>/../shared/conformance."""
    configured = os.environ.get("STEPSAGA_CONFORMANCE")
    root = (
        Path(configured)
        if configured
        else Path(__file__).parents[2] / ".." / "shared" / "conformance"
    )
    if not (root / "jsonpath.jsonl").is_file():
        pytest.skip(f"conformance recordings not found at {root} (set STEPSAGA_CONFORMANCE)")
    return root
