"""Sketch, hash, random and approximate-statistics functions against Apache Spark.

Values must be Spark's: hashes bit for bit, seeded random streams row for row (over
DataFrames split into the same partitions), sketch estimates, quantiles and summaries, and
the serialized sketch bytes where Spark's are deterministic -- over one partition, since a
sketch merged from several partitions depends on how Spark split the rows. KLL sketches
past their first compaction are left to estimates: compaction draws a random bit.
"""

from __future__ import annotations

import datetime as dt
import decimal

import pytest
from pyspark.sql import functions as F

from tests.conftest import classic_mode, connect_mode

HASH_ROWS = [
    (1, 10, "ABC", bytearray(b"\x01\x02\x03"), 1.5, -0.0, True, dt.date(2020, 1, 2),
     dt.datetime(2021, 3, 4, 5, 6, 7), decimal.Decimal("12.34"), "héllo wörld!"),
    (None, -5, "", bytearray(b""), float("nan"), 2.25, False, None, None, None, None),
    (3, 2**40, "abcde", bytearray(b"\xff\xfe\xfd\xfc\xfb"), -1.0, None, None,
     dt.date(1960, 5, 6), dt.datetime(1950, 1, 1), decimal.Decimal("-0.01"), "x"),
]
HASH_SCHEMA = ("i int, l bigint, s string, b binary, f float, d double, t boolean, dt date, "
               "ts timestamp, dec decimal(10,2), u string")
HASH_COLUMNS = ["i", "l", "s", "b", "f", "d", "t", "dt", "ts", "dec", "u"]


def _hash_frame(s):
    return s.createDataFrame(HASH_ROWS, HASH_SCHEMA)


def test_hash_per_type(compare):
    """Murmur3 with seed 42 over every type's bytes (strings/binary: Spark's odd tail)."""
    compare(lambda s: _hash_frame(s).select(
        "i", *[F.hash(c) for c in HASH_COLUMNS], F.hash("i", "s", "d", "b")))


def test_xxhash64_and_crc32(compare):
    compare(lambda s: _hash_frame(s).select(
        "i", *[F.xxhash64(c) for c in HASH_COLUMNS], F.xxhash64("s", "i", "dec"),
        F.crc32("s"), F.crc32("b")))


def test_hash_of_star_names_the_columns(compare):
    compare(lambda s: s.createDataFrame([("ABC", "DEF")], ["c1", "c2"]).select(
        "*", F.hash("*"), F.xxhash64("*")))


def test_seeded_random_one_partition(compare):
    compare(lambda s: s.range(0, 40, 1, 1).select(
        "id", F.rand(42), F.randn(7), F.uniform(5, 105, 3), F.uniform(0.5, 2.5, 1),
        F.randstr(8, 5), F.uniform(F.lit(1).cast("long"), F.lit(10), F.lit(0)),
        F.rand(42).alias("same_seed_again")), ordered=True)


def test_seeded_random_per_partition(compare):
    """Each partition draws from XORShiftRandom(seed + partitionIndex)."""
    compare(lambda s: s.range(0, 12, 1, 3).select("id", F.rand(42), F.randn(1)), ordered=True)


def test_hll(compare):
    compare(lambda s: s.range(0, 1000, 1, 1).select(
        F.hll_sketch_agg("id").alias("a"), F.hll_sketch_agg(F.col("id").cast("string"), 10)
        .alias("b")).select(
        F.hex("a"), F.hex("b"), F.hll_sketch_estimate("a"), F.hll_sketch_estimate("b"),
        F.hll_sketch_estimate(F.hll_union("a", "b", True))))


def test_hll_grouped_estimates(compare):
    compare(lambda s: s.createDataFrame([(i % 7, str(i)) for i in range(50)], "k int, s string")
            .groupBy("k").agg(F.hll_sketch_estimate(F.hll_sketch_agg("s")).alias("e")))


def test_hll_union_agg(compare):
    def build(s):
        one = s.createDataFrame([1, 2, 2, 3], "INT").agg(F.hll_sketch_agg("value").alias("k"))
        two = s.createDataFrame([3, 4, 5], "INT").agg(F.hll_sketch_agg("value").alias("k"))
        return one.union(two).agg(F.hll_sketch_estimate(F.hll_union_agg("k")))

    compare(build)


def test_theta(compare):
    compare(lambda s: s.range(0, 1000, 1, 1).select(
        F.theta_sketch_agg("id").alias("a"), F.theta_sketch_agg(F.col("id") % 50, 5).alias("b"))
        .select(F.hex("a"), F.hex("b"), F.theta_sketch_estimate("a"),
                F.theta_sketch_estimate(F.theta_union("a", "b")),
                F.theta_sketch_estimate(F.theta_intersection("a", "b")),
                F.theta_sketch_estimate(F.theta_difference("a", "b"))))


def test_theta_keys_of_each_type(compare):
    compare(lambda s: s.createDataFrame(
        [(1, "a", 2.5, bytearray(b"x")), (2, "b", 3.5, bytearray(b"yz")), (2, "", 1.0, None)],
        "k int, s string, v double, b binary").coalesce(1).select(
        *[F.hex(F.theta_sketch_agg(c)) for c in ("k", "s", "v", "b")]))


def test_tuple_sketches(compare):
    def build(s):
        df = s.createDataFrame([(1, 10.0, 2, 20), (2, 20.0, 3, 30), (3, 30.0, 4, 40),
                                (3, 5.0, 4, 1)], "k1 int, v1 double, k2 int, v2 int").coalesce(1)
        sk = df.agg(F.tuple_sketch_agg_double("k1", "v1").alias("d1"),
                    F.tuple_sketch_agg_double("k2", F.col("v2").cast("double")).alias("d2"),
                    F.tuple_sketch_agg_integer("k1", F.col("v1").cast("int"), 12, "max")
                    .alias("i1"),
                    F.theta_sketch_agg("k2").alias("t"))
        return sk.select(
            F.hex("d1"), F.hex("i1"),
            F.tuple_sketch_estimate_double("d1"), F.tuple_sketch_theta_double("d1"),
            F.tuple_sketch_summary_double("d1"), F.tuple_sketch_summary_double("d1", "min"),
            F.tuple_sketch_summary_double("d1", "max"),
            F.tuple_sketch_summary_double("d1", "alwaysone"),
            F.tuple_sketch_summary_integer("i1"), F.tuple_sketch_estimate_integer("i1"),
            F.hex(F.tuple_union_double("d1", "d2")),
            F.tuple_sketch_summary_double(F.tuple_union_double("d1", "d2")),
            F.tuple_sketch_summary_double(F.tuple_intersection_double("d1", "d2")),
            F.tuple_sketch_estimate_double(F.tuple_difference_double("d1", "d2")),
            F.tuple_sketch_summary_double(F.tuple_union_theta_double("d1", "t")),
            F.tuple_sketch_summary_double(F.tuple_intersection_theta_double("d1", "t")),
            F.tuple_sketch_estimate_double(F.tuple_difference_theta_double("d1", "t")))

    compare(build)


def test_tuple_aggregates_of_sketches(compare):
    def build(s):
        one = s.createDataFrame([(1, 10), (2, 20), (3, 30)], ["k", "v"]).agg(
            F.tuple_sketch_agg_integer("k", "v").alias("sk"))
        two = s.createDataFrame([(2, 40), (3, 50), (4, 60)], ["k", "v"]).agg(
            F.tuple_sketch_agg_integer("k", "v").alias("sk"))
        both = one.union(two)
        return both.agg(
            F.tuple_sketch_summary_integer(F.tuple_union_agg_integer("sk")).alias("u"),
            F.tuple_sketch_summary_integer(F.tuple_intersection_agg_integer("sk")).alias("i"),
            F.tuple_sketch_estimate_integer(F.tuple_union_agg_integer("sk", 12, "min")))

    compare(build)


def test_kll(compare):
    def build(s):
        df = s.range(1, 101, 1, 1).select(F.col("id").cast("double").alias("v"), "id")
        sk = df.agg(F.kll_sketch_agg_double("v").alias("d"), F.kll_sketch_agg_bigint("id")
                    .alias("b"), F.kll_sketch_agg_float(F.col("v").cast("float"), 300).alias("f"))
        return sk.select(
            F.hex("d"), F.hex("f"),
            F.kll_sketch_get_quantile_double("d", F.array(F.lit(0.1), F.lit(0.5), F.lit(1.0))),
            F.kll_sketch_get_quantile_bigint("b", F.lit(0.25)),
            F.kll_sketch_get_quantile_float("f", F.lit(0.99)),
            F.kll_sketch_get_rank_bigint("b", F.lit(30)),
            F.kll_sketch_get_rank_double("d", F.array(F.lit(10.0), F.lit(95.5))),
            F.kll_sketch_get_n_bigint("b"), F.kll_sketch_get_n_float("f"),
            F.kll_sketch_get_n_double(F.kll_sketch_merge_double("d", "d")))

    compare(build)


def test_kll_merge_agg(compare):
    def build(s):
        one = s.range(0, 300, 1, 1).agg(F.kll_sketch_agg_bigint("id").alias("sk"))
        two = s.range(300, 400, 1, 1).agg(F.kll_sketch_agg_bigint("id").alias("sk"))
        merged = one.union(two).agg(F.kll_merge_agg_bigint("sk").alias("m"))
        return merged.select(F.kll_sketch_get_n_bigint("m"),
                             F.kll_sketch_get_quantile_bigint("m", F.lit(0.0)),
                             F.kll_sketch_get_quantile_bigint("m", F.lit(1.0)))

    compare(build)


def test_count_min_sketch(compare):
    compare(lambda s: s.range(100).select(
        F.hex(F.count_min_sketch(F.col("id").cast("string"), F.lit(0.5), F.lit(0.9), F.lit(7))),
        F.hex(F.count_min_sketch(F.col("id").cast("int"), F.lit(0.5), F.lit(0.9), F.lit(7))),
        F.hex(F.count_min_sketch("id", F.lit(1.5), F.lit(0.2), F.lit(1111111111111111111)))))


def test_bitmaps(compare):
    def build(s):
        pos = s.createDataFrame([(1,), (2,), (40000,), (None,)], "a long").select(
            F.bitmap_construct_agg(F.bitmap_bit_position("a")).alias("m"))
        bits = s.createDataFrame([("FF01",), ("0F",), (None,)], ["a"]).select(
            F.to_binary("a", F.lit("hex")).alias("b"))
        agg = bits.agg(F.bitmap_and_agg("b").alias("x"), F.bitmap_or_agg("b").alias("y"))
        return pos.crossJoin(agg).select(
            F.hex("m"), F.hex("x"), F.hex("y"), F.bitmap_count("m"), F.bitmap_count("y"))

    compare(build)


def test_bitmaps_of_no_rows(compare):
    compare(lambda s: s.createDataFrame([], "a binary").select(
        F.hex(F.bitmap_and_agg("a")), F.hex(F.bitmap_or_agg("a"))))


def test_histogram_numeric(compare):
    compare(lambda s: s.range(1000, numPartitions=1).select(
        F.histogram_numeric("id", F.lit(7)),
        F.histogram_numeric(F.col("id").cast("double") / 3, F.lit(4))))


def test_percentiles_over_randn(compare):
    def build(s):
        key = (F.col("id") % 3).alias("k")
        df = s.range(0, 1000, 1, 1).select(key, (F.randn(42) + key * 10).alias("v"))
        return df.groupBy("k").agg(
            F.percentile_approx("v", [0.25, 0.5, 0.75], 1000000),
            F.approx_percentile(F.col("v").cast("int"), 0.3),
            F.percentile("v", F.lit(0.5)))

    compare(build)


def test_collect_union(compare):
    compare(lambda s: s.createDataFrame(
        [("a", [1, 2]), ("a", [2, 3]), ("b", [4]), ("b", None)], ("k", "value"))
        .groupBy("k").agg(F.collect_union("value").alias("u")), sort_arrays=True)


def _garbage(s):
    return s.createDataFrame([(bytearray(b"abcdefgh"),)], "a binary")


ERROR_CASES = [
    ("hll_lg_k", "HLL_INVALID_LG_K",
     lambda s: s.createDataFrame([1, 2], "INT").agg(F.hll_sketch_agg("value", 30))),
    ("hll_union_lg_k", "HLL_UNION_DIFFERENT_LG_K",
     lambda s: s.range(0, 10, 1, 1).select(F.hll_sketch_agg("id", 10).alias("a"),
                                           F.hll_sketch_agg("id", 12).alias("b"))
     .select(F.hll_union("a", "b"))),
    ("hll_bad_buffer", "HLL_INVALID_INPUT_SKETCH_BUFFER",
     lambda s: s.createDataFrame([(bytearray(b"abc"),)], "a binary")
     .select(F.hll_sketch_estimate("a"))),
    ("theta_bad_buffer", "THETA_INVALID_INPUT_SKETCH_BUFFER",
     lambda s: _garbage(s).select(F.theta_union("a", "a"))),
    ("tuple_bad_buffer", "TUPLE_INVALID_INPUT_SKETCH_BUFFER",
     lambda s: _garbage(s).select(F.tuple_sketch_estimate_double("a"))),
    ("kll_bad_buffer", "KLL_INVALID_INPUT_SKETCH_BUFFER",
     lambda s: _garbage(s).agg(F.kll_merge_agg_double("a"))),
    ("kll_rank_range", "KLL_SKETCH_INVALID_QUANTILE_RANGE",
     lambda s: s.range(0, 10, 1, 1).agg(F.kll_sketch_agg_double(F.col("id").cast("double"))
                                        .alias("k"))
     .select(F.kll_sketch_get_quantile_double("k", F.lit(1.5)))),
    ("bitmap_position", "INVALID_BITMAP_POSITION",
     lambda s: s.range(3).select(F.bitmap_construct_agg(F.lit(40000).cast("long")))),
    ("theta_lg_nom", "SKETCH_INVALID_LG_NOM_ENTRIES",
     lambda s: s.range(3).select(F.theta_sketch_agg("id", 2))),
    ("tuple_mode", "DATATYPE_MISMATCH.TYPE_CHECK_FAILURE_WITH_HINT",
     lambda s: s.range(3).select(F.tuple_sketch_agg_double("id", F.lit(1.0), 12, "avg"))),
]


@pytest.mark.parametrize("build,condition", [pytest.param(b, c, id=i) for i, c, b in ERROR_CASES])
def test_errors(spark, oracle, build, condition):
    """Spark's error class (and SQLSTATE) for bad parameters and bad sketches."""
    from pyspark.errors import PySparkException

    seen = []
    for session, mode in ((oracle, classic_mode), (spark, connect_mode)):
        with mode(), pytest.raises(PySparkException) as info:
            build(session).collect()
        seen.append((info.value.getCondition(), info.value.getSqlState()))
    assert seen[0][0] == condition
    assert seen[1] == seen[0]


def test_sketches_merged_across_partitions(compare):
    """Several map tasks: partial sketches per task, merged (not re-sketched) after the
    exchange, as Spark's final phase merges its partial buffers."""
    compare(lambda s: s.range(0, 100000, 1, 4).groupBy((F.col("id") % 3).alias("k")).agg(
        F.hll_sketch_estimate(F.hll_sketch_agg("id")),
        F.theta_sketch_estimate(F.theta_sketch_agg("id")),
        F.tuple_sketch_estimate_double(F.tuple_sketch_agg_double("id", F.lit(1.0))),
        F.tuple_sketch_summary_double(F.tuple_sketch_agg_double("id", F.lit(1.0))),
        F.kll_sketch_get_n_bigint(F.kll_sketch_agg_bigint("id")),
        F.bitmap_count(F.bitmap_construct_agg(F.bitmap_bit_position("id"))),
        F.hex(F.count_min_sketch("id", F.lit(0.1), F.lit(0.9), F.lit(3)))))


def test_seeded_random_in_filters(compare):
    """rand in a WHERE (after another condition: drawn only for the rows that reach it, as
    Spark's And) and through a column that a filter then reads."""
    compare(lambda s: s.range(0, 60, 1, 2).filter(
        (F.col("id") % 2 == 0) & (F.rand(42) < 0.5)).withColumn("r", F.rand(3))
        .filter("r < 0.7"), ordered=True)
