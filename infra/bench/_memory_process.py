"""The process `measure_memory` starts: measures, prints a `MemoryResult` as JSON.

Nothing imports this module, so `python -m` runs it fresh.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from stepsaga.infra.bench._machines import machine_named
from stepsaga.infra.bench._memory import measure_here


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the measuring process: prints a `MemoryResult` as JSON."""
    parser = argparse.ArgumentParser(prog="python -m stepsaga.infra.bench._memory_process")
    parser.add_argument("machine")
    parser.add_argument("count", type=int)
    parser.add_argument("sample", type=int)
    args = parser.parse_args(argv)
    result = measure_here(machine_named(args.machine), args.count, args.sample)
    sys.stdout.write(json.dumps(result.to_json()) + "\n")


if __name__ == "__main__":
    main()
