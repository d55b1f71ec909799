"""Adapters and entry points on real AWS APIs (DynamoDB, SES, Step Functions, API Gateway).

`Starter` starts sagas on an injected boto3 `stepfunctions` client (the trigger's path, and any
backend code's); the API Gateway trigger itself is `stepsaga.infra.aws.trigger`.
"""

from stepsaga.infra.aws._event_store import HEAD_SORT_KEY, DynamoDBEventStore
from stepsaga.infra.aws._lambda import (
    MissingSettingError,
    lambda_entry_points,
    runtime_from_environment,
)
from stepsaga.infra.aws._notifier import CLAIM_AGGREGATE_TYPE, SesNotifier
from stepsaga.infra.aws._starter import (
    CommandConflictError,
    ExecutionStatus,
    StartedExecution,
    Starter,
    StepFunctionsUnavailableError,
    UnknownSagaError,
)
from stepsaga.infra.aws._table import (
    EXPIRY_ATTRIBUTE,
    TENANT_SESSION_TAG,
    create_event_store_table,
    event_store_policy_statement,
    event_store_table_resource,
)
from stepsaga.infra.aws._tenant_role import TenantRole, TenantRoleEventStore, TenantRoleNotifier

__all__ = (
    "CLAIM_AGGREGATE_TYPE",
    "EXPIRY_ATTRIBUTE",
    "HEAD_SORT_KEY",
    "TENANT_SESSION_TAG",
    "CommandConflictError",
    "DynamoDBEventStore",
    "ExecutionStatus",
    "MissingSettingError",
    "SesNotifier",
    "StartedExecution",
    "Starter",
    "StepFunctionsUnavailableError",
    "TenantRole",
    "TenantRoleEventStore",
    "TenantRoleNotifier",
    "UnknownSagaError",
    "create_event_store_table",
    "event_store_policy_statement",
    "event_store_table_resource",
    "lambda_entry_points",
    "runtime_from_environment",
)
