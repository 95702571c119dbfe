"""Math functions: Spark's results (nulls for logs of non-positives, Java's rounding modes,
overflow to NULL for ``try_*``) written as DuckDB SQL."""

from __future__ import annotations

from pyspark.sql.types import ByteType, DecimalType, IntegerType, LongType, ShortType
from sqlglot import exp

from sparkless.plan.catalog import Call, register, template

_INT_RANGE = {
    ByteType: (-(2**7), 2**7 - 1, "TINYINT"),
    ShortType: (-(2**15), 2**15 - 1, "SMALLINT"),
    IntegerType: (-(2**31), 2**31 - 1, "INTEGER"),
    LongType: (-(2**63), 2**63 - 1, "BIGINT"),
}


def _double(e: exp.Expression) -> exp.Expression:
    return exp.cast(e, "DOUBLE")


@register("sec")
def _sec(c: Call) -> exp.Expression:
    return template("1.0 / cos({x})", x=_double(c.arg(0)))


@register("csc")
def _csc(c: Call) -> exp.Expression:
    return template("1.0 / sin({x})", x=_double(c.arg(0)))


@register("e")
def _e(c: Call) -> exp.Expression:
    return template("exp(1.0)", nullable=False)


@register("expm1")
def _expm1(c: Call) -> exp.Expression:
    return template("exp({x}) - 1.0", x=_double(c.arg(0)))


@register("log1p")
def _log1p(c: Call) -> exp.Expression:
    return template(
        "CASE WHEN {x} <= -1.0 THEN NULL ELSE ln(1.0 + {x}) END", nullable=True, x=_double(c.arg(0))
    )


@register("ln")
def _ln(c: Call) -> exp.Expression:
    return template(
        "CASE WHEN {x} <= 0.0 THEN NULL ELSE ln({x}) END", nullable=True, x=_double(c.arg(0))
    )


@register("log10")
def _log10(c: Call) -> exp.Expression:
    return template(
        "CASE WHEN {x} <= 0.0 THEN NULL ELSE log10({x}) END", nullable=True, x=_double(c.arg(0))
    )


@register("log2")
def _log2(c: Call) -> exp.Expression:
    # Spark: StrictMath.log(x) / StrictMath.log(2), not a correctly rounded log2.
    return template(
        "CASE WHEN {x} <= 0.0 THEN NULL ELSE ln({x}) / ln(2.0) END",
        nullable=True,
        x=_double(c.arg(0)),
    )


@register("log")
def _log(c: Call) -> exp.Expression:
    if len(c.args) == 1:
        return _ln(c)
    return template(
        "CASE WHEN {b} <= 0.0 OR {x} <= 0.0 THEN NULL ELSE ln({x}) / ln({b}) END",
        nullable=True,
        b=_double(c.arg(0)),
        x=_double(c.arg(1)),
    )


@register("hypot")
def _hypot(c: Call) -> exp.Expression:
    return template("sqrt({a} * {a} + {b} * {b})", a=_double(c.arg(0)), b=_double(c.arg(1)))


@register("rint")
def _rint(c: Call) -> exp.Expression:
    return template("CAST(round_even({x}, 0) AS DOUBLE)", x=_double(c.arg(0)))


@register("bround")
def _bround(c: Call) -> exp.Expression:
    scale = c.arg(1, exp.Literal.number(0))
    dtype = c.type(0)
    out = template("round_even({x}, {d})", x=c.arg(0), d=scale)
    if isinstance(dtype, DecimalType) or type(dtype) in _INT_RANGE:
        from sparkless.plan.types import duckdb_type_sql

        return exp.cast(out, duckdb_type_sql(dtype))
    return out


@register("positive")
def _positive(c: Call) -> exp.Expression:
    return exp.paren(c.arg(0))


@register("nanvl")
def _nanvl(c: Call) -> exp.Expression:
    return template(
        "CASE WHEN isnan({a}) THEN {b} ELSE {a} END", a=_double(c.arg(0)), b=_double(c.arg(1))
    )


@register("nullifzero")
def _nullifzero(c: Call) -> exp.Expression:
    return template("nullif({x}, 0)", nullable=True, x=c.arg(0))


@register("zeroifnull")
def _zeroifnull(c: Call) -> exp.Expression:
    return template("coalesce({x}, 0)", nullable=False, x=c.arg(0))


@register("factorial")
def _factorial(c: Call) -> exp.Expression:
    return template(
        "CASE WHEN {n} < 0 OR {n} > 20 THEN NULL ELSE CAST(factorial(CAST({n} AS INTEGER)) AS BIGINT) END",
        nullable=True,
        n=c.arg(0),
    )


@register("pmod")
def _pmod(c: Call) -> exp.Expression:
    """Java's remainder takes the dividend's sign; a negative one is moved by the divisor."""
    from sparkless.plan.functions import REMAINDER_BY_ZERO

    zero = f"error('{REMAINDER_BY_ZERO}')" if c.ansi else "NULL"
    r = "({a} % nullif({b}, 0))"
    return template(
        f"CASE WHEN {{b}} = 0 THEN {zero} WHEN {r} < 0 THEN ({r} + {{b}}) % nullif({{b}}, 0) ELSE {r} END",
        a=c.arg(0),
        b=c.arg(1),
    )


@register("shiftleft", "shiftright", "shiftrightunsigned")
def _shift(c: Call) -> exp.Expression:
    dtype = c.type(0)
    bits = 64 if isinstance(dtype, LongType) else 32
    sql_type = "BIGINT" if bits == 64 else "INTEGER"
    n = f"({{n}} & {bits - 1})"  # Java masks the shift distance
    if c.name == "shiftleft":
        # Java wraps around where DuckDB raises: shift in HUGEINT, keep the low bits.
        low = f"((CAST({{a}} AS HUGEINT) * (CAST(1 AS HUGEINT) << {n})) & {2**bits - 1})"
        body = f"CAST(CASE WHEN {low} > {2 ** (bits - 1) - 1} THEN {low} - {2**bits} ELSE {low} END AS {sql_type})"
    elif c.name == "shiftright":
        body = f"CAST({{a}} AS {sql_type}) >> {n}"
    else:
        unsigned = f"(CAST({{a}} AS HUGEINT) & {2**bits - 1})"
        body = f"CAST({unsigned} >> {n} AS {sql_type})"
    return template(body, a=c.arg(0), n=c.arg(1))


@register("bit_get", "getbit")
def _bit_get(c: Call) -> exp.Expression:
    return template("CAST(({x} >> {p}) & 1 AS TINYINT)", x=c.arg(0), p=c.arg(1))


@register("width_bucket")
def _width_bucket(c: Call) -> exp.Expression:
    v, lo, hi, n = _double(c.arg(0)), _double(c.arg(1)), _double(c.arg(2)), c.arg(3)
    return template(
        "CASE WHEN {n} <= 0 OR {lo} = {hi} OR isnan({v}) OR isinf({lo}) OR isinf({hi}) THEN NULL "
        "WHEN {lo} < {hi} THEN (CASE WHEN {v} < {lo} THEN 0 WHEN {v} >= {hi} THEN {n} + 1 "
        "ELSE CAST(floor(({v} - {lo}) / ({hi} - {lo}) * {n}) AS BIGINT) + 1 END) "
        "ELSE (CASE WHEN {v} > {lo} THEN 0 WHEN {v} <= {hi} THEN {n} + 1 "
        "ELSE CAST(floor(({lo} - {v}) / ({lo} - {hi}) * {n}) AS BIGINT) + 1 END) END",
        nullable=True,
        v=v,
        lo=lo,
        hi=hi,
        n=exp.cast(n, "BIGINT"),
    )


def _checked(c: Call, op: str) -> exp.Expression:
    """try_add/try_subtract/try_multiply: NULL where Spark's integral result overflows."""
    from sparkless.plan.functions_datetime import interval_arith

    on_intervals = interval_arith(c, op)
    if on_intervals is not None:
        return on_intervals
    left, right = c.type(0), c.type(1)
    lr, rr = _INT_RANGE.get(type(left)), _INT_RANGE.get(type(right))
    if lr and rr:
        widest = max(lr, rr, key=lambda r: r[1])
        lo, hi, sql_type = widest
        return template(
            f"CASE WHEN CAST({{a}} AS HUGEINT) {op} CAST({{b}} AS HUGEINT) BETWEEN {lo} AND {hi} "
            f"THEN CAST(CAST({{a}} AS HUGEINT) {op} CAST({{b}} AS HUGEINT) AS {sql_type}) END",
            nullable=True,
            a=c.arg(0),
            b=c.arg(1),
        )
    return template(f"{{a}} {op} {{b}}", nullable=True, a=c.arg(0), b=c.arg(1))


@register("try_add")
def _try_add(c: Call) -> exp.Expression:
    return _checked(c, "+")


@register("try_subtract")
def _try_subtract(c: Call) -> exp.Expression:
    return _checked(c, "-")


@register("try_multiply")
def _try_multiply(c: Call) -> exp.Expression:
    return _checked(c, "*")


@register("try_divide")
def _try_divide(c: Call) -> exp.Expression:
    from sparkless.plan.functions_datetime import interval_arith

    on_intervals = interval_arith(c, "/")
    if on_intervals is not None:
        return on_intervals
    left, right = c.type(0), c.type(1)
    if isinstance(left, DecimalType) and isinstance(right, DecimalType):
        return template("{a} / nullif({b}, 0)", nullable=True, a=c.arg(0), b=c.arg(1))
    return template(
        "CAST({a} AS DOUBLE) / nullif(CAST({b} AS DOUBLE), 0)",
        nullable=True,
        a=c.arg(0),
        b=c.arg(1),
    )


@register("try_mod")
def _try_mod(c: Call) -> exp.Expression:
    return template("{a} % nullif({b}, 0)", nullable=True, a=c.arg(0), b=c.arg(1))


@register("ceil", "ceiling", "floor")
def _ceil_floor(c: Call) -> exp.Expression:
    """Spark: one-argument ceil/floor of a double is a bigint, of decimal(p, s) a
    decimal(p - s + 1, 0); with a scale the type keeps its kind."""
    fn = "floor" if c.name == "floor" else "ceil"
    t = c.type(0)
    if len(c.args) > 1:
        scale = c.literal_value(1)
        if isinstance(t, DecimalType):
            p = max(1, min(38, t.precision - t.scale + 1 + max(int(scale), 0)))
            s = max(int(scale), 0)
            body = (
                f"CAST({fn}({{x}} * power(10, {scale})) / power(10, {scale}) AS DECIMAL({p}, {s}))"
            )
            return template(body, x=c.arg(0))
        if type(t) in _INT_RANGE:
            from sparkless.errors import unsupported

            raise unsupported("ceil/floor of an integer with a scale")
        return template(
            f"CAST({fn}(CAST({{x}} AS DOUBLE) * power(10, {scale})) / power(10, {scale}) AS DOUBLE)",
            x=c.arg(0),
        )
    if isinstance(t, DecimalType):
        p = max(1, min(38, t.precision - t.scale + 1))
        return template(f"CAST({fn}({{x}}) AS DECIMAL({p}, 0))", x=c.arg(0))
    return template(f"CAST({fn}(CAST({{x}} AS DOUBLE)) AS BIGINT)", x=c.arg(0))


@register("sign", "signum")
def _sign(c: Call) -> exp.Expression:
    """Spark's signum is a double (NaN for NaN)."""
    return template(
        "CASE WHEN isnan({x}) THEN CAST('NaN' AS DOUBLE) ELSE CAST(sign({x}) AS DOUBLE) END",
        x=_double(c.arg(0)),
    )
