"""Timestamps in the session time zone, against Apache Spark.

The e2e servers run with the machine zone UTC, so every case sets
``spark.sql.session.timeZone`` to zones that differ from it (and from each other, with and
without daylight saving, and a raw offset) -- casts of strings, hour(), unix_* and
from/to_utc_timestamp must follow the session zone as Spark's do. Timestamps are compared
as strings (rendered in the session zone) and as epoch numbers, never as client datetimes.
"""

from __future__ import annotations

import pytest
from pyspark.sql import functions as F

ZONES = ["America/Los_Angeles", "Asia/Tokyo", "+05:30", "Europe/Berlin"]
ROWS = [("2015-07-22 10:00:00", "JST"), ("2022-10-09 11:12:13", "PST"),
        ("1997-02-28 10:30:00", "+02:00"), (None, None)]


def _frame(s):
    return s.createDataFrame(ROWS, "ts string, tz string")


CASES = [
    ("to_timestamp", lambda: [F.to_timestamp("ts").cast("string").alias("t"),
                              F.unix_micros(F.to_timestamp("ts")).alias("us")]),
    ("cast_string", lambda: [F.col("ts").cast("timestamp").cast("long").alias("s")]),
    ("hour_of_timestamp", lambda: [F.hour(F.to_timestamp("ts")), F.minute(F.to_timestamp("ts"))]),
    ("unix_timestamp", lambda: [F.unix_timestamp("ts"),
                                F.unix_timestamp(F.substring("ts", 1, 10), "yyyy-MM-dd")]),
    ("to_unix_timestamp", lambda: [F.to_unix_timestamp("ts")]),
    ("unix_units", lambda: [F.unix_seconds(F.to_timestamp("ts")),
                            F.unix_millis(F.to_timestamp("ts"))]),
    ("from_utc_literal_zone", lambda: [F.from_utc_timestamp("ts", "PST").cast("string")]),
    ("from_utc_column_zone", lambda: [F.from_utc_timestamp("ts", F.col("tz")).cast("string")]),
    ("to_utc_column_zone", lambda: [F.to_utc_timestamp("ts", F.col("tz")).cast("string")]),
    ("to_timestamp_pattern", lambda: [F.to_timestamp("ts", "yyyy-MM-dd HH:mm:ss").cast("string")]),
    ("to_timestamp_ntz", lambda: [F.to_timestamp_ntz("ts").cast("string"),
                                  F.hour(F.to_timestamp_ntz("ts"))]),
    ("make_timestamp", lambda: [F.make_timestamp(F.lit(2014), F.lit(12), F.lit(28), F.lit(6),
                                                 F.lit(30), F.lit(45.887)).cast("string"),
                                F.make_timestamp(F.lit(2014), F.lit(12), F.lit(28), F.lit(6),
                                                 F.lit(30), F.lit(45.887), F.lit("CET"))
                                .cast("long")]),
    ("date_of_timestamp", lambda: [F.to_date(F.to_timestamp("ts")),
                                   F.date_trunc("day", F.to_timestamp("ts")).cast("string")]),
]


def test_fractions_and_casts(compare):
    with compare.conf({"spark.sql.session.timeZone": "America/Los_Angeles"}):
        compare(lambda s: s.createDataFrame(
            [("2022-10-09 11:12:13.123456",), ("2022-10-09 11:12:13.5",), (None,)], "ts string")
            .select(F.to_timestamp("ts").cast("string").alias("s"),
                    F.to_timestamp("ts").cast("double").alias("d"),
                    F.unix_millis(F.to_timestamp("ts")).alias("ms"),
                    F.col("ts").cast("timestamp").cast("string"),
                    F.lit(1700000000).cast("timestamp").cast("string").alias("from_long")))


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("build", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_session_time_zone(compare, zone, build):
    with compare.conf({"spark.sql.session.timeZone": zone}):
        compare(lambda s: _frame(s).select("ts", *build()))


def test_zone_change_between_queries(compare):
    """One session, two zones: the second query sees the new zone (the executors' DuckDB
    connection is reused across tasks)."""
    for zone in ("Asia/Tokyo", "America/New_York"):
        with compare.conf({"spark.sql.session.timeZone": zone}):
            compare(lambda s: _frame(s).select(F.hour(F.to_timestamp("ts"))))


def test_literal_timestamp_in_zone(compare):
    import datetime

    with compare.conf({"spark.sql.session.timeZone": "Asia/Tokyo"}):
        compare(lambda s: s.range(1).select(
            F.hour(F.lit(datetime.datetime(2016, 3, 11, 9, 0, 7))).alias("h")))


def test_sql_in_zone(compare):
    """SQL casts (nullability: sparkless's SQL casts are all nullable, a known gap)."""
    with compare.conf({"spark.sql.session.timeZone": "Asia/Kolkata"}):
        compare(lambda s: s.sql(
            "SELECT CAST(TIMESTAMP '2020-01-01 00:00:00' AS LONG) AS e, "
            "CAST(CAST('2020-01-01 03:04:05' AS TIMESTAMP) AS STRING) AS t"),
            check_nullability=False)


def test_timestamps_through_a_shuffle(compare):
    """Executors write zoned timestamps in the session zone; a shuffle reads them back."""
    with compare.conf({"spark.sql.session.timeZone": "Asia/Tokyo"}):
        compare(lambda s: _frame(s).withColumn("t", F.to_timestamp("ts")).repartition(3, "tz")
                .groupBy("t").agg(F.count("*").alias("n")).select(F.col("t").cast("string"), "n"))
