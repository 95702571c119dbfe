"""cache / persist / unpersist / checkpoint / CACHE TABLE (issue 6).

"Not recomputed" is shown with a nondeterministic column: ``uuid()`` differs on every
evaluation, so equal values across actions mean the rows came from the materialised copy.
"""

from __future__ import annotations

import pytest
from pyspark import StorageLevel
from pyspark.sql import functions as F


def _uuids(df):
    return sorted((r.id, r.u) for r in df.collect())


def test_uncached_uuid_changes(spark):
    """The control: without a cache the column is recomputed (else the tests prove nothing)."""
    df = spark.range(20).withColumn("u", F.expr("uuid()"))
    assert _uuids(df) != _uuids(df)


def test_cache_is_not_recomputed(spark):
    df = spark.range(0, 50, 1, 3).withColumn("u", F.expr("uuid()"))
    assert df.storageLevel == StorageLevel(False, False, False, False, 1)
    df.cache()
    assert df.storageLevel == StorageLevel.MEMORY_AND_DISK_DESER
    first = _uuids(df)
    assert first == _uuids(df)
    # derived DataFrames read the cached rows too
    assert sorted((r.id, r.u) for r in df.where("id < 10").collect()) == first[:10]
    assert df.count() == 50
    df.unpersist()
    assert df.storageLevel == StorageLevel(False, False, False, False, 1)
    assert _uuids(df) != first


def test_persist_keeps_schema(compare):
    def fn(s):
        df = s.createDataFrame([(1, "a"), (2, None)], "id INT NOT NULL, s STRING")
        df.persist(StorageLevel.DISK_ONLY)
        return df.select("id", "s", (F.col("id") + 1).alias("n"))

    compare(fn)


def test_persist_with_duplicate_names(spark):
    a, b = spark.range(3), spark.range(3)
    df = a.join(b, a.id == b.id)
    df.cache()
    assert df.columns == ["id", "id"]
    assert sorted(tuple(r) for r in df.collect()) == [(0, 0), (1, 1), (2, 2)]


@pytest.mark.parametrize("local", [False, True])
def test_checkpoint(spark, local):
    df = spark.range(30).withColumn("u", F.expr("uuid()"))
    cp = df.localCheckpoint() if local else df.checkpoint()
    first = _uuids(cp)
    assert first == _uuids(cp)
    assert cp.schema == df.schema
    assert cp.where("id >= 10").count() == 20


def test_cache_table(spark):
    spark.range(10).withColumn("u", F.expr("uuid()")).createOrReplaceTempView("cache_me")
    assert not spark.catalog.isCached("cache_me")
    spark.catalog.cacheTable("cache_me")
    assert spark.catalog.isCached("cache_me")
    first = _uuids(spark.table("cache_me"))
    assert first == sorted((r.id, r.u) for r in spark.sql("SELECT * FROM cache_me").collect())
    spark.catalog.uncacheTable("cache_me")
    assert not spark.catalog.isCached("cache_me")
    spark.sql("CACHE TABLE cache_me")
    assert spark.catalog.isCached("cache_me")
    spark.sql("UNCACHE TABLE cache_me")
    spark.catalog.clearCache()
    spark.catalog.dropTempView("cache_me")


def test_cached_table_sees_inserts(compare):
    """A write to a cached table's files refreshes the cache (Spark re-caches by path)."""

    def fn(s):
        s.sql("DROP TABLE IF EXISTS cached_ins")
        s.range(3).write.saveAsTable("cached_ins")
        s.catalog.cacheTable("cached_ins")
        df = s.table("cached_ins").where("id >= 0")
        df.cache()
        before = df.count()
        s.range(10, 12).write.insertInto("cached_ins")
        after = sorted(r.id for r in s.table("cached_ins").collect()), df.count()
        s.sql("DROP TABLE cached_ins")
        return before, after

    ours, theirs = compare.values(fn)
    assert ours == theirs


def test_replaced_view_is_not_served_from_cache(compare):
    def fn(s):
        s.range(3).createOrReplaceTempView("cached_v")
        s.catalog.cacheTable("cached_v")
        s.range(5).createOrReplaceTempView("cached_v")
        out = s.table("cached_v").count(), s.catalog.isCached("cached_v")
        s.catalog.dropTempView("cached_v")
        return out

    ours, theirs = compare.values(fn)
    assert ours == theirs


def test_unknown_checkpoint_id_is_an_analysis_error(spark):
    """A checkpoint id this session never made (another server's, or one already released)
    fails with Spark's message. It must not be an INVALID_HANDLE error: the client reads
    those as a restarted server and retries the request forever."""
    from pyspark.errors import AnalysisException
    from pyspark.sql.connect.dataframe import DataFrame
    from pyspark.sql.connect.plan import CachedRemoteRelation

    df = DataFrame(CachedRemoteRelation("no-such-relation", spark), spark)
    with pytest.raises(AnalysisException, match="No DataFrame with id no-such-relation"):
        df.collect()
    assert spark.range(3).count() == 3  # the session keeps serving
