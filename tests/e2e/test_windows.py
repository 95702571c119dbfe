"""Window functions from the DataFrame API and from SQL, compared with Apache Spark."""

from __future__ import annotations

import pytest
from pyspark.sql import Window
from pyspark.sql import functions as F

from tests.e2e.data import people

FUNCS = {
    "row_number": lambda w: F.row_number().over(w),
    "rank": lambda w: F.rank().over(w),
    "dense_rank": lambda w: F.dense_rank().over(w),
    "percent_rank": lambda w: F.percent_rank().over(w),
    "cume_dist": lambda w: F.cume_dist().over(w),
    "ntile": lambda w: F.ntile(2).over(w),
    "lag": lambda w: F.lag("salary").over(w),
    "lead_2_default": lambda w: F.lead("age", 2, -1).over(w),
    "running_sum": lambda w: F.sum("salary").over(w),
    "running_count": lambda w: F.count("age").over(w),
    "running_avg": lambda w: F.avg("age").over(w),
    "running_max": lambda w: F.max("name").over(w),
}


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_window_function(compare, name):
    def job(s):
        w = Window.partitionBy("dept").orderBy("id")
        return people(s).select("id", "dept", FUNCS[name](w).alias(name))

    compare(job)


def test_default_names_and_types(compare):
    def job(s):
        w = Window.partitionBy("dept").orderBy(F.col("salary").desc())
        return people(s).select("id", F.row_number().over(w), F.rank().over(w), F.sum("age").over(w))

    compare(job)


@pytest.mark.parametrize(
    "frame",
    ["rows_prev_1", "rows_unbounded", "range_current", "whole_partition"],
)
def test_frames(compare, frame):
    def job(s):
        base = Window.partitionBy("dept").orderBy("id")
        w = {
            "rows_prev_1": base.rowsBetween(-1, 0),
            "rows_unbounded": base.rowsBetween(Window.unboundedPreceding, Window.unboundedFollowing),
            "range_current": base.rangeBetween(Window.unboundedPreceding, Window.currentRow),
            "whole_partition": Window.partitionBy("dept"),
        }[frame]
        return people(s).select("id", F.sum("salary").over(w).alias("s"), F.count("*").over(w).alias("n"))

    compare(job)


def test_window_without_partition(compare):
    compare(lambda s: people(s).select("id", F.row_number().over(Window.orderBy("id")).alias("rn")))


def test_dedup_latest_per_key(compare):
    """The ETL idiom: keep the highest salary row per department."""

    def job(s):
        w = Window.partitionBy("dept").orderBy(F.col("salary").desc_nulls_last(), "id")
        return (people(s).withColumn("rn", F.row_number().over(w))
                .where(F.col("rn") == 1).drop("rn"))

    compare(job)


def test_sql_windows(compare):
    def job(s):
        people(s).createOrReplaceTempView("people_w")
        return s.sql(
            "SELECT id, dept, rank() OVER (PARTITION BY dept ORDER BY salary DESC) AS r, "
            "sum(age) OVER (PARTITION BY dept) AS total, "
            "lag(name, 1, 'none') OVER (PARTITION BY dept ORDER BY id) AS prev "
            "FROM people_w"
        )

    compare(job)
