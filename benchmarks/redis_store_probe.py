"""Probe RedisStore on this machine (< 1 minute): pipelined vs one-by-one ranged reads of a
64x64 shuffle's slices, and MB/s of 50 MB put/get (inline, chunked, raw redis-py).

    python benchmarks/redis_store_probe.py [--uri redis://127.0.0.1:6379/0]

Without ``--uri`` it starts a throwaway server on 127.0.0.1 (tests/stores/redis_server.py).
The figures go into ``storage/redisstore/__init__.py``'s docstring.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shuffle.writer import write_map_output  # noqa: E402
from storage import RangeRequest  # noqa: E402
from storage.redisstore import RedisStore  # noqa: E402
from tests.stores.redis_server import RedisServer  # noqa: E402

MAPS = REDUCES = 64
ROWS_PER_MAP = 6400
BIG = 50 * 1024 * 1024


def best(fn: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def shuffle_reads(store: RedisStore) -> None:
    rng = np.random.default_rng(0)
    outputs = []
    for m in range(MAPS):
        table = pa.table(
            {"k": rng.integers(0, 1 << 40, ROWS_PER_MAP), "v": rng.random(ROWS_PER_MAP)}
        )
        parts = pa.array(np.arange(ROWS_PER_MAP) % REDUCES, pa.int32())
        outputs.append(write_map_output(store, f"probe/shuffle/map_{m}", table, parts, REDUCES))
    slices = [[RangeRequest(**o.block(r)) for o in outputs] for r in range(REDUCES)]
    total = sum(s.length for reducer in slices for s in reducer)

    def pipelined() -> None:
        for reducer in slices:
            store.get_ranges(reducer)

    def one_by_one() -> None:
        for reducer in slices:
            for s in reducer:
                store.get_range(s.key, s.offset, s.length)

    for name, fn in (("get_ranges (pipelined)", pipelined), ("get_range one by one", one_by_one)):
        before = store.metrics.requests
        seconds = best(fn)
        trips = (store.metrics.requests - before) // 3
        print(
            f"  {name:24s} {MAPS * REDUCES} slices, {total / 1e6:.1f} MB: {seconds * 1e3:7.1f} ms"
            f"  ({trips} round trips, {MAPS * REDUCES / seconds / 1e3:.0f} k slices/s)"
        )
    store.delete_prefix("probe/")


def throughput(uri: str) -> None:
    data = os.urandom(BIG)
    for label, chunk in (("inline (chunk 64 MiB)", "64MiB"), ("chunked (chunk 8 MiB)", "8MiB")):
        store = RedisStore.from_uri(f"{uri}?chunk_size={chunk}")
        put = best(lambda s=store: s.put("probe/big", data))
        get = best(lambda s=store: s.get("probe/big"))
        rng = best(lambda s=store: s.get_range("probe/big", BIG // 3, BIG // 2))
        print(
            f"  {label:24s} put {BIG / put / 1e6:6.0f} MB/s   get {BIG / get / 1e6:6.0f} MB/s"
            f"   get_range(25 MB) {BIG / 2 / rng / 1e6:6.0f} MB/s"
        )
        store.delete_prefix("probe/")
        store.close()
    raw = RedisStore.from_uri(uri).client
    put = best(lambda: raw.set("probe-raw", data))
    get = best(lambda: raw.get("probe-raw"))
    raw.delete("probe-raw")
    print(
        f"  {'raw redis-py SET/GET':24s} put {BIG / put / 1e6:6.0f} MB/s   get {BIG / get / 1e6:6.0f} MB/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uri", help="an existing server (default: start one on 127.0.0.1)")
    args = parser.parse_args()
    server = None if args.uri else RedisServer().start()
    uri = args.uri or server.uri
    try:
        print(f"store {RedisStore.from_uri(uri).uri}")
        print(
            f"64x64 shuffle ({ROWS_PER_MAP} rows/map, LZ4 IPC), all 64 reducers' slices, best of 3:"
        )
        shuffle_reads(RedisStore.from_uri(uri))
        print("50 MB value, best of 3:")
        throughput(uri)
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
