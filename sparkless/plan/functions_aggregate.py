"""Aggregate functions DuckDB names or computes differently (population kurtosis, exact
percentile, boolean aggregates, try_sum/try_avg overflowing to NULL)."""

from __future__ import annotations

from pyspark.sql.types import ByteType, DecimalType, IntegerType, LongType, ShortType
from sqlglot import exp

from sparkless.plan.catalog import Call, register_aggregate, template

_INTEGRAL = (ByteType, ShortType, IntegerType, LongType)


@register_aggregate("every", "bool_and")
def _every(c: Call) -> exp.Expression:
    return template("bool_and({x})", nullable=True, x=c.arg(0))


@register_aggregate("some", "any", "bool_or")
def _some(c: Call) -> exp.Expression:
    return template("bool_or({x})", nullable=True, x=c.arg(0))


@register_aggregate("mode")
def _mode(c: Call) -> exp.Expression:
    return template("mode({x})", nullable=True, x=c.arg(0))


@register_aggregate("kurtosis")
def _kurtosis(c: Call) -> exp.Expression:
    return template("kurtosis_pop(CAST({x} AS DOUBLE))", nullable=True, x=c.arg(0))


@register_aggregate("percentile")
def _percentile(c: Call) -> exp.Expression:
    if len(c.args) > 2 and c.literal_value(2) != 1:
        from sparkless.errors import unsupported

        raise unsupported("percentile with a frequency")
    return template(
        "quantile_cont(CAST({x} AS DOUBLE), {p})", nullable=True, x=c.arg(0), p=c.arg(1)
    )


@register_aggregate("try_sum")
def _try_sum(c: Call) -> exp.Expression:
    t = c.type(0)
    if isinstance(t, _INTEGRAL):
        return template(
            f"CASE WHEN sum(CAST({{x}} AS HUGEINT)) BETWEEN {-(2**63)} AND {2**63 - 1} "
            "THEN CAST(sum(CAST({x} AS HUGEINT)) AS BIGINT) END",
            nullable=True,
            x=c.arg(0),
        )
    if isinstance(t, DecimalType):
        p = min(38, t.precision + 10)
        return template(
            f"TRY_CAST(sum({{x}}) AS DECIMAL({p}, {t.scale}))", nullable=True, x=c.arg(0)
        )
    return template("CAST(sum(CAST({x} AS DOUBLE)) AS DOUBLE)", nullable=True, x=c.arg(0))


@register_aggregate("try_avg")
def _try_avg(c: Call) -> exp.Expression:
    t = c.type(0)
    if isinstance(t, DecimalType):
        p, s = min(38, t.precision + 4), min(38, t.scale + 4)
        return template(f"TRY_CAST(avg({{x}}) AS DECIMAL({p}, {s}))", nullable=True, x=c.arg(0))
    return template("CAST(avg(CAST({x} AS DOUBLE)) AS DOUBLE)", nullable=True, x=c.arg(0))


def _ignore_nulls(c: Call) -> bool:
    return len(c.args) > 1 and bool(c.literal_value(1))


@register_aggregate("any_value", "first", "first_value")
def _first(c: Call) -> exp.Expression:
    """DuckDB's any_value skips nulls and its first keeps them: Spark's ignoreNulls flag."""
    fn = "any_value" if _ignore_nulls(c) else "first"
    out = exp.Anonymous(this=fn, expressions=[c.arg(0)])  # two-phase aggregation knows these
    out.meta["nullable"] = True
    return out


@register_aggregate("last", "last_value")
def _last(c: Call) -> exp.Expression:
    if _ignore_nulls(c):
        return template("last({x}) FILTER (WHERE {x} IS NOT NULL)", nullable=True, x=c.arg(0))
    return template("last({x})", nullable=True, x=c.arg(0))


@register_aggregate("listagg", "string_agg")
def _listagg(c: Call) -> exp.Expression:
    """Spark's default (NULL) delimiter joins with nothing; a binary delimiter is not handled."""
    delim = c.literal_value(1) if len(c.args) > 1 else None
    text = "" if delim is None else str(delim).replace("'", "''")
    return template(f"string_agg({{x}}, '{text}')", nullable=True, x=c.arg(0))
