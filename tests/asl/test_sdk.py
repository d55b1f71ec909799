"""A graph built with the Data Science SDK converts into the model (the ``sdk`` extra)."""

from __future__ import annotations

import sys
from typing import Any

import boto3
import pytest

from stepsaga.workflows.asl import ChoiceState, MapState, ParallelState, TaskState, from_sdk_graph

steps = pytest.importorskip("stepfunctions.steps")

pytestmark = pytest.mark.sdk

LAMBDA = "arn:aws:lambda:eu-west-1:111111111111:function:charge"


def build_chain() -> Any:
    start = steps.Pass("Start", result={"attempt": 1}, result_path="$.meta")
    charge = steps.Task("Charge", resource=LAMBDA, parameters={"amount.$": "$.amount"})
    charge.add_retry(
        steps.Retry(
            error_equals=["States.TaskFailed"], interval_seconds=2, max_attempts=4, backoff_rate=1.5
        )
    )
    failed = steps.Fail("Failed", error="ChargeFailed", cause="the card was declined")
    charge.add_catch(
        steps.Catch(error_equals=["States.ALL"], next_step=failed, result_path="$.error")
    )
    both = steps.Parallel("Both")
    both.add_branch(steps.Pass("Left"))
    both.add_branch(steps.Wait("Right", seconds=1))
    each = steps.Map("Each", items_path="$.items", max_concurrency=2, iterator=steps.Pass("Item"))
    done = steps.Succeed("Done")
    route = steps.Choice("Route")
    route.add_choice(
        steps.ChoiceRule.NumericGreaterThan(variable="$.amount", value=10), next_step=both
    )
    route.default_choice(done)
    both.next(each)
    each.next(done)
    return steps.Chain([start, charge, route])


def test_sdk_chain_converts_to_the_same_definition_the_sdk_emits() -> None:
    chain = build_chain()
    # WHEN the SDK chain is converted
    machine = from_sdk_graph(chain)
    # THEN it is the SDK's own definition, typed
    assert machine.to_dict() == steps.Graph(chain).to_dict()
    charge = machine.states["Charge"]
    assert isinstance(charge, TaskState)
    assert charge.retry[0].max_attempts == 4 and charge.catch[0].next == "Failed"
    assert isinstance(machine.states["Route"], ChoiceState)
    both, each = machine.states["Both"], machine.states["Each"]
    assert isinstance(both, ParallelState) and len(both.branches) == 2
    assert isinstance(each, MapState) and each.processor is not None


def test_workflow_and_graph_convert_alike() -> None:
    workflow_module = pytest.importorskip("stepfunctions.workflow")
    # Building a client makes no call; the Workflow only reads its configuration.
    client = boto3.client(
        "stepfunctions", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    chain = build_chain()
    graph = steps.Graph(chain)
    workflow = workflow_module.Workflow(
        name="charge", definition=chain, role="arn:aws:iam::111111111111:role/sfn", client=client
    )
    assert from_sdk_graph(workflow).to_dict() == from_sdk_graph(graph).to_dict()


def test_something_else_is_refused_with_its_type() -> None:
    with pytest.raises(TypeError, match="dict"):
        from_sdk_graph({"StartAt": "A"})


def test_missing_extra_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the SDK cannot be imported
    for name in [module for module in sys.modules if module.split(".")[0] == "stepfunctions"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "stepfunctions", None)
    # WHEN a conversion is asked for THEN the error names the extra
    with pytest.raises(ImportError, match=r"stepsaga\[sdk\]"):
        from_sdk_graph(object())
