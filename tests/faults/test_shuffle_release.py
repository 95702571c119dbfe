"""Consumed shuffle slices are released while the job runs (a real server, real
functions, the file store), and never where another reader still needs them.

The scheduler punches a reduce partition's slices out of the map outputs once the result
task that read them is accepted (``DAGScheduler._release_inputs``); which shuffles qualify
(one reduce-side reader, never a broadcast or a reused exchange) is unit-tested in
``tests/unit/test_dag_input_bytes.py``.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from sparkless.connect.server import SparkConnectServer
from sparkless.scheduler import listener as ev

ROWS = 200_000


SERVER_CONF = {
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.autoBroadcastJoinThreshold": "-1",  # the self-join stays a shuffled one
}


def _shuffle_files(root: Path) -> list[Path]:
    return list(root.rglob("shuffle.data"))  # executors.handler's map output name


def _watch(srv: SparkConnectServer) -> dict:
    """Events, plus the shuffle files' (size, allocated bytes) when the last stage ends,
    i.e. after every release and before the job's cleanup deletes them."""
    seen: dict = {"events": [], "files": []}

    def on_event(event: ev.Event) -> None:
        seen["events"].append(event)
        if isinstance(event, ev.StageCompleted):
            srv.engine.cleaner.flush(timeout=30)  # releases run on the cleaner's thread
            seen["files"] = [(p.stat().st_size, p.stat().st_blocks * 512) for p in _shuffle_files(srv.engine.store.root)]

    srv.listeners.add(on_event)
    return seen


def _job_metrics(seen: dict) -> dict:
    ends = [e for e in seen["events"] if isinstance(e, ev.JobEnd)]
    assert ends and all(e.ok for e in ends)
    return ends[-1].metrics


def _padded(spark: SparkSession):
    return spark.range(0, ROWS, numPartitions=3).withColumn("pad", F.repeat(F.lit("x"), 40))


def _repartition_and_write(srv: SparkConnectServer, out: Path) -> None:
    """A job whose result stage reads a shuffle (nothing else does), then checked whole."""
    spark = SparkSession.builder.remote(f"sc://127.0.0.1:{srv.port}").create()
    try:
        _padded(spark).repartition(4, "id").write.parquet(str(out))
    finally:
        spark.stop()
    table = pq.read_table(out)
    assert table.num_rows == ROWS
    assert sorted(table.column("id").to_pylist()) == list(range(ROWS))
    assert set(table.column("pad").to_pylist()) == {"x" * 40}


def test_a_read_once_shuffle_is_released_as_its_readers_finish(make_server, tmp_path):
    srv = make_server()
    seen = _watch(srv)
    _repartition_and_write(srv, tmp_path / "out")
    metrics = _job_metrics(seen)
    assert metrics.get("recomputed_map_tasks", 0) == 0
    assert metrics["shuffle_bytes_released"] > ROWS * 40  # the padded rows went through
    assert seen["files"], "no shuffle file was left to inspect"
    size = sum(s for s, _ in seen["files"])
    allocated = sum(a for _, a in seen["files"])
    assert allocated < size / 4, (size, allocated)  # holes where the slices were


def test_a_join_of_two_released_shuffles_reads_every_slice_once(make_server, tmp_path):
    """Both sides of a shuffled self-join are released by the result tasks that read them;
    no task ever meets a hole (no failed attempt, no recomputed map task)."""
    srv = make_server()
    seen = _watch(srv)
    spark = SparkSession.builder.remote(f"sc://127.0.0.1:{srv.port}").create()
    try:
        agg = _padded(spark).groupBy((F.col("id") % 5).alias("k")).agg(F.sum("id").alias("s"))
        rows = agg.join(agg.withColumnRenamed("s", "s2"), "k").collect()  # the result stage joins
    finally:
        spark.stop()
    expected = {k: sum(range(k, ROWS, 5)) for k in range(5)}
    assert {r.k: (r.s, r.s2) for r in rows} == {k: (v, v) for k, v in expected.items()}
    metrics = _job_metrics(seen)
    assert metrics["shuffle_bytes_released"] > 0
    assert metrics.get("recomputed_map_tasks", 0) == 0
    failed = [e for e in seen["events"] if isinstance(e, ev.TaskEnd) and not e.ok]
    assert not failed, [e.error for e in failed]


def test_release_can_be_turned_off(make_server, tmp_path):
    srv = make_server(**{"spark.sparkless.shuffle.releaseConsumed": "false"})
    seen = _watch(srv)
    _repartition_and_write(srv, tmp_path / "out")
    assert "shuffle_bytes_released" not in _job_metrics(seen)
    assert seen["files"]
    assert all(allocated >= size for size, allocated in seen["files"]), seen["files"]

