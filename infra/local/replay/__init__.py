"""Replay recorded Step Functions executions and TestState calls on the embedded engine.

A recording is a ``.jsonl`` file, one execution per line (see DESIGN.md); each Task is
answered from the outcome the recording holds for it, and the produced history is compared
with the recorded one at four levels: status, output (or error and cause), event types, full
events after normalisation. A line ``{"request", "response"}`` is a TestState call: it is made
again with the engine's ``test_state`` and judged on status, output (or error and cause, or
a refusal's code and message), next state and inspection data.
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
from stepsaga.infra.local.replay._test_state import (
    TEST_STATE_LEVELS,
    TestStateRecord,
    load_test_state_records,
    replay_test_state,
    replay_test_state_record,
)

__all__ = (
    "LEVELS",
    "TEST_STATE_LEVELS",
    "CaseResult",
    "Record",
    "ReplayReport",
    "TestStateRecord",
    "load_records",
    "load_test_state_records",
    "recorded_outcomes",
    "replay",
    "replay_record",
    "replay_test_state",
    "replay_test_state_record",
)
