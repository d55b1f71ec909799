"""Adapters and entry points on real AWS APIs (DynamoDB, SES, Step Functions, API Gateway)."""

__all__: tuple[str, ...] = ()
