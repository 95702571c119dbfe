"""Parquet splits by row group: the footer memo follows the file's version."""

from __future__ import annotations

import os

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from sparkless.physical.planner import row_ranges


def _write(path, rows: int, group_rows: int) -> None:
    table = pa.table({"x": pa.array(range(rows), pa.int64()),
                      "s": pa.array([f"value {i:08d}" for i in range(rows)])})
    pq.write_table(table, path, row_group_size=group_rows, compression="none")


def test_ranges_follow_row_groups_and_a_rewritten_file(tmp_path) -> None:
    path = tmp_path / "t.parquet"
    con = duckdb.connect()
    _write(path, 40_000, 10_000)
    size = os.path.getsize(path)
    four = row_ranges(con, str(path), size // 5)
    assert four == [(0, 10_000), (10_000, 20_000), (20_000, 30_000), (30_000, 40_000)]
    assert row_ranges(con, str(path), size // 5) == four  # the memo answers alike
    _write(path, 40_000, 20_000)  # same path, new contents: the memo must not answer
    size = os.path.getsize(path)
    assert row_ranges(con, str(path), size // 3) == [(0, 20_000), (20_000, 40_000)]
    assert row_ranges(con, str(path), size) == []  # under 1.5x the target: one task
