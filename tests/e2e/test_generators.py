"""Generators against Apache Spark: explode/posexplode/inline (and _outer), stack, json_tuple.

Each runs from a select list, withColumn, SQL select lists, ``LATERAL VIEW [OUTER]`` and
``FROM explode(...)``; the inputs hold NULL and empty arrays and maps (the _outer forms keep
one row of NULLs for them, the others drop the row). Names, types, nullability and rows are
compared with ``compare``; ordering is checked where Spark's is defined (posexplode's pos).
"""

from __future__ import annotations

import pytest
from pyspark.errors import AnalysisException
from pyspark.sql import functions as F

ARRAYS = "SELECT * FROM VALUES (1, ARRAY(1, 2, 3, NULL)), (2, ARRAY()), (3, NULL) AS t(i, a)"
MAPS = "SELECT * FROM VALUES (1, MAP(1, 2, 3, 4, 5, NULL)), (2, MAP()), (3, NULL) AS t(i, m)"
STRUCTS = (
    "SELECT * FROM VALUES (1, ARRAY(NAMED_STRUCT('a', 1, 'b', 'x'), NULL, "
    "NAMED_STRUCT('a', 3, 'b', 'y'))), (2, ARRAY()), (3, NULL) AS t(i, s)"
)

DF_CASES = [
    ("explode_array", ARRAYS, lambda: ["*", F.explode("a")]),
    ("explode_outer_array", ARRAYS, lambda: ["i", F.explode_outer("a")]),
    ("posexplode_array", ARRAYS, lambda: ["i", F.posexplode("a")]),
    ("posexplode_outer_array", ARRAYS, lambda: [F.posexplode_outer("a"), "i"]),
    ("explode_alias", ARRAYS, lambda: [F.explode("a").alias("v"), (F.col("i") + 1).alias("j")]),
    ("posexplode_aliases", ARRAYS, lambda: [F.posexplode("a").alias("p", "v")]),
    ("explode_map", MAPS, lambda: ["i", F.explode("m")]),
    ("explode_outer_map", MAPS, lambda: ["i", F.explode_outer("m")]),
    ("posexplode_map", MAPS, lambda: ["i", F.posexplode("m")]),
    ("posexplode_outer_map", MAPS, lambda: ["i", F.posexplode_outer("m")]),
    ("inline", STRUCTS, lambda: ["i", F.inline("s")]),
    ("inline_outer", STRUCTS, lambda: ["i", F.inline_outer("s")]),
    ("explode_literal_array", ARRAYS, lambda: ["i", F.explode(F.array(F.lit(7), F.col("i")))]),
]


@pytest.mark.parametrize("source,build", [c[1:] for c in DF_CASES], ids=[c[0] for c in DF_CASES])
def test_select_generator(compare, source, build):
    compare(lambda s: s.sql(source).select(*build()))


def test_with_column_generator(compare):
    compare(lambda s: s.sql(ARRAYS).withColumn("a", F.explode("a")))
    compare(lambda s: s.sql(ARRAYS).withColumn("x", F.explode_outer("a")).drop("a"))


def test_two_generators_in_one_select(compare):
    """Spark 4 applies them one after the other: every pair of their rows."""
    compare(lambda s: s.sql(ARRAYS).select("i", F.explode("a").alias("x"), F.posexplode_outer("a")))
    compare(lambda s: s.sql("SELECT explode(array(1, 2)) a, posexplode(array(5, 6))"))


def test_chained_explodes(compare):
    """Two explodes in a row: a product of the two arrays, as Spark's doctest shows."""
    compare(
        lambda s: s.sql("SELECT ARRAY(1, 2) AS a1, ARRAY(3, 4, 5) AS a2")
        .select("*", F.explode("a1").alias("v1"))
        .select("*", F.explode("a2").alias("v2"))
    )


def test_posexplode_positions_follow_elements(compare):
    compare(lambda s: s.sql(ARRAYS).select("i", F.posexplode("a")).orderBy("i", "pos"), ordered=True)


def test_explode_struct_then_star(compare):
    q = "SELECT ARRAY(NAMED_STRUCT('a', 1, 'b', 2), NAMED_STRUCT('a', 3, 'b', 4)) AS a"
    compare(lambda s: s.sql(q).select(F.explode("a").alias("s")).select("s.*"))


SQL_CASES = [
    ("sql_explode", f"SELECT i, explode(a) FROM ({ARRAYS})"),
    ("sql_explode_outer_alias", f"SELECT i, explode_outer(a) AS v FROM ({ARRAYS})"),
    ("sql_posexplode_aliases", f"SELECT posexplode(a) AS (p, v), i FROM ({ARRAYS})"),
    ("sql_inline_outer", f"SELECT i, inline_outer(s) FROM ({STRUCTS})"),
    ("sql_lateral_view", f"SELECT i, v FROM ({ARRAYS}) LATERAL VIEW explode(a) t AS v"),
    ("sql_lateral_view_outer", f"SELECT i, t.v FROM ({ARRAYS}) LATERAL VIEW OUTER explode(a) t AS v"),
    ("sql_lateral_view_posexplode", f"SELECT * FROM ({ARRAYS}) LATERAL VIEW posexplode(a) t AS p, v"),
    ("sql_lateral_view_map", f"SELECT i, k, v FROM ({MAPS}) LATERAL VIEW OUTER explode(m) t AS k, v"),
    ("sql_lateral_view_two",
     f"SELECT i, x, y FROM ({ARRAYS}) LATERAL VIEW explode(a) t1 AS x LATERAL VIEW explode(a) t2 AS y"),
    ("sql_from_explode", "SELECT * FROM explode(array(10, 20, 30))"),
    ("sql_stack", "SELECT stack(3, 1, 'a', 2, 'b', 3)"),
    ("sql_stack_nulls", "SELECT stack(2, 1, NULL, NULL, 'b')"),
    ("sql_json_tuple",
     "SELECT json_tuple(j, 'a', 'b', 'c') FROM VALUES ('{\"a\": 1, \"b\": {\"x\": \"y\"}}'), "
     "('not json'), (NULL) AS t(j)"),
    ("sql_explode_where", f"SELECT i, explode(a) AS v FROM ({ARRAYS}) WHERE i < 3"),
]


@pytest.mark.parametrize("query", [c[1] for c in SQL_CASES], ids=[c[0] for c in SQL_CASES])
def test_sql_generator(compare, query):
    compare(lambda s: s.sql(query))


def test_stack_and_json_tuple_from_dataframe(compare):
    compare(lambda s: s.range(2).select("id", F.stack(F.lit(2), "id", F.lit("a"), F.lit(6).cast("long"), F.lit(None))))
    compare(lambda s: s.createDataFrame([('{"f1": "v", "f2": 2}',), (None,)], "j string")
            .select(F.json_tuple("j", "f1", "f2", "f3")))


@pytest.mark.parametrize(
    "build",
    [
        lambda s: s.sql(ARRAYS).select(F.explode("a") + 1),
        lambda s: s.sql(ARRAYS).filter(F.explode("a") > 1),
        lambda s: s.sql(ARRAYS).select(F.explode("i")),
        lambda s: s.sql(ARRAYS).select(F.posexplode("a").alias("only_one")),
    ],
    ids=["nested", "in_filter", "not_a_collection", "alias_count"],
)
def test_generator_errors(compare, build):
    """Misplaced or mistyped generators: an AnalysisException of Spark's condition."""
    from tests.conftest import classic_mode, connect_mode

    conditions = []
    for mode, session in ((classic_mode, compare.oracle), (connect_mode, compare.spark)):
        with mode(), pytest.raises(AnalysisException) as info:
            build(session).collect()
        conditions.append((info.value.getCondition() or "").split(".")[0])
    assert conditions[1] == conditions[0]
