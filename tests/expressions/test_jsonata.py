"""JSONata syntax checking of ``{% %}`` expressions."""

from __future__ import annotations

import pytest

from workflows.expressions import ExpressionSyntaxError, check_jsonata, strip_jsonata


@pytest.mark.parametrize(
    "text",
    [
        "{% $states.input.a + 1 %}",
        "{% $map($states.input.items, function($v) { $v * 2 }) %}",
        "{% {'foo': 'bar'} %}",
        "  {%$x%}  ",
        "$states.input",
    ],
)
def test_valid_expressions_pass(text: str) -> None:
    check_jsonata(text)


@pytest.mark.parametrize("text", ["{% ( %}", "{% %}", "{% $f( %}", "{% 'unterminated %}", ""])
def test_malformed_expressions_are_refused_with_the_text(text: str) -> None:
    with pytest.raises(ExpressionSyntaxError) as caught:
        check_jsonata(text)
    assert caught.value.expression == text


def test_strip_recognises_only_wrapped_text() -> None:
    assert strip_jsonata("{% 1 %}") == " 1 "
    assert strip_jsonata("plain") is None
    assert strip_jsonata("{% unclosed") is None
