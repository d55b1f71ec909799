"""Replay recorded Step Functions executions on the embedded engine, as regression tests.

A recording is a ``.jsonl`` file, one execution per line (see DESIGN.md); each Task is
answered from the outcome the recording holds for it, and the produced history is compared
with the recorded one at four levels: status, output (or error and cause), event types, full
events after normalisation.
"""

from stepsaga.infra.local.replay._replay import (
    LEVELS,
    CaseResult,
    Record,
    ReplayReport,
    load_records,
    recorded_outcomes,
    replay,
    replay_record,
)

__all__ = (
    "LEVELS",
    "CaseResult",
    "Record",
    "ReplayReport",
    "load_records",
    "recorded_outcomes",
    "replay",
    "replay_record",
)
