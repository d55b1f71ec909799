"""The SES v2 notifier on moto: mails are sent once per idempotency key, and say what we meant."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError
from botocore.stub import Stubber

from stepsaga.domain import RetryableError, TenantId
from stepsaga.infra.aws import SesNotifier
from stepsaga.tasks import EmailMessage, EmailTemplate, IdempotencyConflictError, Notifier
from stepsaga.testing.contracts import NotifierContract
from tests.aws.conftest import REGION, SENDER, TABLE, sent_messages

ACME = TenantId("acme")
TEMPLATE = EmailTemplate(
    subject="Order $order confirmed",
    text="Hello $name, order $order is confirmed.",
    html="<p>Hello $name, order <b>$order</b> is confirmed.</p>",
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def notifier(sesv2: Any, dynamodb: Any, clock: Clock) -> SesNotifier:
    return SesNotifier(sesv2, dynamodb, TABLE, from_address=SENDER, clock=clock)


class FlakySes:
    """An SES client whose next `send_email` calls fail with `error` (set `failures`)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.failures = 0
        self.error: Exception = EndpointConnectionError(
            endpoint_url="https://email.us-east-1.amazonaws.com"
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def send_email(self, **request: Any) -> Any:
        if self.failures:
            self.failures -= 1
            raise self.error
        return self.client.send_email(**request)


class TestSesNotifier(NotifierContract):
    """Every notifier promise, on moto's SES v2 and DynamoDB."""

    @pytest.fixture(autouse=True)
    def _moto(self, sesv2: Any, dynamodb: Any) -> None:
        self.clients = (sesv2, dynamodb)

    def make_notifier(self) -> Notifier:
        sesv2, dynamodb = self.clients
        return SesNotifier(FlakySes(sesv2), dynamodb, TABLE, from_address=SENDER)

    def delivered(self, notifier: Notifier) -> int:
        return len(sent_messages())

    def fail_next_send(self, notifier: Notifier) -> None:
        assert isinstance(notifier, SesNotifier)
        ses = notifier._ses
        assert isinstance(ses, FlakySes)
        ses.failures = 1


def mail(name: str = "Ann <&>") -> EmailMessage:
    return TEMPLATE.render(
        "ann@example.com", {"name": name, "order": "o-1"}, tags={"mail": "confirmation"}
    )


def test_a_mail_is_sent_with_its_subject_and_body(notifier: SesNotifier) -> None:
    sent = notifier.send(ACME, mail(), idempotency_key="exec-1/Notify/mail-0")

    (message,) = sent_messages()
    assert message.id == sent.message_id
    assert message.source == SENDER
    assert message.destinations == {"ToAddresses": ["ann@example.com"]}
    assert message.subject == "Order o-1 confirmed"
    assert message.body == "<p>Hello Ann &lt;&amp;&gt;, order <b>o-1</b> is confirmed.</p>"
    assert sent.replayed is False


def test_a_second_send_with_the_same_key_sends_nothing(notifier: SesNotifier) -> None:
    first = notifier.send(ACME, mail(), idempotency_key="exec-1/Notify/mail-0")

    again = notifier.send(ACME, mail(), idempotency_key="exec-1/Notify/mail-0")

    assert len(sent_messages()) == 1
    assert again.message_id == first.message_id
    assert again.replayed is True


def test_the_claim_records_completion_and_message_id(notifier: SesNotifier, clock: Clock) -> None:
    sent = notifier.send(ACME, mail(), idempotency_key="k")

    claim = notifier.claim(ACME, "k")

    assert claim is not None
    assert claim["status"] == "COMPLETED"
    assert claim["message_id"] == sent.message_id
    assert claim["expires_at"] == int(clock.now) + 7 * 24 * 3600
    assert claim["pk"].startswith("acme#Notification#")


def test_keys_are_per_tenant(notifier: SesNotifier) -> None:
    notifier.send(ACME, mail(), idempotency_key="k")
    notifier.send(TenantId("globex"), mail(), idempotency_key="k")

    assert len(sent_messages()) == 2


def test_a_claim_held_by_a_live_attempt_is_retryable(
    notifier: SesNotifier, dynamodb: Any, clock: Clock
) -> None:
    # GIVEN another attempt claimed the key and is still within its in-progress window
    key = notifier.claim_key(ACME, "k")
    dynamodb.put_item(
        TableName=TABLE,
        Item={
            **key,
            "status": {"S": "INPROGRESS"},
            "fingerprint": {"S": "x"},
            "expires_at": {"N": str(int(clock.now) + 3600)},
            "in_progress_expires_at": {"N": str(int(clock.now) + 60)},
        },
    )

    with pytest.raises(RetryableError):
        notifier.send(ACME, mail(), idempotency_key="k")
    assert sent_messages() == []

    # WHEN that attempt died and its in-progress window passed
    clock.now += 61
    notifier.send(ACME, mail(), idempotency_key="k")

    # THEN the retry takes over the claim and sends
    assert len(sent_messages()) == 1


def test_an_expired_claim_lets_the_key_send_again(notifier: SesNotifier, clock: Clock) -> None:
    notifier.send(ACME, mail(), idempotency_key="k")
    clock.now += 8 * 24 * 3600

    assert notifier.send(ACME, mail(), idempotency_key="k").replayed is False
    assert len(sent_messages()) == 2


def test_reusing_a_key_for_another_message_is_refused(notifier: SesNotifier) -> None:
    notifier.send(ACME, mail("Ann"), idempotency_key="k")

    with pytest.raises(IdempotencyConflictError) as raised:
        notifier.send(ACME, mail("Bob"), idempotency_key="k")

    assert raised.value.idempotency_key == "k"
    assert len(sent_messages()) == 1


def test_a_rejected_send_releases_the_claim(dynamodb: Any, sesv2: Any, clock: Clock) -> None:
    # GIVEN a sender SES does not know: SES rejects the mail
    unverified = SesNotifier(
        sesv2, dynamodb, TABLE, from_address="nobody@nowhere.test", clock=clock
    )
    with pytest.raises(Exception, match="MessageRejected"):
        unverified.send(ACME, mail(), idempotency_key="k")

    # THEN no claim is left behind, so a fixed retry sends
    assert unverified.claim(ACME, "k") is None
    sesv2.create_email_identity(EmailIdentity="nobody@nowhere.test")
    unverified.send(ACME, mail(), idempotency_key="k")
    assert len(sent_messages()) == 1


@pytest.fixture
def stubbed() -> Iterator[tuple[Any, Stubber, Any, Stubber]]:
    creds = {"aws_access_key_id": "x", "aws_secret_access_key": "x", "region_name": REGION}
    ses, dynamodb = boto3.client("sesv2", **creds), boto3.client("dynamodb", **creds)
    with Stubber(ses) as ses_stub, Stubber(dynamodb) as db_stub:
        yield ses, ses_stub, dynamodb, db_stub
        ses_stub.assert_no_pending_responses()
        db_stub.assert_no_pending_responses()


def test_the_send_request_carries_bodies_tags_and_configuration_set(
    stubbed: tuple[Any, Stubber, Any, Stubber], clock: Clock
) -> None:
    ses, ses_stub, dynamodb, db_stub = stubbed
    notifier = SesNotifier(
        ses, dynamodb, TABLE, from_address=SENDER, configuration_set="orders", clock=clock
    )
    message = mail("Ann")
    db_stub.add_response("put_item", {})
    ses_stub.add_response(
        "send_email",
        {"MessageId": "m-1"},
        {
            "FromEmailAddress": SENDER,
            "Destination": {"ToAddresses": ["ann@example.com"]},
            "Content": {
                "Simple": {
                    "Subject": {"Data": "Order o-1 confirmed", "Charset": "UTF-8"},
                    "Body": {
                        "Text": {"Data": message.text, "Charset": "UTF-8"},
                        "Html": {"Data": message.html, "Charset": "UTF-8"},
                    },
                }
            },
            "EmailTags": [{"Name": "mail", "Value": "confirmation"}],
            "ConfigurationSetName": "orders",
        },
    )
    db_stub.add_response("update_item", {})

    assert notifier.send(ACME, message, idempotency_key="k").message_id == "m-1"


def test_throttling_is_retryable_and_releases_the_claim(
    stubbed: tuple[Any, Stubber, Any, Stubber], clock: Clock
) -> None:
    ses, ses_stub, dynamodb, db_stub = stubbed
    notifier = SesNotifier(ses, dynamodb, TABLE, from_address=SENDER, clock=clock)
    db_stub.add_response("put_item", {})
    ses_stub.add_client_error("send_email", service_error_code="TooManyRequestsException")
    db_stub.add_response(
        "delete_item",
        {},
        {
            "TableName": TABLE,
            "Key": notifier.claim_key(ACME, "k"),
            # only our own claim: not one another attempt took over meanwhile
            "ConditionExpression": "#status = :in_progress AND fingerprint = :fingerprint",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {
                ":in_progress": {"S": "INPROGRESS"},
                ":fingerprint": {
                    "S": hashlib.sha256(mail().model_dump_json().encode()).hexdigest()
                },
            },
        },
    )

    with pytest.raises(RetryableError):
        notifier.send(ACME, mail(), idempotency_key="k")


def test_an_unreachable_ses_releases_the_claim_and_is_retryable_at_once(
    sesv2: Any, dynamodb: Any, clock: Clock
) -> None:
    # GIVEN SES cannot be reached: the request never left, nothing was sent
    flaky = FlakySes(sesv2)
    flaky.failures = 1
    notifier = SesNotifier(flaky, dynamodb, TABLE, from_address=SENDER, clock=clock)  # type: ignore[arg-type]

    # THEN the step's error is retryable, and no claim is left to block the retry
    with pytest.raises(RetryableError) as raised:
        notifier.send(ACME, mail(), idempotency_key="k")
    assert isinstance(raised.value.__cause__, EndpointConnectionError)
    assert notifier.claim(ACME, "k") is None

    # ... so the retry a second later, not two minutes later, sends it
    clock.now += 1
    assert notifier.send(ACME, mail(), idempotency_key="k").replayed is False
    assert len(sent_messages()) == 1


def test_a_lost_answer_keeps_the_claim_since_the_mail_may_have_gone(
    sesv2: Any, dynamodb: Any, clock: Clock
) -> None:
    # GIVEN SES took the request but its answer never came back
    flaky = FlakySes(sesv2)
    flaky.failures = 1
    flaky.error = ReadTimeoutError(endpoint_url="https://email.us-east-1.amazonaws.com")
    notifier = SesNotifier(flaky, dynamodb, TABLE, from_address=SENDER, clock=clock)  # type: ignore[arg-type]

    # THEN it is retryable, but the claim stays in progress: a retry waits out its window
    with pytest.raises(RetryableError):
        notifier.send(ACME, mail(), idempotency_key="k")
    claim = notifier.claim(ACME, "k")
    assert claim is not None and claim["status"] == "INPROGRESS"
    with pytest.raises(RetryableError, match="another attempt"):
        notifier.send(ACME, mail(), idempotency_key="k")


def test_a_step_whose_mail_cannot_reach_ses_fails_as_saga_retryable(
    sesv2: Any, dynamodb: Any
) -> None:
    from stepsaga.domain import Command
    from stepsaga.tasks import InMemoryEventStore, StepContext, TaskRuntime
    from tests.tasks.envelopes import envelope

    class Ping(Command):
        to: str

    def notify(command: Ping, ctx: StepContext) -> str:
        return ctx.send_email(mail()).message_id

    flaky = FlakySes(sesv2)
    flaky.failures = 1
    notifier = SesNotifier(flaky, dynamodb, TABLE, from_address=SENDER)  # type: ignore[arg-type]
    runtime = TaskRuntime(event_store=InMemoryEventStore(), notifier=notifier)
    handler = runtime.handler(notify, command=Ping)
    event = envelope({"to": "ann@example.com"}, state="Notify", command_type="Ping")

    with pytest.raises(Exception) as raised:
        handler(event, None)

    assert type(raised.value).__name__ == "Saga.Retryable"
    assert handler(event, None) == sent_messages()[0].id
