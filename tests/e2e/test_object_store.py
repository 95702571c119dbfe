"""User data, tables and cached DataFrames on object stores (issue 6), end to end.

A real pyspark Connect client talks to a real sparkless server (in this process) whose
functions are the local platform's forked workers; S3 is moto's server on 127.0.0.1
(``tests/stores/servers.py``), Redis a real redis/valkey server on loopback. Nothing is
mocked: the data go through pyarrow's S3 client, DuckDB and the stores.

* ``s3://`` / ``s3a://`` writes and reads of parquet, csv and json, every save mode,
  ``partitionBy``, the commit protocol on S3 (a failing job leaves neither output nor
  staging objects), Spark's PATH_NOT_FOUND for a missing key or bucket;
* a warehouse on S3: saveAsTable, insertInto, spark.table, CTAS, CREATE DATABASE, DROP;
* cache / persist / checkpoint / CACHE TABLE in a Redis store and in an S3 store: the
  blocks are in the store while cached and gone after unpersist, and the rows are not
  recomputed (``uuid()`` gives the same values on every action).

The expected rows are the inputs themselves (computed in Python), which is what Spark
returns for a write followed by a read of the same path.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
from pyspark.errors import AnalysisException, PySparkException
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.connect.session import SparkSession as ConnectSession

from sparkless.connect.server import SparkConnectServer
from tests.stores.redis_server import RedisServer
from tests.stores.servers import s3_bucket, s3_uri

BUCKET = "sparkless-data"
CONF = {"spark.sql.shuffle.partitions": "4", "spark.sql.session.timeZone": "UTC"}
ROWS = [(i, i % 3, f"name-{i}", i * 1.5) for i in range(60)]


@contextlib.contextmanager
def _server(store: str, conf: dict[str, str]) -> Iterator[SparkSession]:
    server = SparkConnectServer(port=0, conf={**CONF, **conf}, store=store)
    server.start()
    spark = SparkSession.builder.remote(f"sc://127.0.0.1:{server.port}").create()
    # pyspark binds a checkpoint's result to the thread's active session, which stays the
    # first one created: make this one active while it is used, as a job with one session has.
    before = getattr(ConnectSession._active_session, "session", None)
    ConnectSession._active_session.session = spark
    try:
        yield spark
    finally:
        ConnectSession._active_session.session = before
        with contextlib.suppress(Exception):
            spark.stop()
        server.stop(grace=1)


@pytest.fixture(scope="module")
def moto() -> Iterator[Any]:
    with s3_bucket(BUCKET) as m:
        yield m


@pytest.fixture(scope="module")
def spark(moto: Any) -> Iterator[SparkSession]:
    """Local store; user data and the warehouse on S3, reached with Hadoop's keys."""
    conf = {
        "spark.hadoop.fs.s3a.endpoint": moto.endpoint,
        "spark.hadoop.fs.s3a.access.key": "testing",
        "spark.hadoop.fs.s3a.secret.key": "testing",
        "spark.sql.warehouse.dir": f"s3a://{BUCKET}/warehouse",
    }
    with _server("file://" + tempfile.mkdtemp(prefix="sparkless-store-"), conf) as s:
        yield s


def _df(spark: SparkSession):
    return spark.createDataFrame(ROWS, "id INT, k INT, name STRING, score DOUBLE")


def _rows(df) -> list[tuple]:
    return sorted(tuple(r) for r in df.select("id", "k", "name", "score").collect())


def _staging(moto: Any) -> list[str]:
    return [k for k in moto.objects(BUCKET) if ".sparkless-staging" in k]


# ---- files --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["parquet", "csv", "json"])
@pytest.mark.parametrize("scheme", ["s3", "s3a"])
def test_write_then_read_each_format(spark, moto, fmt: str, scheme: str) -> None:
    path = f"{scheme}://{BUCKET}/roundtrip/{fmt}-{scheme}"
    writer = _df(spark).repartition(3).write
    if fmt == "csv":
        writer.option("header", True).csv(path)
        back = spark.read.csv(path, header=True, schema="id INT, k INT, name STRING, score DOUBLE")
    else:
        getattr(writer, fmt)(path)
        back = getattr(spark.read, fmt)(path)
    assert _rows(back) == sorted(ROWS)
    keys = moto.objects(BUCKET, f"roundtrip/{fmt}-{scheme}/")
    assert f"roundtrip/{fmt}-{scheme}/_SUCCESS" in keys
    assert len([k for k in keys if "/part-" in k]) == 3
    assert _staging(moto) == []
    # spark.read.load / format(...).load name the same source
    assert spark.read.format(fmt).load(path, **({"header": True} if fmt == "csv" else {})).count() == 60


def test_save_modes(spark, moto) -> None:
    path = f"s3a://{BUCKET}/modes/t"
    df = _df(spark)
    df.write.parquet(path)
    with pytest.raises(AnalysisException, match=r"PATH_ALREADY_EXISTS.*s3a://sparkless-data/modes/t"):
        df.write.parquet(path)
    df.limit(1).write.mode("ignore").parquet(path)
    assert spark.read.parquet(path).count() == 60
    df.limit(10).write.mode("append").parquet(path)
    assert spark.read.parquet(path).count() == 70
    before = {k for k in moto.objects(BUCKET, "modes/t/") if "/part-" in k}
    df.where("id < 5").write.mode("overwrite").parquet(path)
    assert _rows(spark.read.parquet(path)) == sorted(r for r in ROWS if r[0] < 5)
    after = {k for k in moto.objects(BUCKET, "modes/t/") if "/part-" in k}
    assert after and not after & before  # the old files are gone
    assert _staging(moto) == []


def test_partition_by(spark, moto) -> None:
    path = f"s3://{BUCKET}/partitioned/t"
    _df(spark).write.partitionBy("k").parquet(path)
    dirs = {k.split("/")[2] for k in moto.objects(BUCKET, "partitioned/t/") if "/part-" in k}
    assert dirs == {"k=0", "k=1", "k=2"}
    back = spark.read.parquet(path)
    assert _rows(back) == sorted(ROWS)
    assert back.where("k = 1").count() == 20  # partition pruning on the hive column
    _df(spark).where("k = 2").write.mode("overwrite").partitionBy("k").json(path)
    assert sorted(r.k for r in spark.read.json(path).select("k").distinct().collect()) == [2]


def test_failing_write_leaves_nothing(spark, moto) -> None:
    # one task of four fails (ANSI cast of 'boom'); the others have uploaded their files
    bad = _df(spark).repartition(4).withColumn(
        "x", F.expr("CAST(CASE WHEN id = 41 THEN 'boom' ELSE '1' END AS INT)")
    )
    with pytest.raises(PySparkException, match="boom"):
        bad.write.parquet(f"s3a://{BUCKET}/failed/new")
    assert moto.objects(BUCKET, "failed/new") == []
    # an overwrite that fails keeps the old data
    _df(spark).write.parquet(f"s3a://{BUCKET}/failed/old")
    with pytest.raises(PySparkException, match="boom"):
        bad.write.mode("overwrite").parquet(f"s3a://{BUCKET}/failed/old")
    assert _rows(spark.read.parquet(f"s3a://{BUCKET}/failed/old")) == sorted(ROWS)
    assert _staging(moto) == []


@pytest.mark.parametrize(
    "path",
    [f"s3://{BUCKET}/no/such/key", "s3a://sparkless-missing-bucket/t", f"s3://{BUCKET}/no/*.csv"],
)
def test_missing_path_is_path_not_found(spark, path: str) -> None:
    with pytest.raises(AnalysisException) as e:
        spark.read.parquet(path).collect()
    assert e.value.getCondition() == "PATH_NOT_FOUND"
    assert f"Path does not exist: {path}" in str(e.value)
    assert spark.range(3).count() == 3  # the server keeps serving


def test_scan_is_split_by_row_groups(spark, moto) -> None:
    """A large file read from S3 becomes several scan tasks (sizes and row groups come
    from the store, planned on the driver; the tasks read their ranges themselves)."""
    path = f"s3://{BUCKET}/split/t"
    spark.range(0, 200_000, 1, 1).selectExpr("id", "uuid() AS u").write.option(
        "parquet.block.size", 1 << 20
    ).parquet(path)
    spark.conf.set("spark.sql.files.maxPartitionBytes", str(256 << 10))
    try:
        df = spark.read.parquet(path)
        tasks = df.select(F.spark_partition_id().alias("p")).distinct().count()
        assert df.count() == 200_000
        assert df.agg(F.sum("id")).first()[0] == sum(range(200_000))
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")
    assert tasks > 1


# ---- warehouse -----------------------------------------------------------------------------


def test_warehouse_tables(spark, moto) -> None:
    df = _df(spark)
    df.write.saveAsTable("people")
    keys = moto.objects(BUCKET, "warehouse/people/")
    assert "warehouse/people/.sparkless-table.json" in keys
    assert any("/part-" in k for k in keys)
    assert _rows(spark.table("people")) == sorted(ROWS)
    df.limit(5).write.insertInto("people")
    assert spark.table("people").count() == 65
    df.where("id < 3").write.insertInto("people", overwrite=True)
    assert spark.table("people").count() == 3
    spark.sql("CREATE TABLE people_k USING parquet AS SELECT k, count(*) AS n FROM people GROUP BY k")
    assert sorted(tuple(r) for r in spark.table("people_k").collect()) == [(0, 1), (1, 1), (2, 1)]
    names = {t.name for t in spark.catalog.listTables()}
    assert {"people", "people_k"} <= names
    spark.sql("CREATE DATABASE lake")
    assert "lake" in [d.name for d in spark.catalog.listDatabases()]
    spark.sql("CREATE TABLE lake.empty (a INT, b STRING) USING parquet")
    assert spark.table("lake.empty").count() == 0
    spark.sql("INSERT INTO lake.empty VALUES (1, 'x')")
    assert [tuple(r) for r in spark.table("lake.empty").collect()] == [(1, "x")]
    spark.sql("DROP TABLE people_k")
    assert moto.objects(BUCKET, "warehouse/people_k/") == []
    with pytest.raises(AnalysisException, match="TABLE_OR_VIEW_NOT_FOUND"):
        spark.table("people_k").collect()
    spark.sql("DROP DATABASE lake CASCADE")
    assert moto.objects(BUCKET, "warehouse/lake.db/") == []
    spark.sql("DROP TABLE people")
    assert moto.objects(BUCKET, "warehouse/people/") == []
    assert _staging(moto) == []


def test_spark_table_lists_its_location_once(spark, moto, monkeypatch) -> None:
    """Planning a table on an object store lists its location once (a LIST is a round trip
    and a billed request), both for "has it any data?" and for the scan's files."""
    from sparkless import catalog
    from storage import files as storage_files

    _df(spark).write.saveAsTable("listed_once")
    listings: list[str] = []
    real_listing, real_plan = storage_files.listing, catalog.table_plan

    def listing(path: str, conf: Any = None) -> Any:
        listings.append(path)
        return real_listing(path, conf)

    per_plan: list[int] = []

    def table_plan(session: Any, meta: Any) -> Any:
        before = len(listings)
        plan = real_plan(session, meta)
        per_plan.append(len(listings) - before)
        return plan

    monkeypatch.setattr(storage_files, "listing", listing)
    monkeypatch.setattr(catalog, "table_plan", table_plan)
    try:
        assert _rows(spark.table("listed_once")) == sorted(ROWS)
        spark.sql("CREATE TABLE listed_empty (a INT) USING parquet")
        assert spark.table("listed_empty").count() == 0  # no data files yet: one listing too
    finally:
        monkeypatch.undo()
        spark.sql("DROP TABLE IF EXISTS listed_once")
        spark.sql("DROP TABLE IF EXISTS listed_empty")
    assert per_plan and all(n == 1 for n in per_plan), per_plan


# ---- cache in the store ----------------------------------------------------------------


def _uuids(df) -> list[tuple]:
    return sorted((r.id, r.u) for r in df.collect())


def _check_cached_in_store(spark: SparkSession, keys) -> None:  # noqa: ANN001 - () -> list[str]
    df = spark.range(0, 40, 1, 3).withColumn("u", F.expr("uuid()"))
    assert keys() == []
    df.cache()
    assert keys(), "no cached blocks in the store"
    first = _uuids(df)
    assert first == _uuids(df)  # not recomputed
    assert sorted((r.id, r.u) for r in df.where("id < 10").collect()) == first[:10]
    df.unpersist()
    assert keys() == []
    assert _uuids(df) != first

    cp = spark.range(25).withColumn("u", F.expr("uuid()")).checkpoint()
    assert keys()
    assert _uuids(cp) == _uuids(cp)

    spark.range(10).withColumn("u", F.expr("uuid()")).createOrReplaceTempView("cached_view")
    spark.sql("CACHE TABLE cached_view")
    assert _uuids(spark.table("cached_view")) == _uuids(spark.sql("SELECT * FROM cached_view"))
    spark.sql("UNCACHE TABLE cached_view")
    spark.catalog.clearCache()


def test_cache_in_redis_store() -> None:
    with RedisServer() as redis_server, _server(redis_server.uri, {}) as spark:
        client = redis_server.client()

        def keys() -> list[str]:
            return [k.decode() for k in client.scan_iter(match="cache/*")]

        _check_cached_in_store(spark, keys)
        spark.stop()  # closing the session drops the checkpoint's blocks too
        assert keys() == []


def test_cache_in_s3_store(moto) -> None:
    prefix = "shuffle-store"
    with _server(s3_uri(moto, BUCKET, prefix), {}) as spark:

        def keys() -> list[str]:
            return [k for k in moto.objects(BUCKET) if k.startswith(prefix) and "/cache/" in k]

        _check_cached_in_store(spark, keys)
