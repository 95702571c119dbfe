"""Size estimates for planning decisions (broadcast or shuffle), as Spark makes them
without statistics (its SizeInBytesOnlyStatsPlanVisitor): file sizes for scans, a
one-column-of-five projection a fifth of its child, products for joins."""

from __future__ import annotations

import os
import weakref

from pyspark.sql import types as T

from sparkless.plan import ir

ROW_OVERHEAD = 8  # Spark's EstimationUtils.getSizePerRow: 8 bytes per row besides the columns


def default_size(t: T.DataType) -> int:
    """Spark's ``DataType.defaultSize``: the width it assumes for a value of ``t``."""
    if isinstance(t, (T.BooleanType, T.ByteType, T.NullType)):
        return 1
    if isinstance(t, T.ShortType):
        return 2
    if isinstance(t, (T.IntegerType, T.FloatType, T.DateType)):
        return 4
    if isinstance(t, T.DecimalType):
        return 8 if t.precision <= 18 else 16
    if isinstance(t, (T.StringType, T.VarcharType, T.CharType)):
        return 20
    if isinstance(t, T.BinaryType):
        return 100
    if isinstance(t, T.ArrayType):
        return default_size(t.elementType)
    if isinstance(t, T.MapType):
        return default_size(t.keyType) + default_size(t.valueType)
    if isinstance(t, T.StructType):
        return sum(default_size(f.dataType) for f in t.fields)
    return 8  # long, double, timestamps, intervals, ...


def row_width(attrs: list[ir.Attribute]) -> int:
    return ROW_OVERHEAD + sum(default_size(a.dtype) for a in attrs)


def _scaled(size: int | None, child: ir.Plan, p: ir.Plan) -> int | None:
    """A unary operator's size: its child's, scaled by the ratio of row widths."""
    if size is None:
        return None
    return size * row_width(p.output) // row_width(child.output)


_SAME_COLUMNS = (ir.Filter, ir.Sort, ir.Alias, ir.Tagged, ir.Distinct, ir.Repartition, ir.Offset)
_MEMO: weakref.WeakKeyDictionary[ir.Plan, int | None] = weakref.WeakKeyDictionary()


def estimate_size(p: ir.Plan) -> int | None:
    """Bytes the plan's output is expected to take; None when there is no basis.

    Memoised per node (plans are immutable once built): the planner asks about every
    join's sides and the join reordering about every candidate, which would otherwise
    walk the same subtrees again and again."""
    try:
        return _MEMO[p]
    except KeyError:
        size = _MEMO[p] = _estimate(p)
        return size


def _estimate(p: ir.Plan) -> int | None:
    if isinstance(p, _SAME_COLUMNS):
        return estimate_size(p.child)
    if isinstance(p, ir.FileScan):
        total = 0
        for f in p.files:
            try:
                total += os.path.getsize(f)
            except OSError:
                return None
        return total
    if isinstance(p, ir.LocalRelation):
        return p.table.nbytes
    if isinstance(p, ir.Range):
        return max(0, (p.end - p.start) // p.step) * 8
    if isinstance(p, ir.Join):
        left, right = estimate_size(p.left), estimate_size(p.right)
        if p.how in ("left_semi", "left_anti"):
            return left
        if p.right_unique:
            return _scaled(left, p.left, p)
        if left is None or right is None:
            return None
        return left * right
    if isinstance(p, ir.Aggregate) and not p.keys:
        return row_width(p.output)  # one row
    if isinstance(p, ir.Limit):
        child = estimate_size(p.child)
        return None if child is None else min(child, p.n * row_width(p.output))
    if isinstance(p, ir.Union):
        sizes = [estimate_size(c) for c in p.inputs]
        return None if any(s is None for s in sizes) else sum(s for s in sizes if s is not None)
    if isinstance(p, ir.Unary):
        return _scaled(estimate_size(p.child), p.child, p)
    if p.children:
        return estimate_size(p.children[0])
    return None
