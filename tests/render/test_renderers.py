"""Mermaid and DOT drawings show every state and keep failure paths apart from the happy path."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from stepsaga.examples.orders.sagas import PLACE_ORDER
from stepsaga.workflows.asl import parse_definition
from stepsaga.workflows.render import build_diagram, render, to_asl_json, to_dot, to_mermaid
from stepsaga.workflows.saga import compile_saga
from tests.conformance import MISSING, conformance_dir

MERMAID_EDGE = re.compile(r"^\s+(\S+) (-->|-\.->|==>)(?:\|\"([^\"]*)\"\|)? (\S+)$")
DOT_EDGE = re.compile(r'^\s+"([^"]+)" -> "([^"]+)"(?: \[(.*)\])?;$')
DOT_NODE = re.compile(r'^\s+"([^"]+)" \[')

BRANCHY: dict[str, Any] = {
    "StartAt": "Route",
    "States": {
        "Route": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.kind", "StringEquals": "bulk", "Next": "Each"}],
            "Default": "Both",
        },
        "Each": {
            "Type": "Map",
            "ItemProcessor": {
                "StartAt": "WorkItem",
                "States": {"WorkItem": {"Type": "Pass", "End": True}},
            },
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Oops"}],
            "End": True,
        },
        "Both": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "Left", "States": {"Left": {"Type": "Pass", "End": True}}},
                {"StartAt": "Right", "States": {"Right": {"Type": "Succeed"}}},
            ],
            "End": True,
        },
        "Oops": {"Type": "Fail", "Error": "Bad"},
    },
}


def _saga_definition() -> dict[str, Any]:
    return compile_saga(PLACE_ORDER).to_dict()


def _mermaid_edges(text: str) -> list[tuple[str, str, str | None, str]]:
    edges = []
    for line in text.splitlines():
        match = MERMAID_EDGE.match(line)
        if match:
            source, arrow, label, target = match.groups()
            edges.append((source, arrow, label, target))
    return edges


def _mermaid_nodes(text: str) -> list[str]:
    return [
        m.group(1)
        for line in text.splitlines()
        if (m := re.match(r"^\s+(\w+)(?:\(|\[|\{|>)", line)) and not MERMAID_EDGE.match(line)
    ]


def test_mermaid_draws_every_state_with_failure_edges_dashed_and_styled() -> None:
    definition = _saga_definition()
    text = to_mermaid(definition)
    nodes = _mermaid_nodes(text)
    assert set(definition["States"]) <= set(nodes)
    edges = _mermaid_edges(text)
    arrows = {(s, t): (arrow, label) for s, arrow, label, t in edges}
    # Happy path: solid arrows.
    assert arrows["ReserveStock", "ChargePayment"] == ("-->", None)
    assert arrows["ConfirmOrder", "NotifyCustomer"] == ("-->", None)
    # Catch edges are dashed and carry their errors; the compensation chain is dashed too.
    assert arrows["ChargePayment", "CompensateChargePayment"] == ("-.->", "States.ALL")
    assert arrows["CompensateChargePayment", "CompensateReserveStock"] == ("-.->", None)
    # linkStyle colours exactly the dashed edges (Mermaid counts links in written order).
    (style,) = [line for line in text.splitlines() if line.strip().startswith("linkStyle")]
    styled = {int(i) for i in style.split()[1].split(",")}
    assert styled == {i for i, edge in enumerate(edges) if edge[1] == "-.->"}
    # Every edge joins declared nodes.
    assert {e[0] for e in edges} | {e[3] for e in edges} <= set(nodes)


def test_mermaid_marks_compensation_states() -> None:
    text = to_mermaid(_saga_definition())
    (line,) = [x for x in text.splitlines() if x.strip().startswith("class ") and "recovery" in x]
    marked = set(line.split()[1].split(","))
    assert marked == {"CompensateChargePayment", "CompensateReserveStock", "NotifyOrderFailed"}


def test_dot_draws_every_state_with_failure_edges_dashed() -> None:
    definition = _saga_definition()
    text = to_dot(definition)
    nodes = {m.group(1) for line in text.splitlines() if (m := DOT_NODE.match(line))}
    assert set(definition["States"]) <= nodes
    edges = {
        (m.group(1), m.group(2)): m.group(3) or ""
        for line in text.splitlines()
        if (m := DOT_EDGE.match(line))
    }
    assert "dashed" not in edges["ReserveStock", "ChargePayment"]
    assert "dashed" in edges["ChargePayment", "CompensateChargePayment"]
    assert 'label="States.ALL"' in edges["ChargePayment", "CompensateChargePayment"]
    assert "dashed" in edges["CompensateChargePayment", "CompensateReserveStock"]
    assert {s for s, _ in edges} | {t for _, t in edges} <= nodes


def test_map_and_parallel_become_subgraphs_with_unique_node_ids() -> None:
    parse_definition(BRANCHY)  # the fixture is valid ASL
    mermaid = to_mermaid(BRANCHY)
    assert mermaid.count("subgraph ") == 3
    nodes = _mermaid_nodes(mermaid)
    assert len(nodes) == len(set(nodes)) == 2 + 4 + 3  # markers, top states, branch states
    entries = [e for e in _mermaid_edges(mermaid) if e[1] == "==>"]
    assert sorted(e[2] or "" for e in entries) == ["branch 1", "branch 2", "items"]
    dot = to_dot(BRANCHY)
    assert dot.count('subgraph "cluster_') == 3
    dot_nodes = [m.group(1) for line in dot.splitlines() if (m := DOT_NODE.match(line))]
    assert len(dot_nodes) == len(set(dot_nodes))


def test_choice_edges_carry_their_rule() -> None:
    edges = _mermaid_edges(to_mermaid(BRANCHY))
    labels = {label for s, _, label, _ in edges if s == "Route"}
    assert labels == {"$.kind StringEquals #quot;bulk#quot;", "default"}


def test_labels_with_quotes_do_not_break_the_drawing() -> None:
    definition = {"StartAt": 'Say "hi"', "States": {'Say "hi"': {"Type": "Succeed"}}}
    assert '"Say #quot;hi#quot;"' in to_mermaid(definition)
    assert r'label="Say \"hi\""' in to_dot(definition)


def test_state_named_like_mermaid_syntax_gets_a_safe_id() -> None:
    definition = {"StartAt": "end", "States": {"end": {"Type": "Succeed"}}}
    text = to_mermaid(definition)
    assert '_end(["end"])' in text
    assert "__start --> _end" in text


def test_asl_format_is_the_canonical_json() -> None:
    machine = compile_saga(PLACE_ORDER)
    assert json.loads(render(machine, "asl")) == machine.to_dict()
    assert to_asl_json(machine).endswith("}\n")


def test_unknown_format_is_refused_naming_the_choices() -> None:
    with pytest.raises(ValueError, match="mermaid"):
        render(BRANCHY, "svg")


def test_every_recorded_definition_renders_with_edges_between_drawn_states() -> None:
    folder = conformance_dir()
    if folder is None:
        pytest.skip(MISSING)
    seen = 0
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            record = json.loads(line) if line.strip() else None
            definition = record.get("definition") if isinstance(record, dict) else None
            if not definition:
                continue
            raw = json.loads(definition) if isinstance(definition, str) else definition
            if not isinstance(raw, dict) or "States" not in raw:
                continue
            diagram = build_diagram(raw)
            drawn = set()
            clusters = [diagram.root]
            while clusters:
                cluster = clusters.pop()
                drawn |= {n.id for n in cluster.nodes}
                clusters.extend(cluster.children)
            assert {e.source for e in diagram.edges} - {"__start"} <= drawn, path.name
            assert {e.target for e in diagram.edges} - {"__end"} <= drawn, path.name
            to_mermaid(raw)
            to_dot(raw)
            seen += 1
    assert seen > 0
