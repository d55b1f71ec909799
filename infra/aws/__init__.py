"""Adapters and entry points on real AWS APIs (DynamoDB, SES, Step Functions, API Gateway)."""

from stepsaga.infra.aws._event_store import HEAD_SORT_KEY, DynamoDBEventStore
from stepsaga.infra.aws._lambda import (
    MissingSettingError,
    lambda_entry_points,
    runtime_from_environment,
)
from stepsaga.infra.aws._notifier import CLAIM_AGGREGATE_TYPE, SesNotifier
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
    "DynamoDBEventStore",
    "MissingSettingError",
    "SesNotifier",
    "TenantRole",
    "TenantRoleEventStore",
    "TenantRoleNotifier",
    "create_event_store_table",
    "event_store_policy_statement",
    "event_store_table_resource",
    "lambda_entry_points",
    "runtime_from_environment",
)
