"""The crail:// memory store against real servers: one metadata server and three storage
servers, each its own subprocess (``python -m storage.crail.serve``) on 127.0.0.1, so a
storage server can be killed like a lost machine."""

from __future__ import annotations

import random
import re
import select
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from shuffle.errors import FetchFailed
from shuffle.reader import read_blocks
from shuffle.writer import read_index, write_map_output
from storage import BlockNotFound, RangeRequest, StoreError, open_store
from storage.crail import CrailStore
from storage.crail.config import parse_size, parse_uri
from storage.crail.serve import serve_main

REPO = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 30.0
DRAM = 2 << 20  # small, so the spill test fills it


def _start(args: list[str]) -> tuple[subprocess.Popen, str]:
    """Start ``serve`` with ``args``; return the process and its ready line."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "storage.crail.serve", *args],
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], READY_TIMEOUT)
    line = proc.stdout.readline() if ready else ""
    if "ready" not in line:
        proc.kill()
        proc.wait()
        raise RuntimeError(f"crail serve {args} did not start: {line!r}")
    return proc, line


def _stop(proc: subprocess.Popen) -> int | None:
    """SIGTERM and wait; the exit code, or None if it had to be killed."""
    if proc.poll() is not None:
        return proc.returncode
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None


class Cluster:
    """A metadata server plus storage servers, as subprocesses."""

    def __init__(self, tmp: Path, servers: int = 3, heartbeat_timeout: float = 3.0) -> None:
        self.metadata, line = _start(
            [
                "--metadata",
                "127.0.0.1:0",
                "--heartbeat-interval",
                "0.2",
                "--heartbeat-timeout",
                str(heartbeat_timeout),
            ]
        )
        m = re.search(r"crail://127\.0\.0\.1:(\d+)", line)
        assert m, line
        self.uri = m.group(0)
        self.storage: dict[str, subprocess.Popen] = {}
        try:
            for i in range(servers):
                proc, line = _start(
                    [
                        "--storage",
                        "--metadata",
                        f"127.0.0.1:{m.group(1)}",
                        "--port",
                        "0",
                        "--dram",
                        f"{DRAM}",
                        "--disk",
                        str(tmp / f"disk-{i}"),
                    ]
                )
                address = re.search(r"server (127\.0\.0\.1:\d+) ready", line)
                assert address, line
                self.storage[address.group(1)] = proc
        except BaseException:
            self.stop()
            raise

    def stop(self) -> list[int | None]:
        codes = [_stop(p) for p in self.storage.values()]
        return codes + [_stop(self.metadata)]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    c = Cluster(tmp_path_factory.mktemp("crail"))
    yield c
    assert c.stop() == [0, 0, 0, 0], "every server exits 0 on SIGTERM"


@pytest.fixture
def store(cluster: Cluster) -> Iterator[CrailStore]:
    s = CrailStore.from_uri(cluster.uri)
    yield s
    s.delete_prefix("")
    s.close()


def _totals(store: CrailStore) -> dict[str, int]:
    """Tier usage and request counts summed over the storage servers (asked directly)."""
    out: Counter[str] = Counter()
    for server in store.servers():
        st = store.server_stats(server["address"])
        out.update({k: v for k, v in st.items() if isinstance(v, int)})
        out.update({f"req:{k}": v for k, v in st["requests"].items()})
    return dict(out)


# ------------------------------------------------------------------- configuration


def test_uri_and_sizes() -> None:
    cfg = parse_uri("crail://127.0.0.1:7000?timeout=2.5&pool=2&window=8")
    assert (cfg.host, cfg.port, cfg.timeout, cfg.pool, cfg.window) == ("127.0.0.1", 7000, 2.5, 2, 8)
    assert cfg.uri == "crail://127.0.0.1:7000"
    for bad in (
        "redis://x:1",
        "crail://",
        "crail://h:1/path",
        "crail://h:1?nope=1",
        "crail://h:1?timeout=0",
        "crail://h:1?pool=x",
    ):
        with pytest.raises(ValueError):
            parse_uri(bad)
    assert parse_size("256MB") == 256 << 20
    assert parse_size("1g") == 1 << 30
    assert parse_size("4096") == 4096
    with pytest.raises(ValueError):
        parse_size("lots")


def test_serve_main_rejects_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert serve_main(["--storage"]) == 1
    assert "--storage needs --metadata" in capsys.readouterr().err
    assert serve_main([]) == 1
    assert serve_main(["--all", "--dram", "lots"]) == 1


# ------------------------------------------------------------------- the interface


def test_round_trip_overwrite_and_metadata_calls(cluster: Cluster, store: CrailStore) -> None:
    assert isinstance(open_store(cluster.uri), CrailStore)
    store.put("j1/a", b"hello")
    assert store.get("j1/a") == b"hello"
    store.put("j1/a", bytearray(b"bye"))  # overwrite: the new value, old block freed
    assert store.get("j1/a") == b"bye"
    store.put("j1/empty", memoryview(b""))
    assert store.get("j1/empty") == b"" and store.size("j1/empty") == 0
    arr = np.arange(1000, dtype=np.int64)
    store.put("j1/np", memoryview(arr))  # a non-byte memoryview is sent as its bytes
    assert bytes(store.get("j1/np")) == arr.tobytes()
    assert store.size("j1/np") == 8000 and store.exists("j1/np") and not store.exists("j1/x")
    assert _totals(store)["dram_blocks"] == 3  # the overwritten block is gone from its server

    data = bytes(range(256)) * 4
    store.put("j1/r", data)
    assert store.get_range("j1/r", 10, 20) == data[10:30]
    assert store.get_range("j1/r", 0, 0) == b""
    assert store.get_range("j1/r", 1000, 24) == data[1000:]
    with pytest.raises(StoreError, match="short read"):
        store.get_range("j1/r", 1020, 10)
    with pytest.raises(ValueError):
        store.get_range("j1/r", -1, 2)
    for call in (
        lambda: store.get("nope"),
        lambda: store.size("nope"),
        lambda: store.get_range("nope", 0, 1),
        lambda: store.get_many(["j1/a", "nope"]),
    ):
        with pytest.raises(BlockNotFound, match="nope") as e:
            call()
        assert e.value.key == "nope" and e.value.store == cluster.uri

    store.put("j2/b", b"2")
    store.put("j10/c", b"3")
    assert list(store.list_prefix("j1/")) == ["j1/a", "j1/empty", "j1/np", "j1/r"]
    assert list(store.list_prefix("j1")) == ["j1/a", "j1/empty", "j1/np", "j1/r", "j10/c"]
    assert store.get_many(["j2/b", "j1/a", "j10/c"]) == [b"2", b"bye", b"3"]
    assert store.delete_prefix("j1/") == 4
    assert list(store.list_prefix("")) == ["j10/c", "j2/b"]
    with pytest.raises(BlockNotFound):
        store.get("j1/a")  # no stale cached placement survives the delete
    assert store.delete_prefix("") == 2
    assert _totals(store)["dram_used"] == 0
    m = store.metrics
    assert m.bytes_written == 5 + 3 + 8000 + 1024 + 2 and m.by_op["put"] == 7
    assert m.requests >= m.by_op["metadata:allocate"] + m.by_op["metadata:commit"] + 7


def test_blocks_are_spread_over_servers(store: CrailStore) -> None:
    for i in range(9):
        store.put(f"spread/{i}", b"x" * 1000)
    placed = Counter(store.locate(f"spread/{i}") for i in range(9))
    assert len(placed) == 3 and set(placed.values()) == {3}  # least-used placement


def test_concurrent_puts_and_atomic_overwrites(store: CrailStore) -> None:
    """Readers of a key being rewritten see one whole value or another, never a mix."""
    values = [bytes([i]) * 300_000 for i in range(4)]
    store.put("atomic/k", values[0])
    errors: list[BaseException] = []
    stop = threading.Event()

    def writer(n: int) -> None:
        try:
            for i in range(10):
                store.put("atomic/k", values[(n + i) % 4])
                store.put(f"atomic/w{n}/{i}", values[n])
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    def reader() -> None:
        try:
            while not stop.is_set():
                got = bytes(store.get("atomic/k"))
                assert got in values, "a torn read"
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    readers = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads + readers:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    for t in readers:
        t.join()
    # A reader may race a rewrite that frees the block it was told about; it then looks
    # the key up again, so no BlockNotFound reaches it either.
    assert not errors, errors
    assert len(list(store.list_prefix("atomic/w"))) == 40
    assert all(store.get(f"atomic/w{n}/{i}") == values[n] for n in range(4) for i in range(10))


def test_dram_tier_spills_to_disk(store: CrailStore) -> None:
    before = _totals(store)
    blocks = {f"spill/{i}": random.randbytes(700_000) for i in range(12)}  # ~2.8 MB/server
    for k, v in blocks.items():
        store.put(k, v)
    after = _totals(store)
    assert after["disk_blocks"] - before["disk_blocks"] >= 3  # every server spilled
    for server in store.servers():
        st = store.server_stats(server["address"])
        assert 0 < st["dram_used"] <= st["dram_capacity"] == DRAM
    assert store.get_many(list(blocks)) == list(blocks.values())  # both tiers read back
    assert store.get_ranges([RangeRequest(k, 123, 4567) for k in blocks]) == [
        v[123:4690] for v in blocks.values()
    ]
    assert store.delete_prefix("spill/") == 12
    done = _totals(store)
    assert (done["dram_used"], done["disk_used"], done["disk_blocks"]) == (0, 0, 0)


def test_pipelined_get_ranges(cluster: Cluster, store: CrailStore) -> None:
    """Many slices, on several servers, in any order: right bytes, one GET per slice,
    one metadata lookup for the whole batch, one connection per server."""
    rng = random.Random(7)
    objects = {f"pipe/map-{m}": rng.randbytes(64 * 1024) for m in range(8)}
    for k, v in objects.items():
        store.put(k, v)
    slices = [
        RangeRequest(k, o, rng.randrange(0, 900))
        for k in objects
        for o in rng.sample(range(0, 64 * 1024 - 1000), 64)
    ]
    rng.shuffle(slices)
    expected = [objects[r.key][r.offset : r.offset + r.length] for r in slices]

    for window in (64, 3):  # 3: the refill path, with only a few requests in flight
        reader = CrailStore.from_uri(f"{cluster.uri}?window={window}")
        try:
            gets = _totals(reader)["req:GET"]
            assert reader.get_ranges(slices) == expected
            assert _totals(reader)["req:GET"] - gets == len(slices)
            assert reader.metrics.by_op["metadata:lookup"] == 1
            assert sum(p.opened for p in reader._pools.values()) == len(reader.servers())
            assert reader.get_ranges(slices[:10]) == expected[:10]
            assert reader.metrics.by_op["metadata:lookup"] == 1  # placements were cached
            assert reader.metrics.bytes_read == sum(map(len, expected + expected[:10]))
        finally:
            reader.close()


# ------------------------------------------------------------------- the shuffle layer


SCHEMA = pa.schema([("id", pa.int64()), ("s", pa.string())])


def _map_table(m: int, rows: int) -> pa.Table:
    ids = np.arange(m * rows, (m + 1) * rows, dtype=np.int64)
    return pa.table({"id": ids, "s": pa.array([f"row-{i}" for i in ids])}, schema=SCHEMA)


def test_shuffle_round_trip(store: CrailStore) -> None:
    maps, reduces = 4, 5
    outputs = []
    for m in range(maps):
        table = _map_table(m, 2000)
        pids = pa.array((table["id"].to_numpy() * 7919) % reduces)
        outputs.append(
            write_map_output(store, f"shuf/0/map-{m}", table, pids, reduces, compression="lz4")
        )
    assert list(store.list_prefix("shuf/0/")) == [f"shuf/0/map-{m}" for m in range(maps)]
    assert read_index(store, outputs[0].key) == outputs[0].partition_offsets + [
        outputs[0].partition_offsets[-1] + outputs[0].partition_lengths[-1]
    ]
    schema = SCHEMA
    seen = []
    for r in range(reduces):
        got = read_blocks(store, [o.block(r) for o in outputs], schema)
        ids = got["id"].to_pylist()
        assert all(i * 7919 % reduces == r for i in ids)
        assert got["s"].to_pylist() == [f"row-{i}" for i in ids]
        seen += ids
    assert sorted(seen) == list(range(maps * 2000))


# ------------------------------------------------------------------- failures


def test_killed_storage_server_fails_reads_fast_and_clearly(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path, heartbeat_timeout=1.0)
    store = CrailStore.from_uri(cluster.uri + "?timeout=5")
    try:
        table = _map_table(0, 3000)
        pids = pa.array(table["id"].to_numpy() % 2)
        outs = [write_map_output(store, f"lost/map-{m}", table, pids, 2) for m in range(6)]
        where = {o.key: store.locate(o.key) for o in outs}
        victim = where[outs[0].key]
        cluster.storage[victim].kill()  # SIGKILL: no goodbye, like a lost machine
        cluster.storage[victim].wait()
        survivors = [o for o in outs if where[o.key] != victim]
        lost = [o for o in outs if where[o.key] == victim]

        # Before the metadata server notices: the refused connection is the answer.
        with pytest.raises(BlockNotFound, match=re.escape(victim)) as e:
            store.get(lost[0].key)
        assert "unreachable" in str(e.value) and e.value.key == lost[0].key
        with pytest.raises(FetchFailed, match=re.escape(victim)):
            read_blocks(store, [o.block(1) for o in outs], table.schema)
        assert read_blocks(store, [o.block(1) for o in survivors], table.schema).num_rows == (
            1500 * len(survivors)
        )
        store.put("lost/new", b"placed on a live server")  # the dead server is skipped
        assert store.locate("lost/new") != victim

        # After the heartbeat timeout the metadata server has forgotten the server.
        deadline = time.monotonic() + 30
        while victim in {s["address"] for s in store.servers()}:
            assert time.monotonic() < deadline, "the dead server was never removed"
            time.sleep(0.1)
        with pytest.raises(BlockNotFound, match="stopped heartbeating") as e:
            store.get(lost[0].key)
        assert victim in str(e.value)
        with pytest.raises(FetchFailed, match=re.escape(victim)):
            read_blocks(store, [lost[-1].block(0)], table.schema)
        assert store.get("lost/new") == b"placed on a live server"
        assert len(list(store.list_prefix("lost/"))) == len(survivors) + 1
    finally:
        store.close()
        codes = cluster.stop()
    assert codes[-1] == 0 and codes.count(0) == len(codes) - 1  # the killed one aside


def test_no_live_servers_is_a_clear_error(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path, servers=0)
    store = CrailStore.from_uri(cluster.uri)
    try:
        with pytest.raises(StoreError, match="no live storage servers"):
            store.put("x", b"1")
    finally:
        store.close()
        assert cluster.stop() == [0]


# ------------------------------------------------------------------- end to end


def test_spark_job_through_the_crail_store(cluster: Cluster, store: CrailStore) -> None:
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    from sparkless.connect.server import SparkConnectServer

    puts_before = _totals(store).get("req:PUT", 0)
    server = SparkConnectServer(
        port=0, conf={"spark.sql.shuffle.partitions": "4"}, store=cluster.uri
    )
    server.start()
    try:
        spark = SparkSession.builder.remote(f"sc://127.0.0.1:{server.port}").create()
        try:
            orders = spark.range(0, 20_000, numPartitions=3).select(
                F.col("id").alias("oid"),
                (F.col("id") % 50).alias("cid"),
                (F.col("id") % 97).alias("amount"),
            )
            customers = spark.range(0, 40).select(
                F.col("id").alias("cid"), (F.col("id") % 6).alias("region")
            )
            rows = (
                orders.join(customers, "cid")
                .groupBy("region")
                .agg(F.sum("amount").alias("total"), F.count("*").alias("n"))
                .orderBy(F.col("total").desc(), "region")
                .collect()
            )
        finally:
            spark.stop()
    finally:
        server.stop(grace=1)
    expected: dict[int, list[int]] = {}
    for oid in range(20_000):
        cid = oid % 50
        if cid < 40:
            acc = expected.setdefault(cid % 6, [0, 0])
            acc[0] += oid % 97
            acc[1] += 1
    want = sorted(((r, t, n) for r, (t, n) in expected.items()), key=lambda x: (-x[1], x[0]))
    assert [(r.region, r.total, r.n) for r in rows] == want
    assert _totals(store)["req:PUT"] > puts_before  # the shuffle really went through crail
    assert list(store.list_prefix("")) == []  # the job left nothing behind
