"""select / selectExpr / withColumn(s) / withColumn(s)Renamed / drop / toDF / alias."""

from __future__ import annotations

from pyspark.sql import functions as F

from tests.e2e.data import people


def test_select_names(compare):
    compare(lambda s: people(s).select("name", "age"))


def test_select_columns_and_expressions(compare):
    def q(s):
        df = people(s)
        return df.select(F.col("id"), df.name, df["age"], (F.col("salary") * 2)
                         .alias("double_salary"), F.lit(1).alias("one"))

    compare(q)


def test_select_star_and_extra(compare):
    compare(lambda s: people(s).select("*", (F.col("age") + 1).alias("next_age")))


def test_select_unaliased_expression_names(compare):
    compare(lambda s: people(s).select(F.col("age") + 1, F.upper("name"), F.col("salary") > 80))


def test_select_expr(compare):
    compare(lambda s: people(s).selectExpr("id", "upper(name) AS uname", "salary * 1.1",
                                           "age IS NULL AS no_age", "CAST(id AS STRING) sid"))


def test_with_column_new(compare):
    compare(lambda s: people(s).withColumn("bonus", F.coalesce(F.col("salary"), F.lit(0.0)) / 10))


def test_with_column_replaces_existing(compare):
    compare(lambda s: people(s).withColumn("age", F.col("age") * 2))


def test_with_columns(compare):
    compare(lambda s: people(s).withColumns({"a": F.col("id") + 1, "name": F.lower("name"),
                                             "c": F.lit("k")}))


def test_with_column_renamed(compare):
    compare(lambda s: people(s).withColumnRenamed("name", "full_name"))


def test_with_column_renamed_missing_is_noop(compare):
    compare(lambda s: people(s).withColumnRenamed("nope", "x"))


def test_with_columns_renamed(compare):
    compare(lambda s: people(s).withColumnsRenamed({"name": "n", "dept": "d"}))


def test_drop_one(compare):
    compare(lambda s: people(s).drop("salary"))


def test_drop_many_and_missing(compare):
    compare(lambda s: people(s).drop("salary", "age", "does_not_exist"))


def test_drop_column_object(compare):
    compare(lambda s: people(s).drop(F.col("active")))


def test_to_df(compare):
    compare(lambda s: people(s).toDF("a", "b", "c", "d", "e", "f"))


def test_alias_qualified_select(compare):
    compare(lambda s: people(s).alias("p").select("p.id", F.col("p.name")))


def test_chained_projections(compare):
    compare(lambda s: people(s).select("id", "salary").withColumn("x", F.col("salary") + 1)
            .drop("salary").withColumnRenamed("x", "salary_plus").toDF("i", "sp"))


def test_filter_column(compare):
    compare(lambda s: people(s).filter(F.col("age") > 30))


def test_where_column_compound(compare):
    compare(lambda s: people(s).where((F.col("dept") == "eng") | F.col("salary").isNull()))


def test_filter_sql_string(compare):
    compare(lambda s: people(s).filter("age >= 34 AND dept <> 'ops'"))


def test_where_sql_string_null_handling(compare):
    compare(lambda s: people(s).where("dept IS NULL OR NOT active"))


def test_filter_isin_like_between(compare):
    compare(lambda s: people(s).filter(F.col("dept").isin("eng", "ops")
                                       & F.col("name").like("%a%")
                                       & F.col("age").between(20, 40)))


def test_filter_everything_out(compare):
    compare(lambda s: people(s).filter(F.lit(False)))
