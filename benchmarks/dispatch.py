"""Local platform dispatch costs: task round trip and worker start, p50/p99.

    /work/main/.venv/bin/python benchmarks/dispatch.py [--tasks 2000] [--starts 200]

Measures, on this machine:
- ``invoke`` → result of an empty task on a warm 1-worker pool (pure dispatch overhead);
- the same for a tiny real task (``SELECT 1`` to a result object in a file store);
- worker start from our warmed zygote: fork request → worker says it is ready;
- the alternative, Python's ``forkserver`` start method with the same warmed preload.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import sys
import tempfile
import time
from multiprocessing.connection import Connection

HERE = os.path.dirname(os.path.abspath(__file__))


def empty(event: dict, context: object = None) -> dict:
    """The cheapest handler: only the dispatch path is measured."""
    return {"status": "ok"}


if os.environ.get("SPARKLESS_BENCH_WARM") == "1":  # forkserver preload: warm like the zygote
    from executors.local.zygote import exercise

    exercise()


def percentiles(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return f"p50 {statistics.median(ms):.3f} ms  p99 {p99:.3f} ms  (n={len(ms)})"


def round_trips(handler: str, event: dict, n: int) -> list[float]:
    from executors.local.platform import LocalPlatform

    with LocalPlatform(max_workers=1, handler=handler) as platform:
        platform.prewarm(1)
        for _ in range(min(50, n)):
            platform.invoke(event).result()
        samples = []
        for _ in range(n):
            t0 = time.perf_counter()
            result = platform.invoke(event).result()
            samples.append(time.perf_counter() - t0)
            assert result["status"] == "ok", result
    return samples


def zygote_starts(n: int) -> list[float]:
    from executors.local.zygote import ZygoteClient

    zygote = ZygoteClient("executors.handler.handler")
    samples = []
    try:
        for _ in range(n + 5):
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            t0 = time.perf_counter()
            zygote.spawn(theirs)
            theirs.close()
            conn = Connection(ours.detach())
            json.loads(conn.recv_bytes())  # hello: forked, handler module initialised
            samples.append(time.perf_counter() - t0)
            conn.close()  # the worker exits on EOF
    finally:
        zygote.stop()
    return samples[5:]  # the first forks also wait for the zygote's own start


def _forkserver_child(conn: Connection) -> None:
    from executors.handler import warm

    warm()
    conn.send_bytes(b"ready")


def forkserver_starts(n: int) -> list[float]:
    import multiprocessing as mp

    os.environ["SPARKLESS_BENCH_WARM"] = "1"
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["executors.handler", "dispatch"])
    samples = []
    for _ in range(n + 5):
        ours, theirs = ctx.Pipe()
        t0 = time.perf_counter()
        process = ctx.Process(target=_forkserver_child, args=(theirs,))
        process.start()
        ours.recv_bytes()
        samples.append(time.perf_counter() - t0)
        process.join()
        ours.close()
        theirs.close()
    return samples[5:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--starts", type=int, default=200)
    args = parser.parse_args()
    if HERE not in sys.path:
        sys.path.insert(0, HERE)
    print(f"cpus: {os.cpu_count()}  python: {sys.version.split()[0]}")
    empty_event = {"job_id": "bench", "stage_id": 0, "partition": 0, "attempt": 0}
    print(
        "empty task round trip:  ",
        percentiles(round_trips("dispatch:empty", empty_event, args.tasks)),
    )
    with tempfile.TemporaryDirectory() as tmp:
        real = {
            **empty_event,
            "store": f"file://{tmp}/store",
            "sql": "SELECT 1 AS x",
            "inputs": [],
            "output": {"kind": "result"},
            "conf": {},
        }
        n = max(1, args.tasks // 4)
        print(
            "tiny real task:         ",
            percentiles(round_trips("executors.handler.handler", real, n)),
        )
    print("worker start (zygote):  ", percentiles(zygote_starts(args.starts)))
    print("worker start (forkserver):", percentiles(forkserver_starts(args.starts)))


if __name__ == "__main__":
    main()
