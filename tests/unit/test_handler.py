"""The function handler, called in-process: inputs → DuckDB fragment → store."""

from __future__ import annotations

import csv
import json
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from executors.events import attempt_prefix
from executors.handler import handler
from shuffle.arrow_io import ipc_to_table, schema_to_b64, table_to_ipc
from shuffle.reader import read_blocks
from storage import open_store

ROWS = pa.table(
    {
        "id": pa.array(range(100), pa.int64()),
        "grp": pa.array([f"g{i % 7}" for i in range(100)]),
        "v": pa.array([float(i) / 2 for i in range(100)]),
    }
)


@pytest.fixture
def store_uri(tmp_path) -> str:
    return f"file://{tmp_path}/store"


def put_block(uri: str, key: str, table: pa.Table) -> dict[str, Any]:
    open_store(uri).put(key, table_to_ipc(table, "lz4"))
    return {"name": "input_0", "kind": "block", "key": key, "schema": schema_to_b64(table.schema)}


def event(uri: str, sql: str, inputs: list, output: dict, partition: int = 0, **conf) -> dict:
    return {
        "job_id": "j-test",
        "stage_id": 1,
        "partition": partition,
        "attempt": 0,
        "store": uri,
        "sql": sql,
        "inputs": inputs,
        "output": output,
        "conf": conf,
    }


def ok(result: dict) -> dict:
    assert result["status"] == "ok", result.get("error")
    return result["output"]


def test_block_input_to_result(store_uri):
    inp = put_block(store_uri, "j-test/in/0", ROWS)
    ev = event(
        store_uri,
        "SELECT grp, count(*) AS n, sum(v) AS s FROM input_0 GROUP BY grp ORDER BY grp;",
        [inp],
        {"kind": "result"},
    )
    result = handler(ev)
    out = ok(result)
    assert out["key"] == attempt_prefix(ev) + "/result.arrow"
    got = ipc_to_table(open_store(store_uri).get(out["key"]))
    assert got.column("grp").to_pylist() == [f"g{i}" for i in range(7)]
    assert sum(got.column("n").to_pylist()) == 100
    assert out["rows"] == 7
    metrics = result["metrics"]
    assert metrics["input_rows"] == 100 and metrics["output_rows"] == 7
    assert metrics["store"]["bytes_written"] == out["bytes"]
    json.dumps(result)  # the result contract is JSON


@pytest.mark.parametrize("kind", ["hash", "round_robin"])
def test_shuffle_output_every_row_in_exactly_one_partition(store_uri, kind):
    inp = put_block(store_uri, "j-test/in/0", ROWS)
    partitioning = {"kind": kind, "keys": ["grp"]} if kind == "hash" else {"kind": kind}
    output = {
        "kind": "shuffle",
        "shuffle_id": 0,
        "map_id": 0,
        "num_partitions": 4,
        "partitioning": partitioning,
    }
    out = ok(handler(event(store_uri, "SELECT id, grp, v FROM input_0", [inp], output)))
    assert len(out["partition_lengths"]) == 4 and out["rows"] == 100
    store = open_store(store_uri)
    seen: list[int] = []
    groups_per_partition = []
    for r in range(4):
        block = {
            "key": out["key"],
            "offset": out["partition_offsets"][r],
            "length": out["partition_lengths"][r],
        }
        part = read_blocks(store, [block], ROWS.schema)
        assert part.column_names == ["id", "grp", "v"]  # the partition id column is dropped
        seen += part.column("id").to_pylist()
        groups_per_partition.append(set(part.column("grp").to_pylist()))
    assert sorted(seen) == list(range(100))
    if kind == "hash":  # one key never spans two partitions
        for i, a in enumerate(groups_per_partition):
            for b in groups_per_partition[i + 1 :]:
                assert not a & b


def test_shuffle_input_reads_reduce_partition(store_uri):
    inp = put_block(store_uri, "j-test/in/0", ROWS)
    output = {
        "kind": "shuffle",
        "shuffle_id": 0,
        "map_id": 0,
        "num_partitions": 3,
        "partitioning": {"kind": "hash", "keys": ["id"]},
    }
    maps = [
        ok(handler(event(store_uri, "SELECT * FROM input_0", [inp], output, partition=p)))
        for p in range(2)
    ]
    total = 0
    for r in range(3):
        blocks = [
            {
                "key": m["key"],
                "offset": m["partition_offsets"][r],
                "length": m["partition_lengths"][r],
            }
            for m in maps
        ]
        shuffle_in = {
            "name": "input_0",
            "kind": "shuffle",
            "schema": schema_to_b64(ROWS.schema),
            "blocks": blocks,
        }
        ev = event(
            store_uri,
            "SELECT count(*) AS n FROM input_0",
            [shuffle_in],
            {"kind": "result"},
            partition=10 + r,
        )
        out = ok(handler(ev))
        total += ipc_to_table(open_store(store_uri).get(out["key"])).column("n")[0].as_py()
    assert total == 200


def test_missing_shuffle_block_is_fetch_failed(store_uri):
    shuffle_in = {
        "name": "input_0",
        "kind": "shuffle",
        "schema": schema_to_b64(ROWS.schema),
        "blocks": [{"key": "j-test/gone/shuffle.data", "offset": 0, "length": 10}],
    }
    result = handler(event(store_uri, "SELECT * FROM input_0", [shuffle_in], {"kind": "result"}))
    assert result["status"] == "error"
    err = result["error"]
    assert err["exception"] == "org.apache.spark.shuffle.FetchFailedException"
    assert err["error_class"] == "FETCH_FAILED"
    assert err["fetch_failed"]["key"] == "j-test/gone/shuffle.data"


def _files_event(uri, tmp_path, fmt, partition_by=(), options=None):
    inp = put_block(uri, "j-test/in/0", ROWS)
    output = {
        "kind": "files",
        "format": fmt,
        "path": str(tmp_path / "staging"),
        "partition_by": list(partition_by),
        "options": options or {},
        "file_prefix": "part-00005-0b1c7e3a-5d2e-4b7a-9a34-1f0e2d3c4b5a",
    }
    return event(uri, "SELECT * FROM input_0 ORDER BY id", [inp], output, partition=5)


def test_files_parquet_partitioned(store_uri, tmp_path):
    out = ok(handler(_files_event(store_uri, tmp_path, "parquet", ["grp"])))
    assert out["rows"] == 100 and len(out["files"]) == 7
    for rel in out["files"]:
        directory, name = rel.split("/")
        assert directory.startswith("grp=g")
        assert name == "part-00005-0b1c7e3a-5d2e-4b7a-9a34-1f0e2d3c4b5a-c000.snappy.parquet"
    first = pq.ParquetFile(tmp_path / "staging" / out["files"][0])
    assert first.schema_arrow.names == ["id", "v"]  # partition column lives in the path
    assert first.metadata.row_group(0).column(0).compression == "SNAPPY"
    total = sum(pq.read_table(tmp_path / "staging" / f).num_rows for f in out["files"])
    assert total == 100


def test_files_csv_spark_defaults_and_options(store_uri, tmp_path):
    out = ok(handler(_files_event(store_uri, tmp_path, "csv")))
    assert out["files"] == ["part-00005-0b1c7e3a-5d2e-4b7a-9a34-1f0e2d3c4b5a-c000.csv"]
    lines = (tmp_path / "staging" / out["files"][0]).read_text().splitlines()
    assert lines[0] == "0,g0,0.0"  # no header by default, as in Spark
    assert len(lines) == 100

    ev = _files_event(
        store_uri, tmp_path / "b", "csv", options={"header": "true", "sep": ";", "nullValue": "NA"}
    )
    ev["sql"] = "SELECT id, CASE WHEN id = 1 THEN NULL ELSE grp END AS grp FROM input_0 ORDER BY id"
    out = ok(handler(ev))
    with open(tmp_path / "b" / "staging" / out["files"][0], newline="") as f:
        rows = list(csv.reader(f, delimiter=";"))
    assert rows[0] == ["id", "grp"] and rows[2] == ["1", "NA"]


def test_files_json(store_uri, tmp_path):
    out = ok(handler(_files_event(store_uri, tmp_path, "json", ["grp"])))
    assert all(f.endswith("-c000.json") for f in out["files"])
    records = []
    for rel in out["files"]:
        with open(tmp_path / "staging" / rel) as f:
            records += [json.loads(line) for line in f]
    assert sorted(r["id"] for r in records) == list(range(100))
    assert "grp" not in records[0]


def test_divide_by_zero_maps_to_spark_arithmetic(store_uri):
    inp = put_block(store_uri, "j-test/in/0", ROWS)
    sql = (
        "SELECT CASE WHEN id - id = 0 THEN error('[DIVIDE_BY_ZERO] Division by zero. "
        "Use `try_divide` to tolerate divisor being 0 and return NULL instead.') "
        "ELSE v / (id - id) END AS q FROM input_0"
    )
    result = handler(event(store_uri, sql, [inp], {"kind": "result"}))
    assert result["status"] == "error"
    err = result["error"]
    assert err["exception"] == "org.apache.spark.SparkArithmeticException"
    assert err["error_class"] == "DIVIDE_BY_ZERO"
    assert err["sql_state"] == "22012"
    assert err["message"].startswith("[DIVIDE_BY_ZERO] Division by zero. Use `try_divide`")


@pytest.mark.parametrize(
    ("sql", "error_class", "exception"),
    [
        (
            "SELECT CAST(grp AS INTEGER) FROM input_0",
            "CAST_INVALID_INPUT",
            "org.apache.spark.SparkNumberFormatException",
        ),
        (
            "SELECT CAST(id AS INTEGER) + 2147483647 FROM input_0",
            "ARITHMETIC_OVERFLOW",
            "org.apache.spark.SparkArithmeticException",
        ),
        (
            "SELECT error('[SOME_NEW_CLASS] boom') FROM input_0",
            "SOME_NEW_CLASS",
            "org.apache.spark.SparkRuntimeException",
        ),
    ],
)
def test_duckdb_errors_map_to_spark(store_uri, sql, error_class, exception):
    inp = put_block(store_uri, "j-test/in/0", ROWS)
    err = handler(event(store_uri, sql, [inp], {"kind": "result"}))["error"]
    assert (err["error_class"], err["exception"]) == (error_class, exception)
    assert err["message"].startswith(f"[{error_class}] ")
    assert "LINE 1" not in err["message"]


def test_bad_sql_is_spark_exception(store_uri):
    result = handler(event(store_uri, "SELEC nonsense FROM", [], {"kind": "result"}))
    assert result["status"] == "error"
    err = result["error"]
    assert err["exception"] == "org.apache.spark.SparkException"
    assert "error_class" not in err
    assert "Traceback" in err["traceback"]


def test_views_do_not_leak_between_tasks(store_uri):
    inp = put_block(store_uri, "j-test/in/0", ROWS)
    ok(handler(event(store_uri, "SELECT count(*) FROM input_0", [inp], {"kind": "result"})))
    second = handler(
        event(store_uri, "SELECT count(*) FROM input_0", [], {"kind": "result"}, partition=1)
    )
    assert second["status"] == "error"
    assert "input_0" in second["error"]["message"]


def test_views_are_dropped_after_a_failed_task(store_uri):
    inp = put_block(store_uri, "j-test/in/0", ROWS)
    assert (
        handler(event(store_uri, "SELECT nope FROM input_0", [inp], {"kind": "result"}))["status"]
        == "error"
    )
    second = handler(event(store_uri, "SELECT * FROM input_0", [], {"kind": "result"}))
    assert second["status"] == "error"


def test_threads_setting_applies(store_uri):
    ev = event(
        store_uri,
        "SELECT current_setting('threads') AS t",
        [],
        {"kind": "result"},
        **{"spark.sparkless.task.threads": "2"},
    )
    out = ok(handler(ev))
    assert ipc_to_table(open_store(store_uri).get(out["key"])).column("t")[0].as_py() == 2


def test_warm_function_caches_a_broadcast_it_has_read(store_uri):
    from shuffle.writer import write_map_output

    store = open_store(store_uri)
    build = pa.table({"k": [1, 2, 3], "name": ["a", "b", "c"]})
    out = write_map_output(store, "j/bcast/map0", build, None, 1)
    spec = {
        "name": "bcast",
        "kind": "shuffle",
        "cache": True,
        "schema": schema_to_b64(build.schema),
        "blocks": [{"key": out.key, "offset": out.partition_offsets[0], "length": out.partition_lengths[0]}],
    }
    sql = "SELECT name FROM bcast WHERE k >= 2 ORDER BY k"
    reads = []
    for partition in (0, 1):
        result = handler(event(store_uri, sql, [dict(spec)], {"kind": "result"}, partition))
        output = ok(result)
        reads.append(result["metrics"]["store"]["bytes_read"])
        assert ipc_to_table(store.get(output["key"])).column(0).to_pylist() == ["b", "c"]
    assert reads[0] > 0 and reads[1] == 0  # the second task of this warm process read nothing


def test_empty_broadcasts_with_different_columns_do_not_share_a_cache_entry(store_uri):
    """An empty broadcast has no blocks; the cache key must still tell two of them apart."""
    for columns in (["a", "b"], ["x"]):
        schema = pa.schema([(c, pa.int64()) for c in columns])
        spec = {"name": "bcast", "kind": "shuffle", "cache": True,
                "schema": schema_to_b64(schema), "blocks": []}
        sql = f"SELECT {', '.join(columns)} FROM bcast"
        output = ok(handler(event(store_uri, sql, [spec], {"kind": "result"}, 0)))
        assert ipc_to_table(open_store(store_uri).get(output["key"])).column_names == columns


def test_precomputed_partition_ids_are_used_and_not_stored(store_uri):
    """Range partitioning: the fragment computes the id column itself (``__k0``)."""
    inp = put_block(store_uri, "j-test/in/0", ROWS)
    output = {
        "kind": "shuffle",
        "shuffle_id": 0,
        "map_id": 0,
        "num_partitions": 3,
        "partitioning": {"kind": "precomputed", "column": "__k0"},
    }
    sql = "SELECT id, grp, v, (id // 40)::BIGINT AS __k0 FROM input_0"
    out = ok(handler(event(store_uri, sql, [inp], output)))
    assert out["partition_rows"] == [40, 40, 20]
    store = open_store(store_uri)
    for r, (lo, hi) in enumerate([(0, 40), (40, 80), (80, 100)]):
        block = {"key": out["key"], "offset": out["partition_offsets"][r], "length": out["partition_lengths"][r]}
        part = read_blocks(store, [block], ROWS.schema)
        assert part.column_names == ["id", "grp", "v"]
        assert part.column("id").to_pylist() == list(range(lo, hi))


def test_error_after_the_first_batch_keeps_its_spark_class(store_uri):
    """Shuffle output is streamed from DuckDB; a failure past the first batch still maps."""
    sql = (
        "SELECT i, CAST(CASE WHEN i > 1500000 THEN 'x' ELSE '1' END AS INTEGER) AS n "
        "FROM range(2000000) t(i)"
    )
    output = {
        "kind": "shuffle",
        "shuffle_id": 0,
        "map_id": 0,
        "num_partitions": 2,
        "partitioning": {"kind": "hash", "keys": ["i"]},
    }
    err = handler(event(store_uri, sql, [], output))["error"]
    assert (err["error_class"], err["exception"]) == (
        "CAST_INVALID_INPUT",
        "org.apache.spark.SparkNumberFormatException",
    )


def test_result_error_after_the_first_batch_keeps_its_spark_class(store_uri):
    """Result output is streamed too; the same failure past the first batch still maps."""
    sql = (
        "SELECT i, CAST(CASE WHEN i > 1500000 THEN 'x' ELSE '1' END AS INTEGER) AS n "
        "FROM range(2000000) t(i)"
    )
    err = handler(event(store_uri, sql, [], {"kind": "result"}))["error"]
    assert (err["error_class"], err["exception"]) == (
        "CAST_INVALID_INPUT",
        "org.apache.spark.SparkNumberFormatException",
    )
