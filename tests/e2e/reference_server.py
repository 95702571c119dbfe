"""Apache Spark's own Spark Connect server behind sparkless's command-line contract.

Used only to validate the e2e suite itself (``SPARKLESS_E2E_SERVER=reference``): it
prints the same ready line as ``sparkless server`` so the fixtures cannot tell the
difference, and every test must pass against it. It is never what the suite checks
by default.

    python tests/e2e/reference_server.py --host 127.0.0.1 --port 0 [--store URI]
        [--conf k=v ...] [--token T]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=15002)
    ap.add_argument("--store", default=None)  # accepted and ignored
    ap.add_argument("--conf", action="append", default=[])
    ap.add_argument("--token", default=os.environ.get("SPARKLESS_AUTH_TOKEN"))
    args = ap.parse_args()

    import pyspark

    spark_home = os.path.dirname(pyspark.__file__)
    port = args.port or _free_port(args.host)
    cmd = [
        os.path.join(spark_home, "bin", "spark-submit"),
        "--master", "local[2]",
        "--class", "org.apache.spark.sql.connect.service.SparkConnectServer",
        "--conf", f"spark.connect.grpc.binding.port={port}",
        "--conf", f"spark.connect.grpc.binding.address={args.host}",
        "--conf", "spark.ui.enabled=false",
    ]
    if args.token:
        cmd += ["--conf", f"spark.connect.authenticate.token={args.token}"]
    for kv in args.conf:
        cmd += ["--conf", kv]
    cmd.append("spark-internal")
    env = dict(os.environ, SPARK_HOME=spark_home, SPARK_CONNECT_MODE="0")
    env.pop("SPARK_REMOTE", None)
    proc = subprocess.Popen(cmd, env=env, stdout=sys.stderr, stderr=sys.stderr)

    def _stop(signum, _frame):
        proc.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with socket.create_connection((args.host, port), timeout=1):
                break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        return 1
    print(f"sparkless: Spark Connect server listening on sc://{args.host}:{port}", flush=True)
    return proc.wait()


if __name__ == "__main__":
    sys.exit(main())
