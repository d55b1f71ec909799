"""Graphviz DOT of an ASL definition."""

from __future__ import annotations

from stepsaga.workflows.render._diagram import (
    END_ID,
    START_ID,
    Cluster,
    Definition,
    Edge,
    Node,
    build_diagram,
)

_RED = "#c62828"
_SHAPES = {
    "Task": 'shape=box, style="rounded"',
    "Choice": "shape=diamond",
    "Pass": "shape=box",
    "Wait": "shape=hexagon",
    "Succeed": 'shape=box, style="rounded,filled", fillcolor="#e8f5e9"',
    "Fail": f'shape=box, style="rounded,filled", fillcolor="{_RED}", fontcolor="white"',
    "Map": "shape=box3d",
    "Parallel": "shape=box3d",
}
_MARKER = 'label="", style=filled, fillcolor=black'
_EDGE_ATTRS = {
    "next": "",
    "end": "",
    "branch": "style=bold",
    "catch": f'style=dashed, color="{_RED}", fontcolor="{_RED}"',
    "recovery": f'style=dashed, color="{_RED}"',
}


def _quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _node(node: Node) -> str:
    attrs = f"label={_quote(node.name)}, {_SHAPES.get(node.type, 'shape=box')}"
    if node.recovery and node.type != "Fail":
        attrs = f'label={_quote(node.name)}, shape=box, style="rounded,filled", '
        attrs += f'fillcolor="#fdecea", color="{_RED}"'
    return f"{_quote(node.id)} [{attrs}];"


def _cluster(cluster: Cluster, indent: str, lines: list[str]) -> None:
    lines.extend(indent + _node(node) for node in cluster.nodes)
    for child in cluster.children:
        lines.append(f"{indent}subgraph {_quote('cluster_' + child.id)} {{")
        lines.append(f'{indent}    label={_quote(child.label)}; style="rounded,dashed";')
        _cluster(child, indent + "    ", lines)
        lines.append(f"{indent}}}")


def _edge(edge: Edge) -> str:
    attrs = [a for a in (_EDGE_ATTRS[edge.kind],) if a]
    if edge.label:
        attrs.append(f"label={_quote(edge.label)}")
    suffix = f" [{', '.join(attrs)}]" if attrs else ""
    return f"    {_quote(edge.source)} -> {_quote(edge.target)}{suffix};"


def to_dot(definition: Definition) -> str:
    """Draw `definition` as a Graphviz `digraph`.

    The happy path uses solid edges; `Catch` edges (labelled with their errors) and the edges
    between states only a `Catch` reaches (a saga's compensations) are dashed and red, and those
    states are filled pale red. Map and Parallel branches are clusters, entered by bold edges.
    """
    diagram = build_diagram(definition)
    lines = [
        f"digraph {_quote(diagram.root.label)} {{",
        "    rankdir=TB;",
        '    node [fontname="Helvetica"];',
        '    edge [fontname="Helvetica", fontsize=10];',
        f"    {_quote(START_ID)} [{_MARKER}, shape=circle, width=0.2];",
        f"    {_quote(END_ID)} [{_MARKER}, shape=doublecircle, width=0.15];",
    ]
    _cluster(diagram.root, "    ", lines)
    lines.extend(_edge(edge) for edge in diagram.edges)
    lines.append("}")
    return "\n".join(lines) + "\n"
