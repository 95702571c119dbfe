"""Quick figures for ``storage/s3/store.py``'s docstring, against a moto S3 server.

    /work/main/.venv/bin/python benchmarks/s3_store_probe.py [--full]

Starts ``moto_server`` as a subprocess on 127.0.0.1 (so it does not share our GIL),
then measures single-stream (best of 3) PUT/GET of a 50 MB object through ``S3Store``
and through plain boto3; once, the reads of a 64x64 shuffle with and without coalescing; and
what the hashed key layout costs list/delete (spread 0, 1, 2). Runs in < 1 minute;
``--full`` reads the whole shuffle (~1-2 minutes on this shared 2-core machine).
Not the store benchmark (that one shuffles ~1 GB through every store).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import boto3
import numpy as np
import pyarrow as pa

from shuffle import read_blocks, write_map_output
from storage.s3 import S3Store

BUCKET = "probe"
MB = 1_000_000


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen(
        [str(exe), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(endpoint + "/moto-api/", timeout=1).close()
            return proc, endpoint
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("moto_server did not start")


def best(fn: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def throughput(endpoint: str) -> None:
    data = os.urandom(50 * MB)
    store = S3Store.from_uri(f"s3://{BUCKET}/tp?endpoint_url={endpoint}")
    client = boto3.client("s3", endpoint_url=endpoint)
    put = best(lambda: store.put("obj", data))
    get = best(lambda: store.get("obj"))
    raw_put = best(lambda: client.put_object(Bucket=BUCKET, Key="raw", Body=data))
    raw_get = best(lambda: client.get_object(Bucket=BUCKET, Key="raw")["Body"].read())
    print(f"50 MB single stream   S3Store PUT {50 / put:6.0f} MB/s  GET {50 / get:6.0f} MB/s")
    print(
        f"                      boto3   PUT {50 / raw_put:6.0f} MB/s  GET {50 / raw_get:6.0f} MB/s"
    )
    store.delete_prefix("")
    client.delete_object(Bucket=BUCKET, Key="raw")


def shuffle_reads(endpoint: str, reducers: int) -> None:
    """64 map outputs x 64 partitions of ~16 KiB; each reducer reads 4 adjacent partitions
    of every map (what coalesced reduce partitions look like). ``reducers`` of the 16 run
    (moto on 2 busy cores serves ~100-200 GETs/s, so all 16 take ~30-50 s)."""
    m = r = 64
    rows = 64 * 1024  # 2 int64 columns -> ~1 MiB per map output, ~16 KiB per partition
    base = f"s3://{BUCKET}/shuffle?endpoint_url={endpoint}"
    writer = S3Store.from_uri(base)
    rng = np.random.default_rng(0)
    outputs = []
    for map_id in range(m):
        table = pa.table({"k": rng.integers(0, 1 << 40, rows), "v": np.arange(rows)})
        pids = pa.array(np.repeat(np.arange(r), rows // r))
        outputs.append(write_map_output(writer, f"job/s0/map-{map_id}", table, pids, r, None))
    schema = pa.schema([("k", pa.int64()), ("v", pa.int64())])
    for label, extra in (("no coalescing", "&coalesce_limit=1"), ("coalesced", "")):
        reader = S3Store.from_uri(base + extra)

        def read_all(reader: S3Store = reader) -> None:
            for j in range(reducers):
                blocks = [o.block(p) for o in outputs for p in range(4 * j, 4 * j + 4)]
                assert read_blocks(reader, blocks, schema).num_rows == m * 4 * (rows // r)

        reader.metrics.by_op.clear()
        seconds = best(read_all, repeat=1)
        gets = reader.metrics.by_op.get("get_range", 0)
        print(
            f"64x64 shuffle, {4 * reducers} of 64 partitions read   {label:14s} "
            f"{gets:5d} GETs  {seconds:5.2f} s"
        )
        reader.close()
    writer.delete_prefix("")


def fan_out(endpoint: str) -> None:
    for spread in (0, 1, 2):
        store = S3Store.from_uri(f"s3://{BUCKET}/fan?endpoint_url={endpoint}&spread={spread}")
        empty = best(lambda store=store: store.delete_prefix("no-such-job/"))
        keys = [f"job/stage-{i % 4}/part-{i:05d}/attempt-0/shuffle.data" for i in range(512)]
        store.get_many([])  # warm the client
        store._map(lambda k, store=store: store.put(k, b"x"), keys)
        before = dict(store.metrics.by_op)
        t = time.perf_counter()
        assert store.delete_prefix("job/") == len(keys)
        full = time.perf_counter() - t
        lists = store.metrics.by_op["list"] - before.get("list", 0)
        deletes = store.metrics.by_op["delete"] - before.get("delete", 0)
        print(
            f"spread={spread}  empty job delete {empty:5.2f} s   512-key job delete "
            f"{full:5.2f} s ({lists} LISTs + {deletes} DeleteObjects)"
        )
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--full", action="store_true", help="read all 64 reduce partitions")
    args = parser.parse_args()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    proc, endpoint = start_moto()
    try:
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=BUCKET)
        started = time.perf_counter()
        throughput(endpoint)
        shuffle_reads(endpoint, 16 if args.full else 4)
        fan_out(endpoint)
        print(f"({time.perf_counter() - started:.0f} s in all)")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
