"""Vector functions over ``array<float>`` (Spark 4.1+): DuckDB's list distance and product
functions, and element-wise sums for the aggregates. Results are FLOAT as in Spark."""

from __future__ import annotations

from pyspark.sql.types import ArrayType, FloatType
from sqlglot import exp

from sparkless.errors import AnalysisException
from sparkless.plan.catalog import Call, register, register_aggregate, template


def _vec(c: Call, i: int) -> exp.Expression:
    t = c.type(i)
    if not (isinstance(t, ArrayType) and isinstance(t.elementType, FloatType)):
        raise AnalysisException(
            f'Cannot resolve "{c.name}" due to data type mismatch: the parameter {i + 1} requires '
            f'the "ARRAY<FLOAT>" type, however it has the type "{t.simpleString().upper()}".',
            "DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE",
            sql_state="42K09",
        )
    return c.arg(i)


_SAME_LEN = (
    "CASE WHEN len({a}) <> len({b}) THEN error('[VECTOR_DIMENSION_MISMATCH] Vectors passed to "
    "{name} must have the same dimension, but got ' || len({a}) || ' and ' || len({b}) || '.') "
)


def _pair(c: Call, body: str) -> exp.Expression:
    head = _SAME_LEN.replace("{name}", c.name)
    # computed in double, rounded once to float (DuckDB's float arithmetic is an ulp off)
    return template(f"CAST({head} ELSE {body} END AS FLOAT)",
                    a=exp.cast(_vec(c, 0), "DOUBLE[]"), b=exp.cast(_vec(c, 1), "DOUBLE[]"))


@register("vector_inner_product")
def _inner(c: Call) -> exp.Expression:
    return _pair(c, "list_inner_product({a}, {b})")


@register("vector_cosine_similarity")
def _cosine(c: Call) -> exp.Expression:
    return _pair(c, "list_cosine_similarity({a}, {b})")


@register("vector_l2_distance")
def _l2(c: Call) -> exp.Expression:
    return _pair(c, "list_distance({a}, {b})")


def _norm_sql(p: exp.Expression) -> str:
    return (
        "CASE WHEN isinf({p}) THEN list_max(list_transform({v}, lambda x: abs(x))) "
        "WHEN {p} = 1 THEN list_sum(list_transform({v}, lambda x: abs(x))) "
        "ELSE pow(list_sum(list_transform({v}, lambda x: pow(abs(x), {p}))), 1.0 / {p}) END"
    )


@register("vector_norm")
def _norm(c: Call) -> exp.Expression:
    p = c.arg(1) if len(c.args) > 1 else exp.Literal.number(2)
    return template(f"CAST({_norm_sql(p)} AS FLOAT)", v=_vec(c, 0), p=p)


@register("vector_normalize")
def _normalize(c: Call) -> exp.Expression:
    p = c.arg(1) if len(c.args) > 1 else exp.Literal.number(2)
    norm = _norm_sql(p)
    return template(
        f"CAST(list_transform({{v}}, lambda x: x / nullif({norm}, 0)) AS FLOAT[])",
        v=_vec(c, 0), p=p,
    )


_SUM = (
    "list_reduce(list_filter(list({v}), lambda x: x IS NOT NULL), lambda a, b: "
    "list_transform(list_zip(a, b), lambda t: t[1] + t[2]))"
)


@register_aggregate("vector_sum")
def _sum(c: Call) -> exp.Expression:
    out = template(f"CAST({_SUM} AS FLOAT[])", nullable=True, v=_vec(c, 0))
    out.meta["contains_null"] = False
    return out


@register_aggregate("vector_avg")
def _avg(c: Call) -> exp.Expression:
    out = template(
        f"CAST(list_transform({_SUM}, lambda s: s / count({{v}})) AS FLOAT[])",
        nullable=True, v=_vec(c, 0),
    )
    out.meta["contains_null"] = False
    return out
