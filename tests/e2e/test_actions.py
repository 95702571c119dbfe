"""show / collect / count / first / take / head / isEmpty / toPandas; schema, columns,
printSchema, explain."""

from __future__ import annotations

import pandas as pd
import pytest
from pyspark.sql import functions as F

from tests.conftest import capture_stdout
from tests.e2e.data import people

SHOWS = {
    "default": lambda df: df.show(),
    "n3": lambda df: df.show(3),
    "truncate_false": lambda df: df.show(truncate=False),
    "truncate_5": lambda df: df.show(truncate=5),
    "vertical": lambda df: df.show(4, vertical=True),
}


@pytest.mark.parametrize("name", sorted(SHOWS))
def test_show_text_matches_spark(compare, name):
    def q(s):
        return (people(s).orderBy("id")
                .withColumn("note", F.concat(F.lit("a long piece of text for "), F.col("name"))))

    ours, theirs = compare.stdout(lambda s: SHOWS[name](q(s)))
    assert ours == theirs


def test_show_mixed_types_and_nulls(compare):
    ours, theirs = compare.stdout(lambda s: s.createDataFrame(
        [(1, 2.5, None, True, [1, 2], {"a": 1}), (None, -0.125, "x", None, [], {})],
        "i int, d double, s string, b boolean, arr array<int>, m map<string,int>").show())
    assert ours == theirs


def test_show_more_than_twenty_rows(compare):
    ours, theirs = compare.stdout(lambda s: s.range(30).orderBy("id").show())
    assert ours == theirs


def test_show_aggregate_names(compare):
    ours, theirs = compare.stdout(
        lambda s: people(s).groupBy("dept").agg(F.avg("salary"), F.count("*"))
        .orderBy("dept").show())
    assert ours == theirs


def test_collect_rows(compare):
    ours, theirs = compare.values(lambda s: people(s).orderBy("id").collect())
    assert ours == theirs
    assert [r.asDict() for r in ours] == [r.asDict() for r in theirs]


def test_count(compare):
    ours, theirs = compare.values(lambda s: people(s).where("age > 30").count())
    assert ours == theirs


def test_count_range_many_partitions(compare):
    ours, theirs = compare.values(lambda s: s.range(0, 100000, 3, 6).count())
    assert ours == theirs


def test_first(compare):
    ours, theirs = compare.values(lambda s: people(s).orderBy(F.desc("salary")).first())
    assert ours == theirs


def test_first_of_empty_is_none(compare):
    ours, theirs = compare.values(lambda s: people(s).where("id < 0").first())
    assert ours is None and theirs is None


def test_take(compare):
    ours, theirs = compare.values(lambda s: people(s).orderBy("name").take(3))
    assert ours == theirs


def test_head_default_and_n(compare):
    ours, theirs = compare.values(lambda s: (people(s).orderBy("id").head(),
                                             people(s).orderBy("id").head(2)))
    assert ours == theirs


@pytest.mark.parametrize("pred", ["id > 0", "id < 0"])
def test_is_empty(compare, pred):
    ours, theirs = compare.values(lambda s: people(s).where(pred).isEmpty())
    assert ours == theirs


def test_to_pandas(compare):
    ours, theirs = compare.values(lambda s: people(s).orderBy("id").toPandas())
    pd.testing.assert_frame_equal(ours, theirs)


def test_to_pandas_types(compare):
    ours, theirs = compare.values(lambda s: s.createDataFrame(
        [(1, 2.5, "x", True), (None, None, None, None)],
        "i long, d double, s string, b boolean").toPandas())
    pd.testing.assert_frame_equal(ours, theirs)


def test_to_pandas_empty(compare):
    ours, theirs = compare.values(lambda s: people(s).where("id < 0").toPandas())
    pd.testing.assert_frame_equal(ours, theirs)


def test_schema_and_columns(compare):
    ours, theirs = compare.values(lambda s: (
        people(s).groupBy("dept").agg(F.sum("age").alias("s"), F.avg("salary")).schema,
        people(s).select("id", F.col("age") + 1).columns))
    assert ours[1] == theirs[1]
    assert ours[0].simpleString() == theirs[0].simpleString()


def test_schema_of_source_without_running_it(compare, datadir):
    ours, theirs = compare.values(
        lambda s: s.read.csv(str(datadir / "people.csv"), header=True, inferSchema=True).schema)
    assert ours.simpleString() == theirs.simpleString()


def test_print_schema(compare):
    ours, theirs = compare.stdout(lambda s: s.createDataFrame(
        [], "a int, b struct<c: string, d: array<double>>, m map<string, bigint>").printSchema())
    assert ours == theirs


def test_print_schema_of_query(compare):
    ours, theirs = compare.stdout(
        lambda s: people(s).groupBy("dept").agg(F.count("*").alias("n")).printSchema())
    assert ours == theirs


@pytest.mark.parametrize("kwargs", [{}, {"extended": True}, {"mode": "formatted"}])
def test_explain_runs(spark, kwargs):
    df = people(spark).join(people(spark).select("id"), "id").groupBy("dept").count()
    text = capture_stdout(lambda: df.explain(**kwargs), spark)
    assert text.strip(), "explain() printed nothing"


def test_local_iterator(compare):
    ours, theirs = compare.values(lambda s: list(s.range(0, 50, 1, 3).orderBy("id")
                                                 .toLocalIterator()))
    assert ours == theirs
