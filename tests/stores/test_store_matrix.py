"""The same end-to-end jobs through every store, and each store's failures, end to end.

One ``SparkConnectServer`` per store (``file``, ``s3`` on moto, ``redis`` on a real
redis/valkey server, ``crail`` on a metadata + 3 storage server subprocesses, 2 MB DRAM
each so blocks also spill to disk), started once for the module. Each job — a shuffle
join, a grouped aggregation, a global sort over several range partitions, a broadcast
join — must give the answer computed in plain Python and the ``file://`` store's answer.

Faults, per store:

* store down — redis and crail: the store's server is stopped, a query fails with a
  pyspark exception naming the store, the store is started again on the same port and
  the same Spark Connect server answers the next query. s3: moto's helper cannot restart
  on a fixed port, so a Spark Connect server is pointed at a dead loopback port; the query
  fails naming the endpoint and the server keeps answering (analysis). file: the root
  directory is replaced by a regular file, then put back.
* a key goes missing between stages — every map output of the first stage is deleted
  from the store the moment that stage completes; the driver recomputes it and the job
  returns the right answer.
* memory full — redis with a tiny ``maxmemory``; crail with a tiny DRAM tier and no disk
  tier (an in-process storage server: ``sparkless store serve`` always gives a storage
  server a disk tier, and the disk tier has no size limit, so through the CLI a crail
  store never fills — it spills; the same job through the module's 2 MB-DRAM cluster shows
  that). s3 (moto) and file have no capacity to exhaust here.

Every wait is bounded (``_bounded``: a hang fails the test instead of stalling the run).
"""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pyspark.errors import PySparkException
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from sparkless.connect.server import SparkConnectServer
from sparkless.scheduler import listener as ev
from storage import close_stores
from storage.crail.metadata import MetadataServer
from storage.crail.storage_server import StorageServer
from tests.stores.redis_server import RedisServer
from tests.stores.servers import (
    STORE_NAMES,
    CrailAll,
    RunningStore,
    dead_uri,
    running_store,
)

CONF = {"spark.sql.shuffle.partitions": "4", "spark.sql.autoBroadcastJoinThreshold": "-1"}
HANG_GUARD_S = 180.0  # not a performance bound: only turns a hang into a failure

ORDERS, CUSTOMERS, SEGMENTS = 6000, 40, 6


# --------------------------------------------------------------------------- the jobs


def _orders(spark: SparkSession):
    return spark.range(0, ORDERS, numPartitions=3).select(
        F.col("id").alias("oid"),
        (F.col("id") % 50).alias("cid"),
        ((F.col("id") * 7919) % 1000).alias("amount"),
    )


def _customers(spark: SparkSession):
    return spark.range(0, CUSTOMERS, numPartitions=2).select(
        F.col("id").alias("cid"), (F.col("id") % SEGMENTS).alias("region")
    )


def _join(spark: SparkSession) -> list[tuple]:
    rows = _orders(spark).join(_customers(spark), "cid").select("oid", "cid", "region", "amount")
    return sorted(tuple(r) for r in rows.collect())


def _aggregate(spark: SparkSession) -> list[tuple]:
    rows = (
        _orders(spark)
        .groupBy((F.col("cid") % 13).alias("k"))
        .agg(
            F.sum("amount").alias("total"),
            F.count("*").alias("n"),
            F.min("oid").alias("first"),
            F.max("oid").alias("last"),
        )
    )
    return sorted(tuple(r) for r in rows.collect())


def _sort(spark: SparkSession) -> list[tuple]:
    rows = _orders(spark).orderBy(F.col("amount").desc(), "oid").select("amount", "oid")
    return [tuple(r) for r in rows.collect()]  # order is the answer: not re-sorted


def _broadcast_join(spark: SparkSession) -> list[tuple]:
    spark.conf.set("spark.sql.autoBroadcastJoinThreshold", "10485760")  # Spark's default
    try:
        return _join(spark)
    finally:
        spark.conf.set("spark.sql.autoBroadcastJoinThreshold", "-1")


def _py_orders() -> list[tuple[int, int, int]]:
    return [(i, i % 50, (i * 7919) % 1000) for i in range(ORDERS)]


def _py_join() -> list[tuple]:
    return sorted((o, c, c % SEGMENTS, a) for o, c, a in _py_orders() if c < CUSTOMERS)


def _py_aggregate() -> list[tuple]:
    acc: dict[int, list[int]] = {}
    for o, c, a in _py_orders():
        g = acc.setdefault(c % 13, [0, 0, o, o])
        g[0] += a
        g[1] += 1
        g[2], g[3] = min(g[2], o), max(g[3], o)
    return sorted((k, *v) for k, v in acc.items())


def _py_sort() -> list[tuple]:
    return [(a, o) for o, _, a in sorted(_py_orders(), key=lambda r: (-r[2], r[0]))]


# name -> (the job, its plain-Python answer, a word the job's stage names must contain)
JOBS: dict[str, tuple[Callable[[SparkSession], list[tuple]], Callable[[], list[tuple]], str]] = {
    "shuffle_join": (_join, _py_join, "ShuffledHashJoin"),
    "grouped_aggregation": (_aggregate, _py_aggregate, "ShuffleMapStage"),
    "global_sort": (_sort, _py_sort, "RangePartitioning"),
    "broadcast_join": (_broadcast_join, _py_join, "BroadcastHashJoin"),
}


# --------------------------------------------------------------------------- fixtures


def _bounded(fn: Callable[[], Any], what: str) -> Any:
    """``fn()``, failing the test (instead of hanging the run) if it never returns."""
    pool = ThreadPoolExecutor(1, thread_name_prefix="matrix-bounded")
    try:
        return pool.submit(fn).result(timeout=HANG_GUARD_S)
    except FutureTimeout:
        pytest.fail(f"{what} did not return within {HANG_GUARD_S:.0f} s (hang)")
    finally:
        pool.shutdown(wait=False)


@dataclass
class Stack:
    """A store's servers + a Spark Connect server using it + a session, with the events."""

    store: RunningStore
    server: SparkConnectServer
    spark: SparkSession
    events: list = field(default_factory=list)

    def jobs_since(self, start: int) -> list[ev.Event]:
        return self.events[start:]


def _connect(port: int) -> SparkSession:
    return SparkSession.builder.remote(f"sc://127.0.0.1:{port}").create()


@contextlib.contextmanager
def _spark_on(uri: str) -> Iterator[tuple[SparkConnectServer, SparkSession]]:
    server = SparkConnectServer(port=0, conf=dict(CONF), store=uri)
    server.start()
    spark = _connect(server.port)
    try:
        yield server, spark
    finally:
        with contextlib.suppress(Exception):
            spark.stop()
        server.stop(grace=1)


@pytest.fixture(scope="module")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Stack]]:
    """``stacks(name)``: the module's stack for a store, started on first use."""
    exits = contextlib.ExitStack()
    made: dict[str, Stack] = {}

    def get(name: str) -> Stack:
        if name not in made:
            store = exits.enter_context(running_store(name, tmp_path_factory.mktemp(name)))
            server, spark = exits.enter_context(_spark_on(store.uri))
            stack = Stack(store, server, spark)
            server.listeners.add(stack.events.append)
            made[name] = stack
        return made[name]

    with exits:
        yield get
    close_stores()


@pytest.fixture(scope="module")
def answers(stacks: Callable[[str], Stack]) -> Callable[[str, str], tuple[list[tuple], list]]:
    """``answers(store, job)``: the job's rows through that store (run once) and its events."""
    done: dict[tuple[str, str], tuple[list[tuple], list]] = {}

    def get(store: str, job: str) -> tuple[list[tuple], list]:
        if (store, job) not in done:
            stack = stacks(store)
            start = len(stack.events)
            rows = _bounded(lambda: JOBS[job][0](stack.spark), f"{job} through {store}")
            done[store, job] = rows, stack.jobs_since(start)
        return done[store, job]

    return get


# --------------------------------------------------------------------------- same answers


@pytest.mark.parametrize("job", list(JOBS))
@pytest.mark.parametrize("store", STORE_NAMES)
def test_same_answer_through_every_store(
    store: str, job: str, stacks: Callable[[str], Stack], answers: Any
) -> None:
    rows, events = answers(store, job)
    expected = JOBS[job][1]()
    assert rows == expected, f"{job} through {store} differs from plain Python"
    assert rows == answers("file", job)[0], f"{job} through {store} differs from file://"

    ends = [e for e in events if isinstance(e, ev.JobEnd)]
    assert ends and all(e.ok for e in ends)
    assert sum(e.metrics.get("store_bytes_written", 0) for e in ends) > 0  # really went through
    names = " ".join(e.name for e in events if isinstance(e, ev.StageSubmitted))
    assert JOBS[job][2] in names, names
    if job == "global_sort":
        sampled = [e for e in events if isinstance(e, ev.StageSubmitted) and "RangeSample" in e.name]
        ranged = [e for e in events if isinstance(e, ev.StageSubmitted) and "RangePartitioning" in e.name]
        # Spark's RangePartitioner: a sampling stage, then every map partition sends each
        # row to its key range; the answer's order checks the ranges came back in order.
        assert sampled and ranged and ranged[0].num_tasks == 3
    stack = stacks(store)
    assert stack.server.engine.cleaner.flush(timeout=60)  # deleted after the answer
    for end in ends:  # the driver deleted every block of the job
        assert list(stack.server.engine.store.list_prefix(end.job_id + "/")) == []


# --------------------------------------------------------------------------- faults


def _group_count(spark: SparkSession, rows: int = 1000) -> list[tuple]:
    df = spark.range(0, rows, numPartitions=2).groupBy((F.col("id") % 3).alias("k")).count()
    return sorted(tuple(r) for r in df.collect())


def _py_group_count(rows: int = 1000) -> list[tuple]:
    return [(k, len(range(k, rows, 3))) for k in range(3)]


def _fails_naming(spark: SparkSession, words: list[str]) -> str:
    with pytest.raises(PySparkException) as info:
        _bounded(lambda: _group_count(spark), "a query against a dead store")
    message = str(info.value)
    for word in words:
        assert word in message, f"{word!r} not in the error: {message}"
    return message


@pytest.mark.parametrize("store", ["redis", "crail"])
def test_store_down_then_back(store: str, tmp_path: Path) -> None:
    """Stop the store's server: a clear error; start it again on the same port: served."""
    server: Any = RedisServer() if store == "redis" else CrailAll(servers=2, dram="64MB")
    server.start()
    try:
        with _spark_on(server.uri) as (_, spark):
            assert _bounded(lambda: _group_count(spark), "warm-up") == _py_group_count()
            server.stop()
            word = (
                server.uri if store == "redis" else f"crail metadata server 127.0.0.1:{server.port}"
            )
            _fails_naming(spark, [word, "unreachable"])
            server.start()  # a new server process on the same port (empty)
            assert _bounded(lambda: _group_count(spark), "after restart") == _py_group_count()
    finally:
        server.stop()
        close_stores()


def test_s3_endpoint_down() -> None:
    """moto's helper binds a fresh port each start, so 'down' is an endpoint nobody serves."""
    with _spark_on(dead_uri("s3")) as (_, spark):
        message = _fails_naming(spark, ["s3://", "Could not connect to the endpoint URL"])
        assert "127.0.0.1" in message
        # the server process is still serving: an analysis round trip needs no store
        assert _bounded(lambda: spark.range(3).schema.names, "analysis") == ["id"]
    close_stores()


def test_file_root_gone_then_back(tmp_path: Path) -> None:
    root = tmp_path / "store"
    root.mkdir()
    with _spark_on(root.as_uri()) as (server, spark):
        assert _bounded(lambda: _group_count(spark), "warm-up") == _py_group_count()
        assert server.engine.cleaner.flush(timeout=60)  # its blocks are deleted after the answer
        shutil.rmtree(root)
        root.write_bytes(b"")  # the store's directory is now a regular file
        _fails_naming(spark, [str(root)])
        root.unlink()
        root.mkdir()
        assert _bounded(lambda: _group_count(spark), "after repair") == _py_group_count()
    close_stores()


@pytest.mark.parametrize("store", STORE_NAMES)
def test_lost_map_outputs_are_recomputed(store: str, stacks: Callable[[str], Stack]) -> None:
    """Delete the first stage's map outputs from the store as it completes."""
    stack = stacks(store)
    driver_store = stack.server.engine.store
    deleted: list[int] = []

    def on_event(event: ev.Event) -> None:
        if isinstance(event, ev.StageCompleted) and not deleted:
            deleted.append(driver_store.delete_prefix(f"{event.job_id}/stage-{event.stage_id}/"))

    start = len(stack.events)
    stack.server.listeners.add(on_event)
    try:
        rows = _bounded(lambda: _aggregate(stack.spark), f"aggregation through {store}")
    finally:
        stack.server.listeners.remove(on_event)
    assert deleted and deleted[0] >= 1, "nothing was deleted: the fault never happened"
    assert rows == _py_aggregate()
    events = stack.jobs_since(start)
    ends = [e for e in events if isinstance(e, ev.JobEnd)]
    assert ends and ends[-1].ok
    assert sum(e.metrics.get("recomputed_map_tasks", 0) for e in ends) >= 1
    failed = [e for e in events if isinstance(e, ev.TaskEnd) and not e.ok]
    assert any("fetch failed" in (e.error or "") for e in failed), failed


def _big_job(spark: SparkSession, rows: int) -> list[tuple]:
    """A shuffle join whose both sides go through the store whole (no map-side
    aggregation to shrink them): 96 characters of poorly compressible hex per row."""
    big = spark.range(0, rows, numPartitions=2).select(
        (F.col("id") % 7).alias("k"),
        F.concat(F.sha2(F.col("id").cast("string"), 256), F.md5(F.col("id").cast("string"))).alias(
            "h"
        ),
    )
    small = spark.range(0, 7).select(F.col("id").alias("k"))
    joined = big.join(small, "k").groupBy("k").agg(F.count("*"), F.sum(F.length("h")))
    return sorted(tuple(r) for r in joined.collect())


BIG = 100_000


def _py_big(rows: int) -> list[tuple]:
    return [(k, n, 96 * n) for k in range(7) for n in [len(range(k, rows, 7))]]


def _wait_empty(count: Callable[[], int]) -> None:
    deadline = time.monotonic() + HANG_GUARD_S
    while count() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert count() == 0, "the failed job left blocks behind"


def test_redis_full_is_a_clear_error() -> None:
    with RedisServer(maxmemory="2mb") as full:
        with _spark_on(full.uri) as (_, spark):
            with pytest.raises(PySparkException) as info:
                _bounded(lambda: _big_job(spark, BIG), "a job on a full Redis")
            message = str(info.value)
            assert full.uri in message and "maxmemory" in message, message
            client = full.client()
            _wait_empty(client.dbsize)
            # UNLINK frees memory in a background thread: wait until it has dropped
            limit = int(client.config_get("maxmemory")["maxmemory"])
            _wait_empty(lambda: client.info("memory")["used_memory"] >= 0.8 * limit)
            assert _bounded(lambda: _group_count(spark), "after") == _py_group_count()
    close_stores()


def test_crail_full_is_a_clear_error_and_spills_when_it_has_disk(
    stacks: Callable[[str], Stack],
) -> None:
    metadata = MetadataServer("127.0.0.1", 0)
    metadata.start()
    storage = StorageServer((metadata.host, metadata.port), dram_capacity=256 << 10, disk_dir=None)
    storage.start()
    try:
        with _spark_on(metadata.uri) as (_, spark):
            with pytest.raises(PySparkException) as info:
                _bounded(lambda: _big_job(spark, BIG), "a job on a full crail store")
            message = str(info.value)
            assert "DRAM tier full" in message and storage.address in message, message
            _wait_empty(lambda: storage.tiers.stats()["dram_blocks"])
            assert _bounded(lambda: _group_count(spark), "after") == _py_group_count()
    finally:
        storage.stop()
        metadata.stop()
        close_stores()
    # The same job through the CLI-started cluster (2 MB DRAM per server + a disk tier).
    assert _bounded(lambda: _big_job(stacks("crail").spark, BIG), "spilling job") == _py_big(BIG)
