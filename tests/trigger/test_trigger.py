"""The trigger Lambda on API Gateway REST proxy events, its Step Functions calls pinned by Stubber.

Each test reads GIVEN (the stubbed Step Functions answers), WHEN (one proxy event), THEN (the
status, the one error shape, and the exact requests sent).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from aws_lambda_powertools import Logger
from botocore.exceptions import EndpointConnectionError
from botocore.stub import ANY, Stubber
from pydantic import BaseModel

from stepsaga.examples.orders.commands import PlaceOrder
from stepsaga.examples.orders.sagas import SAGAS
from stepsaga.infra.aws import Starter
from stepsaga.infra.aws.trigger import build_trigger, trigger_handler
from stepsaga.workflows.facts import MAX_PAYLOAD_BYTES
from stepsaga.workflows.saga import Saga, Step, execution_name_for
from tests.trigger.events import LambdaContext, claims, rest_event

MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:orders-PlaceOrder"
QUOTE_MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:orders-QuotePrice"
EXECUTIONS = "arn:aws:states:us-east-1:123456789012:execution:orders-PlaceOrder"
ORDER = {
    "orderId": "o-1",
    "customerEmail": "ann@example.com",
    "items": [{"sku": "SKU-1", "quantity": 2, "unitPrice": "9.50"}],
    "paymentToken": "tok_ok",
}
STARTED = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)


class QuotePrice(BaseModel):
    sku: str


# A synchronous command: an EXPRESS saga, started with StartSyncExecution.
QUOTE = Saga(
    name="QuotePrice",
    command=QuotePrice,
    steps=(Step("Quote", action="Quote", compensation="Unquote"),),
    workflow_type="EXPRESS",
    timeout=30,
)


class Captured:
    """Matches any value in Stubber's expected params, and keeps it."""

    def __init__(self) -> None:
        self.values: list[Any] = []

    def __ne__(self, other: object) -> bool:
        self.values.append(other)
        return False

    def __eq__(self, other: object) -> bool:
        return not self.__ne__(other)

    __hash__ = None  # type: ignore[assignment]

    @property
    def json(self) -> Any:
        return json.loads(self.values[-1])


class Trigger:
    def __init__(self, admin_group: str | None = "admins") -> None:
        self.client = boto3.client(
            "stepfunctions",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        self.stub = Stubber(self.client)
        starter = Starter(
            self.client, (*SAGAS, QUOTE), {"PlaceOrder": MACHINE, "QuotePrice": QUOTE_MACHINE}
        )
        logger = Logger(service="orders-test")
        app = build_trigger(starter, admin_group=admin_group, logger=logger)
        self.handler = trigger_handler(app, logger)

    def __call__(self, event: dict[str, Any]) -> tuple[int, dict[str, Any], Any]:
        answer = self.handler(event, LambdaContext())
        headers = {k: v[-1] for k, v in answer.get("multiValueHeaders", {}).items()}
        headers.update(answer.get("headers") or {})
        return int(answer["statusCode"]), headers, json.loads(answer["body"])


@pytest.fixture
def trigger() -> Iterator[Trigger]:
    made = Trigger()
    with made.stub:
        yield made
        made.stub.assert_no_pending_responses()


def post(body: Any = ORDER, *, headers: dict[str, str] | None = None, **claimed: Any) -> Any:
    return rest_event(
        "POST",
        "/commands/PlaceOrder",
        body=body,
        headers=headers,
        authorizer_claims=claims(**claimed),
    )


def stored_input(tenant: str, key: str, command: dict[str, Any]) -> str:
    meta = {
        "tenant": tenant,
        "commandId": "an-earlier-submission",
        "commandType": "PlaceOrder",
        "requestedBy": "someone-else",
        "idempotencyKey": key,
    }
    return json.dumps({"command": command, "meta": meta})


def description(name: str, tenant: str, key: str, **extra: Any) -> dict[str, Any]:
    return {
        "executionArn": f"{EXECUTIONS}:{name}",
        "stateMachineArn": MACHINE,
        "name": name,
        "status": "RUNNING",
        "startDate": STARTED,
        "input": stored_input(
            tenant, key, PlaceOrder.model_validate(ORDER).model_dump(mode="json", by_alias=True)
        ),
        **extra,
    }


def assert_error_shape(body: Any, code: str) -> None:
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


# -- POST /commands/{name} ----------------------------------------------------------------


def test_a_new_command_starts_under_its_derived_name_and_answers_202(trigger: Trigger) -> None:
    sent = Captured()
    name = execution_name_for("acme", "key-1")
    trigger.stub.add_response(
        "start_execution",
        {"executionArn": f"{EXECUTIONS}:{name}", "startDate": STARTED},
        {"stateMachineArn": MACHINE, "name": name, "input": sent},
    )
    status, headers, body = trigger(post(headers={"Idempotency-Key": "key-1"}))
    assert status == 202
    assert body == {
        "executionArn": f"{EXECUTIONS}:{name}",
        "executionId": name,
        "statusUrl": f"/prod/executions/{name}",
    }
    assert headers["Location"] == f"/prod/executions/{name}"
    # The tenant and the requester come from the claims, never from the body.
    meta = sent.json["meta"]
    assert meta["tenant"] == "acme" and meta["requestedBy"] == "user-1"
    assert meta["idempotencyKey"] == "key-1" and meta["commandType"] == "PlaceOrder"
    assert sent.json["command"]["orderId"] == "o-1"


def test_without_a_key_every_request_is_a_new_command(trigger: Trigger) -> None:
    first, second = Captured(), Captured()
    for sent in (first, second):
        trigger.stub.add_response(
            "start_execution",
            {"executionArn": f"{EXECUTIONS}:x", "startDate": STARTED},
            {"stateMachineArn": MACHINE, "name": ANY, "input": sent},
        )
    assert trigger(post())[0] == 202
    assert trigger(post())[0] == 202
    keys = {first.json["meta"]["idempotencyKey"], second.json["meta"]["idempotencyKey"]}
    assert len(keys) == 2
    assert first.json["meta"]["idempotencyKey"] == first.json["meta"]["commandId"]


def test_the_same_key_and_body_again_is_the_same_execution_200(trigger: Trigger) -> None:
    name = execution_name_for("acme", "key-1")
    trigger.stub.add_client_error(
        "start_execution", "ExecutionAlreadyExists", "Execution Already Exists", 400
    )
    trigger.stub.add_response(
        "describe_execution",
        description(name, "acme", "key-1"),
        {"executionArn": f"{EXECUTIONS}:{name}"},
    )
    status, _, body = trigger(post(headers={"Idempotency-Key": "key-1"}))
    assert status == 200
    assert body["executionArn"] == f"{EXECUTIONS}:{name}" and body["executionId"] == name


def test_the_same_key_with_another_body_is_409(trigger: Trigger) -> None:
    name = execution_name_for("acme", "key-1")
    trigger.stub.add_client_error(
        "start_execution", "ExecutionAlreadyExists", "Execution Already Exists", 400
    )
    trigger.stub.add_response(
        "describe_execution", description(name, "acme", "key-1"), {"executionArn": ANY}
    )
    other = {**ORDER, "orderId": "o-2"}
    status, _, body = trigger(post(other, headers={"Idempotency-Key": "key-1"}))
    assert status == 409
    assert_error_shape(body, "Conflict")
    assert "key-1" in body["error"]["message"]


def test_a_body_that_fails_the_command_model_is_400_with_each_field_by_path(
    trigger: Trigger,
) -> None:
    bad = {**ORDER, "items": [{"sku": "SKU-1", "quantity": "many", "unitPrice": "9.50"}]}
    del bad["customerEmail"]
    status, _, body = trigger(post(bad))
    assert status == 400
    assert_error_shape(body, "BadRequest")
    paths = {detail["path"] for detail in body["error"]["details"]}
    assert paths == {"body.items.0.quantity", "body.customerEmail"}
    assert all(detail["message"] for detail in body["error"]["details"])


def test_a_body_that_is_not_json_is_400(trigger: Trigger) -> None:
    event = rest_event(
        "POST", "/commands/PlaceOrder", raw_body="{not json", authorizer_claims=claims()
    )
    status, _, body = trigger(event)
    assert status == 400
    assert_error_shape(body, "BadRequest")
    assert body["error"]["details"][0]["path"].startswith("body")


def test_a_body_that_is_not_utf8_is_400_not_500(trigger: Trigger) -> None:
    # API Gateway hands a binary body to the Lambda base64-encoded.
    event = rest_event("POST", "/commands/PlaceOrder", raw_body="gJiA", authorizer_claims=claims())
    event["isBase64Encoded"] = True
    status, _, body = trigger(event)
    assert status == 400
    assert body["error"]["details"] == [{"path": "body", "message": "the body is not UTF-8 text"}]


def test_an_empty_idempotency_key_is_400_naming_the_header(trigger: Trigger) -> None:
    status, _, body = trigger(post(headers={"Idempotency-Key": ""}))
    assert status == 400
    assert body["error"]["details"][0]["path"] == "header.idempotency-key"


def test_an_input_over_256_kib_is_413_and_nothing_starts(trigger: Trigger) -> None:
    # Each item's sku is short; many items make the input large.
    items = [{"sku": f"SKU-{i}", "quantity": 1, "unitPrice": "1.00"} for i in range(6000)]
    big = {**ORDER, "items": items}
    assert len(json.dumps(big)) > MAX_PAYLOAD_BYTES
    status, _, body = trigger(post(big))
    assert status == 413
    assert_error_shape(body, "PayloadTooLarge")


def test_an_input_just_under_the_limit_starts(trigger: Trigger) -> None:
    # The limit is on the execution input as StartExecution measures it (UTF-8 bytes of the
    # JSON sent), not on the body.
    sent = Captured()
    trigger.stub.add_response(
        "start_execution",
        {"executionArn": f"{EXECUTIONS}:x", "startDate": STARTED},
        {"stateMachineArn": MACHINE, "name": ANY, "input": sent},
    )
    items = [{"sku": f"SKU-{i:05}", "quantity": 1, "unitPrice": "1.00"} for i in range(5000)]
    status, _, _ = trigger(post({**ORDER, "items": items}))
    assert status == 202
    assert MAX_PAYLOAD_BYTES - 16384 < len(sent.values[-1].encode()) <= MAX_PAYLOAD_BYTES


def test_throttling_is_429_with_retry_after(trigger: Trigger) -> None:
    trigger.stub.add_client_error("start_execution", "ThrottlingException", "Rate exceeded", 400)
    status, headers, body = trigger(post())
    assert status == 429
    assert headers["Retry-After"] == "1"
    assert_error_shape(body, "Throttled")


def test_a_step_functions_outage_is_503_with_retry_after(trigger: Trigger) -> None:
    trigger.stub.add_client_error("start_execution", "ServiceUnavailable", "down", 503)
    status, headers, body = trigger(post())
    assert status == 503
    assert headers["Retry-After"] == "5"
    assert_error_shape(body, "Unavailable")


def test_an_unreachable_step_functions_is_503() -> None:
    made = Trigger()

    def refuse(**_: Any) -> None:
        raise EndpointConnectionError(endpoint_url="https://states.us-east-1.amazonaws.com")

    made.client.meta.events.register_first("before-send.states.StartExecution", refuse)
    status, headers, body = made(post())
    assert status == 503 and headers["Retry-After"] == "5"
    assert_error_shape(body, "Unavailable")


def test_an_unexpected_step_functions_error_is_500_without_its_details(trigger: Trigger) -> None:
    trigger.stub.add_client_error("start_execution", "StateMachineDoesNotExist", "gone", 400)
    status, _, body = trigger(post())
    assert status == 500
    assert_error_shape(body, "InternalError")
    assert "StateMachineDoesNotExist" not in json.dumps(body)


# -- who may call -------------------------------------------------------------------------


def test_no_authorizer_claims_at_all_is_401(trigger: Trigger) -> None:
    event = rest_event("POST", "/commands/PlaceOrder", body=ORDER)
    status, _, body = trigger(event)
    assert status == 401
    assert_error_shape(body, "Unauthorized")


@pytest.mark.parametrize(
    "claimed",
    [{"tenant": None}, {"tenant": "Not#A Tenant"}, {"tenant": ""}, {"sub": None}],
    ids=["no-tenant", "invalid-tenant", "empty-tenant", "no-subject"],
)
def test_claims_without_a_valid_tenant_or_subject_are_403(
    trigger: Trigger, claimed: dict[str, Any]
) -> None:
    status, _, body = trigger(post(**claimed))
    assert status == 403
    assert_error_shape(body, "Forbidden")


def test_a_tenant_in_the_body_is_refused_not_used(trigger: Trigger) -> None:
    # Commands forbid unknown fields: a body cannot even propose a tenant.
    status, _, body = trigger(post({**ORDER, "tenant": "globex"}))
    assert status == 400
    assert [d["path"] for d in body["error"]["details"]] == ["body.tenant"]


def test_the_tenant_header_from_outside_the_admin_group_is_403(trigger: Trigger) -> None:
    status, _, body = trigger(post(headers={"X-Stepsaga-Tenant": "globex"}, groups="staff"))
    assert status == 403
    assert_error_shape(body, "Forbidden")


def test_the_tenant_header_is_refused_when_no_admin_group_is_configured() -> None:
    made = Trigger(admin_group=None)
    status, _, _ = made(post(headers={"X-Stepsaga-Tenant": "globex"}, groups="admins"))
    assert status == 403


@pytest.mark.parametrize("groups", ["admins", "[staff, admins]", '["staff", "admins"]'])
def test_an_admin_may_act_for_another_tenant(trigger: Trigger, groups: str) -> None:
    sent = Captured()
    trigger.stub.add_response(
        "start_execution",
        {"executionArn": f"{EXECUTIONS}:x", "startDate": STARTED},
        {"stateMachineArn": MACHINE, "name": execution_name_for("globex", "k"), "input": sent},
    )
    headers = {"X-Stepsaga-Tenant": "globex", "Idempotency-Key": "k"}
    assert trigger(post(headers=headers, groups=groups))[0] == 202
    assert sent.json["meta"]["tenant"] == "globex"


def test_an_admins_invalid_tenant_header_is_400_naming_it(trigger: Trigger) -> None:
    status, _, body = trigger(post(headers={"X-Stepsaga-Tenant": "Bad#Tenant"}, groups="admins"))
    assert status == 400
    assert body["error"]["details"][0]["path"] == "header.x-stepsaga-tenant"


# -- GET /executions/{id} -----------------------------------------------------------------


def get(execution_id: str, **claimed: Any) -> Any:
    return rest_event("GET", f"/executions/{execution_id}", authorizer_claims=claims(**claimed))


def test_the_starting_tenant_reads_its_execution(trigger: Trigger) -> None:
    name = execution_name_for("acme", "key-1")
    stopped = datetime(2026, 12, 2, 1, 1, tzinfo=UTC)
    trigger.stub.add_response(
        "describe_execution",
        description(
            name, "acme", "key-1", status="SUCCEEDED", stopDate=stopped, output='{"ok": true}'
        ),
        {"executionArn": f"{EXECUTIONS}:{name}"},
    )
    status, _, body = trigger(get(name))
    assert status == 200
    assert body == {
        "executionId": name,
        "executionArn": f"{EXECUTIONS}:{name}",
        "commandType": "PlaceOrder",
        "status": "SUCCEEDED",
        "startDate": STARTED.isoformat(),
        "stopDate": stopped.isoformat(),
        "output": {"ok": True},
        "error": None,
        "cause": None,
    }


def test_a_failed_execution_shows_its_error_and_cause(trigger: Trigger) -> None:
    name = execution_name_for("acme", "key-1")
    trigger.stub.add_response(
        "describe_execution",
        description(name, "acme", "key-1", status="FAILED", error="PaymentDeclined", cause="no"),
        {"executionArn": ANY},
    )
    status, _, body = trigger(get(name))
    assert status == 200
    assert (body["status"], body["error"], body["cause"]) == ("FAILED", "PaymentDeclined", "no")


def test_another_tenants_execution_id_is_404_without_asking_step_functions(
    trigger: Trigger,
) -> None:
    # The name derivation starts with the tenant: globex's names cannot be acme's.
    status, _, body = trigger(get(execution_name_for("acme", "key-1"), tenant="globex"))
    assert status == 404
    assert_error_shape(body, "NotFound")


def test_an_execution_whose_input_names_another_tenant_is_404(trigger: Trigger) -> None:
    name = execution_name_for("acme", "key-1")
    trigger.stub.add_response(
        "describe_execution", description(name, "globex", "key-1"), {"executionArn": ANY}
    )
    status, _, _ = trigger(get(name))
    assert status == 404


def test_an_unknown_execution_is_404(trigger: Trigger) -> None:
    trigger.stub.add_client_error("describe_execution", "ExecutionDoesNotExist", "none", 400)
    status, _, body = trigger(get("acme-0123456789abcdef"))
    assert status == 404
    assert_error_shape(body, "NotFound")


def test_an_execution_id_outside_the_name_alphabet_is_400(trigger: Trigger) -> None:
    status, _, body = trigger(get("acme-a:b"))
    assert status == 400
    assert body["error"]["details"][0]["path"] == "path.execution_id"


def test_reading_without_claims_is_401(trigger: Trigger) -> None:
    status, _, _ = trigger(rest_event("GET", "/executions/acme-0123456789abcdef"))
    assert status == 401


def test_a_throttled_read_is_429(trigger: Trigger) -> None:
    trigger.stub.add_client_error("describe_execution", "ThrottlingException", "slow", 400)
    status, headers, _ = trigger(get("acme-0123456789abcdef"))
    assert status == 429 and headers["Retry-After"] == "1"


# -- synchronous commands -----------------------------------------------------------------


def sync_answer(status: str, **extra: Any) -> dict[str, Any]:
    return {
        "executionArn": "arn:aws:states:us-east-1:123456789012:express:orders-QuotePrice:n:id",
        "stateMachineArn": QUOTE_MACHINE,
        "name": "n",
        "startDate": STARTED,
        "stopDate": STARTED,
        "status": status,
        "input": json.dumps({"command": {"sku": "s"}, "meta": {"tenant": "acme"}}),
        **extra,
    }


def quote() -> Any:
    return rest_event("POST", "/commands/QuotePrice", body={"sku": "s"}, authorizer_claims=claims())


def test_a_synchronous_command_that_succeeds_answers_200_with_its_output(
    trigger: Trigger,
) -> None:
    trigger.stub.add_response(
        "start_sync_execution",
        sync_answer("SUCCEEDED", output='{"price": "9.50"}'),
        {"stateMachineArn": QUOTE_MACHINE, "name": ANY, "input": ANY},
    )
    status, _, body = trigger(quote())
    assert status == 200
    assert body["status"] == "SUCCEEDED" and body["output"] == {"price": "9.50"}


def test_a_synchronous_business_failure_is_422_with_its_name(trigger: Trigger) -> None:
    cause = json.dumps(
        {
            "errorMessage": json.dumps({"message": "no such sku", "details": {}}),
            "errorType": "UnknownSku",
        }
    )
    trigger.stub.add_response(
        "start_sync_execution", sync_answer("FAILED", error="UnknownSku", cause=cause)
    )
    status, _, body = trigger(quote())
    assert status == 422
    assert_error_shape(body, "UnknownSku")
    assert body["error"]["message"] == "no such sku"


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        ("Saga.CompensationFailed", None),
        ("Saga.CommitFailed", '{"Error": "States.Timeout", "Cause": null}'),
        ("States.Runtime", "An error occurred while executing the state"),
        # A crash: the Lambda error's message is plain text, not a failure's JSON.
        ("KeyError", json.dumps({"errorMessage": "'sku'", "errorType": "KeyError"})),
    ],
)
def test_a_synchronous_command_failing_for_no_business_reason_is_500(
    trigger: Trigger, error: str, cause: str | None
) -> None:
    extra = {"error": error} if cause is None else {"error": error, "cause": cause}
    trigger.stub.add_response("start_sync_execution", sync_answer("FAILED", **extra))
    status, _, body = trigger(quote())
    assert status == 500
    assert_error_shape(body, "ExecutionFailed")


def test_a_synchronous_command_that_times_out_is_504(trigger: Trigger) -> None:
    trigger.stub.add_response(
        "start_sync_execution", sync_answer("TIMED_OUT", error="States.Timeout")
    )
    status, _, body = trigger(quote())
    assert status == 504
    assert_error_shape(body, "ExecutionTimedOut")


# -- routes -------------------------------------------------------------------------------


def test_an_unknown_command_is_404(trigger: Trigger) -> None:
    event = rest_event("POST", "/commands/Nope", body={}, authorizer_claims=claims())
    status, _, body = trigger(event)
    assert status == 404
    assert_error_shape(body, "NotFound")


def test_a_wrong_method_is_405_with_allow(trigger: Trigger) -> None:
    event = rest_event("DELETE", "/commands/PlaceOrder", authorizer_claims=claims())
    status, headers, body = trigger(event)
    assert status == 405
    assert headers["Allow"] == "POST"
    assert_error_shape(body, "MethodNotAllowed")


def test_the_openapi_schema_names_each_command_and_every_status(trigger: Trigger) -> None:
    status, _, schema = trigger(rest_event("GET", "/openapi.json"))
    assert status == 200
    post_order = schema["paths"]["/commands/PlaceOrder"]["post"]
    assert set(post_order["responses"]) == {
        "200",
        "202",
        "400",
        "401",
        "403",
        "409",
        "413",
        "429",
        "500",
        "503",
    }
    body = post_order["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"].endswith("/PlaceOrder")
    assert "422" in schema["paths"]["/commands/QuotePrice"]["post"]["responses"]
    assert schema["components"]["securitySchemes"]["cognito"]["scheme"] == "bearer"
    # Powertools' own 422 validation answer is not ours: bad requests are 400.
    assert "HTTPValidationError" not in json.dumps(schema)
