"""``groupBy(keys).pivot(col[, values]).agg(...)``, planned as Spark plans it.

Spark aggregates by ``keys + [col]`` first, then turns each pivot value's row into
columns (PivotFirst) -- so a combination with no rows is NULL, even for ``count``.
Here the second step is an aggregate by ``keys`` of ``any_value(CASE WHEN col <=> v
THEN agg END)`` per value (DuckDB's any_value skips NULLs; at most one row matches).
Without explicit values, Spark runs a job to collect the distinct values of ``col``
(sorted, at most ``spark.sql.pivotMaxValues``); so does this.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlglot import exp

from sparkless.errors import AnalysisException
from sparkless.plan import ir
from sparkless.plan.analyzer import Analyzer
from sparkless.plan.builder import PlanBuilder
from sparkless.plan.naming import spark_name

DEFAULT_MAX_VALUES = 10000


def pivot(
    b: PlanBuilder,
    child: ir.Plan,
    keys: list[exp.Expression],
    column: exp.Expression,
    values: list[exp.Expression] | None,
    aggs: list[exp.Expression],
    collect: Callable[[ir.Plan], list[Any]],
    max_values: int = DEFAULT_MAX_VALUES,
) -> ir.Plan:
    if values is None:
        values = _distinct_values(b, child, column, collect, max_values)
    first = b.aggregate(child, [*keys, column], aggs)
    assert isinstance(first, ir.Aggregate)
    n_keys = len(keys)
    key_attrs = first.output[:n_keys]
    pivot_attr = first.output[n_keys]
    agg_attrs = first.output[n_keys + 1 :]
    scope = b.a.scope(first)
    outputs = [ir.NamedExpr(Analyzer._ref(a), a) for a in key_attrs]
    for value in values:
        resolved = b.a.resolve(value, scope)
        label = _label(value)
        for agg_expr, attr in zip(aggs, agg_attrs):
            match = exp.NullSafeEQ(this=Analyzer._ref(pivot_attr), expression=resolved.expr.copy())
            pick = exp.Case(ifs=[exp.If(this=match, true=Analyzer._ref(attr))])
            name = label if len(aggs) == 1 else f"{label}_{spark_name(agg_expr)}"
            out = ir.Attribute(name, attr.dtype, True)
            outputs.append(ir.NamedExpr(exp.Anonymous(this="any_value", expressions=[pick]), out))
    return ir.Aggregate(first, [Analyzer._ref(a) for a in key_attrs], outputs)


def _distinct_values(
    b: PlanBuilder,
    child: ir.Plan,
    column: exp.Expression,
    collect: Callable[[ir.Plan], list[Any]],
    max_values: int,
) -> list[exp.Expression]:
    distinct = b.distinct(b.project(child, [exp.alias_(column, "__pivot", quoted=True)]))
    ordered = b.sort(distinct, [exp.Ordered(this=exp.column("__pivot", quoted=True))])
    found = collect(b.limit(ordered, max_values + 1))
    if len(found) > max_values:
        raise AnalysisException(
            f"The pivot column {spark_name(column)} has more than {max_values} distinct values, "
            "this could indicate an error. If this was intended, set spark.sql.pivotMaxValues "
            "to at least the number of distinct values of the pivot column.",
            "_LEGACY_ERROR_TEMP_1325",
        )
    return [_literal(v) for v in found]


def _literal(v: Any) -> exp.Expression:
    if v is None:
        return exp.null()
    if isinstance(v, bool):
        return exp.Boolean(this=v)
    if isinstance(v, (int, float)):
        return exp.Literal.number(v)
    if isinstance(v, str):
        return exp.Literal.string(v)
    return exp.cast(exp.Literal.string(str(v)), _type_name(v))


def _type_name(v: Any) -> str:
    import datetime
    import decimal

    if isinstance(v, datetime.datetime):
        return "TIMESTAMP"
    if isinstance(v, datetime.date):
        return "DATE"
    if isinstance(v, decimal.Decimal):
        return "DECIMAL(38, 18)"
    return "STRING"


def _label(value: exp.Expression) -> str:
    """Spark's column name for a pivot value: its string form (``null`` for NULL)."""
    if isinstance(value, exp.Null):
        return "null"
    if isinstance(value, exp.Literal):
        return str(value.this)
    if isinstance(value, exp.Boolean):
        return "true" if value.this else "false"
    if isinstance(value, exp.Cast):
        return _label(value.this)
    return spark_name(value)
