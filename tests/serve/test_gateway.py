"""The local API Gateway: tokens verified against its JWKS, REST proxy events, answers back.

A recording Lambda stands behind it, so each test sees exactly the event the gateway built.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from click.testing import CliRunner

from stepsaga.infra.cli import cli
from stepsaga.infra.local.gateway import (
    CLIENT_ID,
    ApiGateway,
    DevKey,
    GatewayRequest,
    TokenVerifier,
    issuer_url,
)


class Recorder:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.events.append(event)
        return {
            "statusCode": 201,
            "multiValueHeaders": {"X-Seen": ["yes"], "Content-Type": ["application/json"]},
            "body": json.dumps({"path": event["path"]}),
            "isBase64Encoded": False,
        }


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> DevKey:
    return DevKey.load(tmp_path_factory.mktemp("key") / "dev-key.pem")


@pytest.fixture
def gateway(key: DevKey) -> Iterator[tuple[ApiGateway, Recorder, list[GatewayRequest]]]:
    recorder = Recorder()
    seen: list[GatewayRequest] = []
    running = ApiGateway(recorder, key=key, port=0, on_request=seen.append).start()
    try:
        yield running, recorder, seen
    finally:
        running.stop()


def call(
    gateway: ApiGateway,
    method: str,
    path: str,
    *,
    token: str | None = None,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(gateway.url + path, data=data, method=method)
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, dict(answer.headers), json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read() or b"null")


def good_token(key: DevKey, gateway: ApiGateway, **claims: Any) -> str:
    options: dict[str, Any] = {"tenant": "acme", "sub": "user-1", "email": "ann@example.com"}
    options.update(claims)
    return key.issue(issuer=gateway.issuer, **options)


def test_a_verified_token_becomes_the_events_authorizer_claims(gateway: Any, key: DevKey) -> None:
    running, recorder, _ = gateway
    token = good_token(key, running, groups=("staff", "admins"))
    status, headers, body = call(
        running,
        "POST",
        "/commands/PlaceOrder?x=1",
        token=token,
        body={"a": 1},
        headers={"Idempotency-Key": "k-1"},
    )
    assert (status, body, headers["X-Seen"]) == (201, {"path": "/commands/PlaceOrder"}, "yes")
    (event,) = recorder.events
    claims = event["requestContext"]["authorizer"]["claims"]
    assert claims["custom:tenant"] == "acme" and claims["sub"] == "user-1"
    assert claims["email"] == "ann@example.com"
    # API Gateway's REST authorizer passes every claim as a string.
    assert claims["cognito:groups"] == "[staff, admins]"
    assert isinstance(claims["exp"], str)
    assert event["httpMethod"] == "POST" and event["path"] == "/commands/PlaceOrder"
    assert json.loads(event["body"]) == {"a": 1} and event["isBase64Encoded"] is False
    assert event["headers"]["Idempotency-Key"] == "k-1"
    assert event["queryStringParameters"] == {"x": "1"}


def expect_401(running: ApiGateway, recorder: Recorder, token: str | None) -> str:
    status, headers, body = call(running, "GET", "/executions/acme-1", token=token)
    assert status == 401
    assert set(body) == {"error"} and body["error"]["code"] == "Unauthorized"
    assert headers["WWW-Authenticate"].startswith("Bearer")
    assert recorder.events == []  # the Lambda never ran
    return str(body["error"]["message"])


def test_a_missing_token_is_401(gateway: Any) -> None:
    running, recorder, _ = gateway
    assert "no bearer token" in expect_401(running, recorder, None)


def test_an_expired_token_is_401(gateway: Any, key: DevKey) -> None:
    running, recorder, _ = gateway
    assert "expired" in expect_401(running, recorder, good_token(key, running, ttl=-1))


def test_a_tampered_token_is_401(gateway: Any, key: DevKey) -> None:
    running, recorder, _ = gateway
    header, payload, signature = good_token(key, running).split(".")
    claims = json.loads(jwt.utils.base64url_decode(payload))
    claims["custom:tenant"] = "globex"
    forged = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    assert "signature" in expect_401(running, recorder, f"{header}.{forged}.{signature}")


def test_a_token_signed_by_another_key_is_401(gateway: Any, tmp_path: Path) -> None:
    running, recorder, _ = gateway
    other = DevKey.load(tmp_path / "other.pem")
    expect_401(running, recorder, good_token(other, running))


def test_a_token_for_another_audience_is_401(gateway: Any, key: DevKey) -> None:
    running, recorder, _ = gateway
    token = jwt.encode(
        {
            "iss": running.issuer,
            "aud": "someone-else",
            "sub": "u",
            "token_use": "id",
            "iat": 1,
            "exp": 4_000_000_000,
            "custom:tenant": "acme",
        },
        key.private_key,
        algorithm="RS256",
        headers={"kid": key.kid},
    )
    assert "aud" in expect_401(running, recorder, token)


def test_a_token_from_another_issuer_is_401(gateway: Any, key: DevKey) -> None:
    running, recorder, _ = gateway
    token = key.issue(issuer=issuer_url("127.0.0.1", 1), tenant="acme", sub="u")
    assert "iss" in expect_401(running, recorder, token)


def test_an_unsigned_token_is_401(gateway: Any) -> None:
    running, recorder, _ = gateway
    token = jwt.encode({"sub": "u", "custom:tenant": "acme"}, key=None, algorithm="none")
    expect_401(running, recorder, token)


def test_public_paths_need_no_token_and_carry_no_claims(gateway: Any) -> None:
    running, recorder, _ = gateway
    status, _, _ = call(running, "GET", "/openapi.json")
    assert status == 201
    assert "authorizer" not in recorder.events[0]["requestContext"]


def test_the_jwks_is_published_under_the_issuer_and_verifies_its_tokens(
    gateway: Any, key: DevKey
) -> None:
    running, _, _ = gateway
    status, _, jwks = call(
        running, "GET", running.issuer.removeprefix(running.url) + "/.well-known/jwks.json"
    )
    assert status == 200
    verifier = TokenVerifier(jwks, issuer=running.issuer)
    claims = verifier.claims(f"Bearer {good_token(key, running)}")
    assert claims["aud"] == CLIENT_ID and claims["custom:tenant"] == "acme"


def test_one_log_record_per_request(gateway: Any, key: DevKey) -> None:
    running, _, seen = gateway
    call(running, "GET", "/executions/x", token=good_token(key, running))
    call(running, "GET", "/executions/x")
    assert [(r.method, r.path, r.status, r.tenant) for r in seen] == [
        ("GET", "/executions/x", 201, "acme"),
        ("GET", "/executions/x", 401, None),
    ]


def test_the_key_is_created_once_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "stepsaga" / "dev-key.pem"
    first = DevKey.load(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert DevKey.load(path).kid == first.kid


def test_a_key_file_that_is_not_a_key_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "nonsense.pem"
    path.write_text("hello")
    with pytest.raises(ValueError, match=r"nonsense\.pem"):
        DevKey.load(path)


def test_the_token_command_prints_a_token_serve_accepts(tmp_path: Path) -> None:
    key_file = tmp_path / "k.pem"
    result = CliRunner().invoke(
        cli,
        [
            "token",
            "--tenant",
            "acme",
            "--sub",
            "ann",
            "--email",
            "ann@example.com",
            "--groups",
            "admins, staff",
            "--ttl",
            "60",
            "--port",
            "9001",
            "--key",
            str(key_file),
        ],
    )
    assert result.exit_code == 0, result.output
    key = DevKey.load(key_file)
    verifier = TokenVerifier(key.jwks(), issuer=issuer_url("127.0.0.1", 9001))
    claims = verifier.claims("Bearer " + result.output.strip())
    assert claims["custom:tenant"] == "acme" and claims["sub"] == "ann"
    assert claims["cognito:groups"] == ["admins", "staff"]
    assert claims["exp"] - claims["iat"] == 60 and claims["token_use"] == "id"


def test_the_token_command_refuses_an_invalid_tenant_by_name(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["token", "--tenant", "Bad#One", "--sub", "ann", "--key", str(tmp_path / "k.pem")]
    )
    assert result.exit_code == 2
    assert "--tenant" in result.output and "Traceback" not in result.output


def test_a_keep_alive_request_is_not_held_back_by_delayed_acks(gateway: Any, key: DevKey) -> None:
    # With Nagle's algorithm on the server's socket, each answer's body waited for the
    # client's delayed ACK of its headers: 40 ms a request on Linux, whatever the work.
    import http.client
    import statistics
    import time

    running, _, _ = gateway
    headers = {"Authorization": f"Bearer {good_token(key, running)}"}
    connection = http.client.HTTPConnection("127.0.0.1", running.port, timeout=10)
    took = []
    try:
        for _ in range(9):
            started = time.perf_counter()
            connection.request("GET", "/executions/x", headers=headers)
            connection.getresponse().read()
            took.append(time.perf_counter() - started)
    finally:
        connection.close()
    assert statistics.median(took) < 0.030
