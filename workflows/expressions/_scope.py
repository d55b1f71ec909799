"""The evaluation scope shared by every expression: context object, variables, randomness."""

from __future__ import annotations

import random as _random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Scope:
    """What an expression can see besides its input document.

    Attributes:
        context: the context object (``$$``): Execution, State, StateMachine, Task, Map.
        variables: the workflow variables visible to the state (``$name`` in JSONPath mode).
        random: the random source used by ``States.MathRandom`` and ``States.UUID``; seed it
            for reproducible executions.
    """

    context: Mapping[str, Any] = field(default_factory=dict)
    variables: Mapping[str, Any] = field(default_factory=dict)
    random: _random.Random = field(default_factory=_random.Random)
