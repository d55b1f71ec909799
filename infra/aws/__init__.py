"""Adapters and entry points on real AWS APIs (DynamoDB, SES, Step Functions, API Gateway)."""

from infra.aws._event_store import HEAD_SORT_KEY, DynamoDBEventStore
from infra.aws._table import EXPIRY_ATTRIBUTE, create_event_store_table, event_store_table_resource

__all__ = (
    "EXPIRY_ATTRIBUTE",
    "HEAD_SORT_KEY",
    "DynamoDBEventStore",
    "create_event_store_table",
    "event_store_table_resource",
)
