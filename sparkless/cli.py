"""The ``sparkless`` command: ``server``, ``submit`` and ``version``.

``server`` is what a deployment runs; ``submit`` is what a user runs on a laptop: it
starts an embedded server on a free loopback port, points an unmodified PySpark
script at it through ``SPARK_REMOTE`` and exits with the script's exit code, the
way ``spark-submit`` would. The server module is imported only when a command
needs it, so argument errors and ``version`` stay instant.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from importlib import metadata
from typing import Any

TOKEN_ENV = "SPARKLESS_AUTH_TOKEN"
DIST_NAME = "sparkless-faas"


class UsageError(Exception):
    """A bad command line: message to stderr, exit status 2 (argparse's convention)."""


def parse_conf(items: Sequence[str]) -> dict[str, str]:
    """``--conf k=v`` pairs, as spark-submit takes them; the last value of a key wins."""
    conf: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--conf expects key=value, got {item!r}")
        conf[key.strip()] = value
    return conf


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses; anything else is reachable from outside."""
    if host.lower() in ("localhost", "localhost.localdomain", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Spark Connect has no other guard: an open port without a token runs anyone's code."""
    if not token and not is_loopback(host):
        raise UsageError(
            f"refusing to listen on non-loopback address {host!r} without a token: "
            f"pass --token or set {TOKEN_ENV}"
        )


def endpoint(host: str, port: int) -> str:
    """The ``sc://`` URL a client uses; IPv6 literals need brackets."""
    h = host.strip("[]")
    return f"sc://[{h}]:{port}" if ":" in h else f"sc://{h}:{port}"


def version_text() -> str:
    """Our version and the PySpark we speak, because client/server skew matters."""
    try:
        ours = metadata.version(DIST_NAME)
    except metadata.PackageNotFoundError:
        ours = "unknown (not installed)"
    try:
        spark = metadata.version("pyspark")
    except metadata.PackageNotFoundError:
        spark = "not installed"
    return f"sparkless {ours} (Spark Connect, pyspark {spark})"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sparkless",
        description="Run unchanged PySpark jobs serverlessly over Spark Connect.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    srv = sub.add_parser("server", help="serve Spark Connect until SIGINT/SIGTERM")
    srv.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    srv.add_argument("--port", type=int, default=15002, help="port; 0 picks a free one")
    srv.add_argument(
        "--token", default=None, help=f"require this bearer token (default: ${TOKEN_ENV})"
    )
    srv.add_argument("--store", default=None, help="shuffle store URI, e.g. file:///tmp/x")
    srv.add_argument(
        "--conf",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="server-wide Spark conf; repeatable",
    )

    sm = sub.add_parser("submit", help="run a PySpark script against an embedded server")
    sm.add_argument("--store", default=None, help="shuffle store URI, e.g. file:///tmp/x")
    sm.add_argument(
        "--conf",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="Spark conf for the embedded server; repeatable",
    )
    sm.add_argument("script", help="the PySpark script, run unchanged")
    sm.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the script")

    sub.add_parser("version", help="print the version")

    from storage.crail.serve import build_parser as crail_serve_parser

    store = sub.add_parser("store", help="run a store's servers")
    store_sub = store.add_subparsers(dest="store_command", required=True, metavar="STORE_COMMAND")
    crail_serve_parser(store_sub.add_parser("serve", help="the crail:// memory store's servers"))

    from sparkless.deploy.args import add_deploy_arguments, add_doctor_arguments

    add_deploy_arguments(sub.add_parser("deploy", help="create/update the AWS resources (boto3)"))
    add_doctor_arguments(sub.add_parser("doctor", help="check a deployment, say what is wrong"))

    from sparkless.bench import add_bench_arguments

    add_bench_arguments(sub.add_parser("bench", help="run a benchmark (startup latencies)"))
    return parser


def _make_server(
    host: str, port: int, token: str | None, conf: dict[str, str], store: str | None
) -> Any:
    from sparkless.connect.server import SparkConnectServer

    return SparkConnectServer(host=host, port=port, token=token, conf=conf, store=store)


def cmd_server(args: argparse.Namespace) -> int:
    """Serve until a signal; a signal only sets a flag so that stop runs on the main thread."""
    token = args.token or os.environ.get(TOKEN_ENV) or None
    conf = parse_conf(args.conf)
    check_bind(args.host, token)
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be 0..65535, got {args.port}")

    done = threading.Event()

    def _on_signal(signum: int, _frame: object) -> None:
        done.set()

    # Installed before the slow start-up (imports, sandboxes) so that a stop requested
    # meanwhile still ends cleanly, once the server is up, with status 0.
    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return _serve(args, token, conf, done)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _serve(
    args: argparse.Namespace, token: str | None, conf: dict[str, str], done: threading.Event
) -> int:
    server = _make_server(args.host, args.port, token, conf, args.store)
    try:
        port = server.start()
    except ValueError as exc:  # the server's own refusal (e.g. non-loopback, no token)
        raise UsageError(str(exc)) from exc
    except (OSError, RuntimeError) as exc:  # e.g. the port is taken (gRPC: "Failed to bind")
        print(f"sparkless server: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1

    def _wait() -> None:
        server.wait()
        done.set()

    try:
        threading.Thread(target=_wait, name="sparkless-server-wait", daemon=True).start()
        if not done.is_set():
            ready = f"sparkless: Spark Connect server listening on {endpoint(args.host, port)}"
            print(ready, flush=True)
        while not done.wait(0.5):  # a bounded wait keeps signal handlers responsive
            pass
    finally:
        server.stop(grace=5.0)
    return 0


def _exit_status(returncode: int) -> int:
    """A child killed by signal N exits the way a shell reports it: 128 + N."""
    return 128 - returncode if returncode < 0 else returncode


def run_script(script: str, script_args: Sequence[str], remote: str) -> int:
    """Run the script as ``python script args`` with inherited stdio (output unchanged).

    SIGINT from the terminal reaches the child directly (same process group); we
    wait for it rather than die first. SIGTERM sent to us is passed on.
    """
    env = dict(os.environ, SPARK_REMOTE=remote)
    proc = subprocess.Popen([sys.executable, script, *script_args], env=env)

    def _forward(signum: int, _frame: object) -> None:
        if proc.poll() is None:
            proc.send_signal(signum)

    old_int = signal.signal(signal.SIGINT, lambda *_: None)
    old_term = signal.signal(signal.SIGTERM, _forward)
    try:
        return _exit_status(proc.wait())
    finally:
        signal.signal(signal.SIGINT, old_int)
        signal.signal(signal.SIGTERM, old_term)


def cmd_submit(args: argparse.Namespace) -> int:
    """Embedded server + child script + progress on stderr + a closing summary line."""
    from sparkless.progress import ConsoleProgress, JobSummary

    if not os.path.isfile(args.script):
        raise UsageError(f"no such script: {args.script}")
    conf = parse_conf(args.conf)
    started = time.monotonic()
    server = _make_server("127.0.0.1", 0, None, conf, args.store)
    port = server.start()
    progress = ConsoleProgress(sys.stderr)
    summary = JobSummary()
    server.listeners.add(progress)
    server.listeners.add(summary)
    from sparkless.cost import CostListener

    engine = getattr(server, "engine", None)  # platform stats: cold starts, billed GB-s
    cost = CostListener(conf, getattr(engine, "platform", None), store_uri=args.store or "")
    server.listeners.add(cost)
    progress.start()
    try:
        status = run_script(args.script, args.args, endpoint("127.0.0.1", port))
    finally:
        progress.close()
        server.stop(grace=2.0)
    if (total := cost.total()) is not None:  # before the summary, which stays the last line
        print(total.report(), file=sys.stderr, flush=True)
    print(summary.line(time.monotonic() - started), file=sys.stderr, flush=True)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "server":
            return cmd_server(args)
        if args.command == "submit":
            return cmd_submit(args)
        if args.command == "bench":
            from sparkless.bench import run as run_bench

            return run_bench(args)
        if args.command == "store":
            from storage.crail.serve import run as crail_serve_run

            return crail_serve_run(args)
        if args.command in ("deploy", "doctor"):
            from sparkless.deploy import deploy_main, doctor_main

            return (deploy_main if args.command == "deploy" else doctor_main)(args)
        print(version_text())
        return 0
    except UsageError as exc:
        parser.exit(2, f"sparkless {args.command}: error: {exc}\n")
    return 2  # unreachable: parser.exit raises SystemExit


if __name__ == "__main__":
    sys.exit(main())
