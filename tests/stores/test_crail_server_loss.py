"""A crail:// storage server that disappears mid-job loses no data.

Real parts: a metadata server and three storage servers as processes, a sparkless
server, the stock client. When the map stage completes, one storage server is killed;
reducers that need its blocks get a fetch failure, the driver re-runs exactly the map
tasks whose outputs were on it (their new outputs land on the survivors), and the job
returns the right answer.
"""

from __future__ import annotations

import signal

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from sparkless.connect.server import SparkConnectServer
from sparkless.scheduler import listener as ev
from storage import close_stores
from tests.stores.test_crail_store import Cluster


def test_killed_storage_server_makes_the_driver_recompute(tmp_path):
    cluster = Cluster(tmp_path / "crail", servers=3)
    srv = SparkConnectServer(
        port=0,
        conf={"spark.sql.shuffle.partitions": "6", "spark.sql.autoBroadcastJoinThreshold": "-1"},
        store=cluster.uri,
    )
    srv.start()
    events: list = []
    victim: list[str] = []

    def on_event(event: ev.Event) -> None:
        events.append(event)
        if isinstance(event, ev.StageCompleted) and not victim:
            address, proc = next(iter(cluster.storage.items()))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            victim.append(address)

    srv.listeners.add(on_event)
    spark = SparkSession.builder.remote(f"sc://127.0.0.1:{srv.port}").create()
    try:
        df = spark.range(0, 60_000, numPartitions=6).withColumn("k", F.col("id") % 11)
        rows = df.groupBy("k").agg(F.sum("id").alias("s"), F.count("*").alias("n")).collect()
    finally:
        spark.stop()
        srv.stop(grace=1)
        close_stores()
        cluster.stop()
    assert victim, "no storage server was killed"
    expected = {k: (sum(i for i in range(60_000) if i % 11 == k), 60_000 // 11 + (k < 60_000 % 11))
                for k in range(11)}
    assert {r.k: (r.s, r.n) for r in rows} == expected
    (end,) = [e for e in events if isinstance(e, ev.JobEnd)]
    assert end.ok and end.metrics["recomputed_map_tasks"] >= 1 and end.metrics["fetch_failures"] >= 1
