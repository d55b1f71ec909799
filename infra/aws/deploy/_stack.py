"""`stepsaga deploy`: package, upload, create or update the stack, wait, report what it made.

One call does it all, on clients it is given (the command line builds them; tests point them at
moto's server):

1. build the bundle (`build_bundle`) and upload it to the code bucket under its
   content-addressed key, unless an object with that key is already there;
2. synthesise the template, with `CodeBucket`/`CodeKey` set to the upload; a template over
   CloudFormation's 51,200-byte inline limit goes to the bucket too;
3. create the stack, or update it: an update with nothing to change is CloudFormation's
   "No updates are to be performed", which is success (`changed` is False);
4. follow the stack's events as they arrive (`on_event`) until it settles, and raise
   `DeployError` with the first failure's reason if it rolled back;
5. return the stack's outputs: the API URL and each state machine's ARN.

The bucket, when not given, is `stepsaga-<account>-<region>`, created on first use.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from stepsaga.infra.aws.deploy._bundle import LAMBDA_TARGET, Bundle, Target, build_bundle
from stepsaga.infra.aws.deploy._template import CodeLocation, synthesise_template
from stepsaga.infra.project import Service

if TYPE_CHECKING:
    from mypy_boto3_cloudformation.client import CloudFormationClient
    from mypy_boto3_s3.client import S3Client

__all__ = ("DeployError", "DeployResult", "StackEvent", "deploy_service", "parse_parameters")

_TEMPLATE_BODY_LIMIT = 51_200
_NO_UPDATES = "No updates are to be performed"
_DONE = ("CREATE_COMPLETE", "UPDATE_COMPLETE")
# Statuses a stack settles in; anything else is still moving.
_SETTLED = (
    *_DONE,
    "CREATE_FAILED",
    "ROLLBACK_COMPLETE",
    "ROLLBACK_FAILED",
    "UPDATE_ROLLBACK_COMPLETE",
    "UPDATE_ROLLBACK_FAILED",
    "DELETE_COMPLETE",
    "DELETE_FAILED",
)


class DeployError(RuntimeError):
    """The deployment failed; the message names the parameter, resource or status and why."""


@dataclass(frozen=True, slots=True)
class StackEvent:
    """One stack event, as the progress display shows it.

    Attributes:
        timestamp: When CloudFormation recorded it.
        resource: The logical id (the stack's name for the stack itself).
        resource_type: `AWS::Lambda::Function`, ...
        status: `CREATE_IN_PROGRESS`, `CREATE_COMPLETE`, ...
        reason: CloudFormation's reason, if it gave one.
    """

    timestamp: Any
    resource: str
    resource_type: str
    status: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class DeployResult:
    """What a deployment did.

    Attributes:
        stack_id: The stack's id (ARN).
        status: Its status afterwards (`CREATE_COMPLETE`, `UPDATE_COMPLETE`, or the unchanged
            stack's own status).
        changed: False when the stack already was what the template says.
        uploaded: False when the bundle was already in the bucket.
        bundle: The bundle deployed.
        outputs: The stack's outputs by key (`ApiUrl`, `<Saga>StateMachineArn`, ...).
        events: The stack events seen while waiting, oldest first.
    """

    stack_id: str
    status: str
    changed: bool
    uploaded: bool
    bundle: Bundle
    outputs: Mapping[str, str]
    events: tuple[StackEvent, ...] = field(default=())

    @property
    def api_url(self) -> str | None:
        """The REST API's base URL."""
        return self.outputs.get("ApiUrl")

    @property
    def state_machines(self) -> dict[str, str]:
        """Output key to ARN for every state machine."""
        return {
            key.removesuffix("Arn"): value
            for key, value in self.outputs.items()
            if key.endswith("StateMachineArn")
        }


def parse_parameters(pairs: tuple[str, ...] | list[str]) -> dict[str, str]:
    """`K=V` strings as a mapping.

    Raises:
        DeployError: An item has no `=` or an empty key, or a key is given twice.
    """
    parameters: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise DeployError(f"--parameter {pair!r} must be KEY=VALUE")
        if key in parameters:
            raise DeployError(f"--parameter {key} is given twice")
        parameters[key] = value
    return parameters


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _error_message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", ""))


def _ensure_bucket(s3: S3Client, bucket: str, region: str) -> None:
    try:
        s3.head_bucket(Bucket=bucket)
        return
    except ClientError as error:
        if _error_code(error) not in ("404", "NoSuchBucket", "NotFound"):
            raise DeployError(f"the code bucket {bucket!r} is not usable: {error}") from error
    if region == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(
            Bucket=bucket,
            CreateBucketConfiguration={"LocationConstraint": region},  # type: ignore[typeddict-item]
        )


def _upload(s3: S3Client, bucket: str, key: str, path: Path) -> bool:
    """Put `path` at `key` unless the key exists (keys are content-addressed)."""
    try:
        s3.head_object(Bucket=bucket, Key=key)
        return False
    except ClientError as error:
        if _error_code(error) not in ("404", "NoSuchKey", "NotFound"):
            raise
    s3.upload_file(str(path), bucket, key)
    return True


def _stack(cloudformation: CloudFormationClient, name: str) -> dict[str, Any] | None:
    try:
        stacks = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except ClientError as error:
        if "does not exist" in _error_message(error):
            return None
        raise
    return dict(stacks[0]) if stacks else None


def _parameters(
    template: Mapping[str, Any], given: Mapping[str, str], existing: dict[str, Any] | None
) -> list[dict[str, Any]]:
    declared: Mapping[str, Any] = template["Parameters"]
    for key in given:
        if key not in declared:
            known = ", ".join(sorted(declared))
            raise DeployError(f"the template has no parameter {key!r}; it has: {known}")
    # Passed again as values (not UsePreviousValue): the same request on AWS, and moto cannot
    # look up the previous value of a parameter that took its default.
    previous = {
        p["ParameterKey"]: p["ParameterValue"] for p in (existing or {}).get("Parameters", [])
    }
    result: list[dict[str, Any]] = []
    missing: list[str] = []
    for key, declaration in declared.items():
        if key in given:
            result.append({"ParameterKey": key, "ParameterValue": given[key]})
        elif key in previous:
            result.append({"ParameterKey": key, "ParameterValue": previous[key]})
        elif "Default" not in declaration:
            missing.append(key)
    if missing:
        raise DeployError(
            "the stack needs a value for "
            + ", ".join(missing)
            + " (--parameter KEY=VALUE); "
            + "; ".join(f"{k}: {declared[k].get('Description', '')}" for k in missing)
        )
    return result


def deploy_service(
    service: Service,
    *,
    stack: str,
    cloudformation: CloudFormationClient,
    s3: S3Client,
    region: str,
    bucket: str | None = None,
    account: str | None = None,
    parameters: Mapping[str, str] | None = None,
    out: Path = Path("build/lambda"),
    target: Target = LAMBDA_TARGET,
    include_boto3: bool = True,
    on_event: Callable[[StackEvent], None] | None = None,
    poll_seconds: float = 2.0,
    timeout_seconds: float = 3600.0,
) -> DeployResult:
    """Deploy `service` as the stack `stack` (see the module docstring for the steps).

    Args:
        service: The loaded service.
        stack: The stack's name.
        cloudformation: A boto3 CloudFormation client.
        s3: A boto3 S3 client (the code bucket's region).
        region: The region the stack is in (for a bucket to create).
        bucket: The code bucket; default `stepsaga-<account>-<region>`, created if missing.
        account: The account id, needed only for the default bucket's name.
        parameters: Template parameters (`AlarmTopicArn`, `MailFrom`, ...); on an update, one
            not given keeps its previous value.
        out: Where the bundle is built.
        target: The bundle's target (default: the template's Lambda runtime).
        include_boto3: Bundle boto3 (see `build_bundle`).
        on_event: Called with each stack event as it arrives, oldest first.
        poll_seconds: How often to poll the stack's events.
        timeout_seconds: How long to wait for the stack to settle.

    Raises:
        DeployError: A parameter is unknown or missing, the stack cannot be updated in its
            state, the stack rolled back (with the first failure's reason), or it did not settle
            in time.
        BundleError: The bundle cannot be built.
    """
    if bucket is None:
        if account is None:
            raise DeployError("give the code bucket, or the account id to name one")
        bucket = f"stepsaga-{account}-{region}"
    bundle = build_bundle(service, out, target=target, include_boto3=include_boto3)
    _ensure_bucket(s3, bucket, region)
    uploaded = _upload(s3, bucket, bundle.key, bundle.path)
    template = synthesise_template(service, code={"service": CodeLocation(bucket, bundle.key)})
    existing = _stack(cloudformation, stack)
    if existing is not None and existing["StackStatus"] == "ROLLBACK_COMPLETE":
        raise DeployError(
            f"stack {stack!r} is ROLLBACK_COMPLETE (its creation failed): delete it, then deploy"
        )
    given = {"CodeBucket": bucket, "CodeKey": bundle.key, **(parameters or {})}
    request: dict[str, Any] = {
        "StackName": stack,
        "Parameters": _parameters(template, given, existing),
        "Capabilities": ["CAPABILITY_IAM"],
        **_template_argument(s3, bucket, template),
    }
    if existing is not None and _unchanged(cloudformation, existing, template, request):
        return DeployResult(
            stack_id=existing["StackId"],
            status=existing["StackStatus"],
            changed=False,
            uploaded=uploaded,
            bundle=bundle,
            outputs=_outputs(existing),
        )
    seen = _event_ids(cloudformation, stack) if existing is not None else set()
    try:
        if existing is None:
            stack_id = cloudformation.create_stack(**request)["StackId"]
        else:
            stack_id = cloudformation.update_stack(**request)["StackId"]
    except ClientError as error:
        if existing is not None and _NO_UPDATES in _error_message(error):
            return DeployResult(
                stack_id=existing["StackId"],
                status=existing["StackStatus"],
                changed=False,
                uploaded=uploaded,
                bundle=bundle,
                outputs=_outputs(existing),
            )
        raise DeployError(f"CloudFormation refused the stack: {_error_message(error)}") from error
    events = _wait(cloudformation, stack_id, seen, on_event, poll_seconds, timeout_seconds)
    settled = _stack(cloudformation, stack_id)
    status = settled["StackStatus"] if settled else "UNKNOWN"
    if status not in _DONE:
        failures = [e for e in events if e.status.endswith("_FAILED") and e.reason]
        why = f": {failures[0].resource}: {failures[0].reason}" if failures else ""
        raise DeployError(f"stack {stack!r} ended {status}{why}")
    return DeployResult(
        stack_id=stack_id,
        status=status,
        changed=True,
        uploaded=uploaded,
        bundle=bundle,
        outputs=_outputs(settled or {}),
        events=tuple(events),
    )


def _unchanged(
    cloudformation: CloudFormationClient,
    existing: Mapping[str, Any],
    template: Mapping[str, Any],
    request: Mapping[str, Any],
) -> bool:
    """True when the stack already has this template and these parameter values.

    CloudFormation answers such an update "No updates are to be performed" (handled too), but
    moto keeps a Number parameter as a number and then sees a change; comparing here first
    makes a repeated deploy a no-op on both, without an update call.
    """
    if not existing["StackStatus"].endswith("_COMPLETE"):
        return False
    body: Any = cloudformation.get_template(StackName=existing["StackId"])["TemplateBody"]
    deployed = json.loads(body) if isinstance(body, str) else body
    if deployed != template:
        return False
    current = {p["ParameterKey"]: p["ParameterValue"] for p in existing.get("Parameters", [])}
    wanted = {p["ParameterKey"]: p["ParameterValue"] for p in request["Parameters"]}
    return all(current.get(key) == value for key, value in wanted.items())


def _template_argument(s3: S3Client, bucket: str, template: Mapping[str, Any]) -> dict[str, str]:
    body = json.dumps(template, separators=(",", ":"))
    if len(body.encode()) <= _TEMPLATE_BODY_LIMIT:
        return {"TemplateBody": body}
    import hashlib

    key = f"templates/{hashlib.sha256(body.encode()).hexdigest()[:16]}.json"
    s3.put_object(Bucket=bucket, Key=key, Body=body.encode())
    return {"TemplateURL": f"{s3.meta.endpoint_url}/{bucket}/{key}"}


def _event_ids(cloudformation: CloudFormationClient, stack: str) -> set[str]:
    ids: set[str] = set()
    for page in cloudformation.get_paginator("describe_stack_events").paginate(StackName=stack):
        ids.update(event["EventId"] for event in page["StackEvents"])
    return ids


def _wait(
    cloudformation: CloudFormationClient,
    stack_id: str,
    seen: set[str],
    on_event: Callable[[StackEvent], None] | None,
    poll_seconds: float,
    timeout_seconds: float,
) -> list[StackEvent]:
    events: list[StackEvent] = []
    deadline = time.monotonic() + timeout_seconds
    while True:
        # The status first: events fetched after it include every one up to settling.
        stack = _stack(cloudformation, stack_id)
        fresh: list[Any] = []
        pages = cloudformation.get_paginator("describe_stack_events").paginate(StackName=stack_id)
        for page in pages:
            fresh += [e for e in page["StackEvents"] if e["EventId"] not in seen]
        # CloudFormation lists newest first; the display wants them as they happened.
        for raw in reversed(fresh):
            seen.add(raw["EventId"])
            event = StackEvent(
                timestamp=raw["Timestamp"],
                resource=raw.get("LogicalResourceId", ""),
                resource_type=raw.get("ResourceType", ""),
                status=raw.get("ResourceStatus", ""),
                reason=raw.get("ResourceStatusReason", "") or "",
            )
            events.append(event)
            if on_event is not None:
                on_event(event)
        if stack is None or stack["StackStatus"] in _SETTLED:
            return events
        if time.monotonic() > deadline:
            raise DeployError(
                f"stack {stack_id} did not settle in {timeout_seconds:.0f} s "
                f"(still {stack['StackStatus']})"
            )
        time.sleep(poll_seconds)


def _outputs(stack: Mapping[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
