"""Infrastructure: loading a service, AWS adapters, the local engine, benchmarks, the CLI.

`stepsaga.infra.project` (finding a service: the one loader every command
uses), `stepsaga.infra.aws` (adapters on AWS), `stepsaga.infra.local` (the embedded engine,
replay, local services), `stepsaga.infra.bench` (benchmarks) and `stepsaga.infra.cli` (the
`stepsaga` command).

Import from the module or subpackage that holds a name; this package re-exports nothing.
"""

__all__: tuple[str, ...] = ()
