"""The same SQL text asked again sees what changed since (the session's plan cache).

``spark.sql(q)`` is analysed for its errors, then again for its schema and its execution;
sparkless keeps the analysed plan between them. These check, against Apache Spark, that a
kept plan never hides a change a user made in between.
"""

from __future__ import annotations

import pytest
from pyspark.errors import ArithmeticException

from tests.conftest import classic_mode, connect_mode, run_both


def _rows(df) -> list[tuple]:
    return sorted(tuple(r) for r in df.collect())


def test_a_replaced_view_is_seen_by_the_same_text(spark, oracle) -> None:
    def job(s):
        text = "SELECT count(*) AS n, sum(id) AS total FROM plan_cache_v"
        s.range(4).createOrReplaceTempView("plan_cache_v")
        before = _rows(s.sql(text))
        s.range(10).createOrReplaceTempView("plan_cache_v")
        return before, _rows(s.sql(text))

    ours, theirs = run_both(job, spark, oracle)
    assert ours == theirs
    assert ours[0] != ours[1]


def test_rows_inserted_into_a_table_are_seen_by_the_same_text(spark, oracle, tmp_path) -> None:
    def job(s):
        s.sql("DROP TABLE IF EXISTS plan_cache_t")
        s.sql("CREATE TABLE plan_cache_t USING parquet AS SELECT 1 AS x")
        text = "SELECT count(*) AS n FROM plan_cache_t"
        before = _rows(s.sql(text))
        s.sql("INSERT INTO plan_cache_t SELECT 2 AS x")
        after = _rows(s.sql(text))
        s.sql("DROP TABLE plan_cache_t")
        return before, after

    ours, theirs = run_both(job, spark, oracle)
    assert ours == theirs == ([(1,)], [(2,)])


def test_a_conf_change_is_seen_by_the_same_text(spark, oracle) -> None:
    text = "SELECT 1 / 0 AS q"
    for session, mode in ((spark, connect_mode), (oracle, classic_mode)):
        with mode():
            session.conf.set("spark.sql.ansi.enabled", "false")
            try:
                assert session.sql(text).collect()[0].q is None
                session.conf.set("spark.sql.ansi.enabled", "true")
                with pytest.raises(ArithmeticException):
                    session.sql(text).collect()
            finally:
                session.conf.unset("spark.sql.ansi.enabled")


def test_seedless_rand_draws_a_new_seed_per_spark_sql(spark) -> None:
    text = "SELECT rand() AS r FROM range(5)"
    first = [r.r for r in spark.sql(text).collect()]
    second = [r.r for r in spark.sql(text).collect()]
    assert first != second
