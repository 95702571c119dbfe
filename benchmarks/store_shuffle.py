"""Shuffle ~1 GB through each store with the real shuffle writer and reader, against the
store's own raw single-stream throughput measured in the same run. A benchmark, not a test.

    /work/main/.venv/bin/python benchmarks/store_shuffle.py            # 1 GB, ~minutes
    /work/main/.venv/bin/python benchmarks/store_shuffle.py --mb 256   # a quick run

For each store (``file``, ``s3`` on moto's server, ``redis`` on redis/valkey, ``crail``
from ``sparkless store serve --all`` with 3 storage servers), started on 127.0.0.1 by
``tests/stores/servers.py``, and each shape M x R (16x16, 64x64):

* write: M map tasks, each ``shuffle.writer.write_map_output`` of its ``--mb``/M MB table
  (random int64 key, int64, float64 — incompressible, so every store moves the same bytes;
  LZ4 framing on network stores, no codec on ``file://``, as the writer defaults) hashed
  into R partitions: one object per map task;
* read: R reduce tasks, each ``shuffle.reader.read_blocks`` of its slice of all M objects.

Tasks run in a **process pool of 2** (spawned once per store; each worker builds its input
table once, before any timing): a function is its own process with its own store client and
connections, and the Python parts of the redis/crail clients would serialise on one GIL as
threads. Two workers, because this machine has two cores.

MB/s = the tables' logical Arrow bytes / wall time of the phase. Requests = the store
metrics (``BlockStore.metrics.requests``) summed over every map and reduce task. The raw
baseline is one stream from this process: plain file write/read (``file``), boto3
``put_object``/``get_object`` (``s3``), redis-py ``SET``/``GET`` of one big value
(``redis``; no ``redis-benchmark`` binary here), a plain loopback socket send/recv_into
through ``benchmarks/crail_store_probe.py --raw-server`` (``crail``); median of 3 runs of
``--raw-mb`` MB. ratio = shuffle MB/s / raw MB/s.

Prints a Markdown table and writes it to ``benchmarks/results/store_shuffle-<time>.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing as mp
import os
import platform
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402

from shuffle.reader import read_blocks  # noqa: E402
from shuffle.writer import MapOutput, write_map_output  # noqa: E402
from storage import close_stores, open_store  # noqa: E402
from tests.stores.servers import STORE_NAMES, RunningStore, running_store  # noqa: E402

MiB = 1 << 20
SCHEMA = pa.schema([("key", pa.int64()), ("v", pa.int64()), ("x", pa.float64())])
ROW_BYTES = 24

# ------------------------------------------------------------------ worker side

_BASE: pa.Table | None = None


def _init_worker(rows: int) -> None:
    """Build this worker's input once; every map task writes a slice of it."""
    global _BASE
    rng = np.random.default_rng(7)
    _BASE = pa.table(
        {
            "key": rng.integers(0, 1 << 62, rows, dtype=np.int64),
            "v": rng.integers(0, 1 << 62, rows, dtype=np.int64),
            "x": rng.random(rows),
        },
        schema=SCHEMA,
    )


def _ready() -> int:
    return os.getpid()


def _delta(store: Any, before: tuple[int, int, int]) -> dict[str, int]:
    m = store.metrics
    return {
        "requests": m.requests - before[0],
        "bytes_written": m.bytes_written - before[1],
        "bytes_read": m.bytes_read - before[2],
    }


def _snapshot(store: Any) -> tuple[int, int, int]:
    m = store.metrics
    return (m.requests, m.bytes_written, m.bytes_read)


def map_task(uri: str, key: str, rows: int, reduces: int) -> tuple[MapOutput, dict[str, int]]:
    assert _BASE is not None
    store = open_store(uri)
    before = _snapshot(store)
    table = _BASE.slice(0, rows)
    pids = pa.array(table["key"].to_numpy() % reduces)
    out = write_map_output(store, key, table, pids, reduces)
    return out, _delta(store, before)


def reduce_task(uri: str, blocks: list[dict[str, Any]]) -> tuple[int, int, dict[str, int]]:
    store = open_store(uri)
    before = _snapshot(store)
    table = read_blocks(store, blocks, SCHEMA)
    return table.num_rows, table.nbytes, _delta(store, before)


# ------------------------------------------------------------------ raw baselines


def _median_mbps(mb: float, fn: Callable[[int], object], repeat: int = 3) -> float:
    secs = []
    for i in range(repeat):
        start = time.perf_counter()
        fn(i)
        secs.append(time.perf_counter() - start)
    return mb / statistics.median(secs)


def raw_file(st: RunningStore, block: bytes) -> tuple[float, float]:
    path = Path(st.handle) / "raw-baseline"
    mb = len(block) / MiB

    def write(_: int) -> None:
        with open(path, "wb") as f:
            f.write(block)

    def read(_: int) -> None:
        with open(path, "rb") as f:
            f.read()

    w, r = _median_mbps(mb, write), _median_mbps(mb, read)
    path.unlink()
    return w, r


def raw_s3(st: RunningStore, block: bytes) -> tuple[float, float]:
    client, bucket, mb = st.handle.client, st.extra["bucket"], len(block) / MiB
    w = _median_mbps(mb, lambda i: client.put_object(Bucket=bucket, Key=f"raw/{i}", Body=block))
    r = _median_mbps(mb, lambda i: client.get_object(Bucket=bucket, Key=f"raw/{i}")["Body"].read())
    client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": f"raw/{i}"} for i in range(3)]})
    return w, r


def raw_redis(st: RunningStore, block: bytes) -> tuple[float, float]:
    client, mb = st.handle.client(), len(block) / MiB
    client.connection_pool.connection_kwargs["socket_timeout"] = 120
    w = _median_mbps(mb, lambda i: client.set(f"raw/{i}", block))
    r = _median_mbps(mb, lambda i: client.get(f"raw/{i}"))
    client.delete(*(f"raw/{i}" for i in range(3)))
    client.close()
    return w, r


def raw_socket(_: RunningStore, block: bytes) -> tuple[float, float]:
    """A plain loopback socket copy, the crail probe's raw server (single stream)."""
    from crail_store_probe import RAW, _recv_into  # benchmarks/crail_store_probe.py

    from storage.crail.transport import tune

    proc = subprocess.Popen(
        [sys.executable, str(REPO / "benchmarks" / "crail_store_probe.py"), "--raw-server"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        m = re.search(r"raw ready (\d+)", proc.stdout.readline())
        if not m:
            raise RuntimeError("the raw socket server did not start")
        sock = socket.create_connection(("127.0.0.1", int(m.group(1))))
        tune(sock)
        view, mb = memoryview(block), len(block) / MiB

        def put(_: int) -> None:
            sock.sendall(RAW.pack(b"P", len(block)))
            sock.sendall(view)
            _recv_into(sock, memoryview(bytearray(1)))

        def get(_: int) -> None:
            sock.sendall(RAW.pack(b"G", len(block)))
            _recv_into(sock, memoryview(bytearray(len(block))))

        w, r = _median_mbps(mb, put), _median_mbps(mb, get)
        sock.close()
        return w, r
    finally:
        proc.terminate()
        proc.wait(timeout=15)


RAW_BY_STORE = {"file": raw_file, "s3": raw_s3, "redis": raw_redis, "crail": raw_socket}
RAW_NAME = {
    "file": "file write/read",
    "s3": "boto3 put/get",
    "redis": "redis-py SET/GET",
    "crail": "loopback socket",
}


# ------------------------------------------------------------------ driver side


def shuffle_once(
    pool: ProcessPoolExecutor, uri: str, prefix: str, mb: int, maps: int, reduces: int
) -> dict[str, Any]:
    rows = mb * MiB // ROW_BYTES // maps
    start = time.perf_counter()
    futures = [
        pool.submit(map_task, uri, f"{prefix}/map-{m}", rows, reduces) for m in range(maps)
    ]
    maps_done = [f.result() for f in futures]
    write_s = time.perf_counter() - start
    outputs = [o for o, _ in maps_done]

    start = time.perf_counter()
    futures = [pool.submit(reduce_task, uri, [o.block(r) for o in outputs]) for r in range(reduces)]
    reduces_done = [f.result() for f in futures]
    read_s = time.perf_counter() - start

    rows_read = sum(n for n, _, _ in reduces_done)
    if rows_read != rows * maps:
        raise RuntimeError(f"read {rows_read} rows, wrote {rows * maps}")
    logical = rows * maps * ROW_BYTES / MiB
    metrics = [d for _, d in maps_done] + [d for _, _, d in reduces_done]
    return {
        "mb": logical,
        "stored_mb": sum(o.bytes for o in outputs) / MiB,
        "write_s": write_s,
        "read_s": read_s,
        "write_mbps": logical / write_s,
        "read_mbps": logical / read_s,
        "write_requests": sum(d["requests"] for _, d in maps_done),
        "read_requests": sum(d["requests"] for _, _, d in reduces_done),
        "requests": sum(d["requests"] for d in metrics),
    }


@contextlib.contextmanager
def worker_pool(workers: int, rows: int) -> Iterator[ProcessPoolExecutor]:
    pool = ProcessPoolExecutor(
        workers, mp_context=mp.get_context("spawn"), initializer=_init_worker, initargs=(rows,)
    )
    try:
        pids = {f.result() for f in [pool.submit(_ready) for _ in range(workers * 2)]}
        if len(pids) != workers:
            # a worker that never took a task would build its table during the timing
            for f in [pool.submit(_ready) for _ in range(workers * 4)]:
                pids.add(f.result())
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    shapes = [tuple(int(x) for x in s.split("x")) for s in args.shapes.split(",")]
    rows_max = args.mb * MiB // ROW_BYTES // min(m for m, _ in shapes)
    block = random.randbytes(args.raw_mb * MiB)
    results = []
    for name in args.stores.split(","):
        with tempfile.TemporaryDirectory(prefix="sparkless-bench-") as tmp:
            with running_store(
                name, Path(tmp), crail="all", crail_dram=args.crail_dram
            ) as st:
                raw_w, raw_r = RAW_BY_STORE[name](st, block)
                print(
                    f"{name}: raw {RAW_NAME[name]} {raw_w:.0f} / {raw_r:.0f} MB/s",
                    file=sys.stderr,
                    flush=True,
                )
                with worker_pool(args.workers, rows_max) as pool:
                    for maps, reduces in shapes:
                        prefix = f"bench-{maps}x{reduces}"
                        r = shuffle_once(pool, st.uri, prefix, args.mb, maps, reduces)
                        open_store(st.uri).delete_prefix(prefix + "/")
                        r.update(store=name, shape=f"{maps}x{reduces}", raw_write=raw_w,
                                 raw_read=raw_r, raw=RAW_NAME[name])
                        print(
                            f"  {r['shape']}: write {r['write_mbps']:.0f} MB/s, read "
                            f"{r['read_mbps']:.0f} MB/s, {r['requests']} requests",
                            file=sys.stderr,
                            flush=True,
                        )
                        results.append(r)
                close_stores()
    return results


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| store | M×R | write MB/s | read MB/s | requests (write + read) | raw single stream "
        "(MB/s write / read) | write ÷ raw | read ÷ raw |",
        "|---|---|---:|---:|---:|---|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['store']} | {r['shape']} | {r['write_mbps']:.0f} | {r['read_mbps']:.0f} | "
            f"{r['requests']} ({r['write_requests']} + {r['read_requests']}) | "
            f"{r['raw']}: {r['raw_write']:.0f} / {r['raw_read']:.0f} | "
            f"{r['write_mbps'] / r['raw_write']:.2f} | {r['read_mbps'] / r['raw_read']:.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=int, default=1024, help="MB shuffled per shape (default 1024)")
    ap.add_argument("--shapes", default="16x16,64x64", help="map x reduce shapes")
    ap.add_argument("--stores", default=",".join(STORE_NAMES))
    ap.add_argument("--workers", type=int, default=2, help="processes running the tasks")
    ap.add_argument("--raw-mb", type=int, default=64, help="value size of the raw baseline")
    ap.add_argument("--crail-dram", default="1GB", help="DRAM per crail storage server")
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results"))
    args = ap.parse_args(argv)
    started = time.perf_counter()
    results = run(args)
    elapsed = time.perf_counter() - started
    when = time.strftime("%Y-%m-%d %H:%M")
    header = (
        f"Shuffle through each store: {args.mb} MB per shape, {args.workers} worker "
        f"processes, {when}, {platform.node()} ({os.cpu_count()} CPUs), {elapsed:.0f} s in all"
    )
    text = f"{header}\n\n{table(results)}\n"
    print(text)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"store_shuffle-{time.strftime('%Y%m%d-%H%M%S')}.md"
    path.write_text(text)
    print(f"written to {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
