"""The event store table: created directly (local, tests) or declared in a template."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from stepsaga.domain import TenantId

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

__all__ = (
    "EXPIRY_ATTRIBUTE",
    "TENANT_SESSION_TAG",
    "create_event_store_table",
    "event_store_policy_statement",
    "event_store_table_resource",
)

EXPIRY_ATTRIBUTE = "expires_at"
"""The table's TTL attribute (epoch seconds). Only notification claims set it; events never
expire."""

_KEYS: dict[str, Any] = {
    "AttributeDefinitions": [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "N"},
    ],
    "KeySchema": [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ],
    "BillingMode": "PAY_PER_REQUEST",
}


def create_event_store_table(client: DynamoDBClient, table_name: str) -> None:
    """Create the event store table with its TTL, and wait until it is active.

    Args:
        client: A boto3 DynamoDB client (moto, DynamoDB Local or AWS).
        table_name: The name of the table to create.

    Raises:
        botocore.exceptions.ClientError: `ResourceInUseException` if the table exists.
    """
    client.create_table(TableName=table_name, **_KEYS)
    client.get_waiter("table_exists").wait(
        TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    client.update_time_to_live(
        TableName=table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": EXPIRY_ATTRIBUTE},
    )


def event_store_table_resource(table_name: str | None = None) -> dict[str, Any]:
    """The CloudFormation resource (`AWS::DynamoDB::Table`) of an event store table.

    Args:
        table_name: A fixed table name, or None to let CloudFormation name it.

    Returns:
        A resource dict to place under the template's `Resources`; events are retained when
        the stack is deleted.
    """
    properties: dict[str, Any] = {
        **{
            key: [dict(entry) for entry in value] if isinstance(value, list) else value
            for key, value in _KEYS.items()
        },
        "TimeToLiveSpecification": {"Enabled": True, "AttributeName": EXPIRY_ATTRIBUTE},
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "SSESpecification": {"SSEEnabled": True},
    }
    if table_name is not None:
        properties["TableName"] = table_name
    return {
        "Type": "AWS::DynamoDB::Table",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": properties,
    }


TENANT_SESSION_TAG = "tenant"
"""The session tag that carries the tenant when a task function assumes the tenant role."""

_TAG_KEY = re.compile(r"[A-Za-z0-9_.:/=+@-]{1,128}")
# TransactWriteItems is authorised per action inside it; BatchGetItem has its own action
# (lookups by event id, and reading a retried append's events back).
_READ_ACTIONS = (
    "dynamodb:BatchGetItem",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:ConditionCheckItem",
)
_WRITE_ACTIONS = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")


def event_store_policy_statement(
    table_arn: Any, *, tenant: str | None = None, tenant_tag: str | None = None
) -> dict[str, Any]:
    """The IAM statement that lets a task Lambda use the event store (and its mail claims).

    Args:
        table_arn: The table ARN (a string or a CloudFormation expression such as
            `{"Fn::GetAtt": [...]}`).
        tenant: For a Lambda bound to one tenant: only keys under `"{tenant}#"` are allowed
            (`dynamodb:LeadingKeys`), so not even a bug can reach another tenant's items.
        tenant_tag: For a role assumed per tenant (AWS's SaaS pattern): only keys under the
            session tag's value are allowed, `"${aws:PrincipalTag/<tenant_tag>}#*"`
            (`TENANT_SESSION_TAG` is the tag the runtime sets).

    Raises:
        InvalidIdentifierError: `tenant` is not a valid tenant code.
        ValueError: Both `tenant` and `tenant_tag` are given, or `tenant_tag` is not a tag key.
    """
    if tenant is not None and tenant_tag is not None:
        raise ValueError("give tenant or tenant_tag, not both")
    if tenant_tag is not None and not _TAG_KEY.fullmatch(tenant_tag):
        raise ValueError(f"tenant_tag must be an IAM tag key, got {tenant_tag!r}")
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Action": sorted({*_READ_ACTIONS, *_WRITE_ACTIONS}),
        "Resource": table_arn,
    }
    prefix = None
    if tenant is not None:
        prefix = str(TenantId(tenant))
    elif tenant_tag is not None:
        prefix = "${aws:PrincipalTag/" + tenant_tag + "}"
    if prefix is not None:
        statement["Condition"] = {
            "ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"{prefix}#*"]}
        }
    return statement
