"""The public surface of stepsaga, pinned in one place: a change to it is a reviewed change.

Every package (and each public module of the library) states its public names in a tuple
`__all__`; each of those names resolves and none is private; and the list equals the one pinned
here. A new package or public module fails `test_every_package_and_public_module_is_pinned`
until its list is added below.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("domain", "workflows", "tasks", "infra", "examples")
# Packages that live in `stepsaga/` itself rather than in a top-level folder it links to.
IN_NAMESPACE = ("testing",)


def _public_modules() -> list[str]:
    """Every package of the library, and every module whose path has no private part."""
    found = {"stepsaga"}
    folders = [(ROOT / layer, ROOT) for layer in LAYERS]
    folders += [(ROOT / "stepsaga" / package, ROOT / "stepsaga") for package in IN_NAMESPACE]
    for folder, base in folders:
        for path in folder.rglob("*.py"):
            parts = path.relative_to(base).with_suffix("").parts
            if "__pycache__" in parts:
                continue
            if parts[-1] == "__init__":
                found.add(".".join(("stepsaga", *parts[:-1])))
            elif not any(part.startswith("_") for part in parts) and parts[0] != "examples":
                found.add(".".join(("stepsaga", *parts)))
    return sorted(found)


PINNED: dict[str, tuple[str, ...]] = {
    "stepsaga": (
        "BusinessFailure",
        "Command",
        "DomainEvent",
        "InMemoryEventStore",
        "InMemoryNotifier",
        "LocalService",
        "LocalStepFunctions",
        "Notification",
        "RetryPolicy",
        "RetryableError",
        "Saga",
        "Step",
        "StepContext",
        "TaskRuntime",
        "compile_saga",
    ),
    "stepsaga.domain": (
        "MAX_AGGREGATE_ID_LENGTH",
        "MAX_AGGREGATE_TYPE_LENGTH",
        "MAX_TENANT_LENGTH",
        "WIRE_MODEL_CONFIG",
        "BusinessFailure",
        "Command",
        "ConcurrencyError",
        "DomainError",
        "DomainEvent",
        "EventTooLargeError",
        "InvalidIdentifierError",
        "PayloadTooLargeError",
        "RecordedEvent",
        "RetryableError",
        "StoredEvent",
        "StreamId",
        "TenantId",
        "TenantMismatchError",
    ),
    "stepsaga.examples": (),
    "stepsaga.examples.orders": (),
    "stepsaga.infra": (),
    "stepsaga.infra.aws": (
        "CLAIM_AGGREGATE_TYPE",
        "EXPIRY_ATTRIBUTE",
        "HEAD_SORT_KEY",
        "TENANT_SESSION_TAG",
        "DynamoDBEventStore",
        "IdempotencyConflictError",
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
    ),
    "stepsaga.infra.aws.deploy": (
        "ALARMED_ERRORS",
        "API_STAGE",
        "BUNDLE",
        "LAMBDA_ARCHITECTURE",
        "LAMBDA_RUNTIME",
        "LAMBDA_TARGET",
        "TRIGGER_HANDLER",
        "UNSCOPED_ACTIONS",
        "Bundle",
        "BundleError",
        "CodeLocation",
        "DeployError",
        "DeployResult",
        "StackEvent",
        "SynthError",
        "Target",
        "build_bundle",
        "bundle_manifest",
        "deploy_service",
        "parse_parameters",
        "runtime_requirements",
        "synthesise_template",
    ),
    "stepsaga.infra.bench": (
        "APPENDS_PER_TABLE",
        "CHAIN_RATIO_TARGET",
        "LONG_WAIT_WALL_TARGET_SECONDS",
        "MEMORY_BAR_BYTES",
        "NODE_CHAIN_SECONDS",
        "BenchOptions",
        "BenchReport",
        "PeerResult",
        "bench",
        "profile_engine",
    ),
    "stepsaga.infra.cli": (
        "cli",
        "main",
    ),
    "stepsaga.infra.local": (),
    "stepsaga.infra.local.replay": (
        "LEVELS",
        "CaseResult",
        "Record",
        "ReplayReport",
        "load_records",
        "recorded_outcomes",
        "replay",
        "replay_record",
    ),
    "stepsaga.infra.local.service": (
        "DemoRun",
        "LocalService",
        "SentMail",
        "ServiceRun",
        "execution_path",
        "moto_service",
        "run_demo",
    ),
    "stepsaga.infra.local.stepfunctions": (
        "Activity",
        "ActivityDoesNotExist",
        "ActivityTask",
        "ApiError",
        "DefinitionError",
        "Execution",
        "ExecutionAlreadyExists",
        "ExecutionDoesNotExist",
        "ExecutionStillWaiting",
        "InvalidExecutionInput",
        "InvalidOutput",
        "InvalidToken",
        "LambdaContext",
        "LocalStepFunctions",
        "MockConfig",
        "PendingTask",
        "StatesError",
        "TaskCall",
        "TaskDoesNotExist",
        "TaskFault",
        "TaskMock",
        "TaskOutcome",
        "TaskTimedOut",
        "Transition",
        "combine_mocks",
        "observe_executions",
    ),
    "stepsaga.tasks": (
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
    "stepsaga.workflows": (),
    "stepsaga.workflows._expressions": (
        "CompiledChoiceRule",
        "EvaluationError",
        "EvaluationScope",
        "ExpressionSyntaxError",
        "FieldTemplate",
        "IntrinsicCall",
        "JsonValueError",
        "JsonataTemplate",
        "LiteralArgument",
        "MissingQueryLibraryError",
        "Path",
        "PathArgument",
        "PathNotFoundError",
        "ReferencePath",
        "Template",
        "check_json_value",
        "check_jsonata",
        "compile_choice_rule",
        "compile_field_template",
        "compile_jsonata_template",
        "compile_path",
        "compile_reference_path",
        "compile_template",
        "is_intrinsic",
        "load_json_text",
        "parse_intrinsic",
        "parse_timestamp",
        "pointer_of",
        "strip_jsonata",
    ),
    "stepsaga.workflows.asl": (
        "STATE_TYPES",
        "ASLValidationError",
        "AslModel",
        "Branch",
        "Catcher",
        "ChoiceRule",
        "ChoiceState",
        "FailState",
        "ItemBatcher",
        "ItemProcessor",
        "ItemReader",
        "MapState",
        "ParallelState",
        "PassState",
        "Problem",
        "ProcessorConfig",
        "QueryLanguage",
        "ReaderConfig",
        "ResultWriter",
        "Retrier",
        "State",
        "StateGraph",
        "StateMachine",
        "SucceedState",
        "TaskState",
        "WaitState",
        "from_sdk_graph",
        "parse_definition",
        "parse_state",
        "validate",
        "validate_state",
    ),
    "stepsaga.workflows.render": (
        "FORMATS",
        "Cluster",
        "Diagram",
        "Edge",
        "Node",
        "build_diagram",
        "render",
        "to_asl_json",
        "to_dot",
        "to_mermaid",
    ),
    "stepsaga.workflows.saga": (
        "COMPENSATION_FAILED",
        "COMPENSATION_RETRY",
        "DEFAULT_RETRY",
        "RESULT_PAYLOAD_KEY",
        "RETRYABLE_ERROR",
        "TRANSIENT_LAMBDA_ERRORS",
        "TRANSIENT_RETRY",
        "UNTIL_SUCCESS",
        "CommandMeta",
        "ExecutionContext",
        "ExecutionInput",
        "FunctionNames",
        "Notification",
        "RetryPolicy",
        "Saga",
        "SagaCompileError",
        "SagaProblem",
        "StateContext",
        "Step",
        "StepEnvelope",
        "StepError",
        "StepResult",
        "compensation_state",
        "compile_saga",
    ),
    "stepsaga.testing": (
        "assert_not_visited",
        "assert_path",
        "assert_visited",
        "path_of",
    ),
    "stepsaga.testing.plugin": (),
    "stepsaga.infra.project": (
        "REFERENCE_SERVICE",
        "Demo",
        "Scenario",
        "Service",
        "ServiceError",
        "import_project_module",
        "load_service",
    ),
    "stepsaga.workflows.facts": (
        "CHOICE_OPERATORS",
        "JITTER_STRATEGIES",
        "LAMBDA_INVOKE",
        "MAX_DELAY_SECONDS",
        "MAX_INTRINSIC_ARRAY_RANGE",
        "MAX_INTRINSIC_CALLS",
        "MAX_INTRINSIC_INPUT_CHARS",
        "MAX_JSON_DEPTH",
        "MAX_JSON_NUMBER_LENGTH",
        "MAX_LABEL_LENGTH",
        "MAX_LAMBDA_FUNCTION_NAME_LENGTH",
        "MAX_NAME_LENGTH",
        "MAX_PAYLOAD_BYTES",
        "MAX_SECONDS_OR_ATTEMPTS",
        "MAX_STATE_NAME_LENGTH",
        "MAX_VARIABLE_NAME_LENGTH",
        "STATES_ALL",
        "STATES_DATA_LIMIT_EXCEEDED",
        "STATES_EXCEED_TOLERATED_FAILURE_THRESHOLD",
        "STATES_HEARTBEAT_TIMEOUT",
        "STATES_NO_CHOICE_MATCHED",
        "STATES_QUERY_EVALUATION_ERROR",
        "STATES_REFERENCE_PATH_CONFLICT",
        "STATES_RUNTIME",
        "STATES_TASK_FAILED",
        "STATES_TIMEOUT",
        "TRANSIENT_LAMBDA_ERRORS",
        "WAIT_FOR_TASK_TOKEN",
        "JitterStrategy",
    ),
}


def test_every_package_and_public_module_is_pinned() -> None:
    assert sorted(PINNED) == _public_modules()


@pytest.mark.parametrize("module_name", sorted(PINNED))
def test_public_names_are_a_tuple_that_resolves(module_name: str) -> None:
    module = importlib.import_module(module_name)
    exported = module.__dict__.get("__all__")
    assert isinstance(exported, tuple), f"{module_name}.__all__ must be a tuple"
    assert len(set(exported)) == len(exported), f"{module_name}.__all__ repeats a name"
    for name in exported:
        assert not name.startswith("_"), f"{module_name} exports private {name}"
        assert getattr(module, name) is not None, f"{module_name} lacks {name}"


@pytest.mark.parametrize("module_name", sorted(PINNED))
def test_public_names_are_pinned(module_name: str) -> None:
    assert importlib.import_module(module_name).__all__ == PINNED[module_name]
