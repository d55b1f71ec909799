"""Drawings of ASL definitions: Mermaid, Graphviz DOT, and canonical ASL JSON.

Every renderer takes a definition as a `stepsaga.workflows.asl.StateMachine` (anything with
`to_dict()`) or as its JSON dict; `build_diagram` gives the `Diagram` they draw. Catch edges and
compensation paths are drawn apart from the happy path; Map and Parallel branches are nested
clusters.
"""

from stepsaga.workflows.render._asl import FORMATS, render, to_asl_json
from stepsaga.workflows.render._diagram import Cluster, Diagram, Edge, Node, build_diagram
from stepsaga.workflows.render._dot import to_dot
from stepsaga.workflows.render._mermaid import to_mermaid

__all__ = (
    "FORMATS",
    "Cluster",
    "Diagram",
    "Edge",
    "Node",
    "build_diagram",
    "render",
    "to_asl_json",
    "to_dot",
    "to_mermaid",
)
