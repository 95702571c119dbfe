"""Validation catches what valsort catches: disorder, lost and duplicated records."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tpcds.sort import crc, gen, records, valsort

N = 20_000


@pytest.fixture(scope="module")
def sorted_rows() -> tuple[np.ndarray, int]:
    rows = records.block(0, N, "ascii")
    m_sum = crc.checksum(rows)
    keys = rows[:, :10].copy().view("S10").ravel()
    return rows[np.argsort(keys, kind="stable")], m_sum


def write(d: Path, rows: np.ndarray, parts: int = 3, fmt: str = "parquet") -> Path:
    """Sorted output as Spark writes it: several files, binary (not fixed) columns."""
    d.mkdir()
    for i, chunk in enumerate(np.array_split(rows, parts)):
        if fmt == "records":
            (d / f"part-{i:05d}.dat").write_bytes(chunk.tobytes())
            continue
        t = gen.to_table(chunk).cast(pa.schema([("key", pa.binary()), ("payload", pa.binary())]))
        pq.write_table(t, d / f"part-{i:05d}-x.snappy.parquet")
    (d / "_SUCCESS").write_bytes(b"")
    return d


def check(d: Path, checksum: int) -> valsort.Validation:
    return valsort.validate(d, N, checksum, workers=1)


def test_sorted_output_validates(tmp_path: Path, sorted_rows: tuple) -> None:
    rows, s = sorted_rows
    v = check(write(tmp_path / "o", rows), s)
    assert v.ok, v.errors
    assert v.summary.records == N and v.summary.checksum == s and v.summary.duplicates == 0
    assert "SUCCESS" in v.report()
    assert check(write(tmp_path / "r", rows, fmt="records"), s).ok


def test_swapped_pair_fails(tmp_path: Path, sorted_rows: tuple) -> None:
    rows, s = sorted_rows
    bad = rows.copy()
    bad[[100, 101]] = bad[[101, 100]]
    v = check(write(tmp_path / "o", bad), s)
    assert not v.ok and v.summary.unordered == 1 and v.summary.first_unordered == 101
    assert v.summary.checksum == s  # same records: only the order check can see it
    assert "FAILED" in v.report()


def test_files_out_of_name_order_fail(tmp_path: Path, sorted_rows: tuple) -> None:
    rows, s = sorted_rows
    d = write(tmp_path / "o", rows)
    a, b = sorted(d.glob("part-*"))[:2]
    a.rename(d / "tmp")
    b.rename(a)
    (d / "tmp").rename(b)
    v = check(d, s)
    assert not v.ok and v.summary.unordered >= 1


def test_lost_record_fails(tmp_path: Path, sorted_rows: tuple) -> None:
    rows, s = sorted_rows
    v = check(write(tmp_path / "o", np.delete(rows, 5000, axis=0)), s)
    assert not v.ok and v.summary.records == N - 1
    assert any("checksum" in e for e in v.errors) and any("count" in e for e in v.errors)


def test_duplicated_record_fails(tmp_path: Path, sorted_rows: tuple) -> None:
    rows, s = sorted_rows
    dup = np.insert(rows, 7000, rows[7000], axis=0)
    v = check(write(tmp_path / "o", dup), s)
    assert not v.ok and v.summary.duplicates == 1 and v.summary.unordered == 0
    # a record replaced by a copy of its neighbour: the count holds, the checksum does not
    swapped_in = rows.copy()
    swapped_in[7001] = rows[7000]
    v2 = check(write(tmp_path / "p", swapped_in), s)
    assert not v2.ok and v2.summary.records == N and v2.summary.duplicates == 1
    assert any("checksum" in e for e in v2.errors)


def test_missing_directory_is_a_failure_not_an_exception(tmp_path: Path) -> None:
    v = valsort.validate(tmp_path / "nope", N, 0, workers=1)
    assert not v.ok
