"""Mermaid flowchart of an ASL definition."""

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

_SHAPES = {
    "Task": ('["', '"]'),
    "Choice": ('{"', '"}'),
    "Pass": ('[/"', '"/]'),
    "Wait": ('>"', '"]'),
    "Succeed": ('(["', '"])'),
    "Fail": ('(["', '"])'),
    "Map": ('[["', '"]]'),
    "Parallel": ('[["', '"]]'),
}
_ARROWS = {
    "next": "-->",
    "end": "-->",
    "branch": "==>",
    "catch": "-.->",
    "recovery": "-.->",
}
#: Stroke of Catch and compensation edges: red and dashed, apart from the happy path.
RECOVERY_LINK_STYLE = "stroke:#c62828,stroke-width:2px,stroke-dasharray:6 4"


def _text(value: str) -> str:
    # Mermaid entity codes keep quotes and pipes from ending a label early.
    return value.replace('"', "#quot;").replace("|", "#124;")


def _node(node: Node) -> str:
    opening, closing = _SHAPES.get(node.type, ('["', '"]'))
    return f"{node.id}{opening}{_text(node.name)}{closing}"


def _cluster(cluster: Cluster, indent: str, lines: list[str]) -> None:
    lines.extend(indent + _node(node) for node in cluster.nodes)
    for child in cluster.children:
        lines.append(f'{indent}subgraph {child.id}["{_text(child.label)}"]')
        lines.append(f"{indent}    direction TB")
        _cluster(child, indent + "    ", lines)
        lines.append(f"{indent}end")


def _edge(edge: Edge) -> str:
    arrow = _ARROWS[edge.kind]
    label = f'|"{_text(edge.label)}"|' if edge.label else ""
    return f"    {edge.source} {arrow}{label} {edge.target}"


def _all_nodes(cluster: Cluster) -> list[Node]:
    nodes = list(cluster.nodes)
    for child in cluster.children:
        nodes.extend(_all_nodes(child))
    return nodes


def to_mermaid(definition: Definition) -> str:
    """Draw `definition` as a Mermaid `flowchart`.

    The happy path uses solid arrows; `Catch` edges (labelled with their errors) and the edges
    between states only a `Catch` reaches (a saga's compensations) are dashed and red, and those
    states are filled red (`recovery` class). Map and Parallel branches are subgraphs, entered by
    thick arrows.
    """
    diagram = build_diagram(definition)
    lines = ["flowchart TD", f"    {START_ID}((start))", f"    {END_ID}((end))"]
    _cluster(diagram.root, "    ", lines)
    lines.extend(_edge(edge) for edge in diagram.edges)
    nodes = _all_nodes(diagram.root)
    lines.append("    classDef recovery fill:#fdecea,stroke:#c62828,color:#000")
    lines.append("    classDef fail fill:#c62828,stroke:#8e0000,color:#fff")
    recovery = [n.id for n in nodes if n.recovery and n.type != "Fail"]
    fails = [n.id for n in nodes if n.type == "Fail"]
    if recovery:
        lines.append(f"    class {','.join(recovery)} recovery")
    if fails:
        lines.append(f"    class {','.join(fails)} fail")
    # linkStyle counts links in the order they were written above.
    red = [str(i) for i, e in enumerate(diagram.edges) if e.kind in ("catch", "recovery")]
    if red:
        lines.append(f"    linkStyle {','.join(red)} {RECOVERY_LINK_STYLE}")
    return "\n".join(lines) + "\n"
