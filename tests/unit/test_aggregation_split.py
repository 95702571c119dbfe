"""The two-phase split of an aggregate: partials per map task, merged after the exchange."""

import sqlglot
from pyspark.sql.types import LongType
from sqlglot import exp

from sparkless.physical.aggregation import split
from sparkless.plan import ir


def _agg(keys: list[str], aggs: list[str]) -> ir.Aggregate:
    child = ir.Range(0, 10, 1, None, ir.Attribute("id", LongType()))
    return ir.Aggregate(
        child,
        [sqlglot.parse_one(k, read="duckdb") for k in keys],
        [ir.NamedExpr(sqlglot.parse_one(a, read="duckdb"), ir.Attribute(f"a{i}", LongType()))
         for i, a in enumerate(aggs)],
    )


def test_keys_inside_and_outside_aggregates_and_the_input_is_left_as_it_was():
    agg = _agg(
        ["k", "g + 1"],
        ["CASE WHEN (g + 1) > 3 THEN sum(x) * 2 ELSE count(y) + k END", "coalesce(max(x), 0)"],
    )
    before = [e.expr.sql("duckdb") for e in agg.aggs]
    two = split(agg)
    assert two is not None
    assert two.keys == ["k", "g + 1"]
    assert two.partial == [
        ("k", "__g0"), ("g + 1", "__g1"), ("SUM(x)", "__p0"), ("COUNT(y)", "__p1"), ("MAX(x)", "__p2"),
    ]
    assert [e.sql("duckdb") for e, _ in two.final] == [
        "CASE WHEN (__g1) > 3 THEN SUM(__p0) * 2 ELSE COALESCE(SUM(__p1), 0) + __g0 END",
        "COALESCE(MAX(__p2), 0)",
    ]
    assert [e.expr.sql("duckdb") for e in agg.aggs] == before  # rebuilt, not edited in place


def test_a_column_that_is_no_key_outside_an_aggregate_keeps_one_phase():
    assert split(_agg(["k"], ["sum(x) + y"])) is None
    assert split(_agg(["k"], ["count(DISTINCT x)"])) is None


def test_a_deeply_nested_expression_splits():
    expr = sqlglot.parse_one("sum(x)")
    for i in range(200):  # rendered and copied at every level before: quadratic
        expr = exp.Add(this=expr, expression=exp.Literal.number(i))
    agg = _agg(["k"], ["k"])
    agg.aggs[0].expr = expr
    two = split(agg)
    assert two is not None and two.partial == [("k", "__g0"), ("SUM(x)", "__p0")]
    assert two.final[0][0].sql("duckdb") == "SUM(__p0) + " + " + ".join(map(str, range(200)))
