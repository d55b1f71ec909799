"""The interface of workflows._expressions (validator ↔ engine) is pinned: a change is reviewed."""

from __future__ import annotations

import stepsaga.workflows._expressions as expressions

EXPECTED = {
    "CompiledChoiceRule",
    "EvaluationError",
    "ExpressionSyntaxError",
    "IntrinsicCall",
    "JsonataTemplate",
    "LiteralArgument",
    "MissingQueryLibraryError",
    "Path",
    "PathArgument",
    "PathNotFoundError",
    "ReferencePath",
    "EvaluationScope",
    "Template",
    "check_jsonata",
    "compile_choice_rule",
    "compile_jsonata_template",
    "compile_path",
    "compile_reference_path",
    "compile_template",
    "is_intrinsic",
    "parse_intrinsic",
    "parse_timestamp",
    "pointer_of",
    "strip_jsonata",
}


def test_all_lists_exactly_the_public_names() -> None:
    assert isinstance(expressions.__all__, tuple)
    assert set(expressions.__all__) == EXPECTED
    assert len(expressions.__all__) == len(EXPECTED)


def test_every_public_name_resolves_and_none_is_private() -> None:
    for name in expressions.__all__:
        value = getattr(expressions, name)
        module = getattr(value, "__module__", "stepsaga.workflows._expressions")
        assert module.startswith("stepsaga.workflows._expressions")
        assert not name.startswith("_")
