"""``arn:aws:states:::http:invoke``: the HTTP Task, calling an HTTP endpoint for real.

Parameters as AWS documents them ("Call HTTPS APIs in Step Functions workflows"):
``ApiEndpoint``, ``Method``, ``Authentication.ConnectionArn`` (an EventBridge connection; it is
required), and optionally ``Headers``, ``QueryParameters``, ``RequestBody`` and ``Transform``
(``RequestBodyEncoding: URL_ENCODED`` with ``RequestEncodingOptions.ArrayFormat`` INDICES,
REPEAT, COMMAS or BRACKETS). The connection's authorisation (API key, basic) and its
invocation parameters are merged into the request, its values taking precedence, when the
engine has service clients to read it from (the secret EventBridge keeps in Secrets Manager);
without them the request goes as the task wrote it.

The result is ``{"Headers", "ResponseBody", "StatusCode", "StatusText"}`` (header values as
lists; a JSON body parsed). A status outside 2xx fails the task with
``States.Http.StatusCode.<code>`` and that result as its cause; no answer within 60 seconds,
or no connection at all, with ``States.Http.Socket``. Locally, ``http://`` endpoints (a test
server on 127.0.0.1) are called too, which AWS would refuse.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from stepsaga.infra.local.stepfunctions._history import to_json
from stepsaga.infra.local.stepfunctions._tasks import TaskOutcome
from stepsaga.workflows import facts

if TYPE_CHECKING:
    from stepsaga.infra.local.stepfunctions._services import ServiceClients

_METHODS: Final = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"})
_ARRAY_FORMATS: Final = frozenset({"INDICES", "REPEAT", "COMMAS", "BRACKETS"})


class _Refused(ValueError):
    """Parameters the HTTP Task does not take (the message names the field)."""


def invoke(parameters: Any, services: ServiceClients | None, region: str) -> TaskOutcome:
    """Call the endpoint; its response as the task's result, or AWS's error for it."""
    try:
        request = _request(parameters, services, region)
    except _Refused as exc:
        return TaskOutcome.failure(facts.STATES_RUNTIME, str(exc))
    try:
        with urllib.request.urlopen(request, timeout=facts.HTTP_TASK_TIMEOUT_SECONDS) as answer:
            result = _result(answer.status, answer.reason, answer.headers, answer.read())
    except urllib.error.HTTPError as failed:
        result = _result(failed.code, failed.reason, failed.headers, failed.read())
        return TaskOutcome.failure(f"{facts.STATES_HTTP_STATUS_CODE}{failed.code}", to_json(result))
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return TaskOutcome.failure(
            facts.STATES_HTTP_SOCKET, f"Unable to reach {request.full_url}: {reason}"
        )
    return TaskOutcome.success(result)


def _result(status: int, reason: str, headers: Any, body: bytes) -> dict[str, Any]:
    collected: dict[str, list[str]] = {}
    for key, value in headers.items():
        collected.setdefault(key.lower(), []).append(value)
    text = body.decode(errors="replace")
    content_type = headers.get("Content-Type", "") or ""
    response_body: Any = text
    if "json" in content_type and text:
        try:
            response_body = json.loads(text)
        except ValueError:
            response_body = text
    return {
        "Headers": collected,
        "ResponseBody": response_body,
        "StatusCode": status,
        "StatusText": reason,
    }


def _request(
    parameters: Any, services: ServiceClients | None, region: str
) -> urllib.request.Request:
    if not isinstance(parameters, Mapping):
        raise _Refused("http:invoke needs Parameters (ApiEndpoint, Method, Authentication)")
    endpoint = parameters.get("ApiEndpoint")
    if not isinstance(endpoint, str) or not endpoint.startswith(("https://", "http://")):
        raise _Refused(f"ApiEndpoint must be an HTTPS URL, got {json.dumps(endpoint)}")
    method = parameters.get("Method")
    if not isinstance(method, str) or method.upper() not in _METHODS:
        raise _Refused(f"Method must be one of {', '.join(sorted(_METHODS))}, got {method!r}")
    authentication = parameters.get("Authentication")
    connection = (
        authentication.get("ConnectionArn") if isinstance(authentication, Mapping) else None
    )
    if not isinstance(connection, str):
        raise _Refused("Authentication.ConnectionArn is required (an EventBridge connection)")
    headers = _string_map(parameters.get("Headers"), "Headers")
    query = _string_map(parameters.get("QueryParameters"), "QueryParameters")
    body = parameters.get("RequestBody")
    extra_headers, extra_query = _connection(connection, services, region)
    headers.update(extra_headers)
    query.update(extra_query)
    url = endpoint
    if query:
        url += ("&" if "?" in url else "?") + urllib.parse.urlencode(query)
    data: bytes | None = None
    if body is not None:
        transform = parameters.get("Transform")
        encoding = transform.get("RequestBodyEncoding") if isinstance(transform, Mapping) else None
        if encoding == "URL_ENCODED":
            options = transform.get("RequestEncodingOptions") if transform else None
            array_format = (
                options.get("ArrayFormat", "INDICES") if isinstance(options, Mapping) else "INDICES"
            )
            if array_format not in _ARRAY_FORMATS:
                raise _Refused(
                    "RequestEncodingOptions.ArrayFormat must be one of "
                    f"{', '.join(sorted(_ARRAY_FORMATS))}, got {array_format!r}"
                )
            data = url_encoded(body, array_format).encode()
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        else:
            data = (body if isinstance(body, str) else to_json(body)).encode()
            headers.setdefault("Content-Type", "application/json")
    return urllib.request.Request(url, data=data, headers=headers, method=method.upper())


def _string_map(value: Any, field: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _Refused(f"{field} must be an object")
    return {
        str(key): item if isinstance(item, str) else to_json(item) for key, item in value.items()
    }


def _connection(
    arn: str, services: ServiceClients | None, region: str
) -> tuple[dict[str, str], dict[str, str]]:
    """The headers and query parameters an EventBridge connection adds to the request."""
    if services is None:
        return {}, {}
    name = arn.split(":connection/", 1)[-1].split("/", 1)[0]
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        described = services.client("events", region).describe_connection(Name=name)
        secret = services.client("secretsmanager", region).get_secret_value(
            SecretId=described["SecretArn"]
        )
    except (ClientError, BotoCoreError, KeyError) as exc:
        raise _Refused(f"The connection {arn} cannot be read: {exc}") from None
    values = json.loads(secret.get("SecretString") or "{}")
    headers: dict[str, str] = {}
    query: dict[str, str] = {}
    kind = described.get("AuthorizationType")
    if kind == "API_KEY" and values.get("api_key_name"):
        headers[values["api_key_name"]] = str(values.get("api_key_value", ""))
    elif kind == "BASIC":
        pair = f"{values.get('username', '')}:{values.get('password', '')}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    elif kind == "OAUTH_CLIENT_CREDENTIALS":
        raise _Refused(f"The connection {arn} uses OAuth, which the local engine cannot obtain")
    invocation = values.get("invocation_http_parameters") or {}
    for entry in invocation.get("header_parameters") or []:
        headers[str(entry.get("key"))] = str(entry.get("value"))
    for entry in invocation.get("query_string_parameters") or []:
        query[str(entry.get("key"))] = str(entry.get("value"))
    return headers, query


def url_encoded(body: Any, array_format: str) -> str:
    """A request body as ``application/x-www-form-urlencoded`` text, arrays per the format."""
    pairs: list[tuple[str, str]] = []

    def scalar(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        return value if isinstance(value, str) else to_json(value)

    def add(key: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for inner, item in value.items():
                add(f"{key}[{inner}]" if key else str(inner), item)
        elif isinstance(value, list):
            if array_format == "COMMAS":
                pairs.append((key, ",".join(scalar(item) for item in value)))
            for index, item in enumerate(value):
                if array_format == "INDICES":
                    add(f"{key}[{index}]", item)
                elif array_format == "BRACKETS":
                    add(f"{key}[]", item)
                elif array_format == "REPEAT":
                    add(key, item)
        else:
            pairs.append((key, scalar(value)))

    if not isinstance(body, Mapping):
        return scalar(body)
    add("", body)
    return urllib.parse.urlencode(pairs)
