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
