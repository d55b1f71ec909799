"""Nested executions recorded on AWS, run for real on the engine: the same histories.

The replay (`stepsaga replay`) answers a nested task from its recording; here the recorded
parents start their recorded children (`setup.state_machines`, Pass and Fail machines) on the
engine, and the parents' histories are compared with AWS's, event for event.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from stepsaga.infra.local.replay import load_records
from stepsaga.infra.local.replay._normalise import first_difference, normalise_history
from stepsaga.infra.local.stepfunctions import LocalStepFunctions
from tests.conformance import conformance_file

ACCOUNT = "111111111111"


def _nested_records() -> list[Any]:
    path = conformance_file("services.jsonl")
    raw = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    chosen = []
    for record, line in zip(load_records(path), raw, strict=True):
        machines = line["setup"]["state_machines"]
        # the machines of another account (cross-account roles) are not this engine's
        if machines and all(f":{ACCOUNT}:" in arn for arn in machines):
            chosen.append(pytest.param(record, list(machines.values()), id=record.id[-60:]))
    return chosen


def _name(record: Any, placeholder: str) -> str:
    for transformer in record.transformers:
        if transformer.get("replacement") == placeholder and transformer.get("regex"):
            return str(transformer["regex"])
    return placeholder


def _comparable(value: Any) -> Any:
    """Events without what AWS's clock and request ids decide in a response's metadata.

    The Content-Length counts the bytes of a body whose ``startDate`` is AWS's clock to the
    millisecond, which the recording does not keep; the recorder replaced the Date and
    request id headers in some records (by key) and not in others.
    """
    text = json.dumps(value)
    for key in ("Content-Length", "Date", "x-amzn-RequestId", "RequestId"):
        text = re.sub(rf'"{key}": (\["[^"]*"\]|"[^"]*")', f'"{key}": "{key}"', text)
    return json.loads(text)


@pytest.mark.parametrize(("record", "machines"), _nested_records())
def test_a_recorded_parent_starting_its_child_records_aws_s_history(
    record: Any, machines: list[dict[str, Any]]
) -> None:
    # GIVEN the child machines the recording's test created, on an engine with AWS's names
    sfn = LocalStepFunctions(account_id=ACCOUNT, role_arn=_name(record, "snf_role_arn"))
    for machine in machines:
        sfn.create_state_machine(machine["name"], machine["definition"])
    # WHEN the recorded parent runs, its nested task starting the child for real
    execution = sfn.run(
        record.definition,
        record.input,
        name=_name(record, "<ExecArnPart_0idx>"),
        state_machine_name=_name(record, "<ArnPart_0idx>"),
    )
    # THEN its history is AWS's, event for event
    assert execution.status == record.status
    actual = normalise_history(execution.history, record.transformers, record.history)
    assert [event["type"] for event in actual] == [event["type"] for event in record.history]
    difference = first_difference(_comparable(record.history), _comparable(actual))
    assert difference is None, difference
