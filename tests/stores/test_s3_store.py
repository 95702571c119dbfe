"""S3Store against moto's real server mode on 127.0.0.1 (started here, stopped at the end).

Everything goes through the store's public interface and real HTTP; the only hooks are
botocore's own event system, used to observe which threads sent requests and to make one
multipart part fail.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from shuffle.reader import read_blocks
from shuffle.writer import read_index, write_map_output
from storage import (
    BlockNotFound,
    RangeRequest,
    StoreError,
    TransientStoreError,
    close_stores,
    open_store,
)
from storage.s3 import S3Config, S3Store
from storage.s3.errors import translate
from storage.s3.layout import KeyLayout
from tests.stores.conftest_s3 import MotoS3, aws_test_env, moto_s3

BUCKET = "sparkless-test"
KiB, MiB = 1 << 10, 1 << 20


@pytest.fixture(scope="session")
def moto() -> Iterator[MotoS3]:
    with aws_test_env(), moto_s3() as server:
        server.client.create_bucket(Bucket=BUCKET)
        yield server


@pytest.fixture
def make_store(moto: MotoS3) -> Iterator[Any]:
    """``make_store(**options)``: a store on a fresh prefix of the test bucket."""
    made: list[S3Store] = []

    def make(bucket: str = BUCKET, **options: Any) -> S3Store:
        query = "&".join(f"{k}={v}" for k, v in {"endpoint_url": moto.endpoint, **options}.items())
        store = S3Store.from_uri(f"s3://{bucket}/t-{uuid.uuid4().hex[:8]}?{query}")
        made.append(store)
        return store

    yield make
    for store in made:
        store.close()


@pytest.fixture
def store(make_store: Any) -> S3Store:
    return make_store()


def ops(store: S3Store, op: str) -> int:
    return store.metrics.by_op.get(op, 0)


# -- basics ------------------------------------------------------------------------------


def test_round_trip_overwrite_and_metrics(store: S3Store) -> None:
    store.put("j1/stage-0/a", b"hello")
    assert store.get("j1/stage-0/a") == b"hello"
    store.put("j1/stage-0/a", bytearray(b"bye"))
    assert store.get("j1/stage-0/a") == b"bye"
    store.put("empty", memoryview(b""))
    assert store.get("empty") == b"" and store.size("empty") == 0
    arrow = pa.py_buffer(os.urandom(1000))
    store.put("arrow", memoryview(arrow))  # what the shuffle writer hands over
    assert store.get("arrow") == arrow.to_pybytes()
    assert store.size("arrow") == 1000 and store.exists("arrow") and not store.exists("nope")
    m = store.metrics
    assert m.bytes_written == 5 + 3 + 0 + 1000
    assert m.bytes_read == 5 + 3 + 0 + 1000
    assert ops(store, "put") == 4 and ops(store, "get") == 4 and ops(store, "head") == 4
    assert m.requests == sum(v for k, v in m.by_op.items() if k != "retries")
    assert m.seconds > 0 and m.as_dict()["requests"] == m.requests


def test_ranged_reads_and_short_reads(store: S3Store) -> None:
    data = bytes(range(256)) * 4
    store.put("k", data)
    assert store.get_range("k", 10, 20) == data[10:30]
    assert store.get_range("k", 1000, 24) == data[1000:]
    assert store.get_range("k", 5, 0) == b""
    with pytest.raises(StoreError, match="short read"):
        store.get_range("k", 1020, 10)
    with pytest.raises(StoreError, match="short read"):
        store.get_range("k", 5000, 1)
    with pytest.raises(ValueError):
        store.get_range("k", -1, 2)
    with pytest.raises(ValueError):
        store.get_range("../k", 0, 1)


def test_missing_key_is_block_not_found(store: S3Store) -> None:
    store.put("present", b"x")
    calls = {
        "get": lambda: store.get("job/nope"),
        "get_range": lambda: store.get_range("job/nope", 0, 1),
        "get_range empty": lambda: store.get_range("job/nope", 0, 0),
        "get_ranges": lambda: store.get_ranges(
            [RangeRequest("present", 0, 1), RangeRequest("job/nope", 3, 4)]
        ),
        "get_many": lambda: store.get_many(["present", "job/nope"]),
        "size": lambda: store.size("job/nope"),
    }
    for name, call in calls.items():
        with pytest.raises(BlockNotFound) as info:
            call()
        assert info.value.key == "job/nope", name
        assert info.value.store == store.uri and store.uri.startswith("s3://" + BUCKET)
    assert not store.exists("job/nope")


def test_missing_bucket_is_a_store_error_naming_it(make_store: Any) -> None:
    store = make_store(bucket="no-such-bucket-here")
    for call in (
        lambda: store.get("k"),
        lambda: store.get_range("k", 0, 4),
        lambda: store.put("k", b"x"),
        lambda: store.exists("k"),
        lambda: store.size("k"),
        lambda: list(store.list_prefix("job/")),
        lambda: store.delete_prefix("job/"),
    ):
        with pytest.raises(StoreError, match="'no-such-bucket-here' does not exist") as info:
            call()
        assert not isinstance(info.value, BlockNotFound)


def test_unreachable_endpoint_is_transient() -> None:
    with aws_test_env():
        with __import__("socket").socket() as s:  # a loopback port nobody listens on
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        store = S3Store.from_uri(
            f"s3://{BUCKET}/x?endpoint_url=http://127.0.0.1:{port}&max_attempts=2&connect_timeout=1"
        )
        with pytest.raises(TransientStoreError, match="failed after retries"):
            store.get("k")
        store.close()


def test_error_translation() -> None:
    def client_error(code: str, status: int) -> ClientError:
        return ClientError(
            {
                "Error": {"Code": code, "Message": code},
                "ResponseMetadata": {"HTTPStatusCode": status},
            },
            "GetObject",
        )

    kw = {"store": "s3://b/p", "bucket": "b", "key": "k", "op": "get"}
    assert type(translate(client_error("SlowDown", 503), **kw)) is TransientStoreError
    assert type(translate(client_error("InternalError", 500), **kw)) is TransientStoreError
    assert type(translate(client_error("NoSuchKey", 404), **kw)) is BlockNotFound
    denied = translate(client_error("AccessDenied", 403), **kw)
    assert type(denied) is StoreError and "access denied to S3 bucket 'b'" in str(denied)
    no_bucket = translate(client_error("NoSuchBucket", 404), **kw)
    assert type(no_bucket) is StoreError and "'b' does not exist" in str(no_bucket)
    conn = translate(EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), **kw)
    assert type(conn) is TransientStoreError


# -- coalescing and concurrency ----------------------------------------------------------


def test_adjacent_slices_coalesce_into_one_get(make_store: Any) -> None:
    store = make_store(coalesce_gap=64 * KiB)
    data = os.urandom(4 * MiB)
    store.put("map-0", data)
    store.put("map-1", data[::-1])
    # eight adjacent 16 KiB slices, asked for out of order, plus an overlapping one
    slices = [(i * 16 * KiB, 16 * KiB) for i in range(8)]
    order = [3, 0, 7, 1, 6, 2, 5, 4]
    reqs = [RangeRequest("map-0", *slices[i]) for i in order] + [RangeRequest("map-0", 100, 50)]
    got = store.get_ranges(reqs)
    assert got == [data[o : o + n] for o, n in (slices[i] for i in order)] + [data[100:150]]
    assert ops(store, "get_range") == 1

    # nearly adjacent: 32 KiB holes, below the 64 KiB gap -> still one GET
    near = [RangeRequest("map-0", i * 48 * KiB, 16 * KiB) for i in range(6)]
    assert store.get_ranges(near) == [data[r.offset : r.offset + r.length] for r in near]
    assert ops(store, "get_range") == 2

    # far apart: 512 KiB holes -> one GET each
    far = [RangeRequest("map-0", i * 512 * KiB, 1 * KiB) for i in range(6)]
    assert store.get_ranges(far) == [data[r.offset : r.offset + r.length] for r in far]
    assert ops(store, "get_range") == 2 + 6

    # two keys, adjacent within each: one GET per key, results in request order
    mixed = [RangeRequest(f"map-{i % 2}", (i // 2) * 1000, 1000) for i in range(10)]
    expect = {"map-0": data, "map-1": data[::-1]}
    assert store.get_ranges(mixed) == [expect[r.key][r.offset : r.offset + r.length] for r in mixed]
    assert ops(store, "get_range") == 8 + 2
    assert store.metrics.bytes_read == 8 * 16 * KiB + (5 * 48 + 16) * KiB + 6 * KiB + 2 * 5000


def test_coalescing_respects_the_span_limit(make_store: Any) -> None:
    store = make_store(coalesce_gap=1 * MiB, coalesce_limit=1 * MiB)
    data = os.urandom(3 * MiB)
    store.put("k", data)
    reqs = [RangeRequest("k", i * 256 * KiB, 256 * KiB) for i in range(12)]
    assert b"".join(store.get_ranges(reqs)) == data
    assert ops(store, "get_range") == 3  # 3 MiB in spans of at most 1 MiB


def _record_threads(store: S3Store, event: str) -> Counter[int]:
    """Which threads sent ``event`` requests (botocore's own hook; nothing replaced)."""
    seen: Counter[int] = Counter()
    lock = threading.Lock()

    def hook(**_: Any) -> None:
        with lock:
            seen[threading.get_ident()] += 1

    store.client.meta.events.register(f"before-send.s3.{event}", hook)
    return seen


def test_get_ranges_and_get_many_fetch_concurrently(make_store: Any) -> None:
    store = make_store(fetch_threads=4, coalesce_gap=0)
    keys = [f"job/map-{i}" for i in range(12)]
    blobs = {k: os.urandom(64 * KiB) for k in keys}
    for k in keys:
        store.put(k, blobs[k])
    seen = _record_threads(store, "GetObject")
    reqs = [RangeRequest(k, 1000, 2000) for k in keys]
    assert store.get_ranges(reqs) == [blobs[k][1000:3000] for k in keys]
    assert sum(seen.values()) == 12 and len(seen) > 1
    assert threading.get_ident() not in seen  # the caller waits; the pool fetches
    seen.clear()
    assert store.get_many(keys) == [blobs[k] for k in keys]
    assert sum(seen.values()) == 12 and len(seen) > 1


def test_many_callers_at_once(store: S3Store) -> None:
    """The shuffle reader calls ``get_ranges`` from several threads on one store."""
    payloads = {f"job/part-{i}": os.urandom(8 * KiB + i) for i in range(24)}

    def round_trip(key: str) -> bool:
        store.put(key, payloads[key])
        halves = store.get_ranges(
            [RangeRequest(key, 0, 4 * KiB), RangeRequest(key, 4 * KiB, 4 * KiB + int(key[9:]))]
        )
        return b"".join(halves) == payloads[key] and store.get(key) == payloads[key]

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(round_trip, payloads))
    assert ops(store, "put") == 24 and store.metrics.bytes_written == sum(
        map(len, payloads.values())
    )


# -- multipart ---------------------------------------------------------------------------


def test_multipart_upload_above_threshold(make_store: Any, moto: MotoS3) -> None:
    store = make_store(multipart_threshold="6m", multipart_chunksize="5MiB")
    small, big = os.urandom(5 * MiB), os.urandom(12 * MiB + 7)
    store.put("small", small)
    assert ops(store, "put") == 1 and ops(store, "mpu_create") == 0
    store.put("big", memoryview(big))
    assert ops(store, "mpu_create") == 1 and ops(store, "mpu_part") == 3
    assert ops(store, "mpu_complete") == 1 and ops(store, "put") == 1
    assert store.get("big") == big and store.size("big") == len(big)
    # a range across the part boundary
    assert store.get_range("big", 5 * MiB - 10, 20) == big[5 * MiB - 10 : 5 * MiB + 10]


def test_failed_multipart_upload_is_aborted_and_invisible(make_store: Any, moto: MotoS3) -> None:
    store = make_store(multipart_threshold="6m", multipart_chunksize="5MiB", max_attempts=1)
    store.put("obj", b"old value")

    def fail_part_two(params: dict[str, Any], **_: Any) -> None:
        if params.get("PartNumber") == 2:
            raise ClientError(
                {
                    "Error": {"Code": "InternalError", "Message": "injected"},
                    "ResponseMetadata": {"HTTPStatusCode": 500},
                },
                "UploadPart",
            )

    store.client.meta.events.register("before-parameter-build.s3.UploadPart", fail_part_two)
    with pytest.raises(TransientStoreError, match="injected"):
        store.put("obj", os.urandom(12 * MiB))
    assert ops(store, "mpu_abort") == 1
    assert store.get("obj") == b"old value"  # the old value, never a half-written one
    uploads = moto.client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])
    assert [u for u in uploads if u["Key"].startswith(store.config.prefix)] == []


# -- key layout, list and delete ---------------------------------------------------------


def _keys(job: str, n: int) -> list[str]:
    return [f"{job}/stage-{i % 3}/part-{i:05d}/attempt-0/shuffle.data" for i in range(n)]


def test_list_and_delete_by_prefix_across_hash_buckets(store: S3Store, moto: MotoS3) -> None:
    a, ab, b = _keys("job-a", 60), _keys("job-ab", 5), _keys("job-b", 20)
    for k in a + ab + b:
        store.put(k, k.encode())
    objects = moto.objects(BUCKET, store.config.prefix + "/")
    assert len(objects) == len(a + ab + b)
    buckets = {o.split("/")[1] for o in objects}
    assert len(buckets) >= 10 and all(len(h) == 1 for h in buckets)  # spread=1: 16 buckets
    assert all(o.endswith(o.split("/", 2)[2]) and o.split("/", 2)[2] in a + ab + b for o in objects)

    assert list(store.list_prefix("job-a/")) == sorted(a)
    assert list(store.list_prefix("job-a")) == sorted(a + ab)  # a plain string prefix, as S3
    assert list(store.list_prefix("job-a/stage-1/")) == sorted(k for k in a if "stage-1/" in k)
    assert list(store.list_prefix("")) == sorted(a + ab + b)
    assert list(store.list_prefix("job-c/")) == []
    assert ops(store, "list") == 5 * 16  # one LIST per hash bucket per call

    assert store.delete_prefix("job-a/") == len(a)
    assert list(store.list_prefix("")) == sorted(ab + b)
    assert store.delete_prefix("job-a/") == 0
    assert store.get(b[0]) == b[0].encode()
    assert store.delete_prefix("") == len(ab + b)
    assert moto.objects(BUCKET, store.config.prefix + "/") == []


def test_listing_paginates_and_deletes_in_batches_of_1000(make_store: Any, moto: MotoS3) -> None:
    store = make_store(spread=0)  # one S3 prefix, so one LIST must page
    keys = _keys("big-job", 1050)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: store.put(k, b"."), keys))
    assert all(
        o.startswith(store.config.prefix + "/big-job/")
        for o in moto.objects(BUCKET, store.config.prefix + "/")
    )
    assert list(store.list_prefix("big-job/")) == sorted(keys)
    assert ops(store, "list") == 2
    assert store.delete_prefix("big-job/") == 1050
    assert ops(store, "delete") == 2
    assert list(store.list_prefix("big-job/")) == []


def test_spread_2_uses_256_buckets(make_store: Any) -> None:
    store = make_store(spread=2)
    keys = _keys("j", 40)
    for k in keys:
        store.put(k, b"v")
    assert list(store.list_prefix("j/")) == sorted(keys)
    assert ops(store, "list") == 256
    assert store.delete_prefix("j/") == 40


def test_layout_round_trip_and_foreign_objects() -> None:
    layout = KeyLayout("root/pre", 1)
    key = "job/stage-1/part-00003/attempt-0/shuffle.data"
    obj = layout.object_key(key)
    assert obj.startswith("root/pre/") and obj.endswith("/" + key) and layout.key_of(obj) == key
    h = obj.split("/")[2]
    other = next(c for c in "0123456789abcdef" if c != h)
    assert layout.key_of(f"root/pre/{other}/{key}") is None  # wrong bucket: not ours
    assert layout.key_of(f"elsewhere/{h}/{key}") is None
    assert KeyLayout("", 0).object_key(key) == key
    assert len(layout.list_prefixes("job/")) == 16


# -- configuration -----------------------------------------------------------------------


def test_config_from_uri_and_conf() -> None:
    conf = {
        "spark.sparkless.s3.endpoint": "http://127.0.0.1:9",
        "spark.sparkless.s3.region": "eu-west-1",
        "spark.sparkless.s3.accessKeyId": "AK",
        "spark.sparkless.s3.secretAccessKey": "SK",
        "spark.sparkless.s3.multipartThreshold": "128m",
        "spark.sparkless.s3.coalesceGap": "0",
    }
    c = S3Config.from_uri("s3://my-bucket/a/b/?region=us-east-1&fetch_threads=4", conf)
    assert (c.bucket, c.prefix, c.region, c.endpoint_url) == (
        "my-bucket",
        "a/b",
        "us-east-1",
        "http://127.0.0.1:9",  # URI beats conf
    )
    assert (c.access_key_id, c.secret_access_key) == ("AK", "SK")
    assert c.multipart_threshold == 128 * MiB and c.coalesce_gap == 0
    assert c.fetch_threads == 4 and c.max_pool_connections == 20 and c.spread == 1
    assert c.redacted_uri == "s3://my-bucket/a/b"
    d = S3Config.from_uri("s3://my-bucket")
    assert d.prefix == "" and d.endpoint_url is None and d.multipart_chunksize == 16 * MiB
    assert d.multipart_threshold == 64 * MiB and d.coalesce_gap == MiB
    for bad, reason in [
        ("s3://my-bucket/p?colour=red", "unknown S3 store option"),
        ("s3:///p", "needs a bucket"),
        ("s3://B_ad/p", "invalid S3 bucket name"),
        ("s3://my-bucket/p?multipart_chunksize=1m", "5 MiB"),
        ("s3://my-bucket/p?multipart_threshold=lots", "bad S3 store option"),
        ("s3://my-bucket/p?spread=9", "spread"),
        ("s3://my-bucket/p?retry_mode=eager", "retry_mode"),
        ("s3://my-bucket/p?access_key_id=AK", "both"),
        ("file:///tmp/x", "not an s3://"),
    ]:
        with pytest.raises(ValueError, match=reason):
            S3Config.from_uri(bad)


def test_secrets_in_the_uri_stay_out_of_messages(moto: MotoS3) -> None:
    store = S3Store.from_uri(
        f"s3://{BUCKET}/sec?endpoint_url={moto.endpoint}"
        "&access_key_id=testing&secret_access_key=s3cr3t-value"
    )
    with pytest.raises(BlockNotFound) as info:
        store.get("missing")
    assert "s3cr3t" not in str(info.value) and "s3cr3t" not in store.uri + repr(store)
    store.close()


def test_open_store_picks_s3_by_scheme(moto: MotoS3) -> None:
    uri = f"s3://{BUCKET}/registry?endpoint_url={moto.endpoint}"
    try:
        store = open_store(uri)
        assert isinstance(store, S3Store) and open_store(uri) is store
        store.put("k", b"v")
        assert store.get("k") == b"v"
        store.delete_prefix("")
    finally:
        close_stores()


# -- through the shuffle layer -----------------------------------------------------------


def test_shuffle_round_trip_through_s3(make_store: Any) -> None:
    store = make_store()
    rng = np.random.default_rng(7)
    maps, reducers = 5, 6
    tables, outputs = [], []
    for m in range(maps):
        n = 2000 + 100 * m
        t = pa.table({"k": rng.integers(0, 1000, n), "s": [f"r{m}-{i}" for i in range(n)]})
        pids = pa.array(t["k"].to_numpy() % reducers)
        tables.append((t, pids))
        outputs.append(write_map_output(store, f"job-x/shuffle-0/map-{m}", t, pids, reducers))
    assert ops(store, "put") == maps  # one object per map task, not maps x reducers
    assert read_index(store, outputs[0].key) == [
        *outputs[0].partition_offsets,
        outputs[0].bytes - 16 - 8 * (reducers + 1),
    ]
    gets_before = ops(store, "get_range")
    for r in range(reducers):
        got = read_blocks(store, [o.block(r) for o in outputs], tables[0][0].schema)
        expect = pa.concat_tables(t.filter(pa.compute.equal(p, r)) for t, p in tables)
        assert got.sort_by([("s", "ascending")]).equals(expect.sort_by([("s", "ascending")]))
    assert ops(store, "get_range") - gets_before == maps * reducers
    # a reducer that owns adjacent partitions (coalesced reduce partitions): 1 GET per map
    # when one batch holds them all; the reader's 4 batches may cut a map's run in two
    wide_blocks = [o.block(r) for o in outputs for r in (2, 3, 4)]
    expect_rows = sum(int(np.isin(p.to_numpy(), (2, 3, 4)).sum()) for _, p in tables)
    for threads, most in ((1, maps), (4, maps + 3)):
        before = ops(store, "get_range")
        wide = read_blocks(store, wide_blocks, tables[0][0].schema, max_threads=threads)
        assert wide.num_rows == expect_rows
        assert maps <= ops(store, "get_range") - before <= most < len(wide_blocks)
    assert store.delete_prefix("job-x/") == maps


# -- a whole job -------------------------------------------------------------------------


def test_end_to_end_job_on_s3(moto: MotoS3) -> None:
    from pyspark.sql.connect.session import SparkSession

    from sparkless.connect.server import SparkConnectServer

    prefix = f"e2e-{uuid.uuid4().hex[:8]}"
    server = SparkConnectServer(
        port=0,
        conf={"spark.sql.shuffle.partitions": "4", "spark.sql.autoBroadcastJoinThreshold": "-1"},
        store=f"s3://{BUCKET}/{prefix}?endpoint_url={moto.endpoint}&region=us-east-1",
    )
    port = server.start()
    spark = SparkSession.builder.remote(f"sc://127.0.0.1:{port}").create()
    try:
        orders = [(i, i % 37, (i * 7919) % 1000) for i in range(3000)]
        customers = [(c, f"seg-{c % 5}") for c in range(37)]
        o = spark.createDataFrame(orders, "order_id long, cust long, amount long")
        c = spark.createDataFrame(customers, "cust long, segment string")
        rows = (
            o.join(c, "cust")
            .groupBy("segment")
            .agg({"amount": "sum", "order_id": "count"})
            .orderBy("segment")
            .collect()
        )
        got = [(r["segment"], r["sum(amount)"], r["count(order_id)"]) for r in rows]
        seg = dict(customers)
        sums: dict[str, list[int]] = {}
        for _, cust, amount in orders:
            acc = sums.setdefault(seg[cust], [0, 0])
            acc[0] += amount
            acc[1] += 1
        assert got == [(s, v[0], v[1]) for s, v in sorted(sums.items())]
        driver_store = server.engine.store
        assert isinstance(driver_store, S3Store) and driver_store.metrics.by_op.get("get", 0) > 0
        assert server.engine.cleaner.flush(timeout=60)  # deleted after the answer, in the background
        assert moto.objects(BUCKET, prefix + "/") == []  # the driver deleted the job's blocks
    finally:
        spark.stop()
        server.stop()
        close_stores()


# -- streaming ---------------------------------------------------------------------------


def test_put_stream_uploads_parts_as_they_fill(make_store: Any) -> None:
    store = make_store(multipart_chunksize="5MiB")
    chunks = [bytes([i]) * (1 << 20) for i in range(12)]  # 12 MiB in 1 MiB chunks
    store.put_stream("big/value", iter(chunks))
    assert ops(store, "mpu_part") == 3  # 5 + 5 + 2 MiB, uploaded while chunks arrive
    assert b"".join(store.get_stream("big/value", chunk_size=3 << 20)) == b"".join(chunks)


def test_put_stream_small_value_is_one_put(store: S3Store) -> None:
    store.put_stream("small", [b"ab", b"cd"])
    assert ops(store, "mpu_create") == 0 and store.get("small") == b"abcd"


def test_put_stream_failure_leaves_nothing(make_store: Any, moto: MotoS3) -> None:
    store = make_store(multipart_chunksize="5MiB")

    def chunks() -> Iterator[bytes]:
        yield b"x" * (6 << 20)
        raise RuntimeError("producer died")

    with pytest.raises(RuntimeError):
        store.put_stream("broken", chunks())
    assert not store.exists("broken")
    uploads = moto.client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])
    assert not [u for u in uploads if u["Key"].endswith("/broken")]
