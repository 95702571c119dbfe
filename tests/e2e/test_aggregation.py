"""groupBy().agg() with the listed aggregate functions."""

from __future__ import annotations

import pytest
from pyspark.sql import functions as F

from tests.e2e.data import orders, people

AGGS = {
    "count_star": lambda: F.count("*"),
    "count_col": lambda: F.count("age"),
    "count_distinct": lambda: F.countDistinct("dept"),
    "count_distinct_multi": lambda: F.countDistinct("dept", "active"),
    "sum": lambda: F.sum("salary"),
    "sum_int": lambda: F.sum("age"),
    "avg": lambda: F.avg("salary"),
    "mean_int": lambda: F.mean("age"),
    "min": lambda: F.min("salary"),
    "max": lambda: F.max("name"),
    "stddev": lambda: F.stddev("salary"),
    "stddev_pop": lambda: F.stddev_pop("age"),
}


@pytest.mark.parametrize("name", sorted(AGGS))
def test_grouped_aggregate(compare, name):
    compare(lambda s: people(s).groupBy("active").agg(AGGS[name]().alias(name)))


def test_global_aggregates(compare):
    compare(lambda s: people(s).agg(*[f() for f in AGGS.values()]))


def test_many_aggregates_default_names(compare):
    compare(lambda s: people(s).groupBy("dept").agg(
        F.count("*"), F.countDistinct("active"), F.sum("salary"), F.avg("age"), F.min("age"),
        F.max("salary"), F.stddev("salary")))


def test_first_is_deterministic_per_group(compare):
    # first() of a column that is constant within each group: deterministic on any engine
    compare(lambda s: people(s).withColumn("d2", F.upper("dept")).groupBy("dept")
            .agg(F.first("d2").alias("f")))


def test_first_ignore_nulls(compare):
    compare(lambda s: s.createDataFrame([(1, None), (1, "x"), (2, None)], "k int, v string")
            .coalesce(1).groupBy("k").agg(F.first("v", ignorenulls=True).alias("v")))


def test_collect_list(compare):
    compare(lambda s: people(s).groupBy("dept").agg(F.collect_list("name").alias("names")),
            sort_arrays=True)


def test_collect_set(compare):
    compare(lambda s: orders(s).groupBy("pid").agg(F.collect_set("amount").alias("amounts")),
            sort_arrays=True)


def test_group_by_multiple_keys(compare):
    compare(lambda s: people(s).groupBy("dept", "active").agg(F.sum("salary").alias("total")))


def test_group_by_expression(compare):
    compare(lambda s: people(s).groupBy((F.col("age") / 10).cast("int").alias("decade"))
            .agg(F.count("*").alias("n")))


def test_group_by_count_shortcut(compare):
    compare(lambda s: people(s).groupBy("dept").count())


def test_group_by_sum_shortcut(compare):
    compare(lambda s: people(s).groupBy("dept").sum("salary", "age"))


def test_agg_dict_form(compare):
    compare(lambda s: people(s).groupBy("dept").agg({"salary": "max", "age": "avg"}))


def test_having_style_filter(compare):
    compare(lambda s: people(s).groupBy("dept").agg(F.count("*").alias("n"))
            .where(F.col("n") > 1))


def test_aggregate_of_empty_input(compare):
    compare(lambda s: people(s).where("id < 0").agg(F.count("*"), F.sum("salary"), F.max("age")))


def test_grouped_aggregate_of_empty_input(compare):
    compare(lambda s: people(s).where("id < 0").groupBy("dept").agg(F.count("*")))


def test_aggregate_over_many_partitions(compare):
    compare(lambda s: s.range(0, 10000, 1, 7).groupBy((F.col("id") % 13).alias("k"))
            .agg(F.count("*"), F.sum("id"), F.avg("id"), F.stddev("id"),
                 F.countDistinct(F.col("id") % 5)))
