"""Infrastructure: `infra.aws` (adapters on AWS), `infra.local` (the embedded engine, replay, local
services), `infra.bench` (benchmarks) and `infra.cli` (the `stepsaga` command).

Import from the subpackage that holds a name; this package re-exports nothing.
"""

__all__: tuple[str, ...] = ()
