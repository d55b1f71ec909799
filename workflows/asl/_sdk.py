"""Import of state machines built with the AWS Step Functions Data Science SDK.

The SDK is an optional extra (``pip install 'stepsaga[sdk]'``, the sagemaker-free fork
``stepfunctions-without-sagemaker``, imported as ``stepfunctions``); it is imported only when
:func:`from_sdk_graph` is called, so the core never needs it.
"""

from __future__ import annotations

from stepsaga.workflows.asl._models import StateMachine
from stepsaga.workflows.asl._parse import parse_definition

__all__ = ("SDK_MISSING_MESSAGE", "from_sdk_graph")

SDK_MISSING_MESSAGE = (
    "from_sdk_graph needs the AWS Step Functions Data Science SDK; "
    "install it with: pip install 'stepsaga[sdk]'"
)


def from_sdk_graph(graph: object, *, validate: bool = True) -> StateMachine:
    """Convert a Data Science SDK definition into the typed model.

    Args:
        graph: a ``stepfunctions.steps.Graph`` (or ``FrozenGraph``), a ``Chain`` or single
            ``State`` (wrapped in a graph the way ``Workflow`` does), or a
            ``stepfunctions.workflow.Workflow`` (its ``definition`` is used).
        validate: passed to :func:`stepsaga.workflows.asl.parse_definition`.

    Returns:
        The state machine the SDK would deploy.

    Raises:
        ImportError: the ``sdk`` extra is not installed.
        TypeError: ``graph`` is none of the accepted SDK objects.
        ASLValidationError: the SDK produced a definition AWS would refuse.
    """
    try:
        from stepfunctions.steps.states import Chain, Graph, State
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] != "stepfunctions":
            raise
        raise ImportError(SDK_MISSING_MESSAGE) from exc
    definition = graph
    if not isinstance(definition, Graph | State | Chain):
        # A Workflow keeps its Graph in ``definition``. Steps are checked first because SDK
        # blocks answer any attribute name (with None) through their fields.
        definition = getattr(graph, "definition", graph)
    if isinstance(definition, State | Chain):
        definition = Graph(definition)
    if not isinstance(definition, Graph):
        raise TypeError(
            "from_sdk_graph expects a stepfunctions Graph, Chain, State or Workflow, "
            f"got {type(graph).__name__}"
        )
    return parse_definition(definition.to_json(), validate=validate)
