"""createOrReplaceTempView + spark.sql for plain SELECTs."""

from __future__ import annotations

import pytest

from tests.e2e.data import depts, orders, people


@pytest.fixture
def views(compare):
    def make(s):
        people(s).createOrReplaceTempView("e2e_people")
        orders(s).createOrReplaceTempView("e2e_orders")
        depts(s).createOrReplaceTempView("e2e_depts")

    compare.both(make)
    return compare


QUERIES = {
    "star": "SELECT * FROM e2e_people",
    "projection": "SELECT name, salary * 2 AS s2, upper(dept) FROM e2e_people",
    "filter": "SELECT id, name FROM e2e_people WHERE age > 30 AND dept IS NOT NULL",
    "filter_or_in": "SELECT * FROM e2e_people WHERE dept IN ('eng', 'ops') OR salary IS NULL",
    "join": "SELECT p.name, o.amount FROM e2e_people p JOIN e2e_orders o ON p.id = o.pid",
    "left_join_using": "SELECT * FROM e2e_people LEFT JOIN e2e_depts USING (dept)",
    "group_by": "SELECT dept, count(*) AS n, sum(salary), avg(age) FROM e2e_people GROUP BY dept",
    "group_by_having": ("SELECT dept, count(*) AS n FROM e2e_people GROUP BY dept "
                        "HAVING count(*) > 1"),
    "count_distinct": "SELECT count(DISTINCT dept), min(age), max(age) FROM e2e_people",
    "distinct": "SELECT DISTINCT active FROM e2e_people",
    "join_group": ("SELECT p.dept, sum(o.amount) AS total FROM e2e_people p "
                   "JOIN e2e_orders o ON p.id = o.pid GROUP BY p.dept"),
    "no_from": "SELECT 1 AS one, 'x' AS s, 2.5 AS d",
}

ORDERED = {
    "order_by": "SELECT id, name FROM e2e_people ORDER BY age DESC",
    "order_by_nulls": "SELECT name FROM e2e_people ORDER BY name",
    "order_by_nulls_last": "SELECT salary FROM e2e_people ORDER BY salary ASC NULLS LAST",
    "order_limit": "SELECT id, salary FROM e2e_people ORDER BY salary DESC NULLS LAST LIMIT 3",
    "group_order": ("SELECT dept, count(*) AS n FROM e2e_people GROUP BY dept "
                    "ORDER BY n DESC, dept"),
}


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_sql_select(views, name):
    views(lambda s: s.sql(QUERIES[name]))


@pytest.mark.parametrize("name", sorted(ORDERED))
def test_sql_select_ordered(views, name):
    views(lambda s: s.sql(ORDERED[name]), ordered=True)


def test_sql_limit_count(views):
    ours, theirs = views.values(lambda s: s.sql("SELECT * FROM e2e_people LIMIT 5").count())
    assert ours == theirs


def test_sql_result_is_a_dataframe(views):
    views(lambda s: s.sql("SELECT id, dept FROM e2e_people").where("id > 2").groupBy("dept")
          .count())


def test_create_or_replace_replaces(views):
    def q(s):
        s.range(3).createOrReplaceTempView("e2e_replaced")
        s.range(10, 12).createOrReplaceTempView("e2e_replaced")
        return s.sql("SELECT * FROM e2e_replaced")

    views(q)


def test_view_of_a_query(views):
    def q(s):
        s.table("e2e_people").groupBy("dept").count().createOrReplaceTempView("e2e_counts")
        return s.sql("SELECT * FROM e2e_counts WHERE count > 1")

    views(q)


def test_table_reads_view(views):
    views(lambda s: s.table("e2e_orders"))
