"""Email templates: subject, text and HTML bodies with `$name` placeholders."""

from __future__ import annotations

import html
import string
from collections.abc import Mapping, Sequence

from pydantic import BaseModel, ConfigDict

from stepsaga.tasks._ports import EmailMessage

__all__ = ("EmailTemplate", "TemplateError")


class TemplateError(ValueError):
    """A template refers to a value that was not given.

    Attributes:
        part: The template part (`subject`, `text` or `html`).
        placeholder: The missing placeholder's name.
    """

    def __init__(self, part: str, placeholder: str) -> None:
        self.part = part
        self.placeholder = placeholder
        super().__init__(f"email {part} template needs a value for ${placeholder}")


def _render(part: str, template: str, values: Mapping[str, str]) -> str:
    try:
        return string.Template(template).substitute(values)
    except KeyError as missing:
        raise TemplateError(part, str(missing.args[0])) from None


class EmailTemplate(BaseModel):
    """An email's subject and bodies, with `string.Template` placeholders (`$name`, `${name}`).

    Values are converted with `str()`; in the HTML body they are HTML-escaped, so customer
    input cannot inject markup.

    Attributes:
        subject: The subject template (one line).
        text: The plain-text body template.
        html: The HTML body template, if the mail has one.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject: str
    text: str
    html: str | None = None

    def render(
        self,
        to: str | Sequence[str],
        values: Mapping[str, object],
        *,
        tags: Mapping[str, str] | None = None,
    ) -> EmailMessage:
        """Fill the template in.

        Args:
            to: One recipient or several.
            values: Placeholder values.
            tags: SES message tags for the sent mail.

        Returns:
            The message to send.

        Raises:
            TemplateError: A placeholder has no value (names the part and the placeholder).
        """
        plain = {key: str(value) for key, value in values.items()}
        escaped = {key: html.escape(value) for key, value in plain.items()}
        return EmailMessage(
            to=(to,) if isinstance(to, str) else tuple(to),
            subject=" ".join(_render("subject", self.subject, plain).split()),
            text=_render("text", self.text, plain),
            html=None if self.html is None else _render("html", self.html, escaped),
            tags=dict(tags or {}),
        )
