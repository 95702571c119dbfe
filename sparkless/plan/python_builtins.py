"""Calls of the Python built-ins of ``executors/builtin_sketches.py`` from translators.

A translator that needs Spark semantics DuckDB lacks (sketches, Spark's hashes, seeded
random streams) renders a call of ``sparkless_<name>``; the shared registry
(``executors/builtins.py``) registers it on the type oracle's and each task's connection
when their SQL names it. Also: which bytes Spark hashes for a value of each type.
"""

from __future__ import annotations

from pyspark.sql.types import (
    BinaryType,
    BooleanType,
    ByteType,
    DataType,
    DateType,
    DoubleType,
    FloatType,
    IntegerType,
    LongType,
    ShortType,
    StringType,
    TimestampNTZType,
    TimestampType,
)
from sqlglot import exp

from executors import builtin_sketches, builtins
from sparkless.errors import AnalysisException
from sparkless.plan.catalog import Call, nullable_any


def call(
    c: Call, short: str, *args: exp.Expression, nullable: bool | None = None
) -> exp.Expression:
    """``sparkless_<short>(args)``: a Python built-in of ``executors/builtin_sketches.py``;
    null only where an argument may be (Spark's scalar sketch functions), unless told."""
    if short not in builtin_sketches.NAMES:
        raise KeyError(short)
    out = exp.Anonymous(this=builtins.PREFIX + short, expressions=list(args))
    out.meta["nullable"] = nullable_any(*args) if nullable is None else nullable
    return out


def agg_list(x: exp.Expression) -> exp.Expression:
    """DuckDB's ``list(x)``: the group's values (nulls included) for a Python aggregate."""
    return exp.Anonymous(this="list", expressions=[x])


def type_error(c: Call, i: int, required: str) -> AnalysisException:
    t = c.type(i)
    return AnalysisException(
        f'Cannot resolve "{c.name}" due to data type mismatch: The {_ordinal(i)} parameter '
        f"requires the {required} type, however the argument has the type "
        f'"{t.simpleString().upper()}".',
        "DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE",
        sql_state="42K09",
    )


def _ordinal(i: int) -> str:
    return ["first", "second", "third", "fourth", "fifth"][i] if i < 5 else f"{i + 1}th"


def key_kind(
    c: Call, i: int, allowed: tuple[str, ...], required: str
) -> tuple[str, exp.Expression]:
    """The sketch-key kind of argument ``i`` (i64, f64, str, bin) and the argument cast to it."""
    t = c.type(i)
    x = c.arg(i)
    if isinstance(t, (ByteType, ShortType, IntegerType, LongType)) and "i64" in allowed:
        return "i64", exp.cast(x, "BIGINT")
    if isinstance(t, (FloatType, DoubleType)) and "f64" in allowed:
        return "f64", exp.cast(x, "DOUBLE")
    if isinstance(t, StringType) and "str" in allowed:
        return "str", x
    if isinstance(t, BinaryType) and "bin" in allowed:
        return "bin", x
    raise type_error(c, i, required)


def hash_kind(t: DataType, x: exp.Expression) -> tuple[str, exp.Expression] | None:
    """The bytes Spark hashes for a value of type ``t``, as a kind and the cast argument."""
    if isinstance(t, BooleanType):
        return "i32", exp.cast(x, "INTEGER")
    if isinstance(t, (ByteType, ShortType, IntegerType)):
        return "i32", exp.cast(x, "INTEGER")
    if isinstance(t, DateType):
        return "i32", exp.cast(exp.Sub(this=x, expression=exp.cast(exp.Literal.string(
            "1970-01-01"), "DATE")), "INTEGER")
    if isinstance(t, LongType):
        return "i64", x
    if isinstance(t, (TimestampType, TimestampNTZType)):
        return "i64", exp.Anonymous(this="epoch_us", expressions=[x])
    if isinstance(t, FloatType):
        return "f32", x
    if isinstance(t, DoubleType):
        return "f64", x
    if isinstance(t, StringType):
        return "str", x
    if isinstance(t, BinaryType):
        return "bin", x
    return None


# --------------------------------------------------------------------------- two phases

# A sketch aggregate's final phase over the partial sketches of the map tasks, as Spark's
# merge: (final built-in, the partial's arguments it keeps, by position; None: literal false).
# Not here (one phase): the intersections, whose partial of an empty partition would empty
# the result, and histogram_numeric, whose merge is an algorithm of its own.
_MERGES: dict[str, tuple[str, list[int | None]]] = {
    **{f"hll_agg_{k}": ("hll_union_agg", [None]) for k in ("i64", "str", "bin")},
    "hll_union_agg": ("hll_union_agg", [1]),
    **{f"theta_agg_{k}": ("theta_union_agg", [1]) for k in ("i64", "f64", "str", "bin")},
    "theta_union_agg": ("theta_union_agg", [1]),
    **{f"tuple_agg_{s}_{k}": (f"tuple_union_agg_{s}", [2, 3])
       for s in ("d", "i") for k in ("i64", "f64", "str", "bin")},
    **{f"tuple_union_agg_{s}": (f"tuple_union_agg_{s}", [1, 2]) for s in ("d", "i")},
    **{f"kll_agg_{k}": (f"kll_merge_agg_{k}", [1]) for k in ("bigint", "float", "double")},
    **{f"kll_merge_agg_{k}": (f"kll_merge_agg_{k}", [1]) for k in ("bigint", "float", "double")},
    **{f"cms_{k}": ("cms_merge", []) for k in ("i64", "str", "bin")},
    "bitmap_construct": ("bitmap_or", []),
    "bitmap_or": ("bitmap_or", []),
    "bitmap_and": ("bitmap_and", []),
}


def _short(node: exp.Expression) -> str | None:
    if not isinstance(node, exp.Anonymous):
        return None
    name = str(node.this).lower()
    return name[len(builtins.PREFIX):] if name.startswith(builtins.PREFIX) else None


def is_mergeable(node: exp.Expression) -> bool:
    """A sketch aggregate the two-phase planner can split (physical/aggregation.py)."""
    return _short(node) in _MERGES


def final_of(node: exp.Expression, partial: exp.Expression) -> exp.Expression:
    """The final phase of ``node`` over the column of its partial sketches."""
    final, keep = _MERGES[_short(node) or ""]
    args = [exp.false() if i is None else node.expressions[i].copy() for i in keep]
    out = exp.Anonymous(this=builtins.PREFIX + final, expressions=[agg_list(partial), *args])
    out.meta["nullable"] = False
    return out
