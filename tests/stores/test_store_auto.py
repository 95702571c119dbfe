"""spark.sparkless.store=auto: small shuffles to the fast store, large ones to the big one.

Real parts: a Redis server (small) and a directory (large); the same job's shuffles
land in different stores, and the answer does not depend on where they went.
"""

from __future__ import annotations

import os

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from sparkless.connect.server import SparkConnectServer
from storage import close_stores
from tests.stores.redis_server import RedisServer


def _shuffle_files_under(path: str) -> int:
    return sum(f.count("shuffle.data") for _, _, files in os.walk(path) for f in files)


def test_auto_places_shuffles_by_estimated_size(tmp_path):
    large_dir = tmp_path / "large"
    large_dir.mkdir()
    with RedisServer() as small:
        conf = {
            "spark.sql.shuffle.partitions": "4",
            "spark.sql.autoBroadcastJoinThreshold": "-1",
            "spark.sparkless.store": "auto",
            "spark.sparkless.store.auto.small": small.uri,
            "spark.sparkless.store.auto.large": f"file://{large_dir}",
            "spark.sparkless.store.auto.threshold": "64k",
        }
        srv = SparkConnectServer(port=0, conf=conf)
        port = srv.start()
        spark = SparkSession.builder.remote(f"sc://127.0.0.1:{port}").create()
        seen: set[str] = set()

        def watch(event) -> None:  # noqa: ANN001 - a listener
            if _shuffle_files_under(str(large_dir)):
                seen.add("large")
            if any(b"shuffle.data" in k for k in small.client().keys("*")):
                seen.add("small")

        srv.listeners.add(watch)
        try:
            big = spark.range(0, 200_000, numPartitions=4).withColumn("k", F.col("id") % 10)
            tiny = spark.createDataFrame([(k, f"name{k}") for k in range(10)], "k long, name string")
            rows = big.join(tiny, "k").groupBy("name").agg(F.sum("id").alias("s")).collect()
        finally:
            spark.stop()
            srv.stop(grace=1)
            close_stores()
        expected = {f"name{k}": sum(i for i in range(200_000) if i % 10 == k) for k in range(10)}
        assert {r.name: r.s for r in rows} == expected
        # The 200k-row side (1.6 MB estimated) went to the directory, the 10-row side to Redis.
        assert seen == {"small", "large"}
        assert small.client().dbsize() == 0
