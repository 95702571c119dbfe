"""Errors reach the client as the right pyspark exception; the session keeps working."""

from __future__ import annotations

import pytest
from pyspark.errors import (
    AnalysisException,
    ArithmeticException,
    ParseException,
    PySparkException,
)
from pyspark.sql import functions as F

from tests.conftest import classic_mode
from tests.e2e.data import people


def condition(e: BaseException) -> str | None:
    if isinstance(e, PySparkException):
        return e.getCondition()
    return None


def still_works(s) -> None:
    assert s.range(5).where("id > 1").count() == 3
    assert s.createDataFrame([(1, "a")], "x int, y string").collect()[0].y == "a"


def raises_on_both(compare, fn, exc_type):
    """fn must raise exc_type on the oracle (validates the test) and on sparkless."""
    with classic_mode(), pytest.raises(exc_type) as theirs:
        fn(compare.oracle)
    with pytest.raises(exc_type) as ours:
        fn(compare.spark)
    still_works(compare.spark)
    return ours.value, theirs.value


UNKNOWN_COLUMN = {
    "select": lambda s: people(s).select("no_such_col").collect(),
    "filter_string": lambda s: people(s).filter("no_such_col > 1").collect(),
    "filter_column": lambda s: people(s).filter(F.col("no_such_col") > 1).collect(),
    "group_by": lambda s: people(s).groupBy("no_such_col").count().collect(),
    "order_by": lambda s: people(s).orderBy("no_such_col").collect(),
    "sql": lambda s: s.sql("SELECT no_such_col FROM range(3)").collect(),
    "schema_only": lambda s: people(s).select(F.col("no_such_col") + 1).schema,
}


@pytest.mark.parametrize("where", sorted(UNKNOWN_COLUMN))
def test_unknown_column(compare, where):
    ours, _ = raises_on_both(compare, UNKNOWN_COLUMN[where], AnalysisException)
    assert "no_such_col" in str(ours)


def test_unknown_column_in_join_condition(compare):
    def q(s):
        a, b = people(s), s.range(3)
        return a.join(b, a.id == F.col("no_such_col")).collect()

    ours, _ = raises_on_both(compare, q, AnalysisException)
    assert "no_such_col" in str(ours)


@pytest.mark.parametrize("how", ["sql", "table"])
def test_unknown_table(compare, how):
    def q(s):
        if how == "sql":
            return s.sql("SELECT * FROM no_such_table_e2e").collect()
        return s.table("no_such_table_e2e").collect()

    ours, theirs = raises_on_both(compare, q, AnalysisException)
    assert "no_such_table_e2e" in str(ours)
    assert condition(theirs) == "TABLE_OR_VIEW_NOT_FOUND"


@pytest.mark.parametrize("sql", ["SELEC 1", "SELECT * FORM x", "SELECT (1", "SELECT 1 +"])
def test_malformed_sql(compare, sql):
    ours, theirs = raises_on_both(compare, lambda s: s.sql(sql).collect(), ParseException)
    msg = str(ours)
    assert "pos" in msg.lower() or "line 1" in msg.lower() or "position" in msg.lower(), (
        f"ParseException without the position: {msg}")


def test_malformed_expression_string(compare):
    raises_on_both(compare, lambda s: people(s).selectExpr("id +* 2").collect(), ParseException)


@pytest.mark.parametrize("fmt", ["parquet", "csv", "json"])
def test_missing_input_path(compare, tmp_path, fmt):
    path = str(tmp_path / "does" / "not" / "exist")
    ours, theirs = raises_on_both(
        compare, lambda s: getattr(s.read, fmt)(path).collect(), AnalysisException)
    assert condition(theirs) == "PATH_NOT_FOUND"
    assert condition(ours) == "PATH_NOT_FOUND" or "PATH_NOT_FOUND" in str(ours)


@pytest.fixture
def ansi(compare):
    with compare.conf({"spark.sql.ansi.enabled": "true"}):
        yield compare


DIV_ZERO = {
    "sql_literal": lambda s: s.sql("SELECT 1/0 AS x").collect(),
    "sql_int_div": lambda s: s.sql("SELECT id DIV (id - 2) FROM range(5)").collect(),
    "column_in_task": lambda s: s.range(0, 10, 1, 2)
    .select(F.lit(10) / (F.col("id") - 7)).collect(),
    "inside_aggregation": lambda s: s.range(0, 100, 1, 3).groupBy(F.col("id") % 3)
    .agg(F.sum(F.lit(1) / (F.col("id") - 50))).collect(),
    "mod_by_zero": lambda s: s.range(4).select(F.col("id") % (F.col("id") - 3)).collect(),
}


@pytest.mark.parametrize("where", sorted(DIV_ZERO))
def test_divide_by_zero_with_ansi(ansi, where):
    ours, theirs = raises_on_both(ansi, DIV_ZERO[where], ArithmeticException)
    assert condition(theirs) in ("DIVIDE_BY_ZERO", "REMAINDER_BY_ZERO")
    assert condition(ours) == condition(theirs), f"{condition(ours)}: {ours}"


def test_divide_by_zero_without_ansi_is_null(compare):
    with compare.conf({"spark.sql.ansi.enabled": "false"}):
        compare(lambda s: s.range(0, 4, 1, 2).select("id", (F.lit(1) / (F.col("id") - 2))
                                                     .alias("q")))


def test_scalar_subquery_with_several_rows_raises(compare):
    """Spark: SCALAR_SUBQUERY_TOO_MANY_ROWS at execution (classic pyspark reports it as a
    raw Py4JJavaError, so only our side's class is checked; the one-row and empty cases
    are compared with Spark in test_sql_advanced)."""
    from pyspark.errors.exceptions.connect import SparkException

    s = compare.spark
    with pytest.raises(SparkException) as ours:
        s.sql("SELECT id, (SELECT id FROM range(3)) AS v FROM range(2)").collect()
    assert condition(ours.value) == "SCALAR_SUBQUERY_TOO_MANY_ROWS", str(ours.value)
    still_works(s)


def test_errors_then_queries_repeatedly(compare):
    s = compare.spark
    for _ in range(3):
        with pytest.raises(AnalysisException):
            s.sql("SELECT nope").collect()
        with pytest.raises(ParseException):
            s.sql("SELEKT").collect()
        still_works(s)


def test_analysis_error_message_mentions_column(spark):
    with pytest.raises(AnalysisException) as ei:
        spark.range(3).select("idd").collect()
    assert "idd" in str(ei.value)
    assert condition(ei.value) is not None and condition(ei.value).startswith("UNRESOLVED_COLUMN")
