"""The ASL expression languages: JSONPath, templates, intrinsics, Choice rules, JSONata.

Paths and reference paths, payload templates, intrinsic functions, Choice rules and JSONata.

Everything is compiled once, when a definition is loaded, into objects whose evaluation does no
parsing. Malformed expressions raise :class:`ExpressionSyntaxError` at compile time; runtime
failures raise :class:`EvaluationError` carrying AWS's error name and cause text (without the
"An error occurred while executing the state ..." prefix, which the engine adds).

This package is machinery shared by the validator (``stepsaga.workflows.asl``) and the engine
(``stepsaga.infra.local.stepfunctions``), not a public API. JSONata expressions are handed to
jsonata-python, imported on the first expression that needs it; when it is missing,
:class:`MissingQueryLibraryError` names the extra to install. JSONPath is evaluated here, as
Jayway JsonPath (what AWS uses) evaluates it.
"""

from stepsaga.workflows._expressions._choice import (
    CompiledChoiceRule,
    compile_choice_rule,
    parse_timestamp,
)
from stepsaga.workflows._expressions._errors import EvaluationError, ExpressionSyntaxError
from stepsaga.workflows._expressions._intrinsic_syntax import (
    IntrinsicCall,
    LiteralArgument,
    PathArgument,
    is_intrinsic,
    parse_intrinsic,
)
from stepsaga.workflows._expressions._json_text import pointer_of
from stepsaga.workflows._expressions._json_value import (
    JsonValueError,
    check_json_value,
    load_json_text,
)
from stepsaga.workflows._expressions._jsonata import (
    JsonataTemplate,
    check_jsonata,
    compile_jsonata_template,
    strip_jsonata,
)
from stepsaga.workflows._expressions._libraries import MissingQueryLibraryError
from stepsaga.workflows._expressions._paths import (
    Path,
    PathNotFoundError,
    ReferencePath,
    compile_path,
    compile_reference_path,
)
from stepsaga.workflows._expressions._scope import EvaluationScope
from stepsaga.workflows._expressions._templates import (
    FieldTemplate,
    Template,
    compile_field_template,
    compile_template,
)

__all__ = (
    "CompiledChoiceRule",
    "EvaluationError",
    "EvaluationScope",
    "ExpressionSyntaxError",
    "FieldTemplate",
    "IntrinsicCall",
    "JsonValueError",
    "JsonataTemplate",
    "LiteralArgument",
    "MissingQueryLibraryError",
    "Path",
    "PathArgument",
    "PathNotFoundError",
    "ReferencePath",
    "Template",
    "check_json_value",
    "check_jsonata",
    "compile_choice_rule",
    "compile_field_template",
    "compile_jsonata_template",
    "compile_path",
    "compile_reference_path",
    "compile_template",
    "is_intrinsic",
    "load_json_text",
    "parse_intrinsic",
    "parse_timestamp",
    "pointer_of",
    "strip_jsonata",
)
