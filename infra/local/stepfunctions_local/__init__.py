"""Step Functions Local (`amazon/aws-stepfunctions-local`) as a backend, via testcontainers.

- `LambdaEndpoint`: the Lambda Invoke REST API on 127.0.0.1 for registered Python handlers,
  what the container's `LAMBDA_ENDPOINT` points at (the embedded engine and boto3 can use it
  too);
- `container_config` / `StepFunctionsLocal`: the container (image, environment, MockConfigFile
  mount, host network) and its start-up;
- `StepFunctionsLocalBackend`: both together, creating state machines and running executions
  to their end through boto3.

It needs Docker and the `stepfunctions-local` extra (`testcontainers`). What it covers and why it
lags AWS is in the README ("Step Functions Local").
"""

from stepsaga.infra.local.stepfunctions_local._backend import (
    FUNCTION_ARN_PREFIX,
    ExecutionResult,
    ExecutionRunner,
    StepFunctionsLocalBackend,
)
from stepsaga.infra.local.stepfunctions_local._container import (
    IMAGE,
    MOCK_CONFIG_PATH,
    PORT,
    ContainerConfig,
    DockerUnavailable,
    StepFunctionsLocal,
    container_config,
    docker_available,
)
from stepsaga.infra.local.stepfunctions_local._lambda_endpoint import (
    INVOKE_PATH,
    LambdaEndpoint,
    function_name,
)

__all__ = (
    "FUNCTION_ARN_PREFIX",
    "IMAGE",
    "INVOKE_PATH",
    "MOCK_CONFIG_PATH",
    "PORT",
    "ContainerConfig",
    "DockerUnavailable",
    "ExecutionResult",
    "ExecutionRunner",
    "LambdaEndpoint",
    "StepFunctionsLocal",
    "StepFunctionsLocalBackend",
    "container_config",
    "docker_available",
    "function_name",
)
