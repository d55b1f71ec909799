"""Local execution: the embedded Step Functions engine, local endpoints and moto wiring."""

from stepsaga.infra.local.stepfunctions import (
    DefinitionError,
    Execution,
    LambdaContext,
    LocalStepFunctions,
    TaskCall,
    TaskOutcome,
)

__all__ = (
    "DefinitionError",
    "Execution",
    "LambdaContext",
    "LocalStepFunctions",
    "TaskCall",
    "TaskOutcome",
)
