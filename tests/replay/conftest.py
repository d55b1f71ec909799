"""The conformance recordings as a fixture (the test skips when they are absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conformance import conformance_file


@pytest.fixture(scope="session")
def conformance() -> Path:
    """The folder of AWS recordings (see `tests.conformance`)."""
    return conformance_file("jsonpath.jsonl").parent
