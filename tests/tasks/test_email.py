"""Email templates render what the customer should read, and nothing an attacker wrote."""

from __future__ import annotations

import pytest

from stepsaga.tasks import EmailTemplate, TemplateError

TEMPLATE = EmailTemplate(
    subject="Order $order confirmed",
    text="Hi $name,\nyour order $order is confirmed.",
    html="<p>Hi $name, your order <b>${order}</b> is confirmed.</p>",
)


def test_placeholders_are_filled_in_every_part() -> None:
    message = TEMPLATE.render("ann@example.com", {"name": "Ann", "order": "o-1"}, tags={"k": "v"})

    assert message.to == ("ann@example.com",)
    assert message.subject == "Order o-1 confirmed"
    assert message.text == "Hi Ann,\nyour order o-1 is confirmed."
    assert message.html == "<p>Hi Ann, your order <b>o-1</b> is confirmed.</p>"
    assert message.tags == {"k": "v"}


def test_values_are_escaped_in_html_only() -> None:
    message = TEMPLATE.render("a@example.com", {"name": "<img src=x>", "order": "o&1"})

    assert message.html is not None
    assert "<img" not in message.html
    assert "&lt;img src=x&gt;" in message.html
    assert "<img src=x>" in message.text


def test_a_value_cannot_add_lines_to_the_subject() -> None:
    message = TEMPLATE.render(
        "a@example.com", {"name": "x", "order": "o-1\r\nBcc: evil@example.com"}
    )

    assert "\n" not in message.subject and "\r" not in message.subject


def test_a_missing_value_names_the_part_and_the_placeholder() -> None:
    with pytest.raises(TemplateError) as raised:
        TEMPLATE.render("a@example.com", {"order": "o-1"})

    assert (raised.value.part, raised.value.placeholder) == ("text", "name")


def test_several_recipients_and_no_html() -> None:
    plain = EmailTemplate(subject="s", text="t")

    message = plain.render(["a@example.com", "b@example.com"], {})

    assert message.to == ("a@example.com", "b@example.com")
    assert message.html is None
