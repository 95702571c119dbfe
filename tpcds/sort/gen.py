"""``gen``: gensort data as Parquet (key, payload) or raw 100-byte record files.

Partition p holds records [base + p*R, base + p*R + n_p) where base = seed * 2**64, so
each partition is a pure function of (seed, mode, p, R) and partitions are generated in
any order by a process pool, each into its own file. With seed 0 the concatenated record
files are exactly ``gensort [-a] N``'s output. A manifest (``_gensort.json``, hidden from
Spark readers by its leading underscore) records the count and valsort checksum of the
input, which ``validate`` compares the sorted output against.
"""

from __future__ import annotations

import json
import os
import re
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from tpcds.sort import crc, records

MANIFEST = "_gensort.json"
PER_PARTITION = 1_000_000  # 100 MB per file: a comfortable task and write size
BLOCK = 250_000  # records per generated block / Parquet row group (25 MB)
FORMATS = ("parquet", "records")


@dataclass(frozen=True)
class Part:
    index: int
    first: int  # record number of the first record
    count: int
    path: str
    checksum: int = 0


def parse_size(size: str) -> int:
    """'1GB' / '10GB' / '20MB' / '500KB' (decimal units, as sortbenchmark uses) -> records."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?B)?\s*", size.upper())
    if not m:
        raise ValueError(f"size {size!r}: expected e.g. 1GB, 10GB, 100GB, 20MB")
    scale = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}[m.group(2) or "B"]
    n = int(float(m.group(1)) * scale) // records.RECORD
    if n < 1:
        raise ValueError(f"size {size!r} is under one 100-byte record")
    return n


def plan(total: int, seed: int, out: Path, fmt: str, per_partition: int) -> list[Part]:
    ext = "parquet" if fmt == "parquet" else "dat"
    base = seed << 64
    nparts = -(-total // per_partition)
    return [
        Part(
            p,
            base + p * per_partition,
            min(per_partition, total - p * per_partition),
            str(out / f"part-{p:05d}.{ext}"),
        )
        for p in range(nparts)
    ]


def to_table(rows: np.ndarray) -> pa.Table:
    """(n, 100) records -> Arrow table of fixed-size binary key (10) and payload (90)."""
    n = rows.shape[0]
    key = np.ascontiguousarray(rows[:, : records.KEY])
    payload = np.ascontiguousarray(rows[:, records.KEY :])
    return pa.table(
        {
            "key": pa.FixedSizeBinaryArray.from_buffers(
                pa.binary(records.KEY), n, [None, pa.py_buffer(key)]
            ),
            "payload": pa.FixedSizeBinaryArray.from_buffers(
                pa.binary(records.RECORD - records.KEY), n, [None, pa.py_buffer(payload)]
            ),
        }
    )


def write_part(part: Part, mode: str, fmt: str) -> Part:
    """Generate one partition block by block (bounded memory) into its own file."""
    total = 0
    tmp = part.path + ".tmp"
    writer: pq.ParquetWriter | None = None
    with open(tmp, "wb") as raw:
        for start in range(0, part.count, BLOCK):
            rows = records.block(part.first + start, min(BLOCK, part.count - start), mode)
            total += crc.checksum(rows)
            if fmt == "records":
                raw.write(rows.tobytes())
                continue
            table = to_table(rows)
            if writer is None:
                writer = pq.ParquetWriter(raw, table.schema, compression="snappy")
            writer.write_table(table, row_group_size=BLOCK)
        if writer is not None:
            writer.close()
    os.replace(tmp, part.path)
    return Part(part.index, part.first, part.count, part.path, total)


def generate(
    size: str,
    out: str | Path,
    seed: int = 0,
    fmt: str = "parquet",
    mode: str = "ascii",
    workers: int = 2,
    per_partition: int = PER_PARTITION,
) -> dict:
    """Write the data set and its manifest; returns the manifest."""
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r}; known: {FORMATS}")
    if mode not in records.MODES:
        raise ValueError(f"mode {mode!r}; known: {records.MODES}")
    total = parse_size(size)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    parts = plan(total, seed, out, fmt, per_partition)
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        done = list(pool.map(write_part, parts, [mode] * len(parts), [fmt] * len(parts)))
    seconds = time.perf_counter() - started
    manifest = {
        "generator": "gensort 1.5 " + ("-a (ascii)" if mode == "ascii" else "(binary)"),
        "mode": mode,
        "format": fmt,
        "seed": seed,
        "first_record": seed << 64,
        "records": total,
        "bytes": total * records.RECORD,
        "checksum": format(sum(p.checksum for p in done), "x"),
        "partitions": [asdict(p) | {"checksum": format(p.checksum, "x")} for p in done],
        "seconds": seconds,
        "workers": workers,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1))
    return manifest


def load_manifest(data: str | Path) -> dict | None:
    path = Path(data) / MANIFEST
    return json.loads(path.read_text()) if path.exists() else None
