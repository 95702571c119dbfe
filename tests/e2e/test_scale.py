"""A modest job (200k rows, join + aggregation) through multi-partition shuffles."""

from __future__ import annotations

from pyspark.sql import functions as F

N = 200_000


def facts(s):
    return s.range(0, N, 1, 4).select(
        F.col("id"),
        (F.col("id") % 997).alias("k"),
        ((F.col("id") * 7919) % 10007 / 100.0).alias("amount"))


def dims(s):
    return s.range(0, 1200, 1, 2).select(
        F.col("id").alias("k"), (F.col("id") % 13).alias("grp"),
        F.concat(F.lit("d"), F.col("id").cast("string")).alias("label"))


def test_join_and_aggregate_200k(compare):
    with compare.conf({"spark.sql.autoBroadcastJoinThreshold": "-1"}):
        compare(lambda s: facts(s).join(dims(s), "k").groupBy("grp").agg(
            F.count("*").alias("n"), F.sum("amount").alias("total"),
            F.avg("amount").alias("mean"), F.min("id").alias("lo"), F.max("id").alias("hi"),
            F.countDistinct("k").alias("keys")))


def test_join_and_aggregate_200k_default_join_strategy(compare):
    compare(lambda s: facts(s).join(dims(s), "k", "left").groupBy("label")
            .agg(F.sum("amount").alias("total")).orderBy(F.desc("total"), "label").limit(25),
            ordered=True)


def test_distinct_and_count_200k(compare):
    ours, theirs = compare.values(
        lambda s: facts(s).select("k", (F.col("id") % 3).alias("m")).distinct().count())
    assert ours == theirs


def test_global_sort_200k_top(compare):
    compare(lambda s: facts(s).orderBy(F.desc("amount"), "id").limit(50), ordered=True)
