"""The evaluation scope shared by every expression: context object, variables, randomness."""

from __future__ import annotations

import random as _random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, Final

_NOTHING: Final[Mapping[str, Any]] = MappingProxyType({})
# Seeding a fresh Random from the OS costs tens of microseconds: a scope built without one
# shares this unseeded source rather than paying that on every state.
_UNSEEDED: Final = _random.Random()


@dataclass(slots=True)
class EvaluationScope:
    """What an expression can see besides its input document.

    Attributes:
        context: the context object (``$$``): Execution, State, StateMachine, Task, Map.
        variables: the workflow variables visible to the state (``$name`` in JSONPath mode).
        random: the random source used by ``States.MathRandom``, ``States.UUID``, ``$random``
            and ``$uuid``; pass a seeded ``random.Random`` for reproducible executions (the
            default is shared and unseeded).
        now: the current instant as JSONata's ``$now()`` and ``$millis()`` report it (a
            timezone-aware datetime; the engine sets its virtual clock's time); None reads
            the wall clock.
    """

    context: Mapping[str, Any] = field(default_factory=lambda: _NOTHING)
    variables: Mapping[str, Any] = field(default_factory=lambda: _NOTHING)
    random: _random.Random = field(default_factory=lambda: _UNSEEDED)
    now: datetime | None = None
