"""join: every type, on names / lists / conditions, self-joins with aliases."""

from __future__ import annotations

import pytest
from pyspark.sql import functions as F

from tests.e2e.data import depts, orders, people

HOWS = ["inner", "left", "right", "full", "left_semi", "left_anti",
        "outer", "right_outer", "leftsemi", "anti"]  # and a few of Spark's aliases


@pytest.mark.parametrize("how", HOWS)
def test_join_on_name(compare, how):
    compare(lambda s: people(s).join(depts(s), "dept", how))


@pytest.mark.parametrize("how", ["inner", "left", "right", "full", "left_semi", "left_anti"])
def test_join_on_list_of_names(compare, how):
    def q(s):
        a = s.createDataFrame([(1, "x", 10), (1, "y", 20), (2, "x", 30), (None, "x", 40)],
                              "k1 int, k2 string, v int")
        b = s.createDataFrame([(1, "x", "p"), (2, "y", "q"), (None, "x", "r"), (1, "x", "s")],
                              "k1 int, k2 string, w string")
        return a.join(b, ["k1", "k2"], how)

    compare(q)


@pytest.mark.parametrize("how", ["inner", "left", "right", "full", "left_semi", "left_anti"])
def test_join_on_condition(compare, how):
    def q(s):
        p, o = people(s), orders(s)
        return p.join(o, p.id == o.pid, how)

    compare(q)


@pytest.mark.parametrize("how", ["inner", "left", "full"])
def test_join_on_compound_non_equi_condition(compare, how):
    def q(s):
        p, o = people(s), orders(s)
        return p.join(o, (p.id == o.pid) & (o.amount > 3.0), how)

    compare(q)


def test_join_default_is_inner(compare):
    compare(lambda s: people(s).join(depts(s), "dept"))


def test_cross_join(compare):
    compare(lambda s: people(s).select("id").crossJoin(depts(s).select("title")))


def test_join_how_cross_with_condition(compare):
    def q(s):
        p, d = people(s), depts(s)
        return p.join(d, p.dept == d.dept, "cross")

    compare(q)


def test_join_without_condition_is_cartesian(compare):
    compare(lambda s: s.range(3).join(s.range(4).withColumnRenamed("id", "j")))


def test_self_join_with_aliases(compare):
    def q(s):
        p = people(s)
        a, b = p.alias("a"), p.alias("b")
        return (a.join(b, F.col("a.dept") == F.col("b.dept"))
                .where(F.col("a.id") < F.col("b.id"))
                .select(F.col("a.name").alias("left_name"), F.col("b.name").alias("right_name"),
                        "a.dept"))

    compare(q)


def test_self_join_left_with_aliases(compare):
    def q(s):
        p = people(s)
        return (p.alias("e").join(p.alias("m"), F.col("e.id") == F.col("m.id") + 1, "left")
                .select("e.id", F.col("m.name").alias("prev_name")))

    compare(q)


def test_join_then_aggregate(compare):
    def q(s):
        p, o = people(s), orders(s)
        return (p.join(o, p.id == o.pid).groupBy("dept")
                .agg(F.sum("amount").alias("total"), F.count("*").alias("n")))

    compare(q)


def test_three_way_join(compare):
    def q(s):
        p, o, d = people(s), orders(s), depts(s)
        return p.join(o, p.id == o.pid, "left").join(d, "dept", "left").select(
            "name", "amount", "title")

    compare(q)


def test_join_null_keys_never_match(compare):
    compare(lambda s: s.createDataFrame([(None,), (1,)], "k int")
            .join(s.createDataFrame([(None,), (1,)], "k int"), "k", "full"))


def test_join_without_broadcast(compare):
    with compare.conf({"spark.sql.autoBroadcastJoinThreshold": "-1"}):
        compare(lambda s: s.range(0, 3000, 1, 3).join(
            s.range(0, 3000, 3, 2).withColumn("w", F.col("id") * 2), "id", "left"))
