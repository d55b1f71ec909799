"""The state machines an engine knows by ARN: what ``startExecution`` and nested tasks start."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from stepsaga.infra.local.stepfunctions._plan import MachinePlan
    from stepsaga.workflows.asl import StateMachine

MachineType = Literal["STANDARD", "EXPRESS"]
"""A state machine's type."""


@dataclass(frozen=True, slots=True)
class StateMachineRecord:
    """A state machine created on the engine (DescribeStateMachine's view).

    Attributes:
        arn: its ARN.
        name: its name.
        type: ``STANDARD`` or ``EXPRESS``.
        definition: the validated ASL model.
        role_arn: the role its executions show.
        creation_date: when it was created (the engine's clock).
    """

    arn: str
    name: str
    type: MachineType
    definition: StateMachine
    role_arn: str
    creation_date: datetime
    plan: MachinePlan = field(repr=False, compare=False)
