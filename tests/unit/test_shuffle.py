"""Shuffle writer/reader/partitioning over a LocalDirStore: pure in-process tests."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from shuffle import (
    FetchFailed,
    MapOutput,
    default_codec,
    ipc_to_table,
    partition_id_sql,
    read_blocks,
    read_index,
    schema_from_b64,
    schema_to_b64,
    table_to_ipc,
    write_map_output,
)
from shuffle.writer import FOOTER
from storage.base import BlockNotFound, BlockStore, StoreError
from storage.file import LocalDirStore


@pytest.fixture(params=["buffered", "direct"])
def store(tmp_path: Path, request: pytest.FixtureRequest) -> LocalDirStore:
    """Every shuffle test through page-cache I/O and through ``?direct=true``."""
    return LocalDirStore.from_uri(f"file://{tmp_path}/store?direct={request.param == 'direct'}")


def rich_table(n: int = 50) -> pa.Table:
    """Types that must survive a shuffle unchanged, with nulls everywhere."""
    tz = dt.UTC
    rows = range(n)
    return pa.table(
        {
            "id": pa.array(list(rows), pa.int64()),
            "price": pa.array(
                [None if i % 7 == 0 else decimal.Decimal(f"{i}.{i % 100:02d}") for i in rows],
                pa.decimal128(12, 2),
            ),
            "ts": pa.array(
                [None if i % 5 == 0 else dt.datetime(2024, 1, 1, i % 24, tzinfo=tz) for i in rows],
                pa.timestamp("us", tz="America/New_York"),
            ),
            "day": pa.array([dt.date(2020, 1, 1 + i % 28) for i in rows], pa.date32()),
            "name": pa.array([None if i % 3 == 0 else f"n{i}" for i in rows], pa.string()),
            "tags": pa.array(
                [[f"t{i}", None] if i % 4 else None for i in rows], pa.list_(pa.string())
            ),
            "point": pa.array(
                [{"x": i, "y": float(i) / 3} for i in rows],
                pa.struct([("x", pa.int32()), ("y", pa.float64())]),
            ),
            "attrs": pa.array([[("k", i)] for i in rows], pa.map_(pa.string(), pa.int64())),
            "flag": pa.array([None if i % 2 else i % 3 == 0 for i in rows], pa.bool_()),
        }
    )


def read_partition(
    store: LocalDirStore, outputs: list[MapOutput], r: int, schema: pa.Schema
) -> pa.Table:
    return read_blocks(store, [o.block(r) for o in outputs], schema)


# -- arrow_io ---------------------------------------------------------------------------


@pytest.mark.parametrize("codec", [None, "lz4", "zstd"])
def test_ipc_round_trip(codec: str | None) -> None:
    t = rich_table()
    data = table_to_ipc(t, codec)
    assert isinstance(data, bytes)
    assert ipc_to_table(data).equals(t)
    assert ipc_to_table(memoryview(data)).equals(t)


def test_schema_b64_round_trip() -> None:
    schema = rich_table().schema.with_metadata({"origin": "test"})
    text = schema_to_b64(schema)
    assert isinstance(text, str) and text.isascii()
    assert schema_from_b64(text).equals(schema, check_metadata=True)


# -- writer / reader --------------------------------------------------------------------


@pytest.mark.parametrize("codec", [None, "lz4"])
def test_map_output_round_trip_with_empty_partitions(
    store: LocalDirStore, codec: str | None
) -> None:
    t = rich_table(60)
    ids = pa.array([(i % 3) * 2 for i in range(60)], pa.int32())  # partitions 0, 2, 4 of 6
    out = write_map_output(store, "j/s0/m0", t, ids, 6, compression=codec)
    assert out.rows == 60
    assert out.partition_rows == [20, 0, 20, 0, 20, 0]
    assert [n == 0 for n in out.partition_lengths] == [False, True, False, True, False, True]
    assert out.bytes == store.size("j/s0/m0")
    assert sum(out.partition_lengths) + 7 * 8 + FOOTER.size == out.bytes
    for r in range(6):
        got = read_partition(store, [out], r, t.schema)
        want = t.filter(pc.equal(ids, r))
        assert got.schema.equals(t.schema)
        assert got.equals(want)  # stable: rows keep their map-side order


def test_index_recovered_from_object(store: LocalDirStore) -> None:
    t = pa.table({"x": pa.array(range(1000), pa.int64())})
    ids = pc.cast(pc.bit_wise_and(t["x"], 7), pa.int8())
    out = write_map_output(store, "k", t, ids, 8)
    offsets = read_index(store, "k")
    assert offsets[:-1] == out.partition_offsets
    assert np.diff(offsets).tolist() == out.partition_lengths
    assert read_index(store, "k", tail_guess=16) == offsets  # index beyond the first tail read


def test_read_index_rejects_other_objects(store: LocalDirStore) -> None:
    store.put("junk", b"x" * 100)
    store.put("tiny", b"x")
    for key in ("junk", "tiny"):
        with pytest.raises(ValueError):
            read_index(store, key)


def test_many_partitions_and_many_map_outputs(store: LocalDirStore) -> None:
    rng = np.random.default_rng(1)
    n, r, maps = 20_000, 200, 3
    outputs, tables, all_ids = [], [], []
    for m in range(maps):
        t = pa.table({"k": rng.integers(0, 10**6, n), "v": rng.random(n), "m": np.full(n, m)})
        ids = pa.array(rng.integers(0, r, n).astype(np.int32))
        outputs.append(write_map_output(store, f"j/s1/map-{m}", t, ids, r))
        tables.append(t)
        all_ids.append(ids)
    assert len(list(store.list_prefix("j/s1/"))) == maps  # one object per map task
    for o in outputs:
        assert read_index(store, o.key)[:-1] == o.partition_offsets
    schema = tables[0].schema
    total = 0
    for reduce_id in (0, 57, 199):
        got = read_partition(store, outputs, reduce_id, schema)
        want = pa.concat_tables(
            t.filter(pc.equal(i, reduce_id)) for t, i in zip(tables, all_ids, strict=True)
        )
        assert got.equals(want)
        total += got.num_rows
    assert total > 0
    assert sum(sum(o.partition_rows or []) for o in outputs) == n * maps


def test_no_partition_ids_means_partition_zero(store: LocalDirStore) -> None:
    t = rich_table(10)
    out = write_map_output(store, "single", t, None, 4)
    assert out.partition_rows == [10, 0, 0, 0]
    assert out.partition_lengths[1:] == [0, 0, 0]
    assert read_blocks(store, [out.block(0)], t.schema).equals(t)


def test_empty_table_and_all_empty_partition(store: LocalDirStore) -> None:
    t = rich_table(0)
    out = write_map_output(store, "empty", t, pa.array([], pa.int32()), 3)
    assert out.partition_lengths == [0, 0, 0]
    assert out.bytes == 4 * 8 + FOOTER.size
    got = read_blocks(store, [out.block(1)], t.schema)
    assert got.num_rows == 0 and got.schema.equals(t.schema)
    assert read_blocks(store, [], t.schema).schema.equals(t.schema)


def test_reader_aligns_nullability(store: LocalDirStore) -> None:
    t = pa.table({"a": pa.array([1, 2], pa.int64())})
    out = write_map_output(store, "n", t, None, 1)
    expected = pa.schema([pa.field("a", pa.int64(), nullable=False)])
    assert read_blocks(store, [out.block(0)], expected).schema.equals(expected)
    with pytest.raises(ValueError, match="does not match"):
        read_blocks(store, [out.block(0)], pa.schema([("a", pa.string())]))


class DictStore(BlockStore):
    """A minimal in-memory store with a network scheme, to test per-store behaviour."""

    def __init__(self) -> None:
        super().__init__()
        self.uri = "mem://test"
        self.data: dict[str, bytes] = {}

    def put(self, key: str, data: bytes | bytearray | memoryview) -> None:
        self.data[key] = bytes(data)

    def get(self, key: str) -> bytes:
        if key not in self.data:
            raise BlockNotFound(key, store=self.uri, key=key)
        return self.data[key]

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        return self.get(key)[offset : offset + length]

    def size(self, key: str) -> int:
        return len(self.get(key))

    def exists(self, key: str) -> bool:
        return key in self.data

    def list_prefix(self, prefix: str) -> Iterator[str]:
        return iter(sorted(k for k in self.data if k.startswith(prefix)))

    def delete_prefix(self, prefix: str) -> int:
        doomed = list(self.list_prefix(prefix))
        for k in doomed:
            del self.data[k]
        return len(doomed)


def test_auto_codec_is_chosen_per_store(store: LocalDirStore) -> None:
    t = pa.table({"k": pa.array([i % 10 for i in range(20_000)], pa.int64())})
    ids = pa.array([i % 4 for i in range(20_000)], pa.int32())
    mem = DictStore()
    assert default_codec(store) is None and default_codec(mem) == "lz4"
    plain = write_map_output(store, "plain", t, ids, 4, compression=None)
    auto_local = write_map_output(store, "auto", t, ids, 4)
    auto_mem = write_map_output(mem, "auto", t, ids, 4)
    assert auto_local.bytes == plain.bytes
    assert auto_mem.bytes < plain.bytes / 2  # compressed
    assert read_index(mem, "auto")[:-1] == auto_mem.partition_offsets
    got = read_blocks(mem, [auto_mem.block(r) for r in range(4)], t.schema)
    assert got.num_rows == 20_000 and got.sort_by("k").equals(t.sort_by("k"))
    mem.delete_prefix("auto")
    with pytest.raises(FetchFailed):
        read_blocks(mem, [auto_mem.block(0)], t.schema)


def test_bad_partition_ids(store: LocalDirStore) -> None:
    t = pa.table({"a": [1, 2, 3]})
    for ids in (
        pa.array([0, 1, 3]),
        pa.array([0, -1, 1]),
        pa.array([0, None, 1]),
        pa.array([0, 1]),
    ):
        with pytest.raises(ValueError):
            write_map_output(store, "bad", t, ids, 3)
    with pytest.raises(TypeError):
        write_map_output(store, "bad", t, pa.array(["a", "b", "c"]), 3)
    assert not store.exists("bad")


def test_missing_map_output_raises_fetch_failed(store: LocalDirStore) -> None:
    t = pa.table({"a": list(range(100))})
    ids = pa.array([i % 2 for i in range(100)])
    good = write_map_output(store, "j/m0", t, ids, 2)
    lost = write_map_output(store, "j/m1", t, ids, 2)
    store.delete_prefix("j/m1")
    with pytest.raises(FetchFailed) as info:
        read_blocks(store, [good.block(0), lost.block(0)], t.schema)
    assert info.value.key == "j/m1"
    assert isinstance(info.value, StoreError)


def test_corrupt_block_raises_fetch_failed(store: LocalDirStore) -> None:
    t = pa.table({"a": list(range(100))})
    out = write_map_output(store, "c", t, None, 1)
    store.put("c", b"\x00" * out.bytes)
    with pytest.raises(FetchFailed) as info:
        read_blocks(store, [out.block(0)], t.schema)
    assert info.value.key == "c"


def test_partitions_written_by_duckdb_ids(store: LocalDirStore) -> None:
    """The path a task takes: DuckDB computes __pid, the writer groups by it."""
    con = duckdb.connect()
    src = pa.table(
        {"k": pa.array(range(5000), pa.int64()), "s": [f"v{i % 13}" for i in range(5000)]}
    )
    con.register("input_0", src)
    expr = partition_id_sql({"kind": "hash", "keys": ["k", "s"]}, 16)
    res = con.sql(f"SELECT *, {expr} AS __pid FROM input_0").to_arrow_table()
    ids = res.column("__pid")
    assert ids.type == pa.int32()
    data = res.drop_columns(["__pid"])
    out = write_map_output(store, "duck", data, ids, 16)
    parts = [read_blocks(store, [out.block(r)], data.schema) for r in range(16)]
    assert sum(p.num_rows for p in parts) == 5000
    assert sum(p.num_rows > 0 for p in parts) == 16
    assert pa.concat_tables(parts).sort_by("k").equals(src)


# -- partitioning -----------------------------------------------------------------------


def _pids(con: duckdb.DuckDBPyConnection, table: pa.Table, expr: str) -> list[int]:
    con.register("t", table)
    return [r[0] for r in con.sql(f"SELECT {expr} FROM t").fetchall()]


def test_hash_partitioning_is_deterministic_across_connections() -> None:
    table = pa.table(
        {
            "a": pa.array([1, 2, None, 4, -5] * 200, pa.int64()),
            "b b": pa.array(["x", None, "z", "w", 'q"'] * 200),
            "c": pa.array([1.5, -0.0, 0.0, float("nan"), None] * 200),
        }
    )
    expr = partition_id_sql({"kind": "hash", "keys": ["a", "b b", "c"]}, 7)
    first = _pids(duckdb.connect(), table, expr)
    second = _pids(duckdb.connect(), table, expr)
    assert first == second
    assert all(0 <= p < 7 for p in first)
    assert len(set(first)) > 1


def test_hash_partitioning_same_values_same_partition() -> None:
    left = pa.table({"k": pa.array([3, 99, 123456789], pa.int64())})
    right = pa.table({"k": pa.array([123456789, 3, 99], pa.int64()), "other": [1, 2, 3]})
    expr = partition_id_sql({"kind": "hash", "keys": ["k"]}, 32)
    a = dict(zip([3, 99, 123456789], _pids(duckdb.connect(), left, expr), strict=True))
    b = dict(zip([123456789, 3, 99], _pids(duckdb.connect(), right, expr), strict=True))
    assert a == b


def test_single_and_round_robin() -> None:
    t = pa.table({"x": range(10)})
    con = duckdb.connect()
    assert partition_id_sql({"kind": "single"}, 8) == "0"
    assert partition_id_sql({"kind": "hash", "keys": ["x"]}, 1) == "0"
    rr = _pids(con, t, partition_id_sql({"kind": "round_robin"}, 4))
    assert sorted(rr) == [0, 0, 0, 1, 1, 1, 2, 2, 3, 3]
    shifted = _pids(con, t, partition_id_sql({"kind": "round_robin", "start": 3}, 4))
    assert sorted(shifted) == [0, 0, 0, 1, 1, 2, 2, 3, 3, 3]  # 3,0,1,2,3,0,...


def test_identifiers_are_quoted() -> None:
    expr = partition_id_sql({"kind": "hash", "keys": ['we"ird', "select"]}, 4)
    assert '"we""ird"' in expr and '"select"' in expr
    t = pa.table({'we"ird': [1, 2], "select": ["a", "b"]})
    assert all(0 <= p < 4 for p in _pids(duckdb.connect(), t, expr))


@pytest.mark.parametrize(
    "spec, n",
    [
        ({"kind": "range"}, 4),
        ({"kind": "hash", "keys": []}, 4),
        ({"kind": "hash"}, 4),
        ({"kind": "single"}, 0),
    ],
)
def test_bad_partitioning_specs(spec: dict, n: int) -> None:
    with pytest.raises(ValueError):
        partition_id_sql(spec, n)


@pytest.mark.parametrize("codec", [None, "lz4"])
def test_streamed_batches_with_an_id_column(store: LocalDirStore, codec: str | None) -> None:
    """A record-batch reader grouped a few rows at a time: every partition is one IPC
    stream of several batches, the id column is not stored, and both the file store
    (chunks written as they are) and a network store (one assembled object) read back."""
    con = duckdb.connect()
    res = con.sql(
        "SELECT i AS k, repeat('x', (i % 5)::INT) AS s, (hash(i) % 7)::INT AS pid "
        "FROM range(5000) t(i)"
    )
    want = res.to_arrow_table()
    mem = DictStore()
    for target in (store, mem):
        reader = res.to_arrow_reader(1000)
        out = write_map_output(target, "streamed", reader, "pid", 7, codec, batch_rows=700)
        assert out.rows == 5000
        assert read_index(target, "streamed")[:-1] == out.partition_offsets
        data_schema = want.drop_columns(["pid"]).schema
        for r in range(7):
            got = read_blocks(target, [out.block(r)], data_schema)
            assert got.column_names == ["k", "s"]
            expect = want.filter(pc.equal(want["pid"], r)).drop_columns(["pid"])
            assert got.equals(expect)  # map-side order kept within each partition
            assert out.partition_rows[r] == expect.num_rows
