"""Losing shuffle output between stages loses no data: the driver recomputes it.

A real server, real functions, a real store: a listener deletes every map output
of the first shuffle the moment that stage completes, before any reducer reads it.
"""

from __future__ import annotations

import os

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from sparkless.connect.server import SparkConnectServer
from sparkless.scheduler import listener as ev


@pytest.fixture()
def server(tmp_path):
    srv = SparkConnectServer(port=0, conf={"spark.sql.shuffle.partitions": "4"}, store=f"file://{tmp_path}")
    srv.start()
    yield srv
    srv.stop(grace=1)


def _delete_first_shuffle(store_dir: str, events: list) -> ev.Listener:
    done = {"deleted": 0}

    def on_event(event: ev.Event) -> None:
        events.append(event)
        if isinstance(event, ev.StageCompleted) and not done["deleted"]:
            for root, _, files in os.walk(store_dir):
                for f in files:
                    if f == "shuffle.data":
                        os.remove(os.path.join(root, f))
                        done["deleted"] += 1

    return on_event


def test_deleted_map_outputs_are_recomputed(server, tmp_path):
    events: list = []
    server.listeners.add(_delete_first_shuffle(str(tmp_path), events))
    spark = SparkSession.builder.remote(f"sc://127.0.0.1:{server.port}").create()
    try:
        df = spark.range(0, 10_000, numPartitions=3).withColumn("k", F.col("id") % 7)
        rows = df.groupBy("k").agg(F.sum("id").alias("s")).orderBy("k").collect()
    finally:
        spark.stop()
    expected = {k: sum(i for i in range(10_000) if i % 7 == k) for k in range(7)}
    assert {r.k: r.s for r in rows} == expected
    ends = [e for e in events if isinstance(e, ev.JobEnd)]
    assert ends and ends[-1].ok
    assert sum(e.metrics.get("recomputed_map_tasks", 0) for e in ends) >= 1
    failed = [e for e in events if isinstance(e, ev.TaskEnd) and not e.ok]
    assert any("fetch failed" in (e.error or "") for e in failed)
