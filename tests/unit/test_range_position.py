"""``physical.planner.range_position_sql``: the range id of every row is the number of
sampled bounds ``<`` its key (Python's ``bisect_left`` over the sorted bounds: a key equal
to a bound stays below it, as in Spark's RangePartitioner), for any number of partitions,
duplicate bounds, NULL keys, and no samples at all."""

from __future__ import annotations

import bisect
import random

import duckdb
import pyarrow as pa
import pytest

from sparkless.physical.planner import range_position_sql


def _positions(con: duckdb.DuckDBPyConnection, n: int) -> list[tuple[int | None, int]]:
    inner = range_position_sql("SELECT k FROM rows", "k", "samples", "s", n)
    return con.sql(f"SELECT __rk, __pos FROM ({inner}) ORDER BY __rk NULLS LAST").fetchall()


def _bounds(con: duckdb.DuckDBPyConnection, n: int) -> list[int]:
    fractions = ", ".join(f"{i / n:.12g}" for i in range(1, n))
    sql = f"SELECT quantile_disc(s, [{fractions}]) FROM samples WHERE s IS NOT NULL"
    return con.sql(sql).fetchall()[0][0] or []


@pytest.mark.parametrize("n", [2, 3, 7, 8, 9, 200, 1000])
def test_position_is_bisect_left_of_the_bounds(n: int) -> None:
    rng = random.Random(n)
    keys = [rng.randrange(500) for _ in range(3000)] + [None] * 5  # many duplicates
    samples = [rng.choice(keys) for _ in range(400)]
    con = duckdb.connect()
    con.register("rows", pa.table({"k": pa.array(keys, pa.int64())}))
    con.register("samples", pa.table({"s": pa.array(samples, pa.int64())}))
    bounds = _bounds(con, n)
    assert len(bounds) == n - 1 and bounds == sorted(bounds)
    got = _positions(con, n)
    assert len(got) == len(keys)
    for key, pos in got:
        if key is None:
            continue  # the planner sends NULL keys to the first or last partition itself
        assert pos == bisect.bisect_left(bounds, key), key
    ids = [pos for key, pos in got if key is not None]
    assert ids == sorted(ids) and 0 <= min(ids) and max(ids) <= n - 1  # monotone, in range


def test_no_samples_put_every_row_in_partition_zero() -> None:
    con = duckdb.connect()
    con.register("rows", pa.table({"k": pa.array(["b", "a", None])}))
    con.register("samples", pa.table({"s": pa.array([None], pa.string())}))
    assert {pos for _, pos in _positions(con, 16)} == {0}
