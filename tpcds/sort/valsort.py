"""``validate``: valsort's checks over a directory of sorted output, file by file.

As valsort 1.5 (``valsort -o`` per partition, then ``valsort -s`` over the summaries):
record count; checksum = 128-bit sum of zlib ``crc32`` of each 100-byte record
(key || payload); unordered records (key < previous key, compared as unsigned bytes,
across files in name order); duplicate keys (key == previous key). Each file is read in
Arrow batches and summarised on its own (two at a time in a process pool), so memory is
bounded by a batch, not by the data. The run is VALID only when nothing is unordered
and, given the input's manifest, count and checksum equal the input's.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from tpcds.sort import crc, records

BATCH = 262_144


@dataclass
class Summary:
    """One file's (or the whole output's) valsort summary."""

    path: str = ""
    records: int = 0
    checksum: int = 0
    unordered: int = 0
    first_unordered: int = -1  # record index (global after combine), -1 if none
    duplicates: int = 0
    first_key: bytes = b""
    last_key: bytes = b""
    files: list[tuple[str, int]] = field(default_factory=list)  # (name, records)


@dataclass
class Validation:
    summary: Summary
    expected_records: int | None
    expected_checksum: int | None
    errors: list[str]

    @property
    def ok(self) -> bool:
        return not self.errors

    def report(self) -> str:
        s = self.summary
        lines = [
            f"Records: {s.records}",
            f"Checksum: {s.checksum:x}",
            f"Duplicate keys: {s.duplicates}",
            f"Files: {len(s.files)}",
        ]
        if self.ok:
            lines.append("SUCCESS - all records are in order; count and checksum match"
                         if self.expected_checksum is not None
                         else "SUCCESS - all records are in order (no input manifest to match)")
        else:
            lines += [f"FAILED - {e}" for e in self.errors]
        return "\n".join(lines)


def fixed_width(arr: pa.Array, width: int) -> np.ndarray:
    """A binary / fixed_size_binary Arrow array as an (n, width) uint8 view or copy."""
    if arr.null_count:
        raise ValueError("null values in a record column")
    n = len(arr)
    if pa.types.is_fixed_size_binary(arr.type):
        if arr.type.byte_width != width:
            raise ValueError(f"column is {arr.type.byte_width} bytes wide, expected {width}")
        data = np.frombuffer(arr.buffers()[1], dtype=np.uint8)
        return data[arr.offset * width : (arr.offset + n) * width].reshape(n, width)
    if pa.types.is_large_binary(arr.type) or pa.types.is_binary(arr.type):
        otype = np.int64 if pa.types.is_large_binary(arr.type) else np.int32
        offsets = np.frombuffer(arr.buffers()[1], dtype=otype)[arr.offset : arr.offset + n + 1]
        if n and not np.all(np.diff(offsets) == width):
            raise ValueError(f"a value in a record column is not {width} bytes long")
        data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)
        return data[offsets[0] : offsets[0] + n * width].reshape(n, width)
    raise ValueError(f"record column type {arr.type} is not binary")


def record_batches(path: str) -> Iterator[np.ndarray]:
    """(n, 100) uint8 record blocks of one output file (Parquet key+payload, or raw)."""
    if path.endswith(".parquet"):
        f = pq.ParquetFile(path)
        for batch in f.iter_batches(batch_size=BATCH, columns=["key", "payload"]):
            key = fixed_width(batch.column(0), records.KEY)
            payload = fixed_width(batch.column(1), records.RECORD - records.KEY)
            yield np.concatenate([key, payload], axis=1)
        return
    with open(path, "rb") as raw:
        while chunk := raw.read(BATCH * records.RECORD):
            if len(chunk) % records.RECORD:
                raise ValueError(f"{path}: partial record at end")
            yield np.frombuffer(chunk, dtype=np.uint8).reshape(-1, records.RECORD)


def _split_key(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """10-byte keys as (uint64 of bytes 0-7 big-endian, uint16 of bytes 8-9): same order."""
    hi = np.ascontiguousarray(keys[:, :8]).view(">u8").ravel().astype(np.uint64)
    lo = np.ascontiguousarray(keys[:, 8:10]).view(">u2").ravel().astype(np.uint16)
    return hi, lo


def summarize_file(path: str) -> Summary:
    """valsort -o for one file: counts, checksum, order and duplicates within it."""
    s = Summary(path=path)
    prev: np.ndarray | None = None
    for rows in record_batches(path):
        if not len(rows):
            continue
        keys = rows[:, : records.KEY]
        if prev is not None:
            keys = np.concatenate([prev[None, :], keys])
        hi, lo = _split_key(keys)
        greater = (hi[:-1] > hi[1:]) | ((hi[:-1] == hi[1:]) & (lo[:-1] > lo[1:]))
        equal = (hi[:-1] == hi[1:]) & (lo[:-1] == lo[1:])
        offset = s.records - (1 if prev is not None else 0)
        if s.first_unordered < 0 and greater.any():
            s.first_unordered = offset + 1 + int(np.argmax(greater))
        s.unordered += int(greater.sum())
        s.duplicates += int(equal.sum())
        if not s.first_key:
            s.first_key = rows[0, : records.KEY].tobytes()
        s.checksum += crc.checksum(rows)
        s.records += len(rows)
        prev = rows[-1, : records.KEY].copy()
    if prev is not None:
        s.last_key = prev.tobytes()
    s.files = [(os.path.basename(path), s.records)]
    return s


def combine(parts: list[Summary]) -> Summary:
    """valsort -s: join per-file summaries in order, checking each file boundary."""
    total = Summary()
    for part in parts:
        if part.records and total.records:
            if total.last_key > part.first_key:
                total.unordered += 1
                if total.first_unordered < 0:
                    total.first_unordered = total.records
            elif total.last_key == part.first_key:
                total.duplicates += 1
        if total.first_unordered < 0 and part.first_unordered >= 0:
            total.first_unordered = total.records + part.first_unordered
        total.unordered += part.unordered
        total.duplicates += part.duplicates
        total.checksum += part.checksum
        if part.records:
            total.first_key = total.first_key or part.first_key
            total.last_key = part.last_key
        total.records += part.records
        total.files += part.files
    return total


def output_files(directory: str | Path) -> list[str]:
    """Data files in name order, skipping hidden/marker files (_SUCCESS, .crc, _gensort)."""
    d = Path(directory)
    if not d.is_dir():
        raise FileNotFoundError(f"no such output directory: {d}")
    names = sorted(
        p.name
        for p in d.iterdir()
        if p.is_file() and not p.name.startswith(("_", ".")) and p.suffix in (".parquet", ".dat")
    )
    return [str(d / n) for n in names]


def validate(
    directory: str | Path,
    expected_records: int | None = None,
    expected_checksum: int | None = None,
    workers: int = 2,
) -> Validation:
    """Validate sorted output; never raises on bad data, reports it as errors instead."""
    errors: list[str] = []
    try:
        files = output_files(directory)
        with ProcessPoolExecutor(max_workers=workers) as pool:
            summary = combine(list(pool.map(summarize_file, files)))
    except (OSError, ValueError, pa.ArrowException) as exc:
        return Validation(Summary(), expected_records, expected_checksum, [str(exc)])
    if not summary.records:
        errors.append("no records")
    if summary.unordered:
        errors.append(
            f"{summary.unordered} unordered records, first at record {summary.first_unordered}"
        )
    if expected_records is not None and summary.records != expected_records:
        errors.append(f"record count {summary.records} != input's {expected_records}")
    if expected_checksum is not None and summary.checksum != expected_checksum:
        errors.append(f"checksum {summary.checksum:x} != input's {expected_checksum:x}")
    return Validation(summary, expected_records, expected_checksum, errors)
