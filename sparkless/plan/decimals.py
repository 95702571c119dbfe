"""Spark's decimal arithmetic result types (``DecimalPrecision`` with
``spark.sql.decimalOperations.allowPrecisionLoss=true``, Spark's default).

DuckDB picks other precisions (``+`` widens by one digit less, ``/`` of decimals is a
DOUBLE), so the analyzer casts each decimal ``+ - * / %`` to the type Spark gives it.
Integral operands take part as the decimals Spark widens them to (``INT`` is
``DECIMAL(10,0)``, an integer literal only as many digits as it has); a float or
double operand makes the whole operation DOUBLE, as in both engines.
"""

from __future__ import annotations

from pyspark.sql.types import (
    ByteType,
    DataType,
    DecimalType,
    IntegerType,
    LongType,
    ShortType,
)
from sqlglot import exp

MAX_PRECISION = 38
MIN_ADJUSTED_SCALE = 6
_INTEGRAL_DIGITS = {ByteType: 3, ShortType: 5, IntegerType: 10, LongType: 20}


def as_decimal(dtype: DataType, e: exp.Expression) -> DecimalType | None:
    """The decimal an operand counts as, or None when it is not decimal-compatible."""
    if isinstance(dtype, DecimalType):
        return dtype
    digits = _INTEGRAL_DIGITS.get(type(dtype))
    if digits is None:
        return None
    literal = e.this if isinstance(e, exp.Neg) else e
    if isinstance(literal, exp.Literal) and literal.is_int:
        digits = max(1, len(str(literal.this).lstrip("-")))
    return DecimalType(digits, 0)


def adjust(precision: int, scale: int) -> DecimalType:
    """Spark's adjustPrecisionScale: keep the integral digits, give up scale (to 6)."""
    if precision <= MAX_PRECISION:
        return DecimalType(precision, scale)
    int_digits = precision - scale
    min_scale = min(scale, MIN_ADJUSTED_SCALE)
    return DecimalType(MAX_PRECISION, max(MAX_PRECISION - int_digits, min_scale))


def result_type(op: type[exp.Expression], left: DecimalType, right: DecimalType) -> DecimalType:
    p1, s1, p2, s2 = left.precision, left.scale, right.precision, right.scale
    if op in (exp.Add, exp.Sub):
        scale = max(s1, s2)
        return adjust(max(p1 - s1, p2 - s2) + scale + 1, scale)
    if op is exp.Mul:
        return adjust(p1 + p2 + 1, s1 + s2)
    if op is exp.Div:
        scale = max(MIN_ADJUSTED_SCALE, s1 + p2 + 1)
        return adjust(p1 - s1 + s2 + scale, scale)
    if op is exp.Mod:
        scale = max(s1, s2)
        return adjust(min(p1 - s1, p2 - s2) + scale, scale)
    raise ValueError(op)


def decimal_operands(
    left: DataType, right: DataType, e: exp.Expression
) -> tuple[DecimalType, DecimalType] | None:
    """Both sides as decimals when at least one is a decimal and neither is fractional."""
    if not (isinstance(left, DecimalType) or isinstance(right, DecimalType)):
        return None
    ld, rd = as_decimal(left, e.this), as_decimal(right, e.expression)
    if ld is None or rd is None:
        return None
    return ld, rd


def cast_to(e: exp.Expression, dtype: DecimalType, exact: bool) -> exp.Expression:
    """``e`` as Spark's result type; ``exact=False`` computes in DOUBLE first (DuckDB
    cannot hold the intermediate product of two very wide decimals)."""
    if not exact:
        e.set("this", exp.cast(e.this, "DOUBLE"))
    return exp.cast(e, f"DECIMAL({dtype.precision}, {dtype.scale})")


def narrowed_literal(dtype: DataType, e: exp.Expression) -> bool:
    """An integer literal Spark casts to fewer digits than its type has: that cast is
    nullable in Spark (``Cast.forceNullable``), so the operation's result is too."""
    full = _INTEGRAL_DIGITS.get(type(dtype))
    narrowed = as_decimal(dtype, e)
    return full is not None and narrowed is not None and narrowed.precision < full


def exact_divide(left: exp.Expression, right: exp.Expression, operands: tuple[DecimalType, DecimalType],
                 result: DecimalType) -> exp.Expression:
    """``left / right`` computed exactly on unscaled 128-bit integers and rounded half up
    at the result scale, as Spark's java.math.BigDecimal division (DuckDB would divide
    decimals as DOUBLE and lose the digits past ~16). The divisor is known non-zero.

    The unscaled operands are bound once, as the fields of a one-element list's struct
    that a lambda reads: written out inline they would appear several times each, and a
    division nested in a divisor (TPC-DS q58's ``x / ((a + b + c) / 3)``) would grow
    exponentially -- seconds of planning and of DuckDB binding per query."""
    from sparkless.plan.catalog import template

    (p1, s1), (p2, s2) = ((d.precision, d.scale) for d in operands)
    k = result.scale - s1 + s2
    n = f"CAST(CAST({{n}} AS DECIMAL(38, {s1})) * {10 ** s1} AS HUGEINT)"
    m = f"CAST(CAST({{m}} AS DECIMAL(38, {s2})) * {10 ** s2} AS HUGEINT)"
    q = f"sign(x.n) * sign(x.m) * ((abs(x.n) * CAST({10 ** k} AS HUGEINT) * 2 + abs(x.m)) // (2 * abs(x.m)))"
    if result.scale == 0:
        value = f"CAST({q} AS DECIMAL({result.precision}, 0))"
    else:
        unit = f"CAST('0.{'0' * (result.scale - 1)}1' AS DECIMAL({result.scale + 1}, {result.scale}))"
        value = f"CAST(CAST({q} AS DECIMAL(38, 0)) * {unit} AS DECIMAL({result.precision}, {result.scale}))"
    return template(f"list_transform([struct_pack(n := {n}, m := {m})], lambda x: {value})[1]", n=left, m=right)
