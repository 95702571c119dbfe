"""Fault injection with real functions: a sandbox killed mid-task, a straggler.

Each job must still return the right answer, and the job's counters must show what
happened (the retry, the speculative copy).
"""

from __future__ import annotations

import os
import signal
import threading
import time

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from sparkless.connect.server import SparkConnectServer
from sparkless.scheduler import listener as ev

SERVER_CONF = {"spark.sql.shuffle.partitions": "2", "spark.sparkless.maxConcurrency": "2"}


def _session(srv: SparkConnectServer) -> SparkSession:
    return SparkSession.builder.remote(f"sc://127.0.0.1:{srv.port}").create()


def _record(srv: SparkConnectServer) -> list:
    events: list = []
    srv.listeners.add(events.append)
    return events


def test_killed_sandbox_is_a_failed_attempt_and_the_task_is_retried(make_server):
    srv = make_server()
    events = _record(srv)
    platform = srv.engine.platform
    killed: list[int] = []

    def kill_when_busy() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            stats = platform.stats()
            if stats["busy"] and stats["busy"] == stats["live"]:  # every worker is mid-task
                pid = stats["worker_pids"][0]
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            time.sleep(0.01)

    spark = _session(srv)
    try:
        n = 30_000_000
        df = spark.range(0, n, numPartitions=2).select(F.sum(F.col("id") % 7).alias("s"))
        threading.Thread(target=kill_when_busy, daemon=True).start()
        (row,) = df.collect()
    finally:
        spark.stop()
    assert killed, "no worker was busy long enough to be killed"
    assert row.s == sum(i % 7 for i in range(7)) * (n // 7) + sum(i % 7 for i in range(n % 7))
    failures = [e for e in events if isinstance(e, ev.TaskEnd) and not e.ok]
    assert failures, "the killed attempt was not reported"
    assert any("exit" in (e.error or "") or "signal" in (e.error or "") for e in failures)
    (end,) = [e for e in events if isinstance(e, ev.JobEnd) and e.metrics.get("failed_attempts")]
    assert end.ok and end.metrics["failed_attempts"] >= 1


def test_straggler_gets_a_speculative_copy(make_server):
    srv = make_server(**{
        "spark.speculation": "true",
        "spark.speculation.quantile": "0.5",
        "spark.speculation.multiplier": "1.5",
        "spark.speculation.minTaskRuntime": "10ms",
    })
    spark = _session(srv)
    spark.range(0, 10, numPartitions=4).count()  # warm sandboxes: cold starts are not stragglers
    events = _record(srv)
    try:
        tiny = spark.range(0, 10, numPartitions=3)
        big = spark.range(0, 150_000_000, numPartitions=1)  # one task, far slower than the rest
        df = tiny.union(big).select(F.count("*").alias("n"), F.sum("id").alias("s"))
        (row,) = df.collect()
    finally:
        spark.stop()
    assert row.n == 10 + 150_000_000
    assert row.s == sum(range(10)) + 150_000_000 * (150_000_000 - 1) // 2
    (end,) = [e for e in events if isinstance(e, ev.JobEnd)]
    assert end.ok and end.metrics["speculative_tasks"] >= 1
    # One task per partition plus the copy; whichever attempt finished first was used.
    assert end.metrics["tasks"] >= 4 + 1 + end.metrics["speculative_tasks"]
