"""Spark SQL beyond plain SELECT: subqueries (IN / NOT IN / EXISTS / scalar, correlated),
set operations, grouping sets, windows over aggregates, ORDER BY what the select list
lacks, comma joins -- each compared with Apache Spark."""

from __future__ import annotations

import pytest

from tests.e2e.data import depts, orders, people


@pytest.fixture
def views(compare):
    def make(s):
        people(s).createOrReplaceTempView("sq_people")
        orders(s).createOrReplaceTempView("sq_orders")
        depts(s).createOrReplaceTempView("sq_depts")
        s.createDataFrame([(1,), (2,), (None,)], "pid INT").createOrReplaceTempView("sq_nullable")

    compare.both(make)
    return compare


QUERIES = {
    # IN / NOT IN, with Spark's null semantics
    "in_subquery": "SELECT id, name FROM sq_people WHERE id IN (SELECT pid FROM sq_orders)",
    "not_in_with_null": "SELECT id FROM sq_people WHERE id NOT IN (SELECT pid FROM sq_orders)",
    "not_in_no_null": (
        "SELECT id FROM sq_people WHERE id NOT IN (SELECT pid FROM sq_orders WHERE pid IS NOT NULL)"
    ),
    "not_in_empty": "SELECT id, age FROM sq_people WHERE age NOT IN (SELECT pid FROM sq_orders WHERE oid < 0)",
    "in_correlated": (
        "SELECT id FROM sq_people p WHERE p.id IN "
        "(SELECT o.pid FROM sq_orders o WHERE o.amount > p.salary / 20)"
    ),
    "in_under_or": (
        "SELECT id FROM sq_people WHERE age > 50 OR id IN (SELECT pid FROM sq_orders WHERE amount > 4)"
    ),
    "in_union_subquery": (
        "SELECT id FROM sq_people WHERE id IN (SELECT pid FROM sq_orders UNION SELECT floor FROM sq_depts)"
    ),
    # EXISTS / NOT EXISTS, correlated, also with a non-equality correlation
    "exists": "SELECT id FROM sq_people p WHERE EXISTS (SELECT 1 FROM sq_orders o WHERE o.pid = p.id)",
    "not_exists": (
        "SELECT id FROM sq_people p WHERE NOT EXISTS (SELECT * FROM sq_orders o WHERE o.pid = p.id)"
    ),
    "exists_non_equi": (
        "SELECT oid FROM sq_orders o1 WHERE EXISTS (SELECT 1 FROM sq_orders o2 "
        "WHERE o1.pid = o2.pid AND o1.oid <> o2.oid)"
    ),
    "exists_or_exists": (
        "SELECT id FROM sq_people p WHERE EXISTS (SELECT 1 FROM sq_orders o WHERE o.pid = p.id AND o.amount > 6) "
        "OR EXISTS (SELECT 1 FROM sq_depts d WHERE d.dept = p.dept AND d.floor = 2)"
    ),
    "exists_uncorrelated": "SELECT id FROM sq_people WHERE EXISTS (SELECT 1 FROM sq_orders WHERE oid > 7)",
    # scalar subqueries
    "scalar_one_row_not_aggregated": (
        "SELECT id, (SELECT pid FROM sq_orders WHERE oid = 1) AS p FROM sq_people"
    ),
    # the "count bug": an outer row without matches gets count's 0, not NULL
    "scalar_correlated_count": (
        "SELECT id, (SELECT count(*) FROM sq_orders o WHERE o.pid = p.id) AS n, "
        "(SELECT count(amount) + 1 FROM sq_orders o WHERE o.pid = p.id) AS m, "
        "(SELECT sum(amount) FROM sq_orders o WHERE o.pid = p.id) AS s FROM sq_people p"
    ),
    "scalar_correlated_count_where": (
        "SELECT id FROM sq_people p WHERE (SELECT count(*) FROM sq_orders o WHERE o.pid = p.id) = 0"
    ),
    # constant filters folded, empty inputs propagated (a union keeps its other inputs)
    "constant_false_union": (
        "SELECT id FROM sq_people UNION ALL SELECT pid FROM sq_orders WHERE 1 = 0"
    ),
    "constant_false_join": (
        "SELECT p.id, o.oid FROM sq_people p JOIN sq_orders o ON p.id = o.pid AND 'a' = 'b'"
    ),
    "constant_false_left_join": (
        "SELECT p.id, o.oid FROM sq_people p LEFT JOIN (SELECT * FROM sq_orders WHERE 2 < 1) o "
        "ON p.id = o.pid"
    ),
    "constant_false_global_agg": "SELECT count(*), sum(amount) FROM sq_orders WHERE 'x' = 'y'",
    "scalar_no_row": "SELECT id, (SELECT pid FROM sq_orders WHERE oid < 0) AS p FROM sq_people",
    "scalar_where": "SELECT id FROM sq_people WHERE salary > (SELECT avg(salary) FROM sq_people)",
    "scalar_select": (
        "SELECT id, (SELECT max(amount) FROM sq_orders) AS m, "
        "(SELECT count(*) FROM sq_depts) + id AS c FROM sq_people"
    ),
    "scalar_correlated": (
        "SELECT p.id FROM sq_people p WHERE p.salary > "
        "(SELECT 0.9 * avg(q.salary) FROM sq_people q WHERE q.dept = p.dept)"
    ),
    "scalar_having": (
        "SELECT dept, sum(salary) AS s FROM sq_people GROUP BY dept "
        "HAVING sum(salary) > (SELECT 0.2 * sum(salary) FROM sq_people)"
    ),
    "scalar_in_case": (
        "SELECT CASE WHEN (SELECT count(*) FROM sq_orders WHERE amount > 4) > 2 "
        "THEN (SELECT min(age) FROM sq_people) ELSE -1 END AS bucket FROM sq_depts WHERE floor = 1"
    ),
    "cte_in_subquery": (
        "WITH big AS (SELECT * FROM sq_people WHERE salary > 80) "
        "SELECT dept, count(*) FROM big GROUP BY dept HAVING count(*) >= (SELECT count(*) / 4 FROM big)"
    ),
    # set operations
    "intersect": "SELECT dept FROM sq_people INTERSECT SELECT dept FROM sq_depts",
    "intersect_all": "SELECT pid FROM sq_orders INTERSECT ALL SELECT pid FROM sq_orders WHERE oid > 5",
    "except": "SELECT dept FROM sq_people EXCEPT SELECT dept FROM sq_depts",
    "except_all": "SELECT pid FROM sq_orders EXCEPT ALL SELECT pid FROM sq_nullable",
    "minus": "SELECT pid FROM sq_orders MINUS SELECT pid FROM sq_nullable",
    # grouping sets
    "rollup": (
        "SELECT dept, active, sum(salary) AS s, count(*) AS n, grouping(dept) AS g, "
        "grouping_id() AS gid FROM sq_people GROUP BY ROLLUP(dept, active)"
    ),
    "cube": "SELECT dept, active, count(*) FROM sq_people GROUP BY CUBE(dept, active)",
    "grouping_sets": (
        "SELECT dept, active, avg(age) FROM sq_people GROUP BY GROUPING SETS ((dept), (active), ())"
    ),
    "with_rollup": "SELECT dept, count(*) AS n FROM sq_people GROUP BY dept WITH ROLLUP",
    "mixed_rollup": (
        "SELECT dept, active, age, count(*) FROM sq_people "
        "GROUP BY dept, ROLLUP(active, age)"
    ),
    "rollup_window": (
        "SELECT dept, active, sum(salary) AS s, grouping(dept) + grouping(active) AS lvl, "
        "rank() OVER (PARTITION BY grouping(dept) + grouping(active) ORDER BY sum(salary) DESC) AS r "
        "FROM sq_people GROUP BY ROLLUP(dept, active)"
    ),
    # windows over aggregates
    "window_over_sum": (
        "SELECT dept, active, sum(salary) AS s, sum(sum(salary)) OVER (PARTITION BY dept) AS dept_total "
        "FROM sq_people GROUP BY dept, active"
    ),
    "rank_by_aggregate": (
        "SELECT dept, count(*) AS n, rank() OVER (ORDER BY count(*) DESC) AS r FROM sq_people GROUP BY dept"
    ),
    "avg_window_of_aggregate": (
        "SELECT dept, age > 35 AS older, avg(sum(salary)) OVER (PARTITION BY dept) AS a "
        "FROM sq_people GROUP BY dept, age > 35"
    ),
    # comma joins with conditions in WHERE (pushed into the join)
    "comma_join": (
        "SELECT p.name, o.amount, d.title FROM sq_people p, sq_orders o, sq_depts d "
        "WHERE p.id = o.pid AND d.dept = p.dept AND o.amount > 2"
    ),
    "comma_join_out_of_order": (
        "SELECT count(*) FROM sq_depts d, sq_orders o, sq_people p "
        "WHERE p.id = o.pid AND d.dept = p.dept"
    ),
    "group_by_alias": "SELECT upper(dept) AS d, count(*) FROM sq_people GROUP BY d",
    # distinct aggregates: distinct on (keys, x) first, then an ordinary aggregate
    "count_distinct_global": "SELECT count(DISTINCT pid), max(pid), sum(DISTINCT pid) FROM sq_orders",
    "count_distinct_keyed": "SELECT dept, count(DISTINCT active) AS n FROM sq_people GROUP BY dept",
    "count_distinct_mixed": "SELECT count(DISTINCT pid), sum(amount) FROM sq_orders",
    # one DISTINCT argument next to ordinary aggregates: grouped by (keys, x) first
    "count_distinct_mixed_keyed": (
        "SELECT dept, count(DISTINCT age), sum(salary), avg(salary), count(*), count(age), "
        "min(id), max(age) FROM sq_people GROUP BY dept"
    ),
    "count_distinct_mixed_decimal": (
        "SELECT count(DISTINCT pid), avg(a), sum(a), avg(pid) FROM "
        "(SELECT pid, CAST(amount AS DECIMAL(10, 2)) AS a FROM sq_orders)"
    ),
    "count_distinct_mixed_empty": (
        "SELECT count(DISTINCT pid), count(*), sum(amount), avg(amount) FROM sq_orders WHERE oid < 0"
    ),
}

ORDERED = {
    "order_by_aggregate_in_select": (
        "SELECT dept, count(*) FROM sq_people GROUP BY dept ORDER BY count(*) DESC, dept"
    ),
    "order_by_aggregate_not_selected": (
        "SELECT dept FROM sq_people GROUP BY dept ORDER BY sum(salary) DESC NULLS LAST, dept"
    ),
    "order_by_key_not_selected": (
        "SELECT count(*) AS n FROM sq_people GROUP BY dept, active ORDER BY dept, active"
    ),
    "order_by_column_not_selected": "SELECT name FROM sq_people ORDER BY age DESC, id",
    "order_by_rollup": (
        "SELECT dept, active, count(*) AS n FROM sq_people GROUP BY ROLLUP(dept, active) "
        "ORDER BY grouping(dept), dept, grouping(active), active"
    ),
    "intersect_ordered": "SELECT dept FROM sq_people INTERSECT SELECT dept FROM sq_depts ORDER BY dept",
    "order_limit_top_n": "SELECT id, salary FROM sq_people ORDER BY salary DESC NULLS LAST, id LIMIT 3",
}


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_sql(views, name):
    views(lambda s: s.sql(QUERIES[name]))


@pytest.mark.parametrize("name", sorted(ORDERED))
def test_sql_ordered(views, name):
    views(lambda s: s.sql(ORDERED[name]), ordered=True)


def test_dataframe_set_operations(compare):
    def job(s):
        a = people(s).select("dept")
        b = depts(s).select("dept")
        return a.intersect(b).union(a.subtract(b)).union(a.exceptAll(b)).union(a.intersectAll(a))

    compare(job)


DECIMALS = {
    "add_mixed_scale": "SELECT CAST(1.25 AS DECIMAL(5,2)) + CAST(3.125 AS DECIMAL(7,3)) AS v",
    "sub_int": "SELECT CAST(10.5 AS DECIMAL(4,1)) - 3 AS v, CAST(10.5 AS DECIMAL(4,1)) - id AS w FROM range(2)",
    "mul": "SELECT CAST(1.25 AS DECIMAL(5,2)) * CAST(3.5 AS DECIMAL(3,1)) AS v",
    "mul_wide": "SELECT CAST(12345.678 AS DECIMAL(38,3)) * CAST(2.5 AS DECIMAL(20,2)) AS v",
    "div": "SELECT CAST(2 AS DECIMAL(5,2)) / CAST(3 AS DECIMAL(5,2)) AS v",
    "div_int": "SELECT CAST(7.00 AS DECIMAL(7,2)) / 3 AS v, 100 * CAST(7.00 AS DECIMAL(7,2)) / 3 AS w",
    "mod": "SELECT CAST(7.5 AS DECIMAL(4,1)) % CAST(2 AS DECIMAL(3,0)) AS v",
    "with_double": "SELECT CAST(1.5 AS DECIMAL(3,1)) * 2.0D AS v",
    "sum_ratio": "SELECT sum(CAST(salary AS DECIMAL(7,2))) / sum(CAST(age AS DECIMAL(5,0))) AS r FROM sq_people",
}


@pytest.mark.parametrize("name", sorted(DECIMALS))
def test_decimal_arithmetic_types(views, name):
    """Values and result types (precision, scale) as Spark's DecimalPrecision gives them."""
    views(lambda s: s.sql(DECIMALS[name]))


VALUES = {
    "values_alias": "SELECT * FROM VALUES (1, 'a'), (2, 'b'), (NULL, 'c') AS t(x, y)",
    "values_default_names": "SELECT col1 + 1, col2 FROM VALUES (1, 2.5), (3, 4) AS t",
    "values_top_level": "VALUES (1, 'x'), (2, NULL)",
    "values_join": (
        "SELECT p.name, v.label FROM sq_people p JOIN VALUES ('eng', 'E'), ('ops', 'O') AS v(dept, label) "
        "ON p.dept = v.dept"
    ),
}


@pytest.mark.parametrize("name", sorted(VALUES))
def test_inline_tables(views, name):
    views(lambda s: s.sql(VALUES[name]))


DATAFRAME_GROUPING = {
    "rollup": lambda df, F: df.rollup("dept", "active").agg(F.sum("salary"), F.count("*")),
    "cube": lambda df, F: df.cube("dept", "active").agg(F.avg("age").alias("a"), F.grouping_id()),
    "grouping_sets": lambda df, F: df.groupingSets([["dept", "active"], ["dept"], []], "dept", "active")
    .agg(F.max("age"), F.grouping("dept")),
    "rollup_expression": lambda df, F: df.rollup(F.upper("dept").alias("d")).count(),
}


@pytest.mark.parametrize("name", sorted(DATAFRAME_GROUPING))
def test_dataframe_grouping_sets(compare, name):
    from pyspark.sql import functions as F

    compare(lambda s: DATAFRAME_GROUPING[name](people(s), F))


PIVOTS = {
    "explicit_values": lambda df, F: df.groupBy("dept").pivot("active", [True, False]).agg(F.sum("salary")),
    "inferred_values": lambda df, F: df.groupBy("active").pivot("dept").count(),
    "two_aggregates": lambda df, F: df.groupBy("active").pivot("dept", ["eng", "ops"])
    .agg(F.max("age"), F.avg("salary").alias("s")),
    "no_keys": lambda df, F: df.groupBy().pivot("dept", ["eng", "sales", "hr"]).agg(F.count("id")),
}


@pytest.mark.parametrize("name", sorted(PIVOTS))
def test_pivot(compare, name):
    from pyspark.sql import functions as F

    compare(lambda s: PIVOTS[name](people(s), F))



def test_is_empty_selects_no_columns(compare):
    """isEmpty() selects nothing: a zero-column plan through pruning, constant-filter
    folding and an exchange (its schema carries the placeholder column)."""
    s = compare.spark
    assert not s.range(10).isEmpty()
    assert s.range(0).isEmpty()
    assert s.range(5).where("1 = 0").isEmpty()
    assert s.range(5).where("id > 10").isEmpty()
    assert not s.range(5).where("id > 2").isEmpty()
    assert s.range(5).where("1 = 0").count() == 0
