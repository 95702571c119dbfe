"""RedisStore against a real Redis-compatible server on 127.0.0.1 (``redis_server.py``).

Small chunk sizes make every chunking path run on small values. Request counts come from
the store's own metrics (round trips) and from the server's INFO commandstats.
"""

from __future__ import annotations

import os
import random
import socket
import threading
import time
from collections.abc import Iterator

import pyarrow as pa
import pytest

from shuffle.reader import read_blocks
from shuffle.writer import write_map_output
from storage import (
    BlockNotFound,
    RangeRequest,
    StoreError,
    TransientStoreError,
    close_stores,
    open_store,
)
from storage.redisstore import RedisStore, StoreAuthError, StoreFull, parse_uri
from tests.stores.redis_server import RedisServer

CHUNK = 1000


@pytest.fixture(scope="module")
def server() -> Iterator[RedisServer]:
    with RedisServer() as srv:
        yield srv


@pytest.fixture
def store(server: RedisServer) -> Iterator[RedisStore]:
    server.client().flushdb()
    st = RedisStore.from_uri(f"{server.uri}?chunk_size={CHUNK}")
    yield st
    st.close()


def redis_keys(server: RedisServer) -> list[bytes]:
    return sorted(server.client().keys("*"))


def command_calls(server: RedisServer, command: str) -> int:
    stats = server.client().info("commandstats")
    return int(stats.get(f"cmdstat_{command}", {}).get("calls", 0))


# --------------------------------------------------------------------------- config


def test_uri_options_and_redaction() -> None:
    cfg = parse_uri("rediss://alice:p%40ss@cache.example:6380/3?chunk_size=8MiB&retries=1")
    assert (cfg.host, cfg.port, cfg.db, cfg.username, cfg.password, cfg.tls) == (
        "cache.example",
        6380,
        3,
        "alice",
        "p@ss",
        True,
    )
    assert cfg.chunk_size == 8 << 20 and cfg.retries == 1
    assert cfg.redacted_uri == "rediss://alice:***@cache.example:6380/3"
    assert parse_uri("redis://:pw@h").redacted_uri == "redis://:***@h:6379/0"
    for bad in (
        "redis://h/x",
        "redis://h?chunk_size=1GiB",
        "redis://h?bogus=1",
        "redis://:pw@h?retries=x",
        "redis:///0",
    ):
        with pytest.raises(ValueError) as info:
            parse_uri(bad)
        assert "pw" not in str(info.value)


def test_schemes_are_registered(server: RedisServer) -> None:
    try:
        assert isinstance(open_store(server.uri), RedisStore)
        tls = open_store("rediss://:secret@127.0.0.1:1/0")  # no connection until first use
        assert isinstance(tls, RedisStore) and tls.config.tls and "secret" not in tls.uri
    finally:
        close_stores()


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 10 * CHUNK + 7])
def test_round_trip(store: RedisStore, size: int) -> None:
    data = os.urandom(size)
    store.put("job/a", data)
    assert store.get("job/a") == data
    assert store.size("job/a") == size
    assert store.exists("job/a") and not store.exists("job/b")
    assert list(store.list_prefix("job/")) == ["job/a"]


def test_accepts_bytearray_and_memoryview(store: RedisStore) -> None:
    store.put("x/ba", bytearray(b"abc" * 500))
    store.put("x/mv", memoryview(pa.py_buffer(b"xyz" * 500)))
    assert store.get_many(["x/ba", "x/mv"]) == [b"abc" * 500, b"xyz" * 500]


def test_overwrite_between_sizes_leaves_no_garbage(store: RedisStore, server: RedisServer) -> None:
    big, small = os.urandom(5 * CHUNK), b"small"
    for value in (big, os.urandom(3 * CHUNK), small, big, small):
        store.put("job/k", value)
        assert store.get("job/k") == value
    assert redis_keys(server) == [b"job/k"]
    store.put("job/k", big)
    assert len(redis_keys(server)) == 1 + 1 + 4  # key (chunk 0), header, chunks 1-4 only


# --------------------------------------------------------------------------- ranges


def test_ranged_gets_within_and_across_chunks(store: RedisStore, server: RedisServer) -> None:
    data = os.urandom(10 * CHUNK + 123)
    store.put("r/big", data)
    store.put("r/small", data[:CHUNK])
    cases = [
        (0, 1),
        (5, 100),
        (CHUNK - 1, 2),
        (CHUNK, CHUNK),
        (990, 3 * CHUNK),
        (0, len(data)),
        (len(data) - 1, 1),
        (4 * CHUNK + 17, 0),
    ]
    for offset, length in cases:
        assert store.get_range("r/big", offset, length) == data[offset : offset + length]
    assert store.get_range("r/small", 10, 500) == data[10:510]

    # Only the chunks a range touches are read: 2 of 11 here, plus a GETRANGE of the key
    # itself (chunk 0; empty for this range), sent with the header GET.
    before = command_calls(server, "getrange")
    assert store.get_range("r/big", 3 * CHUNK - 10, 20) == data[3 * CHUNK - 10 : 3 * CHUNK + 10]
    assert command_calls(server, "getrange") - before == 1 + 2
    # A range inside the first chunk is one GETRANGE and one round trip, even when chunked.
    before, trips = command_calls(server, "getrange"), store.metrics.requests
    assert store.get_range("r/big", 7, CHUNK - 7) == data[7:CHUNK]
    assert (command_calls(server, "getrange") - before, store.metrics.requests - trips) == (1, 1)

    with pytest.raises(StoreError, match="short read"):
        store.get_range("r/big", len(data) - 5, 10)
    with pytest.raises(StoreError, match="short read"):
        store.get_range("r/small", CHUNK - 5, 10)
    with pytest.raises(ValueError):
        store.get_range("r/big", -1, 1)


def test_overwrite_is_atomic_for_concurrent_readers(store: RedisStore) -> None:
    """A reader sees one whole version, never chunks of two, while a writer flips the key
    between two large values of different sizes and a small one."""
    versions = [b"a" * (7 * CHUNK + 3), b"b" * (12 * CHUNK), b"c" * 50]
    store.put("race/k", versions[0])
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for i in range(400):
                store.put("race/k", versions[i % 3])
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            stop.set()

    def reader(seen: list[bytes]) -> None:
        try:
            while not stop.is_set():
                value = store.get("race/k")
                assert value in versions, f"torn read: {len(value)} bytes {value[:1]!r}..."
                head = store.get_ranges([RangeRequest("race/k", 0, 40)])[0]
                assert head in (b"a" * 40, b"b" * 40, b"c" * 40)
                try:  # across chunks 0-2; too long for the small version ("short read")
                    span = store.get_range("race/k", CHUNK - 5, 2 * CHUNK)
                    assert span in (b"a" * 2 * CHUNK, b"b" * 2 * CHUNK), f"torn: {span[:1]!r}"
                except StoreError as e:
                    assert "short read" in str(e), e
                seen.append(value[:1])
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    seen: list[bytes] = []
    threads = [threading.Thread(target=writer)] + [
        threading.Thread(target=reader, args=(seen,)) for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors[0]
    assert seen


# --------------------------------------------------------------------------- batching


def test_get_many_and_get_ranges_are_pipelined(store: RedisStore) -> None:
    values = {f"p/m{i}": os.urandom(200 + i) for i in range(64)}
    for k, v in values.items():
        store.put(k, v)
    requests = [RangeRequest(k, 10, 100) for k in values]

    before = store.metrics.requests
    assert store.get_ranges(requests) == [v[10:110] for v in values.values()]
    assert store.metrics.requests - before == 1  # one pipeline for 64 slices

    before = store.metrics.requests
    assert [store.get_range(r.key, r.offset, r.length) for r in requests] == [
        v[10:110] for v in values.values()
    ]
    assert store.metrics.requests - before == 64

    before = store.metrics.requests
    assert store.get_many(values) == list(values.values())
    assert store.metrics.requests - before == 1

    # A slice beyond a first chunk adds two round trips in all (header + chunk 0, chunks).
    big = os.urandom(5 * CHUNK)
    store.put("p/big", big)
    before = store.metrics.requests
    got = store.get_ranges(requests + [RangeRequest("p/big", 100, 3 * CHUNK)] * 2)
    assert got[-2:] == [big[100 : 100 + 3 * CHUNK]] * 2
    assert store.metrics.requests - before == 3
    assert store.metrics.by_op["get_ranges"] == 2
    assert store.metrics.bytes_read > 0 and store.metrics.bytes_written > 0


def test_batched_read_of_a_missing_key_names_it(store: RedisStore) -> None:
    store.put("p/a", b"1")
    with pytest.raises(BlockNotFound) as info:
        store.get_many(["p/a", "p/gone"])
    assert info.value.key == "p/gone" and store.uri in str(info.value)


# --------------------------------------------------------------------------- prefixes


def test_list_and_delete_prefix_with_glob_characters(
    store: RedisStore, server: RedisServer
) -> None:
    mine = ["job[1]/a*b?/x", "job[1]/c\\d", "job[1]/big"]
    decoys = ["job1/x", "job]/y", "jobs/z", "job[1"]  # would match an unescaped job[1]/*
    for k in mine + decoys:
        store.put(k, os.urandom(3 * CHUNK if "big" in k else 10))
    assert list(store.list_prefix("job[1]/")) == sorted(mine)
    assert list(store.list_prefix("job[1]/a*")) == ["job[1]/a*b?/x"]
    assert store.delete_prefix("job[1]/") == 3
    assert list(store.list_prefix("")) == sorted(decoys)
    assert all(b"job[1]/" not in k for k in redis_keys(server))  # chunks went too
    assert store.delete_prefix("job[1]/") == 0


def test_delete_prefix_removes_chunks_of_a_crashed_put(
    store: RedisStore, server: RedisServer
) -> None:
    server.client().set("j/k\x00cdeadbeefdeadbeef:0", b"orphan")
    store.put("j/k", b"v")
    assert list(store.list_prefix("j/")) == ["j/k"]
    assert store.delete_prefix("j/") == 1
    assert redis_keys(server) == []


# --------------------------------------------------------------------------- errors


def test_missing_key(store: RedisStore) -> None:
    for call in (
        lambda: store.get("no/such"),
        lambda: store.get_range("no/such", 0, 1),
        lambda: store.size("no/such"),
    ):
        with pytest.raises(BlockNotFound) as info:
            call()
        assert info.value.key == "no/such" and "no/such" in str(info.value)
    assert not store.exists("no/such")
    assert list(store.list_prefix("no/")) == []
    with pytest.raises(ValueError):
        store.put("bad\x00key", b"")


def test_auth() -> None:
    with RedisServer(password="s3cret-pw") as srv:
        good = RedisStore.from_uri(srv.uri)
        good.put("a", b"1")
        assert good.get("a") == b"1"
        for uri in (srv.uri.replace("s3cret-pw", "hunter2"), srv.uri.replace(":s3cret-pw@", "")):
            st = RedisStore.from_uri(uri)
            with pytest.raises(StoreAuthError) as info:
                st.get("a")
            assert not isinstance(info.value, TransientStoreError)
            message = str(info.value)
            assert "s3cret" not in message and "hunter2" not in message
            assert f"127.0.0.1:{srv.port}" in message and "password" in message
            st.close()
        good.close()


def test_server_down_is_transient() -> None:
    srv = RedisServer().start()
    st = RedisStore.from_uri(f"{srv.uri}?retries=2&backoff_cap=0.1&connect_timeout=2")
    st.put("k", b"v")
    srv.stop()
    with pytest.raises(TransientStoreError) as info:
        st.get("k")
    assert f"127.0.0.1:{srv.port}" in str(info.value) and info.value.key == "k"
    assert st.metrics.requests >= 2  # the failed attempt is counted
    st.close()


def test_unresponsive_server_times_out() -> None:
    """A server that accepts connections but never answers: bounded by socket_timeout."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        port = listener.getsockname()[1]
        st = RedisStore.from_uri(
            f"redis://127.0.0.1:{port}/0?socket_timeout=0.3&connect_timeout=0.3&retries=1"
            "&backoff_cap=0.05"
        )
        with pytest.raises(TransientStoreError, match="unreachable"):
            st.put("k", b"v")
        st.close()


def test_maxmemory_exhaustion_is_store_full() -> None:
    with RedisServer(maxmemory="4mb") as srv:
        st = RedisStore.from_uri(f"{srv.uri}?chunk_size=64k")
        key = ""
        with pytest.raises(StoreFull) as info:
            for i in range(200):
                key = f"app-1/job-7/shuffle-3/map-{i}"
                st.put(key, random.randbytes(200_000))
        error = info.value
        assert not isinstance(error, TransientStoreError)
        assert error.key == key and error.store == srv.uri
        message = str(error)
        assert srv.uri in message and key in message and "maxmemory" in message
        assert "another store" in message
        # the failed put left no chunks behind; freeing the job's keys makes room again
        assert not [k for k in redis_keys(srv) if k.startswith(key.encode())]
        st.delete_prefix("app-1/")
        st.put("after", b"fits again")
        st.close()


# --------------------------------------------------------------------------- shuffle


def test_shuffle_round_trip(store: RedisStore) -> None:
    """The real map-output writer and reduce-side reader, map outputs chunked."""
    maps, reduces = 4, 3
    outputs, expected = [], {r: [] for r in range(reduces)}
    for m in range(maps):
        ids = list(range(m * 500, (m + 1) * 500))
        table = pa.table({"id": ids, "s": [f"v{i}" for i in ids]})
        parts = pa.array([i % reduces for i in ids], pa.int32())
        out = write_map_output(store, f"job/shuffle_0/map_{m}", table, parts, reduces)
        assert out.bytes > CHUNK  # really chunked
        outputs.append(out)
        for i in ids:
            expected[i % reduces].append(i)
    schema = pa.schema([("id", pa.int64()), ("s", pa.string())])
    for r in range(reduces):
        got = read_blocks(store, [o.block(r) for o in outputs], schema)
        assert sorted(got.column("id").to_pylist()) == sorted(expected[r])
        assert got.column("s").to_pylist() == [f"v{i}" for i in got.column("id").to_pylist()]
    assert store.delete_prefix("job/") == maps


# --------------------------------------------------------------------------- end to end


def _connect(port: int):
    from pyspark.sql import SparkSession

    return SparkSession.builder.remote(f"sc://127.0.0.1:{port}").create()


def _job(spark, rows: int):
    """join + groupBy + orderBy; the join is forced to shuffle (no broadcast)."""
    from pyspark.sql import functions as F

    orders = (
        spark.range(0, rows, numPartitions=4)
        .withColumn("cid", F.col("id") % 50)
        .withColumn("amount", (F.col("id") % 13).cast("double"))
    )
    customers = (
        spark.range(0, 50)
        .withColumnRenamed("id", "cid")
        .withColumn("segment", F.concat(F.lit("s"), (F.col("cid") % 7).cast("string")))
    )
    return (
        orders.join(customers, "cid")
        .groupBy("segment")
        .agg(F.sum("amount").alias("total"), F.count("*").alias("n"))
        .orderBy("segment")
    )


def _expected(rows: int) -> list[tuple[str, float, int]]:
    totals: dict[str, list[float]] = {}
    for i in range(rows):
        seg = f"s{(i % 50) % 7}"
        acc = totals.setdefault(seg, [0.0, 0])
        acc[0] += float(i % 13)
        acc[1] += 1
    return [(seg, t, n) for seg, (t, n) in sorted(totals.items())]


CONF = {"spark.sql.shuffle.partitions": "4", "spark.sql.autoBroadcastJoinThreshold": "-1"}


def test_end_to_end_job_through_redis(server: RedisServer) -> None:
    from sparkless.connect.server import SparkConnectServer

    server.client().flushdb()
    srv = SparkConnectServer(port=0, conf=CONF, store=server.uri)
    port = srv.start()
    spark = _connect(port)
    try:
        sets_before = command_calls(server, "set")
        rows = _job(spark, 20_000).collect()
        assert [(r.segment, r.total, r.n) for r in rows] == _expected(20_000)
        assert command_calls(server, "set") > sets_before  # shuffle blocks went through Redis
        assert server.client().dbsize() == 0  # the job's keys are gone
    finally:
        spark.stop()
        srv.stop(grace=1)
        close_stores()


def _wait_until_memory_freed(server: RedisServer, deadline_s: float = 30.0) -> None:
    """The driver drains a failed job's tasks and UNLINKs its blocks before it answers;
    UNLINK frees memory in a background thread, so wait for used_memory to drop."""
    client = server.client()
    limit = client.config_get("maxmemory")["maxmemory"]
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if client.info("memory")["used_memory"] < 0.8 * int(limit):
            return
        time.sleep(0.05)
    raise AssertionError(f"Redis memory not freed after {deadline_s} s: {client.info('memory')}")


def test_end_to_end_job_fails_cleanly_when_redis_is_full() -> None:
    from pyspark.errors import PySparkException

    from sparkless.connect.server import SparkConnectServer

    with RedisServer(maxmemory="2mb") as full:
        srv = SparkConnectServer(port=0, conf=CONF, store=full.uri)
        port = srv.start()
        spark = _connect(port)
        try:
            with pytest.raises(PySparkException) as info:
                _job(spark, 2_000_000).collect()
            message = str(info.value)
            assert full.uri in message and "maxmemory" in message, message
            assert "shuffle.data" in message  # the key names the job, stage and attempt
            assert full.client().dbsize() == 0
            _wait_until_memory_freed(full)  # the failed job's blocks were deleted
            rows = _job(spark, 1000).collect()  # the server keeps serving
            assert [(r.segment, r.total, r.n) for r in rows] == _expected(1000)
        finally:
            spark.stop()
            srv.stop(grace=1)
            close_stores()


def test_a_read_that_succeeds_on_its_last_attempt_is_returned(store: RedisStore, monkeypatch) -> None:
    """Chunks that change under every read but the last: the value comes back (this was an
    IndexError when the final retry was the one that succeeded)."""
    from storage.redisstore import store as module

    value = b"v" * (3 * CHUNK + 1)
    store.put("retry/k", value)
    real = store._read_once
    calls = {"n": 0}

    def flaky(wants, pending, results, io):  # noqa: ANN001 - mirrors the private signature
        calls["n"] += 1
        if calls["n"] < module.READ_ATTEMPTS:
            return list(pending)  # "changed underneath": try again
        return real(wants, pending, results, io)

    monkeypatch.setattr(store, "_read_once", flaky)
    assert store.get("retry/k") == value
    assert calls["n"] == module.READ_ATTEMPTS
