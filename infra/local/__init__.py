"""Running stepsaga locally; each capability is a subpackage, imported by its own path.

- `stepsaga.infra.local.stepfunctions`: the embedded Step Functions engine
  (`LocalStepFunctions`), the one import path of its names;
- `stepsaga.infra.local.replay`: replay of executions recorded on AWS against the engine;
- `stepsaga.infra.local.service`: a service's sagas run locally (engine, handlers, moto).

This package re-exports nothing, so that the engine has one import path.
"""

__all__: tuple[str, ...] = ()
