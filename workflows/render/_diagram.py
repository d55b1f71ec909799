"""A drawing of an ASL definition: nodes, clusters (Map/Parallel branches) and typed edges."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

EdgeKind = Literal["next", "catch", "recovery", "branch", "end"]

#: Node id of the top-level start marker.
START_ID = "__start"
#: Node id of the top-level end marker.
END_ID = "__end"

_RULE_KEYS = ("Variable", "Next", "Comment", "Assign", "Output")
# Words Mermaid reads as syntax wherever a node id stands (`end` closes a subgraph).
_RESERVED_IDS = frozenset(
    (
        "end",
        "graph",
        "subgraph",
        "flowchart",
        "direction",
        "style",
        "class",
        "classdef",
        "click",
        "linkstyle",
        "default",
        "call",
        "href",
    )
)
_LABEL_MAX = 48


class HasToDict(Protocol):
    """Anything that gives its canonical ASL JSON, like `stepsaga.workflows.asl.StateMachine`."""

    def to_dict(self) -> dict[str, Any]: ...


Definition = HasToDict | Mapping[str, Any]


@dataclass
class Node:
    """One state.

    Attributes:
        id: Identifier unique in the whole drawing (scoped names can repeat across branches).
        name: The state's name.
        type: The ASL state type.
        recovery: True when only a `Catch` leads here (a compensation, a failure path).
    """

    id: str
    name: str
    type: str
    recovery: bool = False


@dataclass
class Edge:
    """A transition.

    Attributes:
        source: Node id it leaves.
        target: Node id it enters.
        kind: `next` (happy path: Next, Default, Choices), `catch` (a Catch),
            `recovery` (a transition between states only a Catch reaches), `branch` (a
            Map/Parallel entering its branch), `end` (to the end marker).
        label: Text to draw on it, if any.
    """

    source: str
    target: str
    kind: EdgeKind
    label: str | None = None


@dataclass
class Cluster:
    """A cluster of states drawn together.

    The whole machine, a Map's item processor or a Parallel branch.

    Attributes:
        id: Identifier unique in the drawing.
        label: Caption of the group.
        nodes: Its states, in definition order.
        children: Clusters nested in it.
    """

    id: str
    label: str
    nodes: list[Node] = field(default_factory=list)
    children: list[Cluster] = field(default_factory=list)


@dataclass
class Diagram:
    """A whole drawing: the top cluster and every edge (edges may cross clusters)."""

    root: Cluster
    edges: list[Edge]


def as_dict(definition: Definition) -> dict[str, Any]:
    """The definition as a JSON-ready dict."""
    if isinstance(definition, Mapping):
        return dict(definition)
    return definition.to_dict()


def describe_rule(rule: Mapping[str, Any]) -> str:
    """A short caption for a Choice rule (its JSONata condition or its comparison)."""
    if "Condition" in rule:
        text = str(rule["Condition"])
    elif "Variable" in rule:
        ops = [key for key in rule if key not in _RULE_KEYS]
        op = ops[0] if ops else "?"
        text = f"{rule['Variable']} {op} {json.dumps(rule.get(op))}"
    else:
        ops = [key for key in ("And", "Or", "Not") if key in rule]
        text = ops[0] if ops else "rule"
    return text if len(text) <= _LABEL_MAX else text[: _LABEL_MAX - 1] + "…"


def _transitions(state: Mapping[str, Any]) -> list[tuple[str, EdgeKind, str | None]]:
    found: list[tuple[object, EdgeKind, str | None]] = [(state.get("Next"), "next", None)]
    for rule in state.get("Choices") or []:
        if isinstance(rule, Mapping):
            found.append((rule.get("Next"), "next", describe_rule(rule)))
    found.append((state.get("Default"), "next", "default"))
    for catcher in state.get("Catch") or []:
        if isinstance(catcher, Mapping):
            errors = ", ".join(str(e) for e in catcher.get("ErrorEquals") or [])
            found.append((catcher.get("Next"), "catch", errors or None))
    return [(t, k, label) for t, k, label in found if isinstance(t, str)]


class _DiagramBuilder:
    def __init__(self) -> None:
        self.edges: list[Edge] = []
        self.used: set[str] = {START_ID, END_ID}

    def fresh(self, base: str) -> str:
        candidate = re.sub(r"\W", "_", base, flags=re.ASCII) or "_"
        if candidate[0].isdigit() or candidate.lower() in _RESERVED_IDS:
            candidate = "_" + candidate
        unique, n = candidate, 1
        while unique in self.used:
            n += 1
            unique = f"{candidate}_{n}"
        self.used.add(unique)
        return unique

    def cluster(
        self, graph: Mapping[str, Any], cluster: Cluster, prefix: str, top: bool
    ) -> dict[str, str]:
        states: Mapping[str, Any] = graph.get("States") or {}
        ids = {name: self.fresh(prefix + name) for name in states}
        happy: dict[str, list[str]] = {name: [] for name in states}
        local: list[Edge] = []
        for name, state in states.items():
            if not isinstance(state, Mapping):
                continue
            node = Node(ids[name], name, str(state.get("Type", "?")))
            cluster.nodes.append(node)
            source = ids[name]
            for target, kind, label in _transitions(state):
                if target in ids:
                    local.append(Edge(source, ids[target], kind, label))
                    if kind == "next":
                        happy[name].append(target)
            if top and state.get("End") is True:
                local.append(Edge(source, END_ID, "end"))
            self.children(node, state, cluster, prefix)
        start = graph.get("StartAt")
        reached: set[str] = set()
        todo = [start] if isinstance(start, str) and start in ids else []
        while todo:
            current = todo.pop()
            if current not in reached:
                reached.add(current)
                todo.extend(happy.get(current, []))
        recovery_ids = {ids[name] for name in states if name not in reached}
        for node in cluster.nodes:
            node.recovery = node.id in recovery_ids
        for edge in local:
            if edge.kind == "next" and edge.source in recovery_ids:
                edge.kind = "recovery"
        self.edges.extend(local)
        return ids

    def children(self, node: Node, state: Mapping[str, Any], cluster: Cluster, prefix: str) -> None:
        graphs: list[tuple[str, Mapping[str, Any]]] = []
        if node.type == "Map":
            processor = state.get("ItemProcessor") or state.get("Iterator")
            if isinstance(processor, Mapping):
                graphs.append(("items", processor))
        elif node.type == "Parallel":
            for index, branch in enumerate(state.get("Branches") or [], start=1):
                if isinstance(branch, Mapping):
                    graphs.append((f"branch {index}", branch))
        for label, graph in graphs:
            child = Cluster(self.fresh(f"{node.id}_{label}"), f"{node.name}: {label}")
            cluster.children.append(child)
            ids = self.cluster(graph, child, f"{node.id}__", top=False)
            start = graph.get("StartAt")
            if isinstance(start, str) and start in ids:
                self.edges.append(Edge(node.id, ids[start], "branch", label))


def build_diagram(definition: Definition) -> Diagram:
    """Turn an ASL definition into a `Diagram` for the renderers.

    The states that only a `Catch` reaches (in a compiled saga: the compensations, the failure
    notification and the Fail states) are marked `recovery`, and so are the edges between them.
    """
    raw = as_dict(definition)
    builder = _DiagramBuilder()
    root = Cluster("__root", str(raw.get("Comment") or "state machine"))
    ids = builder.cluster(raw, root, "", top=True)
    start = raw.get("StartAt")
    if isinstance(start, str) and start in ids:
        builder.edges.insert(0, Edge(START_ID, ids[start], "next"))
    return Diagram(root, builder.edges)
