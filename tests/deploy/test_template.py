"""`stepsaga synth`: the reference service's template holds what the issue lists, cfn-lint passes
on it, every policy is least-privilege, and the operator's alarms are there."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from stepsaga.infra.aws.deploy import (
    ALARMED_ERRORS,
    LAMBDA_RUNTIME,
    UNSCOPED_ACTIONS,
    CodeLocation,
    SynthError,
    synthesise_template,
)
from stepsaga.infra.project import Service, load_service
from stepsaga.workflows.saga import (
    COMMIT_FAILED,
    COMPENSATION_FAILED,
    FunctionNames,
    Saga,
    Step,
    compile_saga,
)

SERVICE = load_service("stepsaga.examples.orders")
SAGA = SERVICE.saga("PlaceOrder")
HANDLERS = SAGA.handlers()


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return synthesise_template(SERVICE)


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def statements(template: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(resource, policy name, statement) for every statement of every policy in the template."""
    for logical, resource in template["Resources"].items():
        properties = resource["Properties"]
        documents: list[tuple[str, dict[str, Any]]] = []
        if resource["Type"] == "AWS::IAM::Role":
            documents.append(("trust", properties["AssumeRolePolicyDocument"]))
            documents += [(p["PolicyName"], p["PolicyDocument"]) for p in properties["Policies"]]
        elif resource["Type"] == "AWS::IAM::Policy":
            documents.append((properties["PolicyName"], properties["PolicyDocument"]))
        for name, document in documents:
            assert document["Version"] == "2012-10-17"
            for statement in document["Statement"]:
                yield logical, name, statement


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def actions(statement: dict[str, Any]) -> list[str]:
    return as_list(statement["Action"])


def function_arn(handler: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [f"{handler}Function", "Arn"]}


# --- cfn-lint ---------------------------------------------------------------------------------


def test_cfn_lint_finds_nothing_in_the_reference_services_template(
    template: dict[str, Any],
) -> None:
    from cfnlint.api import ManualArgs, lint

    matches = lint(json.dumps(template), config=ManualArgs(regions=["us-east-1", "eu-west-1"]))
    assert [f"{m.rule.id} {m.message} at {m.path}" for m in matches] == []


def test_cfn_lint_used_here_does_report_a_broken_template(template: dict[str, Any]) -> None:
    # Guards the test above: a lint that checks nothing would pass any template.
    from cfnlint.api import ManualArgs, lint

    broken = json.loads(json.dumps(template))
    broken["Resources"]["ReserveStockFunction"]["Properties"]["Runtime"] = "python2.0"
    matches = lint(json.dumps(broken), config=ManualArgs(regions=["us-east-1"]))
    assert any("Runtime" in str(m.path) for m in matches)


# --- resources --------------------------------------------------------------------------------


def test_the_table_has_the_event_stores_keys_streams_recovery_and_deletion_protection(
    template: dict[str, Any],
) -> None:
    (table,) = of_type(template, "AWS::DynamoDB::Table").values()
    properties = table["Properties"]
    assert properties["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert properties["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["DeletionProtectionEnabled"] == {"Fn::If": ["ProtectTable", True, False]}
    assert template["Conditions"]["ProtectTable"] == {
        "Fn::Equals": [{"Ref": "TableDeletionProtection"}, "true"]
    }
    assert table["DeletionPolicy"] == "Retain"


def test_each_saga_is_a_state_machine_with_substituted_function_arns(
    template: dict[str, Any],
) -> None:
    machines = of_type(template, "AWS::StepFunctions::StateMachine")
    assert list(machines) == ["PlaceOrderStateMachine"]
    properties = machines["PlaceOrderStateMachine"]["Properties"]
    definition = json.loads(properties["DefinitionString"])
    assert definition == compile_saga(SAGA, FunctionNames.deployment()).to_dict()
    placeholders = set(re.findall(r"\$\{(\w+)\}", properties["DefinitionString"]))
    assert placeholders == set(properties["DefinitionSubstitutions"])
    assert properties["DefinitionSubstitutions"] == {
        f"{handler}FunctionArn": function_arn(handler) for handler in HANDLERS
    }
    assert properties["StateMachineType"] == "STANDARD"
    assert properties["TracingConfiguration"] == {"Enabled": True}
    logging = properties["LoggingConfiguration"]
    assert logging["Destinations"] == [
        {
            "CloudWatchLogsLogGroup": {
                "LogGroupArn": {"Fn::GetAtt": ["PlaceOrderStateMachineLogGroup", "Arn"]}
            }
        }
    ]
    # The alarms read ExecutionFailed entries, which level ERROR logs.
    assert logging["Level"] in ("ERROR", "ALL")


def test_an_express_saga_deploys_an_express_state_machine() -> None:
    class Ping(BaseModel):
        id: str

    saga = Saga(
        "Ping", Ping, [Step("Pong", action="Pong", compensation="Unpong")], workflow_type="EXPRESS"
    )
    template = synthesise_template(
        Service("svc.ping", {"Ping": saga}, {"Pong": print, "Unpong": print})
    )
    machine = template["Resources"]["PingStateMachine"]["Properties"]
    assert machine["StateMachineType"] == "EXPRESS"
    trigger = template["Resources"]["TriggerRole"]["Properties"]["Policies"][0]
    sync = [
        s
        for s in trigger["PolicyDocument"]["Statement"]
        if "states:StartSyncExecution" in s["Action"]
    ]
    assert [s["Resource"] for s in sync] == [[{"Ref": "PingStateMachine"}]]


def test_one_python_function_per_handler_and_the_trigger_each_with_a_retained_log_group(
    template: dict[str, Any],
) -> None:
    functions = of_type(template, "AWS::Lambda::Function")
    assert set(functions) == {f"{h}Function" for h in (*HANDLERS, "Trigger")}
    log_groups = of_type(template, "AWS::Logs::LogGroup")
    for logical, function in functions.items():
        properties = function["Properties"]
        assert properties["Runtime"] == LAMBDA_RUNTIME == "python3.12"
        assert properties["TracingConfig"] == {"Mode": "Active"}
        handler = logical.removesuffix("Function")
        assert properties["Handler"] == f"stepsaga.examples.orders.lambda_entry.{handler}"
        assert properties["Code"] == {
            "S3Bucket": {"Ref": "CodeBucket"},
            "S3Key": {"Ref": "CodeKey"},
        }
        group = properties["LoggingConfig"]["LogGroup"]["Ref"]
        assert log_groups[group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    # A Task may run as long as its TimeoutSeconds, so its function may too.
    assert functions["ReserveStockFunction"]["Properties"]["Timeout"] == 30


def test_task_functions_are_configured_for_the_per_tenant_role(template: dict[str, Any]) -> None:
    variables = template["Resources"]["ReserveStockFunction"]["Properties"]["Environment"][
        "Variables"
    ]
    assert variables["STEPSAGA_EVENT_STORE_TABLE"] == {"Ref": "EventStoreTable"}
    assert variables["STEPSAGA_TENANT_ROLE_ARN"] == {"Fn::GetAtt": ["TenantRole", "Arn"]}
    assert variables["STEPSAGA_MAIL_FROM"] == {"Ref": "MailFrom"}


def test_the_trigger_is_told_each_sagas_state_machine_arn(template: dict[str, Any]) -> None:
    variables = template["Resources"]["TriggerFunction"]["Properties"]["Environment"]["Variables"]
    parts = variables["STEPSAGA_STATE_MACHINES"]["Fn::Join"][1]
    # As CloudFormation will join it, with a stand-in for the ARN:
    joined = "".join(p if isinstance(p, str) else "ARN:" + p["Ref"] for p in parts)
    assert json.loads(joined) == {"PlaceOrder": "ARN:PlaceOrderStateMachine"}
    assert variables["STEPSAGA_ADMIN_GROUP"] == {"Ref": "AdminGroup"}
    assert template["Parameters"]["AdminGroup"]["Default"] == ""  # nobody acts for another


def test_the_rest_api_routes_to_the_trigger_behind_the_user_pool_authorizer(
    template: dict[str, Any],
) -> None:
    (authorizer,) = of_type(template, "AWS::ApiGateway::Authorizer").values()
    assert authorizer["Properties"]["Type"] == "COGNITO_USER_POOLS"
    assert authorizer["Properties"]["ProviderARNs"] == [{"Ref": "UserPoolArn"}]
    methods = of_type(template, "AWS::ApiGateway::Method")
    proxy = methods["ProxyMethod"]["Properties"]
    assert proxy["AuthorizationType"] == "COGNITO_USER_POOLS"
    assert proxy["AuthorizerId"] == {"Ref": "UserPoolAuthorizer"}
    for method in methods.values():
        integration = method["Properties"]["Integration"]
        assert integration["Type"] == "AWS_PROXY"
        assert "${TriggerFunction.Arn}" in integration["Uri"]["Fn::Sub"]
    # Only the schema is open.
    open_routes = [m for m in methods.values() if m["Properties"]["AuthorizationType"] == "NONE"]
    assert [m["Properties"]["ResourceId"] for m in open_routes] == [{"Ref": "OpenApiResource"}]
    assert "ApiUrl" in template["Outputs"]


def test_code_locations_become_the_code_parameters_defaults() -> None:
    template = synthesise_template(SERVICE, code={"service": CodeLocation("bucket-1", "k/abc.zip")})
    assert template["Parameters"]["CodeBucket"]["Default"] == "bucket-1"
    assert template["Parameters"]["CodeKey"]["Default"] == "k/abc.zip"


def test_names_that_collide_as_logical_ids_are_refused_naming_both() -> None:
    class Ping(BaseModel):
        id: str

    sagas = {
        name: Saga(name, Ping, [Step("Pong", action="Pong", compensation="Unpong")])
        for name in ("Ping-1", "Ping1")
    }
    with pytest.raises(SynthError, match=r"'Ping-1' and 'Ping1'.*'Ping1'"):
        synthesise_template(Service("svc.ping", sagas, {"Pong": print, "Unpong": print}))


# --- least privilege --------------------------------------------------------------------------


def test_no_statement_grants_a_wildcard_action(template: dict[str, Any]) -> None:
    found = list(statements(template))
    assert len(found) > 10
    for logical, name, statement in found:
        assert statement["Effect"] == "Allow"
        assert "NotAction" not in statement and "NotResource" not in statement
        for action in actions(statement):
            assert "*" not in action and "?" not in action, (logical, name, action)


def test_only_actions_aws_cannot_scope_are_granted_on_every_resource(
    template: dict[str, Any],
) -> None:
    for logical, name, statement in statements(template):
        if name == "trust":
            continue
        if "*" in as_list(statement["Resource"]):
            assert set(actions(statement)) <= UNSCOPED_ACTIONS, (logical, name)


def test_a_state_machine_may_invoke_only_its_own_functions(template: dict[str, Any]) -> None:
    granted = [
        s
        for logical, _, s in statements(template)
        if logical == "PlaceOrderStateMachineRole" and "lambda:InvokeFunction" in actions(s)
    ]
    (invoke,) = granted
    assert actions(invoke) == ["lambda:InvokeFunction"]
    expected: list[Any] = []
    for handler in HANDLERS:
        expected += [function_arn(handler), {"Fn::Join": ["", [function_arn(handler), ":*"]]}]
    assert invoke["Resource"] == expected
    # Nobody else may invoke a task function.
    invokers = {
        logical for logical, _, s in statements(template) if "lambda:InvokeFunction" in actions(s)
    }
    assert invokers == {"PlaceOrderStateMachineRole"}


def test_the_trigger_may_only_start_and_describe_its_own_state_machines(
    template: dict[str, Any],
) -> None:
    trigger = [s for logical, _, s in statements(template) if logical == "TriggerRole"]
    states = [s for s in trigger if any(a.startswith("states:") for a in actions(s))]
    by_action = {a: s["Resource"] for s in states for a in actions(s)}
    assert by_action == {
        "states:StartExecution": [{"Ref": "PlaceOrderStateMachine"}],
        "states:DescribeExecution": [
            {
                "Fn::Sub": "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}"
                ":execution:${AWS::StackName}-PlaceOrder:*"
            }
        ],
    }
    # The execution ARNs name the machine as it is really named.
    machine = template["Resources"]["PlaceOrderStateMachine"]["Properties"]
    assert machine["StateMachineName"] == {"Fn::Sub": "${AWS::StackName}-PlaceOrder"}


def test_mail_may_go_only_from_the_configured_identity_and_address(
    template: dict[str, Any],
) -> None:
    mail = [s for _, _, s in statements(template) if any(a.startswith("ses:") for a in actions(s))]
    assert mail == [
        {
            "Effect": "Allow",
            "Action": ["ses:SendEmail"],
            "Resource": {
                "Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}"
                ":identity/${MailIdentity}"
            },
            "Condition": {"StringEquals": {"ses:FromAddress": {"Ref": "MailFrom"}}},
        }
    ]


def test_the_table_is_reached_only_through_the_tenant_role_bound_to_its_session_tag(
    template: dict[str, Any],
) -> None:
    dynamodb = [
        (logical, s)
        for logical, _, s in statements(template)
        if any(a.startswith("dynamodb:") for a in actions(s))
    ]
    assert [logical for logical, _ in dynamodb] == ["TenantRole"]
    ((_, statement),) = dynamodb
    assert statement["Resource"] == {"Fn::GetAtt": ["EventStoreTable", "Arn"]}
    assert statement["Condition"] == {
        "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["${aws:PrincipalTag/tenant}#*"]}
    }


def test_only_the_task_functions_role_may_assume_the_tenant_role_and_must_tag_the_tenant(
    template: dict[str, Any],
) -> None:
    trust = template["Resources"]["TenantRole"]["Properties"]["AssumeRolePolicyDocument"]
    assert trust["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"AWS": {"Fn::GetAtt": ["TaskFunctionRole", "Arn"]}},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Condition": {
                "StringLike": {"aws:RequestTag/tenant": "?*"},
                "ForAllValues:StringEquals": {"aws:TagKeys": ["tenant"]},
            },
        }
    ]
    grant = template["Resources"]["TaskAssumeTenantRolePolicy"]["Properties"]
    assert grant["Roles"] == [{"Ref": "TaskFunctionRole"}]
    assert grant["PolicyDocument"]["Statement"] == [
        {
            "Effect": "Allow",
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Resource": {"Fn::GetAtt": ["TenantRole", "Arn"]},
        }
    ]
    functions = of_type(template, "AWS::Lambda::Function")
    task_roles = {
        f["Properties"]["Role"]["Fn::GetAtt"][0]
        for k, f in functions.items()
        if k != "TriggerFunction"
    }
    assert task_roles == {"TaskFunctionRole"}


# --- alarms -----------------------------------------------------------------------------------


def test_failures_an_operator_must_act_on_are_alarmed_from_the_machines_log(
    template: dict[str, Any],
) -> None:
    assert set(ALARMED_ERRORS.values()) == {COMPENSATION_FAILED, COMMIT_FAILED}
    assert COMMIT_FAILED == "Saga.CommitFailed"
    filters = of_type(template, "AWS::Logs::MetricFilter")
    alarms = of_type(template, "AWS::CloudWatch::Alarm")
    for part, error in ALARMED_ERRORS.items():
        metric_filter = filters[f"PlaceOrder{part}MetricFilter"]["Properties"]
        assert metric_filter["LogGroupName"] == {"Ref": "PlaceOrderStateMachineLogGroup"}
        assert metric_filter["FilterPattern"] == (
            f'{{ $.type = "ExecutionFailed" && $.details.error = "{error}" }}'
        )
        (transformation,) = metric_filter["MetricTransformations"]
        alarm = alarms[f"PlaceOrder{part}Alarm"]["Properties"]
        assert alarm["MetricName"] == transformation["MetricName"]
        assert alarm["Namespace"] == transformation["MetricNamespace"]
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopicArn"}]
        assert alarm["Threshold"] == 1
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_timed_out_executions_are_alarmed(template: dict[str, Any]) -> None:
    alarm = template["Resources"]["PlaceOrderTimedOutAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/States", "ExecutionsTimedOut")
    assert alarm["Dimensions"] == [
        {"Name": "StateMachineArn", "Value": {"Ref": "PlaceOrderStateMachine"}}
    ]
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopicArn"}]


def test_every_function_has_an_errors_and_a_throttles_alarm(template: dict[str, Any]) -> None:
    alarms = of_type(template, "AWS::CloudWatch::Alarm")
    for handler in (*HANDLERS, "Trigger"):
        for metric in ("Errors", "Throttles"):
            alarm = alarms[f"{handler}{metric}Alarm"]["Properties"]
            assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/Lambda", metric)
            assert alarm["Dimensions"] == [
                {"Name": "FunctionName", "Value": {"Ref": f"{handler}Function"}}
            ]
            assert alarm["AlarmActions"] == [{"Ref": "AlarmTopicArn"}]
        # A business refusal is a function error too: errors alarm above a threshold.
        errors = alarms[f"{handler}ErrorsAlarm"]["Properties"]
        assert (errors["Threshold"], errors["Period"]) == ({"Ref": "LambdaErrorsThreshold"}, 300)
        throttles = alarms[f"{handler}ThrottlesAlarm"]["Properties"]
        assert throttles["Threshold"] == 1
    assert len(alarms) == 2 * (len(HANDLERS) + 1) + 1 + len(ALARMED_ERRORS)
