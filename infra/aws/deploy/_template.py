"""The CloudFormation template of a service: `stepsaga synth`, and what `stepsaga deploy` creates.

Plain CloudFormation, no SAM transform: every resource is spelled out, so tests can read the
policies and alarms as AWS will, cfn-lint checks it offline, and moto's CloudFormation can
create it.

What the template holds, and why it is shaped so:

- **The event store table** (`EventStoreTable`): the event store's key schema
  (`event_store_table_resource`), streams of NEW_IMAGE (for projections), point-in-time recovery,
  and deletion protection as the parameter `TableDeletionProtection`.
- **One state machine per saga** (`<Saga>StateMachine`): the definition compiled with
  `FunctionNames.deployment()` as `DefinitionString`, and each `${<Handler>FunctionArn}` filled by
  `DefinitionSubstitutions` (AWS's advice, and `Fn::Sub` over a definition holding `${...}`
  fails in moto's parser). It logs errors to its own log group, without execution data (a
  command may hold personal data), and traces with X-Ray. Its type is STANDARD unless the saga
  says EXPRESS.
- **One Lambda function per handler** (`<Handler>Function`): Python 3.12 on x86_64, the task
  bundle (`stepsaga package`), Handler `<service>.lambda_entry.<Handler>`, X-Ray tracing, a
  log group of its own with a retention period (`LogRetentionDays`).
- **Tenant isolation as AWS's SaaS guidance does it**: the task functions' role
  (`TaskFunctionRole`) has no DynamoDB access of its own. It may only assume `TenantRole` with a
  session tag `tenant`; that role's one statement limits `dynamodb:LeadingKeys` to
  `${aws:PrincipalTag/tenant}#*`. The runtime assumes it per tenant
  (`STEPSAGA_TENANT_ROLE_ARN`, see `stepsaga.infra.aws.lambda_entry_points`).
- **Least privilege**: a state machine's role invokes only the functions its saga names; mail
  goes only from `MailFrom` through the identity `MailIdentity`; no statement names a wildcard
  action. The actions AWS authorises on no resource but `*` (X-Ray segments, CloudWatch Logs
  delivery set-up for Step Functions) are in `UNSCOPED_ACTIONS`, and nothing else has `*`.
- **Alarms** to the SNS topic `AlarmTopicArn`, per saga: executions that failed with
  `Saga.CompensationFailed` or with the pivot's `Saga.CommitFailed`, and executions that timed
  out (`AWS/States` `ExecutionsTimedOut`); per function: `Errors` and `Throttles`.

  The failed-with-this-error alarms count a metric filter on the state machine's log group
  (`{ $.type = "ExecutionFailed" && $.details.error = "..." }`), not EventBridge: the
  "Step Functions Execution Status Change" event carries the status but not the error name, so
  a rule cannot tell a compensation failure from a business refusal (which is a normal
  `FAILED`). The log's `ExecutionFailed` entry carries the error even without execution data.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from stepsaga.infra.aws._table import (
    TENANT_SESSION_TAG,
    event_store_policy_statement,
    event_store_table_resource,
)
from stepsaga.infra.project import Service
from stepsaga.workflows.saga import (
    COMMIT_FAILED,
    COMPENSATION_FAILED,
    FunctionNames,
    Saga,
    Step,
    compile_saga,
)

__all__ = (
    "ALARMED_ERRORS",
    "API_STAGE",
    "BUNDLE",
    "LAMBDA_ARCHITECTURE",
    "LAMBDA_RUNTIME",
    "TRIGGER_HANDLER",
    "UNSCOPED_ACTIONS",
    "CodeLocation",
    "SynthError",
    "synthesise_template",
)

LAMBDA_RUNTIME = "python3.12"
"""The Lambda runtime every function runs on; bundles are built for it."""

LAMBDA_ARCHITECTURE = "x86_64"
"""The functions' architecture; `stepsaga package` fetches manylinux x86_64 wheels for it."""

ALARMED_ERRORS: Mapping[str, str] = {
    "CompensationFailed": COMPENSATION_FAILED,
    "CommitFailed": COMMIT_FAILED,
}
"""Alarm name part to the execution error that raises it: the failures an operator must act on."""

UNSCOPED_ACTIONS = frozenset(
    {
        # X-Ray has no resource-level permissions.
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
        # Step Functions sets up log delivery through these, which take only "*".
        "logs:CreateLogDelivery",
        "logs:GetLogDelivery",
        "logs:UpdateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:DescribeResourcePolicies",
        "logs:DescribeLogGroups",
    }
)
"""The only actions the template grants on `Resource: "*"`: AWS authorises them on nothing else."""

BUNDLE = "service"
"""The name of the one bundle every function of a service runs: task handlers and the trigger
live in the same `<service>.lambda_entry` module, so their imports are the same."""

TRIGGER_HANDLER = "Trigger"
"""The trigger's attribute in `<service>.lambda_entry` (see `stepsaga.infra.aws.trigger`)."""

API_STAGE = "v1"
"""The REST API's stage: the API URL is `https://<api>.execute-api.<region>.<suffix>/v1/`."""

# A step's business refusal (PaymentDeclined) is a function error as Lambda counts them, so
# one error is no alarm; the operator sets how many in five minutes are.
_ERRORS_ALARM: dict[str, Any] = {"threshold": {"Ref": "LambdaErrorsThreshold"}, "period": 300}
_CODE = {"S3Bucket": {"Ref": "CodeBucket"}, "S3Key": {"Ref": "CodeKey"}}
_DEFAULT_FUNCTION_TIMEOUT = 60
_TRIGGER_TIMEOUT = 29  # API Gateway answers 504 after 29 s anyway
_MAX_FUNCTION_TIMEOUT = 900
_FUNCTION_MEMORY = 512
_LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827, 3653)
# Per stack, so two deployments in one account count their failures apart.
_METRIC_NAMESPACE = "stepsaga/${AWS::StackName}"
_LOGICAL_ID = re.compile(r"[^A-Za-z0-9]")
_POLICY_VERSION = "2012-10-17"

_XRAY_WRITE = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
_XRAY_SAMPLING = ("xray:GetSamplingRules", "xray:GetSamplingTargets")
_SFN_LOG_DELIVERY = (
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
)


class SynthError(ValueError):
    """The service cannot be expressed as a template; the message names the saga or handler."""


@dataclass(frozen=True, slots=True)
class CodeLocation:
    """Where a bundle is in S3: the template's default for its code parameters.

    Attributes:
        bucket: The bucket.
        key: The object key (content-addressed by `stepsaga package`).
    """

    bucket: str
    key: str


def _ref(name: str) -> dict[str, Any]:
    return {"Ref": name}


def _arn(logical_id: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def _sub(text: str) -> dict[str, Any]:
    return {"Fn::Sub": text}


def _logical(name: str, suffix: str) -> str:
    return _LOGICAL_ID.sub("", name) + suffix


def _policy(*statements: Mapping[str, Any]) -> dict[str, Any]:
    return {"Version": _POLICY_VERSION, "Statement": [dict(s) for s in statements]}


def _assume(service: str) -> dict[str, Any]:
    return _policy(
        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    )


def _execution_type(saga: Saga) -> str:
    return saga.workflow_type


def _function_timeouts(sagas: Iterable[Saga]) -> dict[str, int]:
    """Handler to Lambda timeout: the longest `TimeoutSeconds` any of its Tasks allows."""
    timeouts: dict[str, int] = {}
    for saga in sagas:
        invocations: list[tuple[str, int | None]] = []
        for step in saga.steps:
            invocations.append((step.action, step.timeout))
            if isinstance(step, Step) and step.compensation is not None:
                invocations.append((step.compensation, step.timeout))
        if saga.on_failure is not None:
            invocations.append((saga.on_failure.action, saga.on_failure.timeout))
        for handler, timeout in invocations:
            seconds = min(timeout or _DEFAULT_FUNCTION_TIMEOUT, _MAX_FUNCTION_TIMEOUT)
            timeouts[handler] = max(timeouts.get(handler, 0), seconds)
    return timeouts


def _alarm(
    description: str,
    *,
    namespace: str | dict[str, Any],
    metric: str,
    dimensions: list[dict[str, Any]] | None = None,
    threshold: Any = 1,
    period: int = 60,
) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "AlarmDescription": description,
        "Namespace": namespace,
        "MetricName": metric,
        "Statistic": "Sum",
        "Period": period,
        "EvaluationPeriods": 1,
        "Threshold": threshold,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        # No data means nothing happened, which is not an alarm.
        "TreatMissingData": "notBreaching",
        "AlarmActions": [_ref("AlarmTopicArn")],
    }
    if dimensions:
        properties["Dimensions"] = dimensions
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": properties}


def _parameters(code: Mapping[str, CodeLocation] | None) -> dict[str, Any]:
    def code_parameter(description: str, default: str | None) -> dict[str, Any]:
        parameter: dict[str, Any] = {"Type": "String", "Description": description}
        if default is not None:
            parameter["Default"] = default
        return parameter

    bundle = (code or {}).get(BUNDLE)
    return {
        "CodeBucket": code_parameter(
            "The S3 bucket holding the Lambda bundles (stepsaga package / deploy upload them).",
            bundle.bucket if bundle else None,
        ),
        "CodeKey": code_parameter(
            "The S3 key of the service's bundle (every function runs it).",
            bundle.key if bundle else None,
        ),
        "TableDeletionProtection": {
            "Type": "String",
            "AllowedValues": ["true", "false"],
            "Default": "true",
            "Description": "Whether the event store table refuses to be deleted.",
        },
        "LogRetentionDays": {
            "Type": "Number",
            "AllowedValues": [str(days) for days in _LOG_RETENTION_DAYS],
            "Default": "30",
            "Description": "How long the functions' and state machines' logs are kept.",
        },
        "LambdaErrorsThreshold": {
            "Type": "Number",
            "MinValue": 1,
            "Default": 5,
            "Description": "Function errors in 5 minutes that raise an alarm (business refusals "
            "count as function errors).",
        },
        "AlarmTopicArn": {
            "Type": "String",
            "Description": "The SNS topic the operator's alarms are sent to.",
        },
        "MailFrom": {
            "Type": "String",
            "Description": "The address task functions send mail from (SES FromAddress).",
        },
        "MailIdentity": {
            "Type": "String",
            "Description": "The verified SES identity (domain or address) MailFrom belongs to.",
        },
        "AdminGroup": {
            "Type": "String",
            "Default": "",
            "Description": "The Cognito group whose members may act for another tenant "
            "(X-Stepsaga-Tenant); empty: nobody may.",
        },
        "UserPoolArn": {
            "Type": "String",
            "Description": "The Cognito user pool whose tokens the REST API accepts.",
        },
    }


def synthesise_template(
    service: Service, *, code: Mapping[str, CodeLocation] | None = None
) -> dict[str, Any]:
    """The CloudFormation template (a JSON-ready dict) deploying `service`.

    Args:
        service: The loaded service (`stepsaga.infra.project.load_service`).
        code: Bundle name (`BUNDLE`) to its S3 location, used as the code parameters' defaults
            (`stepsaga deploy` passes them as parameters instead).

    Returns:
        The template: see the module docstring for what it holds.

    Raises:
        SynthError: Two sagas or handlers map to the same logical id once non-alphanumeric
            characters are dropped.
        SagaCompileError: A saga does not compile.
    """
    sagas = list(service.sagas.values())
    handlers = list(dict.fromkeys(h for saga in sagas for h in saga.handlers()))
    _check_unique("saga", [saga.name for saga in sagas])
    _check_unique("handler", [*handlers, TRIGGER_HANDLER])
    timeouts = _function_timeouts(sagas)
    resources: dict[str, Any] = {
        "EventStoreTable": _table(),
        "TaskFunctionRole": _task_role(handlers),
        "TenantRole": _tenant_role(),
        "TaskAssumeTenantRolePolicy": _assume_tenant_policy(),
    }
    for handler in handlers:
        resources.update(_function(service, handler, timeouts[handler]))
    outputs: dict[str, Any] = {
        "EventStoreTableName": {
            "Description": "The event store table.",
            "Value": _ref("EventStoreTable"),
        },
        "TenantRoleArn": {
            "Description": "The role task functions assume per tenant.",
            "Value": _arn("TenantRole"),
        },
    }
    for saga in sagas:
        resources.update(_state_machine(saga))
        machine = _logical(saga.name, "StateMachine")
        outputs[f"{machine}Arn"] = {
            "Description": f"The {saga.name} state machine.",
            "Value": _ref(machine),
        }
    resources.update(_trigger(service, sagas))
    resources.update(_rest_api())
    outputs["ApiUrl"] = {
        "Description": "The REST API's base URL (POST commands/<saga>, GET executions/<id>).",
        "Value": _sub(
            "https://${RestApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/" + API_STAGE + "/"
        ),
    }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"stepsaga service {service.module}: its sagas, task functions and table.",
        "Parameters": _parameters(code),
        "Conditions": {"ProtectTable": {"Fn::Equals": [_ref("TableDeletionProtection"), "true"]}},
        "Resources": resources,
        "Outputs": outputs,
    }


def _check_unique(kind: str, names: list[str]) -> None:
    seen: dict[str, str] = {}
    for name in names:
        logical = _logical(name, "")
        if not logical:
            raise SynthError(f"{kind} {name!r} has no letter or digit for its logical id")
        if logical in seen:
            raise SynthError(
                f"{kind}s {seen[logical]!r} and {name!r} both become the logical id {logical!r}"
            )
        seen[logical] = name


def _table() -> dict[str, Any]:
    table = event_store_table_resource()
    table["Properties"]["StreamSpecification"] = {"StreamViewType": "NEW_IMAGE"}
    table["Properties"]["DeletionProtectionEnabled"] = {"Fn::If": ["ProtectTable", True, False]}
    return table


def _task_role(handlers: list[str]) -> dict[str, Any]:
    log_groups = [_arn(_logical(h, "LogGroup")) for h in handlers]
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "Description": "Task functions: their logs, traces and mail; the table only "
            "through TenantRole.",
            "AssumeRolePolicyDocument": _assume("lambda.amazonaws.com"),
            "Policies": [
                {
                    "PolicyName": "logs",
                    "PolicyDocument": _policy(
                        {
                            "Effect": "Allow",
                            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                            "Resource": log_groups,
                        }
                    ),
                },
                {
                    "PolicyName": "tracing",
                    "PolicyDocument": _policy(
                        {"Effect": "Allow", "Action": list(_XRAY_WRITE), "Resource": "*"}
                    ),
                },
                {
                    "PolicyName": "mail",
                    "PolicyDocument": _policy(
                        {
                            "Effect": "Allow",
                            "Action": ["ses:SendEmail"],
                            "Resource": _sub(
                                "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}"
                                ":identity/${MailIdentity}"
                            ),
                            "Condition": {"StringEquals": {"ses:FromAddress": _ref("MailFrom")}},
                        }
                    ),
                },
            ],
        },
    }


def _tenant_role() -> dict[str, Any]:
    tag = f"aws:RequestTag/{TENANT_SESSION_TAG}"
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "Description": "The event store, for one tenant: the session tag 'tenant' bounds "
            "the keys (dynamodb:LeadingKeys).",
            "AssumeRolePolicyDocument": _policy(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": _arn("TaskFunctionRole")},
                    "Action": ["sts:AssumeRole", "sts:TagSession"],
                    # A session without a tenant tag would have no tenant to be bound to, and
                    # no other tag may ride along.
                    "Condition": {
                        "StringLike": {tag: "?*"},
                        "ForAllValues:StringEquals": {"aws:TagKeys": [TENANT_SESSION_TAG]},
                    },
                }
            ),
            "Policies": [
                {
                    "PolicyName": "event-store",
                    "PolicyDocument": _policy(
                        event_store_policy_statement(
                            _arn("EventStoreTable"), tenant_tag=TENANT_SESSION_TAG
                        )
                    ),
                }
            ],
        },
    }


def _assume_tenant_policy() -> dict[str, Any]:
    # Its own resource: inside TaskFunctionRole it would make the two roles depend on each other.
    return {
        "Type": "AWS::IAM::Policy",
        "Properties": {
            "PolicyName": "assume-tenant-role",
            "Roles": [_ref("TaskFunctionRole")],
            "PolicyDocument": _policy(
                {
                    "Effect": "Allow",
                    "Action": ["sts:AssumeRole", "sts:TagSession"],
                    "Resource": _arn("TenantRole"),
                }
            ),
        },
    }


def _function(service: Service, handler: str, timeout: int) -> dict[str, Any]:
    function = _logical(handler, "Function")
    log_group = _logical(handler, "LogGroup")
    return {
        log_group: {
            "Type": "AWS::Logs::LogGroup",
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
            "Properties": {"RetentionInDays": _ref("LogRetentionDays")},
        },
        function: {
            "Type": "AWS::Lambda::Function",
            # The runtime assumes TenantRole on its first step: the grant must exist by then.
            "DependsOn": ["TaskAssumeTenantRolePolicy"],
            "Properties": {
                "Description": f"stepsaga {service.name}: handler {handler}",
                "Runtime": LAMBDA_RUNTIME,
                "Architectures": [LAMBDA_ARCHITECTURE],
                "Handler": f"{service.module}.lambda_entry.{handler}",
                "Code": _CODE,
                "Role": _arn("TaskFunctionRole"),
                "MemorySize": _FUNCTION_MEMORY,
                "Timeout": timeout,
                "TracingConfig": {"Mode": "Active"},
                "LoggingConfig": {"LogGroup": _ref(log_group), "LogFormat": "JSON"},
                "Environment": {
                    "Variables": {
                        "STEPSAGA_EVENT_STORE_TABLE": _ref("EventStoreTable"),
                        "STEPSAGA_TENANT_ROLE_ARN": _arn("TenantRole"),
                        "STEPSAGA_MAIL_FROM": _ref("MailFrom"),
                        "POWERTOOLS_SERVICE_NAME": service.name,
                    }
                },
            },
        },
        _logical(handler, "ErrorsAlarm"): _alarm(
            f"{handler}: the function raised errors (crashes, retryable failures, and business "
            "refusals, which are function errors too) above LambdaErrorsThreshold in 5 minutes.",
            namespace="AWS/Lambda",
            metric="Errors",
            dimensions=[{"Name": "FunctionName", "Value": _ref(function)}],
            **_ERRORS_ALARM,
        ),
        _logical(handler, "ThrottlesAlarm"): _alarm(
            f"{handler}: invocations were throttled (concurrency limit reached).",
            namespace="AWS/Lambda",
            metric="Throttles",
            dimensions=[{"Name": "FunctionName", "Value": _ref(function)}],
        ),
    }


def _state_machine(saga: Saga) -> dict[str, Any]:
    functions = FunctionNames.deployment()
    definition = compile_saga(saga, functions).to_dict()
    machine = _logical(saga.name, "StateMachine")
    role = _logical(saga.name, "StateMachineRole")
    log_group = _logical(saga.name, "StateMachineLogGroup")
    function_arns: list[Any] = []
    for handler in saga.handlers():
        arn = _arn(_logical(handler, "Function"))
        # lambda:invoke may name a version or alias (`<arn>:<qualifier>`).
        function_arns += [arn, {"Fn::Join": ["", [arn, ":*"]]}]
    resources: dict[str, Any] = {
        log_group: {
            "Type": "AWS::Logs::LogGroup",
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
            "Properties": {
                # Under /aws/vendedlogs/ so the delivery's resource policy stays small.
                "LogGroupName": _sub(f"/aws/vendedlogs/states/${{AWS::StackName}}-{saga.name}"),
                "RetentionInDays": _ref("LogRetentionDays"),
            },
        },
        role: {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "Description": f"The {saga.name} state machine: invokes its own functions only.",
                "AssumeRolePolicyDocument": _assume("states.amazonaws.com"),
                "Policies": [
                    {
                        "PolicyName": "invoke",
                        "PolicyDocument": _policy(
                            {
                                "Effect": "Allow",
                                "Action": ["lambda:InvokeFunction"],
                                "Resource": function_arns,
                            }
                        ),
                    },
                    {
                        "PolicyName": "logs-and-tracing",
                        "PolicyDocument": _policy(
                            {
                                "Effect": "Allow",
                                "Action": [*_SFN_LOG_DELIVERY, *_XRAY_WRITE, *_XRAY_SAMPLING],
                                "Resource": "*",
                            }
                        ),
                    },
                ],
            },
        },
        machine: {
            "Type": "AWS::StepFunctions::StateMachine",
            "Properties": {
                "StateMachineName": _sub(f"${{AWS::StackName}}-{saga.name}"),
                "StateMachineType": _execution_type(saga),
                "RoleArn": _arn(role),
                "DefinitionString": json.dumps(definition, separators=(",", ":")),
                "DefinitionSubstitutions": {
                    functions.substitution_key(handler): _arn(_logical(handler, "Function"))
                    for handler in saga.handlers()
                },
                "LoggingConfiguration": {
                    "Level": "ERROR",
                    "IncludeExecutionData": False,
                    "Destinations": [{"CloudWatchLogsLogGroup": {"LogGroupArn": _arn(log_group)}}],
                },
                "TracingConfiguration": {"Enabled": True},
            },
        },
        _logical(saga.name, "TimedOutAlarm"): _alarm(
            f"{saga.name}: executions timed out (a step that never finished, e.g. a mail "
            "that never went out).",
            namespace="AWS/States",
            metric="ExecutionsTimedOut",
            dimensions=[{"Name": "StateMachineArn", "Value": _ref(machine)}],
        ),
    }
    for part, error in ALARMED_ERRORS.items():
        metric = _logical(saga.name, part)
        resources[_logical(saga.name, f"{part}MetricFilter")] = {
            "Type": "AWS::Logs::MetricFilter",
            "Properties": {
                "LogGroupName": _ref(log_group),
                "FilterPattern": f'{{ $.type = "ExecutionFailed" && $.details.error = "{error}" }}',
                "MetricTransformations": [
                    {
                        "MetricNamespace": _sub(_METRIC_NAMESPACE),
                        "MetricName": metric,
                        "MetricValue": "1",
                        "Unit": "Count",
                    }
                ],
            },
        }
        resources[_logical(saga.name, f"{part}Alarm")] = _alarm(
            f"{saga.name}: executions failed with {error}; an operator must act.",
            namespace=_sub(_METRIC_NAMESPACE),
            metric=metric,
        )
    return resources


def _trigger(service: Service, sagas: list[Saga]) -> dict[str, Any]:
    machines = {saga.name: _ref(_logical(saga.name, "StateMachine")) for saga in sagas}
    express = [machines[saga.name] for saga in sagas if _execution_type(saga) == "EXPRESS"]
    # The machines' names are `<stack>-<saga>` (set in `_state_machine`), so their executions'
    # ARNs are known before any exists.
    executions = [
        _sub(
            "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:"
            f"${{AWS::StackName}}-{saga.name}:*"
        )
        for saga in sagas
    ]
    machine_json: list[Any] = ["{"]
    for index, (name, arn) in enumerate(machines.items()):
        machine_json += [("," if index else "") + json.dumps(name) + ':"', arn, '"']
    machine_json.append("}")
    start: list[dict[str, Any]] = [
        {
            "Effect": "Allow",
            "Action": ["states:StartExecution"],
            "Resource": list(machines.values()),
        }
    ]
    if express:
        start.append(
            {"Effect": "Allow", "Action": ["states:StartSyncExecution"], "Resource": express}
        )
    return {
        "TriggerLogGroup": {
            "Type": "AWS::Logs::LogGroup",
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
            "Properties": {"RetentionInDays": _ref("LogRetentionDays")},
        },
        "TriggerRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "Description": "The API trigger: starts and describes its own state machines.",
                "AssumeRolePolicyDocument": _assume("lambda.amazonaws.com"),
                "Policies": [
                    {
                        "PolicyName": "start-and-describe",
                        "PolicyDocument": _policy(
                            *start,
                            {
                                "Effect": "Allow",
                                "Action": ["states:DescribeExecution"],
                                "Resource": executions,
                            },
                        ),
                    },
                    {
                        "PolicyName": "logs-and-tracing",
                        "PolicyDocument": _policy(
                            {
                                "Effect": "Allow",
                                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                                "Resource": [_arn("TriggerLogGroup")],
                            },
                            {"Effect": "Allow", "Action": list(_XRAY_WRITE), "Resource": "*"},
                        ),
                    },
                ],
            },
        },
        "TriggerFunction": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Description": f"stepsaga {service.name}: the API trigger",
                "Runtime": LAMBDA_RUNTIME,
                "Architectures": [LAMBDA_ARCHITECTURE],
                "Handler": f"{service.module}.lambda_entry.{TRIGGER_HANDLER}",
                "Code": _CODE,
                "Role": _arn("TriggerRole"),
                "MemorySize": _FUNCTION_MEMORY,
                "Timeout": _TRIGGER_TIMEOUT,
                "TracingConfig": {"Mode": "Active"},
                "LoggingConfig": {"LogGroup": _ref("TriggerLogGroup"), "LogFormat": "JSON"},
                "Environment": {
                    "Variables": {
                        "STEPSAGA_STATE_MACHINES": {"Fn::Join": ["", machine_json]},
                        "STEPSAGA_ADMIN_GROUP": _ref("AdminGroup"),
                        "POWERTOOLS_SERVICE_NAME": service.name,
                    }
                },
            },
        },
        "TriggerErrorsAlarm": _alarm(
            "The API trigger raised errors (answers 502 to clients) above "
            "LambdaErrorsThreshold in 5 minutes.",
            namespace="AWS/Lambda",
            metric="Errors",
            dimensions=[{"Name": "FunctionName", "Value": _ref("TriggerFunction")}],
            **_ERRORS_ALARM,
        ),
        "TriggerThrottlesAlarm": _alarm(
            "The API trigger was throttled (clients get 429 or 502).",
            namespace="AWS/Lambda",
            metric="Throttles",
            dimensions=[{"Name": "FunctionName", "Value": _ref("TriggerFunction")}],
        ),
    }


def _proxy_method(resource: Any, http_method: str, *, authorised: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "RestApiId": _ref("RestApi"),
        "ResourceId": resource,
        "HttpMethod": http_method,
        "Integration": {
            "Type": "AWS_PROXY",
            "IntegrationHttpMethod": "POST",
            "Uri": _sub(
                "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/"
                "functions/${TriggerFunction.Arn}/invocations"
            ),
        },
    }
    if authorised:
        properties["AuthorizationType"] = "COGNITO_USER_POOLS"
        properties["AuthorizerId"] = _ref("UserPoolAuthorizer")
    else:
        properties["AuthorizationType"] = "NONE"
    return {"Type": "AWS::ApiGateway::Method", "Properties": properties}


def _rest_api() -> dict[str, Any]:
    methods = {
        # Every route but the schema needs a user pool token (the trigger reads its claims).
        "ProxyMethod": _proxy_method(_ref("ProxyResource"), "ANY", authorised=True),
        "OpenApiMethod": _proxy_method(_ref("OpenApiResource"), "GET", authorised=False),
    }
    # A Deployment is a snapshot: CloudFormation makes a new one only under a new logical id,
    # so the id carries a digest of the methods it deploys.
    digest = hashlib.sha256(json.dumps(methods, sort_keys=True).encode()).hexdigest()[:10]
    deployment = f"RestApiDeployment{digest}"
    return {
        "RestApi": {
            "Type": "AWS::ApiGateway::RestApi",
            "Properties": {
                "Name": _sub("${AWS::StackName}-api"),
                "EndpointConfiguration": {"Types": ["REGIONAL"]},
            },
        },
        "UserPoolAuthorizer": {
            "Type": "AWS::ApiGateway::Authorizer",
            "Properties": {
                "Name": "cognito",
                "RestApiId": _ref("RestApi"),
                "Type": "COGNITO_USER_POOLS",
                "IdentitySource": "method.request.header.Authorization",
                "ProviderARNs": [_ref("UserPoolArn")],
            },
        },
        "ProxyResource": {
            "Type": "AWS::ApiGateway::Resource",
            "Properties": {
                "RestApiId": _ref("RestApi"),
                "ParentId": {"Fn::GetAtt": ["RestApi", "RootResourceId"]},
                "PathPart": "{proxy+}",
            },
        },
        "OpenApiResource": {
            "Type": "AWS::ApiGateway::Resource",
            "Properties": {
                "RestApiId": _ref("RestApi"),
                "ParentId": {"Fn::GetAtt": ["RestApi", "RootResourceId"]},
                "PathPart": "openapi.json",
            },
        },
        **methods,
        deployment: {
            "Type": "AWS::ApiGateway::Deployment",
            "DependsOn": list(methods),
            "Properties": {"RestApiId": _ref("RestApi")},
        },
        "RestApiStage": {
            "Type": "AWS::ApiGateway::Stage",
            "Properties": {
                "RestApiId": _ref("RestApi"),
                "DeploymentId": _ref(deployment),
                "StageName": API_STAGE,
                "TracingEnabled": True,
            },
        },
        "TriggerInvokePermission": {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "Action": "lambda:InvokeFunction",
                "FunctionName": _ref("TriggerFunction"),
                "Principal": "apigateway.amazonaws.com",
                # Only this API's stages may call it.
                "SourceArn": _sub(
                    "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}"
                    ":${RestApi}/*"
                ),
            },
        },
    }
