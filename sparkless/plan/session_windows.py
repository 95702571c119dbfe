"""``groupBy(session_window(time, gap), ...)``: Spark's session windows in batch queries.

A session of one group (the other grouping keys) is a run of rows, in time order, each
starting before the previous row's time plus the gap; the window is ``{start: first time,
end: last time + gap}``. Planned with the builder's own operators: rows with a NULL time
dropped, a window flag where a new session starts (lag), a running count of flags as the
session id, the session's bounds as window min/max, then the grouping on them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlglot
from sqlglot import exp

from sparkless.errors import unsupported
from sparkless.plan import ir

if TYPE_CHECKING:
    from sparkless.plan.builder import PlanBuilder


def session_call(e: exp.Expression) -> exp.Anonymous | None:
    inner = e.this if isinstance(e, exp.Alias) else e
    if isinstance(inner, exp.Anonymous) and str(inner.this).lower() == "session_window":
        return inner
    return None


def plan(b: PlanBuilder, child: ir.Plan, keys: list[exp.Expression],
         aggs: list[exp.Expression]) -> ir.Plan:
    from sparkless.plan.functions_datetime import duration_micros
    from sparkless.plan.spark_dialect import SparklessSpark

    calls = [(i, session_call(k)) for i, k in enumerate(keys) if session_call(k) is not None]
    if len(calls) > 1:
        raise unsupported("More than one session_window in one groupBy")
    at, call = calls[0]
    args = list(call.expressions)
    gap = args[1] if len(args) > 1 else None
    if not (isinstance(gap, exp.Literal) and gap.is_string):
        raise unsupported("session_window with a gap that is not a literal duration")
    micros = duration_micros(gap.this)
    others = [k for i, k in enumerate(keys) if i != at]

    def parse(text: str) -> exp.Expression:
        return sqlglot.parse_one(text, read=SparklessSpark)

    staged = [exp.alias_(k.copy(), f"__sw_k{i}", quoted=True) for i, k in enumerate(others)]
    from pyspark.sql.types import StringType

    scope = b.a.scope(child)
    t = args[0].copy()
    if isinstance(b.a.type_of(b.a.resolve(t, scope).expr, scope), StringType):
        t = exp.Anonymous(this="to_timestamp", expressions=[t])  # in the session zone
    time = exp.alias_(t, "__sw_t", quoted=True)
    p = b.project(child, [exp.Star(), *staged, time])
    p = b.filter(p, parse("__sw_t IS NOT NULL"))
    part = ", ".join(f"__sw_k{i}" for i in range(len(others)))
    by = f"PARTITION BY {part} " if part else ""
    step = f"INTERVAL '{micros}' MICROSECOND"
    lag = f"lag(__sw_t) OVER ({by}ORDER BY __sw_t)"
    p = b.project(p, [exp.Star(), parse(
        f"CASE WHEN {lag} IS NULL OR __sw_t >= {lag} + {step} THEN 1 ELSE 0 END AS __sw_new")])
    p = b.project(p, [exp.Star(), parse(
        f"sum(__sw_new) OVER ({by}ORDER BY __sw_t ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
        " AS __sw_id")])
    session = f"PARTITION BY {part + ', ' if part else ''}__sw_id"
    p = b.project(p, [exp.Star(), parse(
        f"named_struct('start', min(__sw_t) OVER ({session}), "
        f"'end', max(__sw_t) OVER ({session}) + {step}) AS session_window")])
    new_keys = list(keys)
    new_keys[at] = exp.column("session_window", quoted=True)
    return b.aggregate(p, new_keys, aggs)
