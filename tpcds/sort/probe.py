"""Store rates for the scale model: request latency and per-stream MB/s, measured through
the project's own store layer (``storage.open_store``) on the URI the sort used."""

from __future__ import annotations

import os
import statistics
import time
import uuid

from storage import open_store


def measure_store(uri: str, big_mb: int = 64, small_ops: int = 100) -> dict[str, float]:
    """PUT/GET latency of 1 KB objects (median) and MB/s of one stream on a big object."""
    store = open_store(uri)
    prefix = f"sortbench-probe/{uuid.uuid4().hex}"
    small = os.urandom(1024)
    put_lat, get_lat = [], []
    try:
        for i in range(small_ops):
            t = time.perf_counter()
            store.put(f"{prefix}/s{i}", small)
            put_lat.append(time.perf_counter() - t)
            t = time.perf_counter()
            store.get(f"{prefix}/s{i}")
            get_lat.append(time.perf_counter() - t)
        big = os.urandom(big_mb << 20)
        t = time.perf_counter()
        store.put(f"{prefix}/big", big)
        put_s = time.perf_counter() - t
        t = time.perf_counter()
        store.get(f"{prefix}/big")
        get_s = time.perf_counter() - t
    finally:
        store.delete_prefix(prefix)
    return {
        "put_latency_s": statistics.median(put_lat),
        "get_latency_s": statistics.median(get_lat),
        "write_mbps": big_mb * 1.048576 / put_s,
        "read_mbps": big_mb * 1.048576 / get_s,
    }
