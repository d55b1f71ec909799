"""Workflows: what a state machine is, before anything runs it.

- `stepsaga.workflows.facts`: what AWS fixes (error names, quotas, integration resources), each
  written once and importing nothing but the standard library;
- `stepsaga.workflows.asl`: the typed Amazon States Language model (parse, validate, emit);
- `stepsaga.workflows.expressions`: the languages inside a definition (JSONPath, reference paths,
  payload templates, intrinsic functions, Choice rules, JSONata);
- `stepsaga.workflows.saga`: sagas written in Python, the step-envelope contract, the compiler to
ASL;
- `stepsaga.workflows.render`: Mermaid, DOT and ASL renderings of a definition.

Import from the subpackage that holds a name; this package re-exports nothing.
"""

__all__: tuple[str, ...] = ()
