"""Sketch and approximate-statistics functions: HLL, theta, tuple and KLL sketches
(DataSketches), count-min sketches, bitmaps, numeric histograms, approximate percentiles.

Sketches run as task-side Python (``executors/sketches.py``) over ``list(x)`` of a group:
DuckDB's Python functions are scalar only. Such an aggregate runs in one phase (the
two-phase planner does not split a ``list``), so a sketch is built once from all of a
group's rows -- never re-sketched from partial sketches. Literal parameters (lgConfigK,
k, mode) are checked here, on the driver, with Spark's errors.
"""

from __future__ import annotations

from pyspark.sql.types import (
    ArrayType,
    BinaryType,
    ByteType,
    DoubleType,
    FloatType,
    IntegerType,
    LongType,
    ShortType,
)
from sqlglot import exp

from sparkless.errors import AnalysisException, SparkRuntimeException
from sparkless.plan.catalog import Call, register, register_aggregate, template
from sparkless.plan.python_builtins import agg_list, call, key_kind, type_error

_INTEGRAL = (ByteType, ShortType, IntegerType, LongType)


def _int_param(c: Call, i: int, default: int, lo: int, hi: int, what: str) -> exp.Expression:
    value = c.literal_value(i) if i < len(c.args) else default
    if not isinstance(value, int) or not lo <= value <= hi:
        if what == "lgConfigK":
            raise SparkRuntimeException(
                f"Invalid call to `{c.name}`; only valid lgConfigK values are between {lo} and "
                f"{hi}, inclusive: {value}.", "HLL_INVALID_LG_K", sql_state="22546")
        raise SparkRuntimeException(
            f"Invalid call to `{c.name}`; the `{what}` value must be between {lo} and {hi}, "
            f"inclusive: {value}.",
            "SKETCH_INVALID_LG_NOM_ENTRIES" if what == "lgNomEntries" else "KLL_INVALID_K",
            sql_state="22003",
        )
    return exp.Literal.number(value)


def _bool_param(c: Call, i: int) -> exp.Expression:
    return exp.Boolean(this=bool(c.literal_value(i)) if i < len(c.args) else False)


def _binary(c: Call, i: int) -> exp.Expression:
    if not isinstance(c.type(i), BinaryType):
        raise type_error(c, i, '"BINARY"')
    return c.arg(i)


# ----------------------------------------------------------------------------- HLL


@register_aggregate("hll_sketch_agg")
def _hll_sketch_agg(c: Call) -> exp.Expression:
    kind, x = key_kind(c, 0, ("i64", "str", "bin"), '("INT" or "BIGINT" or "STRING" or "BINARY")')
    if isinstance(c.type(0), (ByteType, ShortType)):
        raise type_error(c, 0, '("INT" or "BIGINT" or "STRING" or "BINARY")')
    lg = _int_param(c, 1, 12, 4, 21, "lgConfigK")
    return call(c, f"hll_agg_{kind}", agg_list(x), lg, nullable=False)


@register_aggregate("hll_union_agg")
def _hll_union_agg(c: Call) -> exp.Expression:
    return call(c, "hll_union_agg", agg_list(_binary(c, 0)), _bool_param(c, 1), nullable=False)


@register("hll_union")
def _hll_union(c: Call) -> exp.Expression:
    return call(c, "hll_union", _binary(c, 0), _binary(c, 1), _bool_param(c, 2))


@register("hll_sketch_estimate")
def _hll_estimate(c: Call) -> exp.Expression:
    return call(c, "hll_estimate", _binary(c, 0))


# ----------------------------------------------------------------------------- theta

_KEY_TYPES = '("INT" or "BIGINT" or "FLOAT" or "DOUBLE" or "STRING" or "BINARY")'


def _lg_nom(c: Call, i: int) -> exp.Expression:
    return _int_param(c, i, 12, 4, 26, "lgNomEntries")


@register_aggregate("theta_sketch_agg")
def _theta_sketch_agg(c: Call) -> exp.Expression:
    kind, x = key_kind(c, 0, ("i64", "f64", "str", "bin"), _KEY_TYPES)
    return call(c, f"theta_agg_{kind}", agg_list(x), _lg_nom(c, 1), nullable=False)


@register_aggregate("theta_union_agg")
def _theta_union_agg(c: Call) -> exp.Expression:
    return call(c, "theta_union_agg", agg_list(_binary(c, 0)), _lg_nom(c, 1), nullable=False)


@register_aggregate("theta_intersection_agg")
def _theta_intersection_agg(c: Call) -> exp.Expression:
    return call(c, "theta_intersection_agg", agg_list(_binary(c, 0)), nullable=False)


@register("theta_union")
def _theta_union(c: Call) -> exp.Expression:
    return call(c, "theta_union", _binary(c, 0), _binary(c, 1), _lg_nom(c, 2))


@register("theta_intersection")
def _theta_intersection(c: Call) -> exp.Expression:
    return call(c, "theta_intersection", _binary(c, 0), _binary(c, 1))


@register("theta_difference")
def _theta_difference(c: Call) -> exp.Expression:
    return call(c, "theta_difference", _binary(c, 0), _binary(c, 1))


@register("theta_sketch_estimate")
def _theta_estimate(c: Call) -> exp.Expression:
    return call(c, "theta_estimate", _binary(c, 0))


# ----------------------------------------------------------------------------- tuple

_MODES = ("sum", "min", "max", "alwaysone")


def _mode(c: Call, i: int) -> exp.Expression:
    mode = str(c.literal_value(i)) if i < len(c.args) else "sum"
    if mode.lower() not in _MODES:
        from sparkless.plan.naming import spark_name

        shown = c.node.meta.get("pretty") or spark_name(c.node)  # as the user called it
        raise AnalysisException(
            f'Cannot resolve "{shown}" due to data type mismatch: '
            f"[TUPLE_INVALID_SKETCH_MODE] Invalid call to `{c.name}`: mode '{mode}' is not "
            f"supported. Valid modes are: {', '.join(_MODES)}. SQLSTATE: 22023.",
            "DATATYPE_MISMATCH.TYPE_CHECK_FAILURE_WITH_HINT",
            sql_state="42K09",
        )
    return exp.Literal.string(mode.lower())


def _suffix(name: str) -> str:
    return "i" if name.endswith("_integer") else "d"


@register_aggregate("tuple_sketch_agg_double", "tuple_sketch_agg_integer")
def _tuple_sketch_agg(c: Call) -> exp.Expression:
    s = _suffix(c.name)
    kind, key = key_kind(c, 0, ("i64", "f64", "str", "bin"), _KEY_TYPES)
    value = exp.cast(c.arg(1), "INTEGER" if s == "i" else "DOUBLE")
    return call(c, f"tuple_agg_{s}_{kind}", agg_list(key), agg_list(value), _lg_nom(c, 2),
                _mode(c, 3), nullable=False)


@register_aggregate("tuple_union_agg_double", "tuple_union_agg_integer")
def _tuple_union_agg(c: Call) -> exp.Expression:
    return call(c, f"tuple_union_agg_{_suffix(c.name)}", agg_list(_binary(c, 0)), _lg_nom(c, 1),
                _mode(c, 2), nullable=False)


@register_aggregate("tuple_intersection_agg_double", "tuple_intersection_agg_integer")
def _tuple_intersection_agg(c: Call) -> exp.Expression:
    return call(c, f"tuple_intersection_agg_{_suffix(c.name)}", agg_list(_binary(c, 0)),
                _mode(c, 1), nullable=False)


@register("tuple_union_double", "tuple_union_integer",
          "tuple_union_theta_double", "tuple_union_theta_integer")
def _tuple_union(c: Call) -> exp.Expression:
    theta = "_theta" if "_theta_" in c.name else ""
    return call(c, f"tuple_union{theta}_{_suffix(c.name)}", _binary(c, 0), _binary(c, 1),
                _lg_nom(c, 2), _mode(c, 3))


@register("tuple_intersection_double", "tuple_intersection_integer",
          "tuple_intersection_theta_double", "tuple_intersection_theta_integer")
def _tuple_intersection(c: Call) -> exp.Expression:
    theta = "_theta" if "_theta_" in c.name else ""
    return call(c, f"tuple_intersection{theta}_{_suffix(c.name)}", _binary(c, 0), _binary(c, 1),
                _mode(c, 2))


@register("tuple_difference_double", "tuple_difference_integer",
          "tuple_difference_theta_double", "tuple_difference_theta_integer")
def _tuple_difference(c: Call) -> exp.Expression:
    theta = "_theta" if "_theta_" in c.name else ""
    return call(c, f"tuple_difference{theta}_{_suffix(c.name)}", _binary(c, 0), _binary(c, 1))


@register("tuple_sketch_estimate_double", "tuple_sketch_estimate_integer")
def _tuple_estimate(c: Call) -> exp.Expression:
    return call(c, f"tuple_estimate_{_suffix(c.name)}", _binary(c, 0))


@register("tuple_sketch_theta_double", "tuple_sketch_theta_integer")
def _tuple_theta(c: Call) -> exp.Expression:
    return call(c, f"tuple_theta_{_suffix(c.name)}", _binary(c, 0))


@register("tuple_sketch_summary_double", "tuple_sketch_summary_integer")
def _tuple_summary(c: Call) -> exp.Expression:
    return call(c, f"tuple_summary_{_suffix(c.name)}", _binary(c, 0), _mode(c, 1))


# ----------------------------------------------------------------------------- KLL

_KLL_KINDS = {"bigint": "BIGINT", "float": "FLOAT", "double": "DOUBLE"}


def _kll_kind(name: str) -> str:
    return name.rsplit("_", 1)[1]


def _kll_k(c: Call, i: int) -> exp.Expression:
    return _int_param(c, i, 200, 8, 65535, "k")


@register_aggregate("kll_sketch_agg_bigint", "kll_sketch_agg_float", "kll_sketch_agg_double")
def _kll_sketch_agg(c: Call) -> exp.Expression:
    kind = _kll_kind(c.name)
    t = c.type(0)
    ok = {
        "bigint": isinstance(t, _INTEGRAL),
        "float": isinstance(t, (FloatType, *_INTEGRAL)),
        "double": isinstance(t, (DoubleType, FloatType, *_INTEGRAL)),
    }[kind]
    if not ok:
        raise type_error(c, 0, f'"{_KLL_KINDS[kind]}"')
    x = exp.cast(c.arg(0), _KLL_KINDS[kind])
    return call(c, f"kll_agg_{kind}", agg_list(x), _kll_k(c, 1), nullable=False)


@register_aggregate("kll_merge_agg_bigint", "kll_merge_agg_float", "kll_merge_agg_double")
def _kll_merge_agg(c: Call) -> exp.Expression:
    k = _kll_k(c, 1) if len(c.args) > 1 else exp.cast(exp.null(), "INTEGER")
    return call(c, f"kll_merge_agg_{_kll_kind(c.name)}", agg_list(_binary(c, 0)), k,
                nullable=False)


@register("kll_sketch_merge_bigint", "kll_sketch_merge_float", "kll_sketch_merge_double")
def _kll_merge(c: Call) -> exp.Expression:
    return call(c, f"kll_merge_{_kll_kind(c.name)}", _binary(c, 0), _binary(c, 1))


@register("kll_sketch_get_n_bigint", "kll_sketch_get_n_float", "kll_sketch_get_n_double")
def _kll_n(c: Call) -> exp.Expression:
    return call(c, f"kll_n_{_kll_kind(c.name)}", _binary(c, 0))


@register("kll_sketch_to_string_bigint", "kll_sketch_to_string_float",
          "kll_sketch_to_string_double")
def _kll_to_string(c: Call) -> exp.Expression:
    return call(c, f"kll_to_string_{_kll_kind(c.name)}", _binary(c, 0))


@register("kll_sketch_get_quantile_bigint", "kll_sketch_get_quantile_float",
          "kll_sketch_get_quantile_double")
def _kll_quantile(c: Call) -> exp.Expression:
    kind = _kll_kind(c.name)
    if isinstance(c.type(1), ArrayType):
        ranks = exp.cast(c.arg(1), "DOUBLE[]")
        out = call(c, f"kll_quantiles_{kind}", _binary(c, 0), ranks)
        out.meta["contains_null"] = False
        return out
    return call(c, f"kll_quantile_{kind}", _binary(c, 0), exp.cast(c.arg(1), "DOUBLE"))


@register("kll_sketch_get_rank_bigint", "kll_sketch_get_rank_float",
          "kll_sketch_get_rank_double")
def _kll_rank(c: Call) -> exp.Expression:
    kind = _kll_kind(c.name)
    ty = _KLL_KINDS[kind]
    if isinstance(c.type(1), ArrayType):
        out = call(c, f"kll_ranks_{kind}", _binary(c, 0), exp.cast(c.arg(1), f"{ty}[]"))
        out.meta["contains_null"] = False
        return out
    return call(c, f"kll_rank_{kind}", _binary(c, 0), exp.cast(c.arg(1), ty))


# ----------------------------------------------------------------------------- count-min


@register_aggregate("count_min_sketch")
def _count_min_sketch(c: Call) -> exp.Expression:
    kind, x = key_kind(c, 0, ("i64", "str", "bin"), '("INTEGRAL" or "STRING" or "BINARY")')
    eps, confidence, seed = (c.literal_value(i) for i in (1, 2, 3))
    if not isinstance(eps, (int, float)) or eps <= 0:
        raise SparkRuntimeException(
            f"Relative error must be positive (current value = {eps})", None)
    if not isinstance(confidence, (int, float)) or not 0 < confidence < 1:
        raise SparkRuntimeException(
            f"Confidence must be within range (0.0, 1.0) (current value = {confidence})", None)
    return call(c, f"cms_{kind}", agg_list(x), exp.Literal.number(float(eps)),
                exp.Literal.number(float(confidence)), exp.cast(c.arg(3), "BIGINT"),
                nullable=False)


# ----------------------------------------------------------------------------- bitmaps


@register_aggregate("bitmap_construct_agg")
def _bitmap_construct_agg(c: Call) -> exp.Expression:
    if not isinstance(c.type(0), LongType):
        raise type_error(c, 0, '"BIGINT"')
    return call(c, "bitmap_construct", agg_list(c.arg(0)), nullable=False)


@register_aggregate("bitmap_or_agg")
def _bitmap_or_agg(c: Call) -> exp.Expression:
    return call(c, "bitmap_or", agg_list(_binary(c, 0)), nullable=False)


@register_aggregate("bitmap_and_agg")
def _bitmap_and_agg(c: Call) -> exp.Expression:
    return call(c, "bitmap_and", agg_list(_binary(c, 0)), nullable=False)


@register("bitmap_count")
def _bitmap_count(c: Call) -> exp.Expression:
    return call(c, "bitmap_count", _binary(c, 0))


# ----------------------------------------------------------------------------- statistics


@register_aggregate("histogram_numeric")
def _histogram_numeric(c: Call) -> exp.Expression:
    t = c.type(0)
    if not isinstance(t, (*_INTEGRAL, FloatType, DoubleType)):
        from sparkless.errors import unsupported

        raise unsupported(f"histogram_numeric over {t.simpleString()}")
    nb = c.literal_value(1)
    if not isinstance(nb, int) or nb < 2:
        raise AnalysisException(
            f"The number of histogram bins must be an integer >= 2: {nb}.",
            "DATATYPE_MISMATCH.VALUE_OUT_OF_RANGE",
            sql_state="42K09",
        )
    hist = call(c, "histogram_numeric", agg_list(exp.cast(c.arg(0), "DOUBLE")),
                exp.Literal.number(nb))
    if isinstance(t, DoubleType):
        return hist
    from sparkless.plan.types import duckdb_type_sql

    x = "CAST(trunc(__e.x) AS {t})" if isinstance(t, _INTEGRAL) else "CAST(__e.x AS {t})"
    return template(
        "list_transform({h}, __e -> struct_pack(x := " + x.format(t=duckdb_type_sql(t))
        + ", y := __e.y))",
        nullable=True,
        h=hist,
    )


@register_aggregate("percentile_approx", "approx_percentile")
def _percentile_approx(c: Call) -> exp.Expression:
    """Spark's GK summary answers with the value of rank ``ceil(p * n)`` while the data fits
    its buffer exactly (n well below ``accuracy``), which is DuckDB's ``quantile_disc``;
    past that Spark's answer is within 1/accuracy of that rank, ours is the exact one."""
    accuracy = c.literal_value(2) if len(c.args) > 2 else 10000
    if not isinstance(accuracy, int) or accuracy <= 0:
        raise AnalysisException(
            "The accuracy provided must be a literal between (0, 2147483647] "
            f"(current value = {accuracy})",
            "DATATYPE_MISMATCH.VALUE_OUT_OF_RANGE",
            sql_state="42K09",
        )
    out = template("quantile_disc({x}, {p})", nullable=True, x=c.arg(0), p=c.arg(1))
    out.meta["contains_null"] = False  # an array of percentiles has no null element
    return out


@register_aggregate("collect_union")
def _collect_union(c: Call) -> exp.Expression:
    """The distinct elements of all non-null arrays of the group (Spark keeps a null element)."""
    if not isinstance(c.type(0), ArrayType):
        raise type_error(c, 0, '"ARRAY"')
    out = template(
        "coalesce(list_distinct(flatten(list({x}) FILTER (WHERE {x} IS NOT NULL))), [])",
        nullable=False,
        x=c.arg(0),
    )
    out.meta["contains_null"] = False
    return out
