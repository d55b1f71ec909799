"""Workflows: what a state machine is, before anything runs it.

- `stepsaga.workflows.facts`: what AWS fixes (error names, quotas, integration resources), each
  written once and importing nothing but the standard library;
- `stepsaga.workflows.asl`: the typed Amazon States Language model (parse, validate, emit);
- `stepsaga.workflows.saga`: sagas written in Python, the step-envelope contract, the compiler to
  ASL;
- `stepsaga.workflows.render`: Mermaid, DOT and ASL renderings of a definition.

Machinery, not for users (like pydantic's `_internal`): `stepsaga.workflows._expressions`
compiles the languages inside a definition (JSONPath, reference paths, payload templates,
intrinsic functions, Choice rules, JSONata) for the validator and the engine; its `__all__` is
the interface between the two and may change without notice.

Import from the subpackage that holds a name; this package re-exports nothing.
"""

__all__: tuple[str, ...] = ()
