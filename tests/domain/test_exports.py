"""The public surface of these packages is pinned: a change here is a reviewed change."""

from __future__ import annotations

import importlib

import pytest

PUBLIC = {
    "domain": (
        "MAX_AGGREGATE_ID_LENGTH",
        "MAX_AGGREGATE_TYPE_LENGTH",
        "MAX_TENANT_LENGTH",
        "WIRE_MODEL_CONFIG",
        "BusinessFailure",
        "Command",
        "ConcurrencyError",
        "DomainError",
        "DomainEvent",
        "StoredEvent",
        "EventTooLargeError",
        "InvalidIdentifierError",
        "PayloadTooLargeError",
        "RecordedEvent",
        "RetryableError",
        "StreamId",
        "TenantId",
        "TenantMismatchError",
    ),
    "tasks": (
        "MAX_EVENTS_PER_APPEND",
        "MAX_ITEM_BYTES",
        "Decider",
        "EmailMessage",
        "EmailTemplate",
        "EventStore",
        "InMemoryEventStore",
        "InMemoryNotifier",
        "InvalidStepInput",
        "LambdaHandler",
        "Notifier",
        "SentEmail",
        "StepContext",
        "StepFunction",
        "TaskFailed",
        "TaskRuntime",
        "TemplateError",
        "check_append",
        "encode_payload",
        "event_id_for",
        "event_item_size",
        "on_lambda",
        "task_error",
    ),
    "stepsaga.infra.aws": (
        "CLAIM_AGGREGATE_TYPE",
        "EXPIRY_ATTRIBUTE",
        "HEAD_SORT_KEY",
        "DynamoDBEventStore",
        "IdempotencyConflictError",
        "MissingSettingError",
        "SesNotifier",
        "create_event_store_table",
        "event_store_policy_statement",
        "event_store_table_resource",
        "lambda_entry_points",
        "runtime_from_environment",
    ),
}


@pytest.mark.parametrize("package", sorted(PUBLIC))
def test_public_names_are_pinned(package: str) -> None:
    module = importlib.import_module(package)

    assert isinstance(module.__all__, tuple)
    assert sorted(module.__all__) == sorted(PUBLIC[package])


@pytest.mark.parametrize("package", sorted(PUBLIC))
def test_every_public_name_resolves_and_none_is_private(package: str) -> None:
    module = importlib.import_module(package)

    for name in module.__all__:
        assert not name.startswith("_")
        assert getattr(module, name) is not None
