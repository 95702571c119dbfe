"""Date/time functions beyond the session zone, against Apache Spark: TIME values, extract,
time windows, intervals (Spark's three kinds over DuckDB's one), make_timestamp variants,
patterns given as columns, monotonically_increasing_id and counter_diff."""

from __future__ import annotations

import datetime

import pytest
from pyspark.sql import Window
from pyspark.sql import functions as F

UTC = {"spark.sql.session.timeZone": "UTC"}


def _times(s):
    return s.createDataFrame([("13:08:15", "21:30:28.25"), ("00:00:00", "23:59:59.999999"),
                              (None, None)], "a string, b string") \
        .select(F.col("a").cast("time").alias("a"), F.col("b").cast("time").alias("b"))


TIME_CASES = [
    ("fields", lambda: [F.hour("b"), F.minute("b"), F.second("b"), F.typeof("a")]),
    ("diff_trunc", lambda: [F.time_diff(F.lit("MINUTE"), "a", "b"),
                            F.time_trunc(F.lit("HOUR"), "b").cast("string").alias("t")]),
    ("to_units", lambda: [F.time_to_micros("b"), F.time_to_millis("b"), F.time_to_seconds("b")]),
    ("from_units", lambda: [F.time_from_micros(F.lit(52200500000)).cast("string").alias("m"),
                            F.time_from_seconds(F.lit(52200.5)).cast("string").alias("s")]),
    ("to_time", lambda: [F.to_time(F.lit("10:30:00")).cast("string").alias("t"),
                         F.try_to_time(F.lit("nope")).alias("n"),
                         F.make_time(F.lit(6), F.lit(30), F.lit(45.887)).cast("string").alias("mt")]),
]


@pytest.mark.parametrize("build", [c[1] for c in TIME_CASES], ids=[c[0] for c in TIME_CASES])
def test_time_type(compare, build):
    with compare.conf({"spark.sql.timeType.enabled": "true"}):
        compare(lambda s: _times(s).select(*build()))


def test_extract_fields(compare):
    fields = ["YEAR", "yearofweek", "QUARTER", "MONTH", "WEEK", "D", "DAYOFWEEK", "DOW_ISO", "DOY",
              "HOUR", "M", "S"]
    with compare.conf(UTC):
        compare(lambda s: s.createDataFrame(
            [(datetime.datetime(2015, 4, 8, 13, 8, 15, 250000),), (None,)], "ts timestamp")
            .select(*[F.extract(F.lit(f), "ts").alias(f.lower()) for f in fields],
                    F.date_part(F.lit("year"), F.to_date("ts")).alias("dy")))


def test_tumbling_window(compare):
    with compare.conf(UTC):
        compare(lambda s: s.createDataFrame(
            [(datetime.datetime(2016, 3, 11, 9, 0, 7), 1), (datetime.datetime(2016, 3, 11, 9, 0, 8), 2),
             (datetime.datetime(2016, 3, 11, 9, 0, 12), 3), (None, 4)], "dt timestamp, v int")
            .groupBy(F.window("dt", "5 seconds")).agg(F.sum("v"))
            .select("window", F.window_time("window").cast("string").alias("wt"), "sum(v)"))


def test_window_drops_null_times(compare):
    with compare.conf(UTC):
        compare(lambda s: s.createDataFrame(
            [(datetime.datetime(2016, 3, 11, 9, 0, 7), 1), (None, 2)], "dt timestamp, v int")
            .select("v", F.window("dt", "10 minutes", startTime="2 minutes").alias("w")))


def test_intervals_show(compare):
    """Year-month and calendar intervals cannot travel to the client; show() prints them."""
    def frame(s):
        return s.createDataFrame([(100, 11, 1, 1, 12, 30, 1.001001)],
                                 "y int, mo int, w int, d int, h int, mi int, sec double")

    ours, theirs = compare.stdout(lambda s: frame(s).select(
        F.make_interval("y", "mo", "w", "d", "h", "mi", "sec"), F.make_interval("y"),
        F.make_ym_interval("y", "mo"), F.make_dt_interval("d", "h", "mi", "sec"),
        F.try_multiply(F.make_ym_interval("y", "mo"), F.lit(2)).alias("twice"),
    ).show(truncate=False))
    assert ours == theirs


def test_interval_arithmetic_show(compare):
    q = ("SELECT * FROM VALUES (DATE'2015-09-30', INTERVAL 1 YEAR, INTERVAL 2 YEAR) "
         "AS t(d, i1, i2)")
    ours, theirs = compare.stdout(lambda s: s.sql(q).select(
        "*", F.try_add("d", "i1"), F.try_subtract("d", "i1"), F.try_add("i1", "i2"),
        F.try_subtract("i1", "i2")).show())
    assert ours == theirs


def test_day_time_interval_values(compare):
    compare(lambda s: s.createDataFrame([(1, 12, 30, 1.001001)], "d int, h int, m int, s double")
            .select(F.make_dt_interval("d", "h", "m", "s").alias("i"),
                    F.make_dt_interval("d").alias("j")))


def test_make_timestamp_variants(compare):
    with compare.conf({"spark.sql.session.timeZone": "America/Los_Angeles"}):
        compare(lambda s: s.createDataFrame([(2014, 12, 28, 6, 30, 45.887, "CET"),
                                             (2014, 13, 28, 6, 30, 45.887, "CET")],
                                            "y int, mo int, d int, h int, mi int, sec double, tz string")
                .select(F.try_make_timestamp("y", "mo", "d", "h", "mi", "sec", "tz")
                        .cast("string").alias("a"),
                        F.try_make_timestamp_ntz("y", "mo", "d", "h", "mi", "sec").cast("string")
                        .alias("b"),
                        F.try_make_timestamp_ltz("y", "mo", "d", "h", "mi", "sec").cast("string")
                        .alias("c")))


def test_patterns_from_a_column(compare):
    with compare.conf(UTC):
        compare(lambda s: s.createDataFrame(
            [("2015-04-08", "yyyy-MM-dd"), ("2025+01+09", "yyyy+MM+dd"), ("09/01/2025", "dd/MM/yyyy")],
            "dt string, fmt string")
            .select(F.to_timestamp_ntz("dt", "fmt").cast("string").alias("a"),
                    F.try_to_timestamp("dt", F.col("fmt")).cast("string").alias("b"),
                    F.to_unix_timestamp("dt", "fmt").alias("c")))


def test_monotonically_increasing_id(compare):
    compare(lambda s: s.range(0, 10, 1, 2).select("id", F.spark_partition_id(),
                                                   F.monotonically_increasing_id()))


def test_counter_diff(compare):
    rows = [("m", datetime.datetime(2026, 1, 1, 0, i), c, datetime.datetime(2026, 1, 1, 0, s))
            for i, (c, s) in enumerate([(100, 0), (200, 0), (400, 0), (50, 0), (600, 2), (700, 2)])]

    def build(s):
        w = Window.partitionBy("m").orderBy("t")
        return s.createDataFrame(rows, "m string, t timestamp_ntz, c int, s timestamp_ntz").select(
            "t", "c", F.counter_diff("c").over(w).alias("d1"),
            F.counter_diff("c", "s").over(w).alias("d2"))

    compare(build)


def test_row_number_output_order(compare):
    compare(lambda s: s.range(3).withColumn("o", F.row_number().over(Window.orderBy(F.col("id").desc()))),
            ordered=True)


def test_session_window(compare):
    rows = [("a", datetime.datetime(2016, 1, 1, 0, 0, 0), 1), ("a", datetime.datetime(2016, 1, 1, 0, 0, 4), 2),
            ("a", datetime.datetime(2016, 1, 1, 0, 0, 20), 3), ("b", datetime.datetime(2016, 1, 1, 0, 0, 2), 4),
            ("a", None, 5)]
    with compare.conf(UTC):
        compare(lambda s: s.createDataFrame(rows, "k string, t timestamp, v int")
                .groupBy("k", F.session_window("t", "10 seconds")).agg(F.sum("v"), F.count("*")))
        compare(lambda s: s.createDataFrame([("2016-03-11 09:00:07", 1)], "dt string, v int")
                .groupBy(F.session_window("dt", "5 seconds")).agg(F.sum("v")))
