"""The SES v2 notifier: one mail per idempotency key, claimed in DynamoDB before sending.

The claim follows the Powertools idempotency pattern. Before sending, a conditional
`PutItem` claims the key as `INPROGRESS` (with an in-progress expiry in case the sender
dies); after sending, the claim becomes `COMPLETED` and records the SES `MessageId`. A retry
finds the completed claim and returns the recorded `MessageId` without sending; a retry that
finds a live `INPROGRESS` claim raises `RetryableError` so Step Functions tries again later.
Claims expire (TTL attribute `expires_at`) after `expires_after`.

Claims live in the event store table, under the tenant's key prefix
(`{tenant}#Notification#{sha256(key)}`, `sk = 0`), so the tenant-scoped IAM condition on
leading keys covers them too.

A send that fails before SES could have sent anything (SES refused it, or the connection
could not be opened: `EndpointConnectionError`, `ConnectTimeoutError`) releases its claim, so
that the retry Step Functions makes sends at once; a transient failure is raised as
`RetryableError` (the step's `Saga.Retryable`). A send whose answer was lost (`ReadTimeoutError`,
`ConnectionClosedError`) may have been sent: its claim is kept, and a retry after the
in-progress expiry sends again.

If the process dies after SES accepted the mail but before the claim is completed, a retry
after the in-progress expiry sends it again: at-least-once in that window, exactly-once
otherwise. SES offers no idempotency token to close it.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from stepsaga.domain import RetryableError, StreamId, TenantId
from stepsaga.infra.aws._table import EXPIRY_ATTRIBUTE
from stepsaga.infra.aws._transient import TRANSIENT_ERROR_CODES, error_code, transient_as_retryable
from stepsaga.tasks import EmailMessage, IdempotencyConflictError, SentEmail

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_sesv2.client import SESV2Client
    from mypy_boto3_sesv2.type_defs import BodyTypeDef, SendEmailRequestTypeDef

__all__ = ("CLAIM_AGGREGATE_TYPE", "SesNotifier")

CLAIM_AGGREGATE_TYPE = "Notification"
"""The aggregate type in a claim's key (`{tenant}#Notification#{hash}`)."""

_IN_PROGRESS = "INPROGRESS"
_COMPLETED = "COMPLETED"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class SesNotifier:
    """A `Notifier` on Amazon SES v2, with idempotency claims in DynamoDB.

    Args:
        ses: A boto3 `sesv2` client (injected).
        dynamodb: A boto3 DynamoDB client (injected).
        table_name: The table holding claims (the event store table).
        from_address: The verified sender (`FromEmailAddress`).
        configuration_set: The SES configuration set to send through, if any.
        expires_after: How long a completed claim keeps a key from sending again.
        in_progress_expiry: How long a claim whose sender never finished blocks retries.
        clock: Epoch seconds now (injected for tests).
    """

    def __init__(
        self,
        ses: SESV2Client,
        dynamodb: DynamoDBClient,
        table_name: str,
        *,
        from_address: str,
        configuration_set: str | None = None,
        expires_after: timedelta = timedelta(days=7),
        in_progress_expiry: timedelta = timedelta(minutes=2),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._ses = ses
        self._dynamodb = dynamodb
        self._table = table_name
        self._from = from_address
        self._configuration_set = configuration_set
        self._expires_after = int(expires_after.total_seconds())
        self._in_progress_expiry = int(in_progress_expiry.total_seconds())
        self._clock = clock

    def claim_key(self, tenant: TenantId, idempotency_key: str) -> dict[str, Any]:
        """The DynamoDB key of the claim for `idempotency_key` in `tenant`."""
        stream = StreamId.of(tenant, CLAIM_AGGREGATE_TYPE, _digest(idempotency_key))
        return {"pk": {"S": stream.key}, "sk": {"N": "0"}}

    def send_request(self, message: EmailMessage) -> SendEmailRequestTypeDef:
        """The SES v2 `SendEmail` request for `message`."""
        body: BodyTypeDef = {"Text": {"Data": message.text, "Charset": "UTF-8"}}
        if message.html is not None:
            body["Html"] = {"Data": message.html, "Charset": "UTF-8"}
        request: SendEmailRequestTypeDef = {
            "FromEmailAddress": self._from,
            "Destination": {"ToAddresses": list(message.to)},
            "Content": {
                "Simple": {
                    "Subject": {"Data": message.subject, "Charset": "UTF-8"},
                    "Body": body,
                }
            },
        }
        if message.tags:
            request["EmailTags"] = [
                {"Name": name, "Value": value} for name, value in sorted(message.tags.items())
            ]
        if self._configuration_set is not None:
            request["ConfigurationSetName"] = self._configuration_set
        return request

    def send(self, tenant: TenantId, message: EmailMessage, *, idempotency_key: str) -> SentEmail:
        """See `stepsaga.tasks.Notifier.send`.

        Raises:
            RetryableError: A live claim by another attempt, a transient SES error or a
                connection that failed (the claim is released when nothing was sent).
            IdempotencyConflictError: The key already sent a different message.
            botocore.exceptions.ClientError: A permanent SES error (the claim is released).
        """
        key = self.claim_key(tenant, idempotency_key)
        fingerprint = _digest(message.model_dump_json())
        now = int(self._clock())
        try:
            with transient_as_retryable("PutItem", idempotency_key):
                self._dynamodb.put_item(
                    TableName=self._table,
                    Item={
                        **key,
                        "status": {"S": _IN_PROGRESS},
                        "idempotency_key": {"S": idempotency_key},
                        "fingerprint": {"S": fingerprint},
                        "tenant": {"S": str(tenant)},
                        EXPIRY_ATTRIBUTE: {"N": str(now + self._expires_after)},
                        "in_progress_expires_at": {"N": str(now + self._in_progress_expiry)},
                    },
                    ConditionExpression=(
                        "attribute_not_exists(pk) OR #expires < :now OR "
                        "(#status = :in_progress AND in_progress_expires_at < :now)"
                    ),
                    ExpressionAttributeNames={"#expires": EXPIRY_ATTRIBUTE, "#status": "status"},
                    ExpressionAttributeValues={
                        ":now": {"N": str(now)},
                        ":in_progress": {"S": _IN_PROGRESS},
                    },
                )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            return self._existing_claim(key, idempotency_key, fingerprint)

        try:
            response = self._ses.send_email(**self.send_request(message))
        except ClientError as error:
            # SES answered with a refusal: nothing was sent, so a retry may send at once.
            self._release(key, fingerprint)
            code = error_code(error)
            if code in TRANSIENT_ERROR_CODES:
                raise RetryableError(f"SES {code}", retry_hint=idempotency_key) from error
            raise
        except (EndpointConnectionError, ConnectTimeoutError) as error:
            # The connection never opened: nothing was sent either.
            self._release(key, fingerprint)
            raise RetryableError(f"SES SendEmail: {error}", retry_hint=idempotency_key) from error
        except (ReadTimeoutError, ConnectionClosedError) as error:
            # The request went out and its answer was lost: SES may have sent the mail, so the
            # claim stays until its in-progress expiry rather than risk sending it twice.
            raise RetryableError(
                f"SES SendEmail answer lost, the mail may have been sent: {error}",
                retry_hint=idempotency_key,
            ) from error

        message_id = response["MessageId"]
        with transient_as_retryable("UpdateItem", idempotency_key):
            self._dynamodb.update_item(
                TableName=self._table,
                Key=key,
                UpdateExpression="SET #status = :completed, message_id = :message_id",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":completed": {"S": _COMPLETED},
                    ":message_id": {"S": message_id},
                },
            )
        return SentEmail(message_id=message_id, idempotency_key=idempotency_key)

    def _release(self, key: dict[str, Any], fingerprint: str) -> None:
        """Delete our in-progress claim (not one another attempt has taken over since)."""
        try:
            with transient_as_retryable("DeleteItem", self._table):
                self._dynamodb.delete_item(
                    TableName=self._table,
                    Key=key,
                    ConditionExpression="#status = :in_progress AND fingerprint = :fingerprint",
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues={
                        ":in_progress": {"S": _IN_PROGRESS},
                        ":fingerprint": {"S": fingerprint},
                    },
                )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise

    def _existing_claim(
        self, key: dict[str, Any], idempotency_key: str, fingerprint: str
    ) -> SentEmail:
        with transient_as_retryable("GetItem", idempotency_key):
            claim = self._dynamodb.get_item(
                TableName=self._table, Key=key, ConsistentRead=True
            ).get("Item")
        if claim is None:
            # The claim expired or was released between our put and this read.
            raise RetryableError("notification claim vanished", retry_hint=idempotency_key)
        if claim["status"]["S"] != _COMPLETED:
            raise RetryableError(
                "another attempt is sending this notification", retry_hint=idempotency_key
            )
        message_id = claim["message_id"]["S"]
        if claim["fingerprint"]["S"] != fingerprint:
            raise IdempotencyConflictError(idempotency_key, message_id)
        return SentEmail(message_id=message_id, idempotency_key=idempotency_key, replayed=True)

    def claim(self, tenant: TenantId, idempotency_key: str) -> dict[str, Any] | None:
        """The stored claim for a key, as plain JSON (for operators and tests), or None."""
        item = self._dynamodb.get_item(
            TableName=self._table, Key=self.claim_key(tenant, idempotency_key), ConsistentRead=True
        ).get("Item")
        if item is None:
            return None
        return {name: json.loads(v["N"]) if "N" in v else v.get("S") for name, v in item.items()}
