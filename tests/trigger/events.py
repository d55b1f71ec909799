"""API Gateway REST proxy events, shaped as API Gateway sends them behind a Cognito authorizer.

The shape follows AWS's "Input format of a Lambda function for proxy integration" and
Powertools' `APIGatewayProxyEvent` test events: claims arrive as strings under
`requestContext.authorizer.claims`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

ACCOUNT = "123456789012"
REGION = "us-east-1"
STAGE = "prod"


@dataclass
class LambdaContext:
    """The attributes Powertools' Logger reads from a Lambda context."""

    function_name: str = "orders-Trigger"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders-Trigger"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


def claims(
    tenant: str | None = "acme",
    sub: str | None = "user-1",
    email: str | None = "ann@example.com",
    groups: str | None = None,
) -> dict[str, str]:
    found = {
        "custom:tenant": tenant,
        "sub": sub,
        "email": email,
        "cognito:groups": groups,
        "token_use": "id",
        "aud": "stepsaga-local",
        "iss": f"https://cognito-idp.{REGION}.amazonaws.com/{REGION}_pool",
    }
    return {key: value for key, value in found.items() if value is not None}


def rest_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    headers: dict[str, str] | None = None,
    authorizer_claims: dict[str, str] | None = None,
    raw_body: str | None = None,
) -> dict[str, Any]:
    sent = {"Content-Type": "application/json", "Host": "api.example.com", **(headers or {})}
    text = raw_body if raw_body is not None else None if body is None else json.dumps(body)
    context: dict[str, Any] = {
        "accountId": ACCOUNT,
        "apiId": "a1b2c3",
        "domainName": "a1b2c3.execute-api.us-east-1.amazonaws.com",
        "httpMethod": method,
        "identity": {"sourceIp": "203.0.113.7", "userAgent": "tests"},
        "path": f"/{STAGE}{path}",
        "protocol": "HTTP/1.1",
        "requestId": "req-0001",
        "requestTimeEpoch": 1_800_000_000_000,
        "resourceId": "r1",
        "resourcePath": "/{proxy+}",
        "stage": STAGE,
    }
    if authorizer_claims is not None:
        context["authorizer"] = {"claims": authorizer_claims}
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": sent,
        "multiValueHeaders": {key: [value] for key, value in sent.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": context,
        "body": text,
        "isBase64Encoded": False,
    }
