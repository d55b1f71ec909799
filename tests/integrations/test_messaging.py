"""SQS, SNS and EventBridge: request-response, and `.waitForTaskToken` answered by a consumer."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from stepsaga.infra.local.stepfunctions import LocalStepFunctions
from tests.integrations.conftest import task


def _queue(client: Callable[[str], Any], name: str) -> tuple[str, str]:
    sqs = client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


def _received(client: Callable[[str], Any], url: str) -> list[Any]:
    messages = client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    return [json.loads(message["Body"]) for message in messages.get("Messages", [])]


def test_sqs_send_message_sends_json_as_its_text_and_answers_with_digests(
    sfn: LocalStepFunctions, client: Callable[[str], Any], unique: Callable[[str], str]
) -> None:
    # GIVEN a queue, and a machine sending it an object
    url, _ = _queue(client, unique("orders"))
    send = task(
        "arn:aws:states:::sqs:sendMessage",
        {"QueueUrl": url, "MessageBody": {"orderId.$": "$.id"}},
    )
    # WHEN it runs
    ex = sfn.run(send, {"id": "o-1"})
    # THEN the queue holds the object's JSON text, and the result has AWS's fields
    assert ex.status == "SUCCEEDED", ex.cause
    assert _received(client, url) == [{"orderId": "o-1"}]
    assert {"MessageId", "MD5OfMessageBody", "SdkHttpMetadata"} <= set(ex.output)


def test_sqs_wait_for_task_token_waits_for_the_consumer_s_answer(
    sfn: LocalStepFunctions, client: Callable[[str], Any], unique: Callable[[str], str]
) -> None:
    # GIVEN a machine that sends its task token to a queue and waits
    url, _ = _queue(client, unique("work"))
    send = task(
        "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        {"QueueUrl": url, "MessageBody": {"token.$": "$$.Task.Token", "job.$": "$.job"}},
    )
    ex = sfn.start(send, {"job": 7})
    # WHEN a consumer reads the message and answers with its token
    assert ex.status == "RUNNING"
    (message,) = _received(client, url)
    assert message["job"] == 7
    sfn.send_task_success(message["token"], {"done": message["job"]})
    # THEN the task's result is the consumer's answer
    ex = sfn.wait(ex)
    assert ex.status == "SUCCEEDED", ex.cause
    assert ex.output == {"done": 7}
    assert "TaskSubmitted" in ex.event_types


def test_sqs_to_a_missing_queue_fails_with_the_sdk_s_error_name(sfn: LocalStepFunctions) -> None:
    ex = sfn.run(
        task(
            "arn:aws:states:::sqs:sendMessage",
            {
                "QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/nope",
                "MessageBody": "x",
            },
        ),
        {},
    )
    assert ex.status == "FAILED"
    assert ex.error is not None and ex.error.startswith("SQS.")


def test_sns_publish_delivers_to_subscribers(
    sfn: LocalStepFunctions, client: Callable[[str], Any], unique: Callable[[str], str]
) -> None:
    # GIVEN a topic with a queue subscribed (raw delivery)
    sns = client("sns")
    topic = sns.create_topic(Name=unique("events"))["TopicArn"]
    url, arn = _queue(client, unique("subscriber"))
    sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"}
    )
    # WHEN a machine publishes an object
    ex = sfn.run(
        task("arn:aws:states:::sns:publish", {"TopicArn": topic, "Message": {"hello.$": "$.who"}}),
        {"who": "world"},
    )
    # THEN the subscriber gets its JSON text, and the result names the message
    assert ex.status == "SUCCEEDED", ex.cause
    assert _received(client, url) == [{"hello": "world"}]
    assert "MessageId" in ex.output


def test_sns_publish_wait_for_task_token_is_answered_through_a_subscriber(
    sfn: LocalStepFunctions, client: Callable[[str], Any], unique: Callable[[str], str]
) -> None:
    sns = client("sns")
    topic = sns.create_topic(Name=unique("approvals"))["TopicArn"]
    url, arn = _queue(client, unique("approver"))
    sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"}
    )
    ex = sfn.start(
        task(
            "arn:aws:states:::sns:publish.waitForTaskToken",
            {"TopicArn": topic, "Message": {"token.$": "$$.Task.Token"}},
        ),
        {},
    )
    (message,) = _received(client, url)
    sfn.send_task_failure(message["token"], error="Approval.Denied", cause="no")
    ex = sfn.wait(ex)
    assert (ex.status, ex.error, ex.cause) == ("FAILED", "Approval.Denied", "no")


def _bus_to_queue(client: Callable[[str], Any], unique: Callable[[str], str]) -> tuple[str, str]:
    events = client("events")
    bus = unique("bus")
    events.create_event_bus(Name=bus)
    url, arn = _queue(client, unique("bus-target"))
    rule = unique("rule")
    events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps({"source": ["orders"]}))
    events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    return bus, url


def test_events_put_events_sends_detail_objects_and_answers_with_entries(
    sfn: LocalStepFunctions, client: Callable[[str], Any], unique: Callable[[str], str]
) -> None:
    # GIVEN a bus whose rule forwards "orders" events to a queue
    bus, url = _bus_to_queue(client, unique)
    put = task(
        "arn:aws:states:::events:putEvents",
        {
            "Entries": [
                {
                    "EventBusName": bus,
                    "Source": "orders",
                    "DetailType": "OrderPlaced",
                    "Detail": {"orderId.$": "$.id"},
                }
            ]
        },
    )
    # WHEN a machine puts an event whose Detail is an object
    ex = sfn.run(put, {"id": "o-9"})
    # THEN the rule's target gets it, and the result is EventBridge's, without metadata
    assert ex.status == "SUCCEEDED", ex.cause
    assert ex.output["FailedEntryCount"] == 0
    assert len(ex.output["Entries"]) == 1 and "EventId" in ex.output["Entries"][0]
    assert "SdkHttpMetadata" not in ex.output
    (delivered,) = _received(client, url)
    assert delivered["detail"] == {"orderId": "o-9"}


def test_events_put_events_wait_for_task_token_is_answered_by_the_rule_s_target(
    sfn: LocalStepFunctions, client: Callable[[str], Any], unique: Callable[[str], str]
) -> None:
    bus, url = _bus_to_queue(client, unique)
    ex = sfn.start(
        task(
            "arn:aws:states:::events:putEvents.waitForTaskToken",
            {
                "Entries": [
                    {
                        "EventBusName": bus,
                        "Source": "orders",
                        "DetailType": "Approve",
                        "Detail": {"token.$": "$$.Task.Token"},
                    }
                ]
            },
        ),
        {},
    )
    (delivered,) = _received(client, url)
    sfn.send_task_success(delivered["detail"]["token"], {"approved": True})
    ex = sfn.wait(ex)
    assert ex.status == "SUCCEEDED", ex.cause
    assert ex.output == {"approved": True}
