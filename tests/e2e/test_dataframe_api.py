"""DataFrame API relations and analysis calls (issue 6), against Apache Spark: tail, to,
transpose, unpivot, zip, colRegex, metadata, DataFrame-API subqueries, as-of joins,
cross join row order, sameSemantics, zipWithIndex, explain's sections, streaming plans."""

from __future__ import annotations

import pytest
from pyspark.sql import Row

from tests.conftest import capture_stdout, connect_mode


def people(s):
    return s.createDataFrame([(14, "Tom"), (23, "Alice"), (16, "Bob")], ["age", "name"])


def employees(s):
    return s.createDataFrame(
        [(1, "Alice", 45000, 101), (2, "Bob", 54000, 101), (3, "Charlie", 29000, 102),
         (4, "David", 61000, 102), (5, "Eve", 48000, 101)],
        ["id", "name", "salary", "department_id"],
    )


def test_tail(compare):
    ours, theirs = compare.values(lambda s: people(s).tail(2))
    assert ours == theirs
    ours, theirs = compare.values(lambda s: s.range(0, 50, 1, 4).tail(7))
    assert ours == theirs


def test_to_schema(compare):
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    schema = StructType([StructField("j", StringType()), StructField("i", StringType())])
    compare(lambda s: s.createDataFrame([("a", 1)], ["i", "j"]).to(schema))
    compare(lambda s: s.createDataFrame([("a", 1)], ["i", "j"])
            .to(StructType([StructField("j", LongType())])))


def test_transpose(compare):
    def df(s):
        return s.createDataFrame([("B", 3, 4), ("A", 1, 2)], ["id", "val1", "val2"])

    compare(lambda s: df(s).transpose(), ordered=True)
    compare(lambda s: df(s).selectExpr("id", "val1", "CAST(val2 AS DOUBLE) AS v").transpose(), ordered=True)
    from pyspark.errors import AnalysisException

    with pytest.raises(AnalysisException, match="TRANSPOSE_NO_LEAST_COMMON_TYPE"):
        with connect_mode():
            df(compare.spark).selectExpr("val1", "id", "val2").transpose().collect()


def test_unpivot_and_melt(compare):
    def df(s):
        return s.createDataFrame([(1, 11, 1.1), (2, 12, 1.2)], ["id", "int", "double"])

    compare(lambda s: df(s).unpivot("id", ["int", "double"], "var", "val"))
    compare(lambda s: df(s).melt(["id"], None, "k", "v"))


def test_zip(compare):
    def zipped(s):
        df = s.createDataFrame([(1, 2, 3), (4, 5, 6)], ["a", "b", "c"])
        return df.select("a").zip(df.select((df.b * 2).alias("b2"), "c"))

    compare(zipped, ordered=True)


def test_col_regex(compare):
    def df(s):
        return s.createDataFrame([("a", 1, 2.0)], ["Col1", "Col2", "other"])

    compare(lambda s: df(s).select(df(s).colRegex("`(Col1)?+.+`")))
    compare(lambda s: df(s).select(df(s).colRegex("`col.`")))


def test_column_metadata_in_schema(compare):
    ours, theirs = compare.both(lambda s: people(s).withMetadata("age", {"foo": "bar"}).schema)
    assert ours == theirs and ours["age"].metadata == {"foo": "bar"}
    def aliased(s):
        df = people(s)
        return df.select(df.age.alias("a3", metadata={"max": 99})).schema

    ours, theirs = compare.both(aliased)
    assert ours == theirs


def test_operator_precedence_of_column_expressions(compare):
    def q(s):
        df = s.createDataFrame([(10,), (20,), (30,)], ["value"])
        return df.select(
            ((df.value + 5) * 2 - 10).alias("a"),
            (df.value - (df.value - 1)).alias("b"),
            (((df.value > 5) & (df.value < 25)) | ~(df.value == 30)).alias("c"),
        )

    compare(q)


def test_scalar_and_exists_subqueries(compare):
    def scalar(s):
        from pyspark.sql import functions as sf

        e = employees(s)
        return e.alias("e1").where(
            sf.col("salary") > e.alias("e2").where(
                sf.col("e2.department_id") == sf.col("e1.department_id").outer()
            ).select(sf.avg("salary")).scalar()
        ).select("name", "salary")

    def in_select(s):
        from pyspark.sql import functions as sf

        e = employees(s)
        return e.alias("e1").select("name", (sf.col("salary") / e.alias("e2").where(
            sf.col("e2.department_id") == sf.col("e1.department_id").outer()
        ).select(sf.sum("salary")).scalar()).alias("share"))

    def exists(s, negate):
        from pyspark.sql import functions as sf

        e = employees(s)
        d = s.createDataFrame([(101, "x"), (103, "y")], ["department_id", "dname"])
        cond = e.alias("e").where(sf.col("e.department_id") == sf.col("d.department_id").outer()).exists()
        return d.alias("d").where(~cond if negate else cond)

    compare(scalar)
    compare(in_select)
    compare(lambda s: exists(s, False))
    compare(lambda s: exists(s, True))


def test_isin_subquery(compare):
    def q(s, multi):
        from pyspark.sql.functions import lit, struct

        df = s.createDataFrame([(2, "Alice"), (5, "Bob"), (8, "Mike")], ["age", "name"])
        if multi:
            return df.where(struct(df.age, df.name).isin(s.range(6).select("id", lit("Bob"))))
        return df.where(df.age.isin(s.range(6)))

    compare(lambda s: q(s, False))
    compare(lambda s: q(s, True))


@pytest.mark.parametrize("kwargs", [
    {},
    {"tolerance": 1},
    {"how": "left", "tolerance": 1},
    {"allowExactMatches": False},
    {"direction": "forward"},
    {"direction": "nearest"},
])
def test_join_as_of(compare, kwargs):
    def q(s):
        from pyspark.sql import functions as sf

        left = s.createDataFrame([(1, "a"), (5, "b"), (10, "c")], ["a", "left_val"])
        right = s.createDataFrame([(1, 1), (2, 2), (3, 3), (6, 6), (7, 7)], ["a", "right_val"])
        args = dict(kwargs)
        if "tolerance" in args:
            args["tolerance"] = sf.lit(args["tolerance"])
        return left._joinAsOf(right, leftAsOfColumn="a", rightAsOfColumn="a", **args).select(
            left.a, "left_val", "right_val")

    compare(q)


def test_cross_join_row_order(compare, spark):
    """Spark Connect's local relations are small enough to broadcast: a nested loop join
    streams the left side, each left row with every right row in order (PySpark's
    crossJoin doctest). The classic oracle's inputs are RDDs (a cartesian product of its
    partitions), so it is compared without order and the order checked on its own."""
    def q(s):
        df2 = s.createDataFrame([Row(height=80, name="Tom"), Row(height=85, name="Bob")])
        return people(s).crossJoin(df2.select("height"))

    compare(q)
    with connect_mode():
        rows = [tuple(r) for r in q(spark).collect()]
        plain = [(r.age, r.h) for r in people(spark).join(
            spark.createDataFrame([(80, "Tom"), (85, "Bob")], ["h", "n"])).collect()]
    assert rows == [(14, "Tom", 80), (14, "Tom", 85), (23, "Alice", 80), (23, "Alice", 85),
                    (16, "Bob", 80), (16, "Bob", 85)]
    assert plain == [(14, 80), (14, 85), (23, 80), (23, 85), (16, 80), (16, 85)]


def test_drop_of_a_name_no_column_has(compare):
    from pyspark.sql import functions as sf

    def q(s):
        df = people(s).withColumn("a.b.c", sf.lit(1))
        return df.drop(sf.col("a.b.c"))

    compare(q)


def test_same_semantics(compare):
    def q(s):
        df1, df2 = s.range(10), s.range(10)
        return [
            df1.withColumn("c", df1.id * 2).sameSemantics(df2.withColumn("c", df2.id * 2)),
            df1.withColumn("c", df1.id * 2).sameSemantics(df2.withColumn("c", df2.id + 2)),
            df1.withColumn("c", df1.id * 2).sameSemantics(df2.withColumn("d", df2.id * 2)),
        ]

    ours, theirs = compare.values(q)
    assert ours == theirs == [True, False, True]


def test_zip_with_index(compare):
    compare(lambda s: s.createDataFrame([("a", 1), ("b", 2), ("c", 3)], ["l", "n"]).zipWithIndex(),
            ordered=True)
    compare(lambda s: s.range(0, 40, 1, 4).zipWithIndex("i"), ordered=True)


def test_explain_sections(spark):
    df = people(spark).groupBy("name").count()
    simple = capture_stdout(lambda: df.explain(), spark)
    assert simple.startswith("== Physical Plan ==\n")
    extended = capture_stdout(lambda: df.explain(extended=True), spark)
    for header in ("Parsed Logical Plan", "Analyzed Logical Plan", "Optimized Logical Plan",
                   "Physical Plan"):
        assert f"== {header} ==" in extended
    assert "Statistics(" in capture_stdout(lambda: df.explain(mode="cost"), spark)
    with connect_mode():
        other = spark.createDataFrame([Row(height=80, name="Tom")])
        joined = people(spark).join(other.hint("broadcast"), "name")
    assert "+- BroadcastHashJoin" in capture_stdout(lambda: joined.explain(), spark)
    cached = spark.range(3)
    cached.cache()
    try:
        text = capture_stdout(lambda: cached.explain(), spark)
        assert text.startswith("== Physical Plan ==\nInMemoryTableScan")
    finally:
        cached.unpersist()


def test_streaming_plans_analyze_but_do_not_run(compare, spark):
    from pyspark.errors import PySparkException

    ours, theirs = compare.both(lambda s: (
        s.readStream.format("rate").load().isStreaming,
        s.readStream.format("rate").load().selectExpr("value % 5 AS v", "timestamp")
        .withWatermark("timestamp", "10 minutes").schema,
        s.range(1).isStreaming,
    ))
    assert ours == theirs
    # Spark: "Queries with streaming sources must be executed with writeStream.start()";
    # sparkless: UNSUPPORTED_FEATURE.SPARKLESS. Either way no batch answer.
    with connect_mode(), pytest.raises(PySparkException, match="UNSUPPORTED_FEATURE|writeStream"):
        spark.readStream.format("rate").load().collect()


def _lateral_data(s):
    customers = s.createDataFrame([Row(customer_id=1, name="Alice"), Row(customer_id=2, name="Bob"),
                                   Row(customer_id=3, name="Charlie"), Row(customer_id=4, name="Diana")])
    orders = s.createDataFrame([
        Row(order_id=101, customer_id=1, order_date="2024-01-10",
            items=[Row(product="laptop", quantity=5), Row(product="mouse", quantity=12)]),
        Row(order_id=102, customer_id=1, order_date="2024-02-15", items=[]),
        Row(order_id=105, customer_id=1, order_date="2024-03-20", items=[Row(product="tablet", quantity=4)]),
        Row(order_id=103, customer_id=2, order_date="2024-01-12", items=[Row(product="tablet", quantity=8)]),
    ])
    return customers, orders


@pytest.mark.parametrize("how", ["inner", "left"])
def test_lateral_join_with_a_generator(compare, how):
    def q(s):
        from pyspark.sql import functions as sf

        customers, orders = _lateral_data(s)
        return customers.join(orders, "customer_id").lateralJoin(
            s.tvf.explode(sf.col("items").outer()).select("col.*"), how=how
        ).select("customer_id", "order_id", "product", "quantity")

    compare(q)


@pytest.mark.parametrize("how", ["inner", "left"])
def test_lateral_join_top_n_per_row(compare, how):
    def q(s):
        from pyspark.sql import functions as sf

        customers, orders = _lateral_data(s)
        return customers.alias("c").lateralJoin(
            orders.alias("o").where(sf.col("o.customer_id") == sf.col("c.customer_id").outer())
            .select("order_id", "order_date").orderBy(sf.col("order_date").desc()).limit(2),
            how=how,
        )

    compare(q)


@pytest.mark.parametrize("k, direction, how", [
    (1, "similarity", "inner"), (2, "distance", "inner"), (2, "distance", "leftouter"),
])
def test_nearest_by_join(compare, k, direction, how):
    def q(s):
        from pyspark.sql import functions as sf

        users = s.createDataFrame([(1, 10.0), (2, 20.0), (3, 30.0), (4, None)], "user_id INT, score DOUBLE")
        products = s.createDataFrame([("A", 11.0), ("B", 22.5), ("C", 5.0)], ["product", "pscore"])
        dist = sf.abs(users.score - products.pscore)
        return users.nearestByJoin(products, -dist if direction == "similarity" else dist, k, "exact",
                                   direction, joinType=how).select("user_id", "product")

    compare(q)
