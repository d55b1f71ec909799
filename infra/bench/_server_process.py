"""The process `server_process` starts: an endpoint on a free 127.0.0.1 port, until stdin ends.

`local`: `stepsaga local`'s endpoint (`local_endpoint`, the server clock) with the bench's
Lambda functions registered, as `stepsaga local --service` registers a service's. `moto`:
moto's server (`ThreadedMotoServer`). It prints the endpoint's URL on one line, then serves
until its standard input is closed (the bench's end, or the bench's death).

Nothing imports this module, so `python -m` runs it fresh.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from stepsaga.infra.bench._machines import (
    BENCH_STEP_FUNCTION,
    CALLBACK_FUNCTION,
    acknowledge_handler,
    bench_step_handler,
)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: serve `local` or `moto` on a free port, print the URL, wait for stdin."""
    parser = argparse.ArgumentParser(prog="python -m stepsaga.infra.bench._server_process")
    parser.add_argument("endpoint", choices=("local", "moto"))
    args = parser.parse_args(argv)
    if args.endpoint == "local":
        from stepsaga.infra.local.service import local_endpoint

        server = local_endpoint(port=0).start()
        engine = server.api.engine
        engine.register_lambda(BENCH_STEP_FUNCTION, bench_step_handler)
        engine.register_lambda(CALLBACK_FUNCTION, acknowledge_handler)
        sys.stdout.write(server.url + "\n")
        sys.stdout.flush()
        sys.stdin.read()
        server.stop()
        engine.close()
        return
    from moto.server import ThreadedMotoServer

    # A level of its own keeps werkzeug from adding its handler, which logs every request.
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    logging.getLogger("moto").setLevel(logging.CRITICAL)
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    sys.stdout.write(f"http://{host}:{port}\n")
    sys.stdout.flush()
    sys.stdin.read()
    moto.stop()


if __name__ == "__main__":
    main()
