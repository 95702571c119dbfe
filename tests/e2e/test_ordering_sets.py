"""orderBy/sort (ordered comparison!), limit, distinct/dropDuplicates, union/unionByName."""

from __future__ import annotations

import pytest
from pyspark.sql import functions as F

from tests.e2e.data import people

SORTS = {
    "default_asc": lambda df: df.orderBy("age"),
    "default_desc": lambda df: df.orderBy(F.desc("age")),
    "asc_nulls_last": lambda df: df.orderBy(F.col("age").asc_nulls_last()),
    "desc_nulls_first": lambda df: df.orderBy(F.col("age").desc_nulls_first()),
    "asc_nulls_first": lambda df: df.orderBy(F.asc_nulls_first("salary")),
    "desc_nulls_last": lambda df: df.orderBy(F.desc_nulls_last("salary")),
    "col_desc_method": lambda df: df.sort(F.col("name").desc()),
    "ascending_false": lambda df: df.orderBy("salary", ascending=False),
    "multi_mixed": lambda df: df.orderBy(F.col("dept").asc(), F.col("salary").desc()),
    "multi_ascending_list": lambda df: df.sort(["dept", "id"], ascending=[False, True]),
    "string_nulls": lambda df: df.orderBy("dept", "id"),
    "expression": lambda df: df.orderBy(F.col("id") % 3, "id"),
    "sql_string_sort": lambda df: df.sort("active", "id"),
}


@pytest.mark.parametrize("name", sorted(SORTS))
def test_order_by(compare, name):
    # every sort below is a total order on this data (keys unique apart from one null)
    def q(s):
        df = people(s)
        return SORTS[name](df).select("id", "name", "dept", "age", "salary")

    compare(q, ordered=True)


def test_sort_across_partitions(compare):
    compare(lambda s: s.range(0, 5000, 1, 5).select(((F.col("id") * 7919) % 5003).alias("v"))
            .orderBy(F.desc("v")), ordered=True)


def test_limit(compare):
    compare(lambda s: people(s).orderBy("id").limit(3), ordered=True)


def test_limit_zero(compare):
    compare(lambda s: people(s).limit(0))


def test_limit_larger_than_input(compare):
    compare(lambda s: people(s).limit(100))


def test_limit_count_unordered(compare):
    ours, theirs = compare.values(lambda s: s.range(0, 1000, 1, 4).limit(17).count())
    assert ours == theirs


def test_order_by_then_limit_many_partitions(compare):
    compare(lambda s: s.range(0, 2000, 1, 4).orderBy(F.desc("id")).limit(5), ordered=True)


def test_distinct(compare):
    compare(lambda s: people(s).select("dept", "active").distinct())


def test_drop_duplicates_all_columns(compare):
    compare(lambda s: s.createDataFrame([(1, "a"), (1, "a"), (2, None), (2, None), (3, "c")],
                                        "k int, v string").dropDuplicates())


def test_drop_duplicates_subset(compare):
    # one row per dept survives; compare which depts and how many rows, not which row
    compare(lambda s: people(s).dropDuplicates(["dept"]).select("dept"))


def test_drop_duplicates_subset_deterministic_rows(compare):
    compare(lambda s: s.createDataFrame([(1, "a", 1), (1, "a", 1), (2, "b", 2)],
                                        "k int, v string, w int").dropDuplicates(["k", "v"]))


def test_union(compare):
    compare(lambda s: people(s).union(people(s).where("age > 40")))


def test_union_all_alias(compare):
    compare(lambda s: s.range(3).unionAll(s.range(2)))


def test_union_is_positional(compare):
    compare(lambda s: s.createDataFrame([(1, "a")], "x int, y string")
            .union(s.createDataFrame([("b", 2)], "y string, x int").select("x", "y")))


def test_union_widens_types(compare):
    compare(lambda s: s.createDataFrame([(1,)], "x int")
            .union(s.createDataFrame([(2.5,)], "x double")))


def test_union_by_name(compare):
    compare(lambda s: s.createDataFrame([(1, "a")], "x int, y string")
            .unionByName(s.createDataFrame([("b", 2)], "y string, x int")))


def test_union_by_name_allow_missing(compare):
    compare(lambda s: s.createDataFrame([(1, "a")], "x int, y string")
            .unionByName(s.createDataFrame([(2, 3.5)], "x int, z double"),
                         allowMissingColumns=True))


def test_union_then_distinct(compare):
    compare(lambda s: s.range(5).union(s.range(3, 8)).distinct())
