"""repartition / coalesce / repartitionByRange / sortWithinPartitions and
spark_partition_id (issue 6), against Apache Spark."""

from __future__ import annotations

from pyspark.sql import functions as F


def test_repartition_n(compare):
    compare(
        lambda s: s.range(100).repartition(5).select(F.spark_partition_id().alias("p")).distinct()
    )


def test_repartition_by_column_and_coalesce(compare):
    compare(
        lambda s: (
            s.range(100)
            .repartition(7, "id")
            .coalesce(2)
            .select(F.spark_partition_id().alias("p"))
            .distinct()
        )
    )
    compare(
        lambda s: (
            s.range(10)
            .repartition(3, "id")
            .sortWithinPartitions(F.col("id").desc())
            .groupBy()
            .sum("id")
        )
    )


def test_repartition_by_range(compare):
    compare(
        lambda s: (
            s.range(100)
            .repartitionByRange(4, "id")
            .select(F.spark_partition_id().alias("p"), "id")
            .groupBy("p")
            .agg(F.min("id").alias("lo"), F.max("id").alias("hi"))
            .select("p")
        )
    )
    compare(
        lambda s: (
            s.range(100)
            .repartitionByRange(3, F.col("id").desc())
            .groupBy(F.spark_partition_id().alias("p"))
            .count()
            .select("p")
        )
    )


def test_partitions_are_ranges(spark):
    rows = (
        spark.range(1000)
        .repartitionByRange(4, "id")
        .groupBy(F.spark_partition_id().alias("p"))
        .agg(F.min("id").alias("lo"), F.max("id").alias("hi"), F.count("*").alias("n"))
        .orderBy("p")
        .collect()
    )
    assert len(rows) == 4
    assert all(a.hi < b.lo for a, b in zip(rows, rows[1:]))
    assert sum(r.n for r in rows) == 1000


def test_round_robin_spreads_as_spark(compare):
    """Each map task starts its rotation where Spark's does, so partition sizes agree."""
    compare(
        lambda s: (
            s.range(0, 64, 1, 9).repartition(10).groupBy(F.spark_partition_id().alias("p")).count()
        )
    )
    compare(
        lambda s: (
            s.range(0, 100, 1, 3).repartition(7).groupBy(F.spark_partition_id().alias("p")).count()
        )
    )


def test_range_bounds_as_spark(compare):
    """A key equal to a bound stays in the lower partition (the pyspark doctest)."""
    compare(
        lambda s: (
            s.createDataFrame([(14, "Tom"), (23, "Alice"), (16, "Bob")], ["age", "name"])
            .repartitionByRange(2, "age")
            .select("age", "name", F.spark_partition_id())
        )
    )
