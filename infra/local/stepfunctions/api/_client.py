"""A real boto3 ``stepfunctions`` client whose requests the dispatcher answers, without a socket.

botocore emits ``before-send`` with the prepared HTTP request just before it would send it;
the first handler that returns a response ends the send. The client registers one, first of
all (before moto's, should moto be active), that hands the request to the dispatcher and
returns its answer as botocore's ``AWSResponse``: botocore then parses it exactly as it parses
AWS's answers, errors into ``ClientError`` included.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Final, cast

if TYPE_CHECKING:
    from botocore.awsrequest import AWSPreparedRequest, AWSResponse
    from botocore.config import Config
    from botocore.session import Session
    from mypy_boto3_stepfunctions import SFNClient

    from stepsaga.infra.local.stepfunctions.api._dispatcher import StepFunctionsApi

#: The client's endpoint: never reached (``.invalid`` resolves nowhere, RFC 2606), every
#: request being answered in-process first.
IN_PROCESS_ENDPOINT: Final = "https://stepsaga-in-process.invalid"


class _Raw:
    """The raw body botocore reads an answer from (what ``urllib3`` would hand it)."""

    __slots__ = ("_data",)

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


def _bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    if isinstance(body, str):
        return body.encode()
    data = body.read()  # a file-like body (botocore sends none for this service)
    return data.encode() if isinstance(data, str) else bytes(data)


@functools.cache
def _session() -> Session:
    # One botocore session for every in-process client: loading the service model and the
    # endpoint rules is the dear part of making a client. It reads no profile from the
    # environment (an AWS_PROFILE naming a profile this machine lacks would make botocore
    # refuse to build the client) and sends no client-side monitoring (AWS_CSM_ENABLED).
    import botocore.session

    return botocore.session.Session(
        session_vars={
            "profile": (None, None, None, None),
            "csm_enabled": (None, None, False, None),
        }
    )


def in_process_client(api: StepFunctionsApi, config: Config | None = None) -> SFNClient:
    """A boto3 ``stepfunctions`` client answered by ``api``, in-process.

    Args:
        api: the dispatcher that answers.
        config: botocore configuration merged over the client's own (requests are unsigned:
            nothing checks a signature in-process, and signing is half a request's cost).
    """
    from botocore import UNSIGNED
    from botocore.awsrequest import AWSResponse, HTTPHeaders
    from botocore.config import Config

    own = Config(signature_version=UNSIGNED)
    client = _session().create_client(
        "stepfunctions",
        region_name=api.engine.region,
        endpoint_url=IN_PROCESS_ENDPOINT,
        aws_access_key_id="stepsaga",
        aws_secret_access_key="stepsaga",
        config=own if config is None else own.merge(config),
    )

    def serve(request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        target = request.headers.get("X-Amz-Target")
        if isinstance(target, bytes):
            target = target.decode()
        answer = api.handle(target, _bytes(request.body))
        headers = HTTPHeaders()
        headers["Content-Type"] = answer.content_type
        headers["Content-Length"] = str(len(answer.body))
        headers["x-amzn-RequestId"] = str(uuid.uuid4())
        return AWSResponse(request.url, answer.status, headers, _Raw(answer.body))

    # The first handler that answers ends the send: this one, before any other (moto's).
    client.meta.events.register_first("before-send", cast("Callable[..., None]", serve))
    return cast("SFNClient", client)
