"""The event store and mail claims reached through a role assumed per tenant (AWS's SaaS pattern).

A deployed task function's own role has no DynamoDB access. For each tenant it calls
`sts:AssumeRole` on the tenant role with the session tag `tenant=<tenant>`; that role's policy
allows only keys under `${aws:PrincipalTag/tenant}#` (`dynamodb:LeadingKeys`), so a step for
one tenant cannot read or write another's items even through a bug. The credentials are cached
per tenant and assumed again shortly before they expire; the DynamoDB client built from them is
cached with them.

`runtime_from_environment` uses this when `STEPSAGA_TENANT_ROLE_ARN` is set (the synthesised
template sets it); without it the function's own credentials are used, as locally.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stepsaga.domain import RecordedEvent, StoredEvent, StreamId, TenantId
from stepsaga.infra.aws._table import TENANT_SESSION_TAG
from stepsaga.tasks import EmailMessage, EventStore, Fence, Notifier, SentEmail, Snapshot

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_sts.client import STSClient

__all__ = ("TenantRole", "TenantRoleEventStore", "TenantRoleNotifier")

# Shortest session STS grants: a leaked set of credentials is good for a quarter of an hour.
_DURATION_SECONDS = 900
# Assume again this long before expiry, so no call starts with credentials about to lapse.
_REFRESH_BEFORE_SECONDS = 120


@dataclass(frozen=True, slots=True)
class _Session:
    dynamodb: Any
    expires_at: float


class TenantRole:
    """DynamoDB clients with the tenant role's credentials, one per tenant, kept fresh.

    Args:
        sts: A boto3 STS client with the function's own credentials.
        role_arn: The tenant role (`STEPSAGA_TENANT_ROLE_ARN`).
        client_factory: Builds a DynamoDB client from `aws_access_key_id`,
            `aws_secret_access_key` and `aws_session_token` keyword arguments (default: a
            `boto3.session.Session(...).client("dynamodb")` in the STS client's region).
        duration_seconds: How long each assumed session lasts (900 to the role's maximum).
        refresh_before_seconds: Assume again when the credentials expire sooner than this.
        clock: Seconds since the epoch (default `time.time`).
    """

    def __init__(
        self,
        sts: STSClient,
        role_arn: str,
        *,
        client_factory: Callable[..., DynamoDBClient] | None = None,
        duration_seconds: int = _DURATION_SECONDS,
        refresh_before_seconds: int = _REFRESH_BEFORE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not role_arn:
            raise ValueError("role_arn must name the tenant role, got an empty string")
        if refresh_before_seconds >= duration_seconds:
            raise ValueError(
                f"refresh_before_seconds ({refresh_before_seconds}) must be shorter than "
                f"duration_seconds ({duration_seconds})"
            )
        self._sts = sts
        self.role_arn = role_arn
        self._factory = client_factory or self._default_factory
        self._duration = duration_seconds
        self._refresh_before = refresh_before_seconds
        self._clock = clock
        self._sessions: dict[str, _Session] = {}
        self._lock = threading.Lock()

    def _default_factory(
        self, *, aws_access_key_id: str, aws_secret_access_key: str, aws_session_token: str
    ) -> DynamoDBClient:
        import boto3

        session = boto3.session.Session(
            aws_access_key_id=aws_access_key_id,
            aws_secret_access_key=aws_secret_access_key,
            aws_session_token=aws_session_token,
            region_name=self._sts.meta.region_name,
        )
        return session.client("dynamodb")

    def dynamodb(self, tenant: TenantId) -> DynamoDBClient:
        """The DynamoDB client for `tenant`, assuming the role when none is cached or fresh."""
        now = self._clock()
        with self._lock:
            session = self._sessions.get(tenant)
            if session is None or session.expires_at - self._refresh_before <= now:
                session = self._assume(tenant)
                self._sessions[tenant] = session
            client: DynamoDBClient = session.dynamodb
            return client

    def _assume(self, tenant: TenantId) -> _Session:
        answer = self._sts.assume_role(
            RoleArn=self.role_arn,
            # Shows in CloudTrail next to every call the session makes.
            RoleSessionName=f"stepsaga-{tenant}"[:64],
            DurationSeconds=self._duration,
            Tags=[{"Key": TENANT_SESSION_TAG, "Value": str(tenant)}],
        )
        credentials = answer["Credentials"]
        client = self._factory(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
        return _Session(client, credentials["Expiration"].timestamp())


class TenantRoleEventStore:
    """A `DynamoDBEventStore` per tenant, each on that tenant's assumed-role client.

    Every `EventStore` operation names its tenant (a stream's, or a fence's), and runs with
    that tenant's credentials.

    Args:
        role: The tenant role's clients.
        table_name: The event store table.
    """

    def __init__(self, role: TenantRole, table_name: str) -> None:
        self._role = role
        self._table = table_name

    def _store(self, tenant: TenantId) -> EventStore:
        from stepsaga.infra.aws._event_store import DynamoDBEventStore

        return DynamoDBEventStore(self._role.dynamodb(tenant), self._table)

    def append(
        self,
        stream: StreamId,
        events: Sequence[StoredEvent],
        expected_version: int,
        *,
        fence: Fence | None = None,
    ) -> list[RecordedEvent]:
        """`EventStore.append` with the stream's tenant's credentials."""
        return self._store(stream.tenant).append(stream, events, expected_version, fence=fence)

    def read(
        self, stream: StreamId, *, from_version: int = 1, limit: int | None = None
    ) -> list[RecordedEvent]:
        """`EventStore.read` with the stream's tenant's credentials."""
        return self._store(stream.tenant).read(stream, from_version=from_version, limit=limit)

    def version(self, stream: StreamId) -> int:
        """`EventStore.version` with the stream's tenant's credentials."""
        return self._store(stream.tenant).version(stream)

    def find(self, stream: StreamId, event_ids: Sequence[str]) -> list[RecordedEvent]:
        """`EventStore.find` with the stream's tenant's credentials."""
        return self._store(stream.tenant).find(stream, event_ids)

    def fence_command(self, fence: Fence) -> bool:
        """`EventStore.fence_command` with the fence's tenant's credentials."""
        return self._store(fence.tenant).fence_command(fence)

    def fenced_by(self, fence: Fence) -> tuple[str, ...]:
        """`EventStore.fenced_by` with the fence's tenant's credentials."""
        return self._store(fence.tenant).fenced_by(fence)

    def commit_command(self, fence: Fence) -> None:
        """`EventStore.commit_command` with the fence's tenant's credentials."""
        self._store(fence.tenant).commit_command(fence)

    def load_snapshot(self, stream: StreamId, name: str) -> Snapshot | None:
        """`EventStore.load_snapshot` with the stream's tenant's credentials."""
        return self._store(stream.tenant).load_snapshot(stream, name)

    def save_snapshot(self, stream: StreamId, snapshot: Snapshot) -> bool:
        """`EventStore.save_snapshot` with the stream's tenant's credentials."""
        return self._store(stream.tenant).save_snapshot(stream, snapshot)


class TenantRoleNotifier:
    """An `SesNotifier` whose claims (in the table, under the tenant's keys) use the tenant role.

    Mail itself goes out with the function's own credentials (`ses`), which may send only from
    the configured identity.

    Args:
        role: The tenant role's clients.
        ses: A boto3 SES v2 client.
        table_name: The event store table (claims live beside the events).
        from_address: The verified sender.
        configuration_set: The SES configuration set, if any.
    """

    def __init__(
        self,
        role: TenantRole,
        ses: Any,
        table_name: str,
        *,
        from_address: str,
        configuration_set: str | None = None,
    ) -> None:
        self._role = role
        self._ses = ses
        self._table = table_name
        self._from = from_address
        self._configuration_set = configuration_set

    def send(self, tenant: TenantId, message: EmailMessage, *, idempotency_key: str) -> SentEmail:
        """`Notifier.send`, claiming the key with the tenant's credentials."""
        from stepsaga.infra.aws._notifier import SesNotifier

        notifier: Notifier = SesNotifier(
            self._ses,
            self._role.dynamodb(tenant),
            self._table,
            from_address=self._from,
            configuration_set=self._configuration_set,
        )
        return notifier.send(tenant, message, idempotency_key=idempotency_key)
