"""Is an engine's answer the reference answer?  The comparison rules, written down.

1. Shape: the same number of columns and rows. Column *names* are not compared (each
   engine names unaliased expressions its own way).
2. Values: NULL equals NULL. Numbers (int, float, Decimal, any mix) are equal when
   ``math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)`` -- Spark's decimal result
   scales (e.g. ``avg`` to 6 places, precision loss in division) and DuckDB's doubles
   legitimately differ in the last digits. NaN equals NaN. Strings are compared after
   stripping trailing blanks (CHAR padding); dates, timestamps and booleans exactly.
3. Order: if the query has a top-level ORDER BY, rows are compared *in order on the
   ORDER BY prefix*: the longest leading run of ORDER BY keys that are output columns
   (by name, alias, ordinal or identical expression) splits each result into consecutive
   groups of equal key values; the groups' keys must match in order and the rows within
   a group match as a multiset (ties may come in any order). Without a top-level ORDER BY
   (or when no key is an output column) the whole result is one multiset.
4. LIMIT ties: when the query has a top-level LIMIT and the result has exactly that many
   rows, the last group may have been cut anywhere among its ties, so only its key
   values and size are compared.

Multisets are matched by sorting each side on a type-tagged key and pairing rows, which
is exact for all but floats that straddle another row's value within the tolerance.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlglot
from sqlglot import exp

REL_TOL = 1e-6
ABS_TOL = 1e-4

Row = tuple[Any, ...]


@dataclass(frozen=True)
class OrderSpec:
    """Which output columns (by index) lead the ORDER BY, and the query's LIMIT."""

    keys: tuple[int, ...]
    limit: int | None


def order_spec(spark_sql: str) -> OrderSpec:
    """Read the top-level ORDER BY / LIMIT of a query (Spark dialect)."""
    tree = sqlglot.parse_one(spark_sql, read="spark")
    limit = _limit(tree)
    order = tree.args.get("order")
    if order is None:
        return OrderSpec((), limit)
    outputs = _outputs(tree)
    keys: list[int] = []
    for ordered in order.expressions:
        index = _output_index(ordered.this, outputs)
        if index is None:
            break
        keys.append(index)
    return OrderSpec(tuple(keys), limit)


def _limit(tree: exp.Expression) -> int | None:
    node = tree.args.get("limit")
    if node is None:
        return None
    value = node.expression if isinstance(node, exp.Limit) else node
    return int(value.name) if isinstance(value, exp.Literal) and value.is_int else None


def _outputs(tree: exp.Expression) -> list[exp.Expression]:
    while isinstance(tree, exp.SetOperation):
        tree = tree.this
    while isinstance(tree, exp.Subquery):
        tree = tree.this
    return list(tree.expressions) if isinstance(tree, exp.Select) else []


def _output_index(key: exp.Expression, outputs: list[exp.Expression]) -> int | None:
    if isinstance(key, exp.Literal) and key.is_int:
        pos = int(key.name) - 1
        return pos if 0 <= pos < len(outputs) else None
    for i, out in enumerate(outputs):
        inner = out.this if isinstance(out, exp.Alias) else out
        if isinstance(key, exp.Column) and not key.table and key.name.lower() == \
                out.alias_or_name.lower():
            return i
        if key == inner or (isinstance(key, exp.Column) and isinstance(inner, exp.Column)
                            and key.name.lower() == inner.name.lower()):
            return i
    return None


def values_equal(a: Any, b: Any) -> bool:
    """Rule 2 for one pair of values."""
    if a is None or b is None:
        return a is None and b is None
    if _is_number(a) and _is_number(b):
        fa, fb = float(a), float(b)
        if math.isnan(fa) or math.isnan(fb):
            return math.isnan(fa) and math.isnan(fb)
        return math.isclose(fa, fb, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    if isinstance(a, str) and isinstance(b, str):
        return a.rstrip(" ") == b.rstrip(" ")
    return a == b


def rows_equal(a: Row, b: Row) -> bool:
    return len(a) == len(b) and all(values_equal(x, y) for x, y in zip(a, b, strict=True))


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float | Decimal) and not isinstance(v, bool)


def _sort_key(row: Row) -> tuple[Any, ...]:
    key: list[tuple[int, Any]] = []
    for v in row:
        if v is None:
            key.append((0, 0))
        elif _is_number(v):
            f = float(v)
            key.append((1, -math.inf if math.isnan(f) else f))
        elif isinstance(v, str):
            key.append((2, v.rstrip(" ")))
        elif isinstance(v, dt.datetime | dt.date):
            key.append((3, v.isoformat()))
        else:
            key.append((4, repr(v)))
    return tuple(key)


def multiset_diff(actual: Sequence[Row], expected: Sequence[Row]) -> str | None:
    """None when equal as multisets, else the first mismatching pair."""
    if len(actual) != len(expected):
        return f"{len(actual)} rows, expected {len(expected)}"
    for a, e in zip(sorted(actual, key=_sort_key), sorted(expected, key=_sort_key), strict=True):
        if not rows_equal(a, e):
            return f"row {a!r} != expected {e!r}"
    return None


def _groups(rows: Sequence[Row], keys: tuple[int, ...]) -> list[tuple[Row, list[Row]]]:
    groups: list[tuple[Row, list[Row]]] = []
    for row in rows:
        k = tuple(row[i] for i in keys)
        if groups and rows_equal(groups[-1][0], k):
            groups[-1][1].append(row)
        else:
            groups.append((k, [row]))
    return groups


def diff(actual: Sequence[Row], expected: Sequence[Row], spec: OrderSpec) -> str | None:
    """Apply all the rules: None when ``actual`` matches ``expected``, else why not."""
    width_a = {len(r) for r in actual}
    width_e = {len(r) for r in expected}
    if actual and expected and width_a != width_e:
        return f"{width_a.pop()} columns, expected {width_e.pop()}"
    if len(actual) != len(expected):
        return f"{len(actual)} rows, expected {len(expected)}"
    if not spec.keys:
        return multiset_diff(actual, expected)
    ga, ge = _groups(actual, spec.keys), _groups(expected, spec.keys)
    if len(ga) != len(ge):
        return f"{len(ga)} ORDER BY groups, expected {len(ge)}"
    cut = spec.limit is not None and len(expected) == spec.limit
    for n, ((ka, ra), (ke, re_)) in enumerate(zip(ga, ge, strict=True)):
        if not rows_equal(ka, ke):
            return f"ORDER BY group {n}: key {ka!r} != expected {ke!r}"
        if cut and n == len(ga) - 1:
            if len(ra) != len(re_):
                return f"last group {ka!r}: {len(ra)} rows, expected {len(re_)}"
            continue
        why = multiset_diff(ra, re_)
        if why:
            return f"ORDER BY group {n} {ka!r}: {why}"
    return None
