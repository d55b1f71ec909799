"""`stepsaga bench`: the embedded engine against moto, machine by machine, in one process.

Then the Step Functions API's two paths against moto's (`ApiResult`): the engine's boto3
client in-process against moto through boto3, `stepsaga local` over HTTP against moto's
server, and callback round trips per second (`BenchReport.api`).

`bench(BenchOptions(...))` runs it and returns a `BenchReport` (`to_json()` is the `--json`
document); `PeerResult` is one machine's result on one peer, and the constants are the bars a
run is judged against. `profile_engine` profiles the engine on one machine. Peers, timing
loops, the machines and the individual measurements are machinery, in the private modules.
"""

from stepsaga.infra.bench._api import HTTP_RATIO_TARGET, IN_PROCESS_RATIO_TARGET
from stepsaga.infra.bench._eventstore import APPENDS_PER_TABLE
from stepsaga.infra.bench._profile import profile_engine
from stepsaga.infra.bench._report import (
    CHAIN_RATIO_TARGET,
    LONG_WAIT_WALL_TARGET_SECONDS,
    MEMORY_BAR_BYTES,
    NODE_CHAIN_SECONDS,
    BenchReport,
    PeerResult,
)
from stepsaga.infra.bench._runner import BenchOptions, bench

__all__ = (
    "APPENDS_PER_TABLE",
    "CHAIN_RATIO_TARGET",
    "HTTP_RATIO_TARGET",
    "IN_PROCESS_RATIO_TARGET",
    "LONG_WAIT_WALL_TARGET_SECONDS",
    "MEMORY_BAR_BYTES",
    "NODE_CHAIN_SECONDS",
    "BenchOptions",
    "BenchReport",
    "PeerResult",
    "bench",
    "profile_engine",
)
