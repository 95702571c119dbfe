"""``python -m executors.lambda_endpoint``: serve one function on 127.0.0.1 until stopped.

Prints ``sparkless-lambda: listening on http://127.0.0.1:PORT`` once ready; SIGTERM or
SIGINT stop it, with its sandboxes.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from executors.lambda_endpoint.function import FunctionHost, FunctionSpec
from executors.lambda_endpoint.runtime import DEFAULT_HANDLER

READY = "sparkless-lambda: listening on {url} (function {name})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m executors.lambda_endpoint", description=__doc__
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--function", default="sparkless-executor", help="the function's name")
    parser.add_argument("--handler", default=DEFAULT_HANDLER, help="module.function to run")
    parser.add_argument("--timeout", type=int, default=60, help="function timeout, seconds")
    parser.add_argument("--memory", type=int, default=2048, help="memory size, MB (reported)")
    parser.add_argument("--concurrency", type=int, default=4, help="reserved concurrency")
    parser.add_argument("--region", default="us-east-1", help="region named in the ARN")
    parser.add_argument("--warm", type=int, default=0, help="sandboxes to start up front")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)

    from executors.lambda_endpoint.server import LambdaServer

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    spec = FunctionSpec(
        name=args.function,
        handler=args.handler,
        timeout_s=args.timeout,
        memory_mb=args.memory,
        concurrency=args.concurrency,
        region=args.region,
    )
    server = LambdaServer(FunctionHost(spec, warm=args.warm), args.port, args.host, args.verbose)
    thread = threading.Thread(target=server.serve_forever, name="lambda-http", daemon=True)
    thread.start()
    print(READY.format(url=server.url, name=spec.name), flush=True)
    try:
        stop.wait()
    finally:
        server.shutdown()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
