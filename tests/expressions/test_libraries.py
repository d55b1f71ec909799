"""The query libraries load on the first expression that needs them, and only then.

jsonata-python comes with the `stepsaga[local]` extra, not with the lean runtime a task Lambda
installs: the ASL model and a compiled (JSONPath-only) saga must work without it, and a
definition that does need it must say what to install. JSONPath, filters included, needs no
library at all: stepsaga evaluates it as Jayway does. Each case runs in a fresh
interpreter where the library cannot be imported (`sys.modules[name] = None`).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from stepsaga.workflows._expressions import _jsonata, _libraries, compile_jsonata_template


def _without(modules: tuple[str, ...], code: str, *args: str) -> subprocess.CompletedProcess[str]:
    hidden = "".join(f"sys.modules[{name!r}] = None\n" for name in modules)
    script = "import sys\n" + hidden + textwrap.dedent(code)
    return subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, check=False
    )


def test_the_asl_model_and_a_compiled_saga_need_no_query_library() -> None:
    ran = _without(
        ("jsonata", "jsonpath_ng"),
        """
        from stepsaga.examples.orders.sagas import PLACE_ORDER
        from stepsaga.workflows.asl import parse_definition
        from stepsaga.workflows.saga import compile_saga

        definition = compile_saga(PLACE_ORDER)
        parse_definition(definition.to_dict())
        print("ok")
        """,
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "ok"


JSONATA_DEFINITION = """{
    "QueryLanguage": "JSONata",
    "StartAt": "P",
    "States": {"P": {"Type": "Pass", "Output": "{% $states.input.n + 1 %}", "End": true}}
}"""
FILTER_DEFINITION = """{
    "StartAt": "P",
    "States": {"P": {"Type": "Pass", "InputPath": "$.items[?(@.n > 1)]", "End": true}}
}"""


def test_jsonpath_filters_need_no_query_library() -> None:
    ran = _without(
        ("jsonata", "jsonpath_ng"),
        """
        from stepsaga.workflows.asl import parse_definition

        parse_definition(sys.argv[1])
        print("ok")
        """,
        FILTER_DEFINITION,
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "ok"


@pytest.mark.parametrize(
    ("module", "definition", "library"),
    [("jsonata", JSONATA_DEFINITION, "jsonata-python")],
)
def test_a_definition_that_needs_a_missing_library_says_what_to_install(
    module: str, definition: str, library: str
) -> None:
    ran = _without(
        (module,),
        """
        from stepsaga.workflows.asl import parse_definition

        try:
            parse_definition(sys.argv[1])
        except ImportError as exc:
            print(type(exc).__name__, exc)
        """,
        definition,
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith("MissingQueryLibraryError ")
    assert library in ran.stdout
    assert "pip install 'stepsaga[local]'" in ran.stdout


def test_evaluating_a_compiled_expression_looks_no_library_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    template = compile_jsonata_template(
        {"next": "{% $states.input.n + 1 %}", "r": "{% $range(1, 2, 1) %}"}
    )

    def no_lookup(*_args: object) -> object:
        raise AssertionError("a library was looked up while evaluating")

    monkeypatch.setattr(_libraries, "load", no_lookup)
    monkeypatch.setattr(_jsonata, "_runtime", no_lookup)
    assert template.evaluate({"input": {"n": 1}}) == {"next": 2, "r": [1, 2]}
