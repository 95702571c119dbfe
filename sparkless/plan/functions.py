"""Spark functions and operators rendered for DuckDB with Spark's semantics.

``translate`` sees one node whose children are already translated and returns the
DuckDB-ready node. Most functions need nothing (sqlglot transpiles names); the
entries here are where Spark and DuckDB *mean* different things: result types of
aggregates, ANSI errors, null handling, casts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pyspark.sql.types import DecimalType, DoubleType, FloatType
from sqlglot import exp

from sparkless.errors import AnalysisException
from sparkless.plan import decimals

if TYPE_CHECKING:
    from sparkless.plan.analyzer import Analyzer, Scope

Translator = Callable[[exp.Expression, "Analyzer", "Scope"], exp.Expression]

DIVIDE_BY_ZERO = (
    "[DIVIDE_BY_ZERO] Division by zero. Use `try_divide` to tolerate divisor being 0 and "
    'return NULL instead. If necessary set "spark.sql.ansi.enabled" to "false" to bypass '
    "this error."
)


REMAINDER_BY_ZERO = (
    "[REMAINDER_BY_ZERO] Remainder by zero. Use `try_mod` to tolerate divisor being 0 and "
    'return NULL instead. If necessary set "spark.sql.ansi.enabled" to "false" to bypass '
    "this error."
)


def runtime_error(message: str) -> exp.Expression:
    """DuckDB's ``error()``: the task maps the bracketed class back to Spark's exception."""
    return exp.Anonymous(this="error", expressions=[exp.Literal.string(message)])


def _guard_zero(e: exp.Expression, analyzer: Analyzer, message: str = DIVIDE_BY_ZERO) -> exp.Expression:
    """Spark: x / 0 raises under ANSI, else NULL. DuckDB evaluates both CASE branches,
    so the division itself divides by NULLIF(divisor, 0)."""
    divisor = e.expression
    on_zero = runtime_error(message) if analyzer.conf.ansi else exp.null()
    e.set("expression", exp.Nullif(this=divisor.copy(), expression=exp.Literal.number(0)))
    out = exp.Case(
        ifs=[exp.If(this=exp.EQ(this=divisor, expression=exp.Literal.number(0)), true=on_zero)],
        default=e,
    )
    if not analyzer.conf.ansi:
        out.meta["nullable"] = True
    return out


def _div(e: exp.Expression, analyzer: Analyzer, scope: Scope) -> exp.Expression:
    left = analyzer.type_of(e.this, scope)
    right = analyzer.type_of(e.expression, scope)
    operands = decimals.decimal_operands(left, right, e)
    if operands is None:
        # Spark: `/` on non-decimals is double division.
        e.set("this", exp.cast(e.this, "DOUBLE"))
    else:
        # DuckDB divides decimals as DOUBLE; Spark divides exactly into its decimal type.
        result = decimals.result_type(exp.Div, *operands)
        divisor = exp.Nullif(this=e.expression.copy(), expression=exp.Literal.number(0))
        exact = decimals.exact_divide(e.this, divisor, operands, result)
        e = exp.Div(this=e.this, expression=e.expression)
        out = _guard_zero(e, analyzer)
        out.set("default", exact)
        out.meta["nullable"] = True
        return out
    out = _guard_zero(e, analyzer)
    out.meta["nullable"] = True
    return out


def _mod(e: exp.Expression, analyzer: Analyzer, scope: Scope) -> exp.Expression:
    left, right = analyzer.type_of(e.this, scope), analyzer.type_of(e.expression, scope)
    operands = decimals.decimal_operands(left, right, e)
    out = _guard_zero(e, analyzer, REMAINDER_BY_ZERO)
    if operands is not None:
        nullable = out.meta.get("nullable")
        out = exp.cast(out, _decimal_sql(decimals.result_type(exp.Mod, *operands)))
        if nullable is not None:
            out.meta["nullable"] = nullable
    return out


def _arith(e: exp.Expression, analyzer: Analyzer, scope: Scope) -> exp.Expression:
    """``+ - *`` with a decimal operand: Spark's result precision and scale."""
    left = analyzer.type_of(e.this, scope)
    right = analyzer.type_of(e.expression, scope)
    operands = decimals.decimal_operands(left, right, e)
    if operands is None:
        return e
    target = decimals.result_type(type(e), *operands)
    lhs, rhs = operands
    exact = type(e) is not exp.Mul or lhs.precision + rhs.precision <= decimals.MAX_PRECISION
    out = decimals.cast_to(e, target, exact)
    if decimals.narrowed_literal(left, e.this) or decimals.narrowed_literal(right, e.expression):
        out.meta["nullable"] = True
    return out


def _decimal_sql(dtype: DecimalType) -> str:
    return f"DECIMAL({dtype.precision}, {dtype.scale})"


def _int_div(e: exp.Expression, analyzer: Analyzer, scope: Scope) -> exp.Expression:
    return exp.cast(_guard_zero(e, analyzer), "BIGINT")


def _cast(e: exp.Expression, analyzer: Analyzer, scope: Scope) -> exp.Expression:
    safe = bool(e.args.get("safe"))
    source = analyzer.type_of(e.this, scope)
    target = exp.DataType.build(e.to.sql("duckdb"), dialect="duckdb")
    value = e.this
    from sparkless.plan.functions_datetime import datetime_cast

    special = datetime_cast(value, source, target, safe or not analyzer.conf.ansi)
    if special is not None:  # timestamps to strings and numbers, numbers to timestamps
        if safe or not analyzer.conf.ansi:
            special.meta["nullable"] = True
        return special
    if isinstance(source, (DoubleType, FloatType, DecimalType)) and target.this in (
        exp.DataType.Type.TINYINT,
        exp.DataType.Type.SMALLINT,
        exp.DataType.Type.INT,
        exp.DataType.Type.BIGINT,
    ):
        value = exp.Anonymous(this="trunc", expressions=[value])  # Spark truncates, DuckDB rounds
    cls = exp.TryCast if (safe or not analyzer.conf.ansi) else exp.Cast
    out = cls(this=value, to=target)
    if cls is exp.TryCast:
        out.meta["nullable"] = True
    return out


def _sum(e: exp.Expression, analyzer: Analyzer, scope: Scope) -> exp.Expression:
    arg = _agg_arg(e)
    dtype = analyzer.type_of(arg, scope)
    from sparkless.plan.analyzer import spark_numeric_kind

    kind = spark_numeric_kind(dtype)
    if kind == "integral":
        return exp.cast(e, "BIGINT")
    if kind == "decimal":
        assert isinstance(dtype, DecimalType)
        return exp.cast(e, f"DECIMAL({min(38, dtype.precision + 10)}, {dtype.scale})")
    if kind == "fractional":
        return exp.cast(e, "DOUBLE")
    if kind == "string":
        return exp.cast(exp.Sum(this=exp.cast(arg, "DOUBLE")), "DOUBLE")
    return e


def _avg(e: exp.Expression, analyzer: Analyzer, scope: Scope) -> exp.Expression:
    arg = _agg_arg(e)
    dtype = analyzer.type_of(arg, scope)
    if isinstance(dtype, DecimalType):
        p, s = min(38, dtype.precision + 4), min(38, dtype.scale + 4)
        total = exp.Sum(this=exp.cast(arg, f"DECIMAL(38, {s})"))
        return exp.cast(exp.Div(this=total, expression=exp.Count(this=arg.copy())), f"DECIMAL({p}, {s})")
    return exp.cast(exp.Avg(this=exp.cast(arg, "DOUBLE")), "DOUBLE")


def _collect(e: exp.Expression, analyzer: Analyzer, scope: Scope) -> exp.Expression:
    """collect_list/collect_set skip nulls and give [] (not NULL) for no rows."""
    arg = _agg_arg(e)
    distinct = isinstance(e, exp.ArrayUniqueAgg)
    inner: exp.Expression = exp.Anonymous(
        this="list", expressions=[exp.Distinct(expressions=[arg]) if distinct else arg]
    )
    inner = exp.Filter(
        this=inner,
        expression=exp.Where(this=exp.Not(this=exp.Is(this=arg.copy(), expression=exp.null()))),
    )
    out = exp.Coalesce(this=inner, expressions=[exp.Array(expressions=[])])
    out.meta["nullable"] = False
    out.meta["contains_null"] = False  # Spark: array<T> with containsNull = false
    return out


def _count(e: exp.Expression, analyzer: Analyzer, scope: Scope) -> exp.Expression:
    e.meta["nullable"] = False
    return e


def _stddev(e: exp.Expression, analyzer: Analyzer, scope: Scope) -> exp.Expression:
    return exp.Anonymous(this="stddev_samp", expressions=[exp.cast(_agg_arg(e), "DOUBLE")])


def _first(e: exp.Expression, analyzer: Analyzer, scope: Scope) -> exp.Expression:
    ignore_nulls = e.args.get("expression")
    name = "any_value" if isinstance(ignore_nulls, exp.Boolean) and ignore_nulls.this else "first"
    return exp.Anonymous(this=name, expressions=[_agg_arg(e)])


def _ignore_nulls(e: exp.Expression, analyzer: Analyzer, scope: Scope) -> exp.Expression:
    inner = e.this
    if isinstance(inner, exp.Anonymous) and str(inner.this).lower() == "first":
        return exp.Anonymous(this="any_value", expressions=list(inner.expressions))
    return e


def _agg_arg(e: exp.Expression) -> exp.Expression:
    arg = e.this
    if isinstance(arg, exp.Distinct):
        arg = arg.expressions[0]
    return arg


# Spark names sqlglot does not know (they arrive as exp.Anonymous).
_RENAMES: dict[str, str] = {
    "mean": "avg",
    "std": "stddev_samp",
    "stddev": "stddev_samp",
    "variance": "var_samp",
    "count_distinct": "count",
    "countdistinct": "count",
}


# spark_partition_id(): the task fills in its partition (scheduler/dag.py); DuckDB types it.
PARTITION_ID_SQL = "GETVARIABLE('sparkless_partition_id')"


def _anonymous(e: exp.Expression, analyzer: Analyzer, scope: Scope) -> exp.Expression:
    name = str(e.this).lower()
    if name == "spark_partition_id" and not e.expressions:
        var = exp.Anonymous(this="getvariable", expressions=[exp.Literal.string("sparkless_partition_id")])
        out = exp.cast(var, "INT")  # renders as PARTITION_ID_SQL inside the cast
        out.meta["nullable"] = False
        return out
    target = _RENAMES.get(name)
    if target is None:
        return e
    if name == "mean":
        return _avg(exp.Avg(this=e.expressions[0]), analyzer, scope)
    if name in ("count_distinct", "countdistinct"):
        out = exp.Count(this=exp.Distinct(expressions=list(e.expressions)))
        out.meta["nullable"] = False
        return out
    return exp.Anonymous(this=target, expressions=[exp.cast(a, "DOUBLE") for a in e.expressions])


def _in(e: exp.Expression, analyzer: Analyzer, scope: Scope) -> exp.Expression:
    if e.args.get("query") is not None:
        raise AnalysisException("IN subqueries are not supported yet.", "UNSUPPORTED_SUBQUERY")
    return e


def _sha2(e: exp.Expression, analyzer: Analyzer, scope: Scope) -> exp.Expression:
    """DuckDB has SHA-256 only; any other width must fail, never return the wrong hash."""
    length = e.args.get("length")
    bits = int(length.this) if isinstance(length, exp.Literal) else None
    if bits in (None, 0, 256):
        return exp.Anonymous(this="sha256", expressions=[e.this])
    from sparkless.errors import unsupported

    raise unsupported(f"sha2 with {bits} bits (only 256 is available)")


_INT_RANKS = (exp.RowNumber, exp.Rank, exp.DenseRank, exp.Ntile)
_WINDOW_CORE = (exp.AggFunc, exp.Filter, exp.RowNumber)


def _window_core(e: exp.Expression) -> exp.Expression:
    """The function a Spark window applies to, under any wrapper our translation added
    (``CAST(SUM(x) AS BIGINT)``, ``COALESCE(list(x) FILTER (...), [])``)."""
    if isinstance(e, _WINDOW_CORE) or (
        isinstance(e, exp.Anonymous) and str(e.this).lower() in ("first", "any_value", "list", "stddev_samp", "var_samp")
    ):
        return e
    for child in e.iter_expressions():
        if not isinstance(child, exp.DataType):
            found = _window_core(child)
            if found is not None:
                return found
    return None  # type: ignore[return-value]


def _window_cores(e: exp.Expression) -> list[exp.Expression]:
    """Every outermost window function inside a translated function's wrappers."""
    if _window_core(e) is e:
        return [e]
    out: list[exp.Expression] = []
    for child in e.iter_expressions():
        if not isinstance(child, exp.DataType) and _window_core(child) is not None:
            out.extend(_window_cores(child))
    return out


def _window(e: exp.Expression, analyzer: Analyzer, scope: Scope) -> exp.Expression:
    """``f(...) OVER (...)`` with the OVER on the function itself: wrappers go outside,
    and ranking functions give Spark's int, not DuckDB's bigint."""
    func = e.this
    core = _window_core(func)
    if core is None:
        from sparkless.errors import AnalysisException

        raise AnalysisException(
            f"Expression {func.sql('spark')} is not a window function.",
            "UNSUPPORTED_EXPR_FOR_WINDOW",
            sql_state="42P20",
        )
    wrapper = func.copy()
    cores = _window_cores(wrapper)
    if len(cores) == 1 and cores[0] is wrapper:
        out: exp.Expression = e.copy()
        out.set("this", wrapper)
    else:  # e.g. a decimal avg is sum(...) / count(...): each aggregate gets the OVER
        out = wrapper
        for inner in cores:
            window = e.copy()
            window.set("this", inner.copy())
            inner.replace(window)
    if isinstance(core, _INT_RANKS):
        out = exp.cast(out, "INTEGER")
    # Spark: ranking functions and counts are never null; value functions may be.
    out.meta["nullable"] = not isinstance(core, (*_INT_RANKS, exp.CumeDist, exp.PercentRank, exp.Count))
    return out


TRANSLATORS: dict[type[exp.Expression], Translator] = {
    exp.Add: _arith,
    exp.Sub: _arith,
    exp.Mul: _arith,
    exp.Div: _div,
    exp.Mod: _mod,
    exp.IntDiv: _int_div,
    exp.Cast: _cast,
    exp.TryCast: _cast,
    exp.Sum: _sum,
    exp.Avg: _avg,
    exp.ArrayAgg: _collect,
    exp.ArrayUniqueAgg: _collect,
    exp.Count: _count,
    exp.Stddev: _stddev,
    exp.StddevSamp: _stddev,
    exp.First: _first,
    exp.IgnoreNulls: _ignore_nulls,
    exp.Anonymous: _anonymous,
    exp.In: _in,
    exp.SHA2: _sha2,
    exp.Window: _window,
}


def translate(e: exp.Expression, analyzer: Analyzer, scope: Scope) -> exp.Expression:
    if isinstance(e, exp.Anonymous):
        from sparkless.plan import catalog

        out = catalog.translate(e, analyzer, scope)
        if out is not None:
            return out
    fn = TRANSLATORS.get(type(e))
    return fn(e, analyzer, scope) if fn else e
