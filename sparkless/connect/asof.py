"""``DataFrame._joinAsOf`` (pandas-on-Spark's merge_asof): each left row with the nearest
right row by the as-of columns, as Spark's RewriteAsOfJoin defines it.

Planned with the ordinary operators: every left row gets an id, a left outer join finds
its candidates (the join condition, the direction's inequality, the tolerance), and a
window over the id keeps the nearest one (``inner``: rows that found one).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyspark.sql.connect.proto import relations_pb2 as pb
from sqlglot import exp

from sparkless.connect.expressions import to_sql
from sparkless.errors import AnalysisException
from sparkless.plan import ir
from sparkless.plan.analyzer import Analyzer
from sparkless.plan.optimizer import restore_output

if TYPE_CHECKING:
    from sparkless.connect.relations import RelationConverter


def as_of_join(conv: RelationConverter, r: pb.AsOfJoin) -> ir.Plan:
    b = conv.b
    how = (r.join_type or "inner").lower()
    if how not in ("inner", "left", "leftouter", "left_outer"):
        raise AnalysisException(
            f"Unsupported join type '{r.join_type}'. Supported join types include: 'inner', 'left'.",
            "UNSUPPORTED_JOIN_TYPE",
        )
    direction = (r.direction or "backward").lower()
    if direction not in ("backward", "forward", "nearest"):
        raise AnalysisException(
            f"Unsupported as-of join direction '{r.direction}'. Supported as-of join directions "
            "include: 'backward', 'forward', 'nearest'.",
            "AS_OF_JOIN.UNSUPPORTED_DIRECTION", sql_state="42604",
        )
    left = conv.convert(r.left)
    right = b._dedup_right(left, conv.convert(r.right))
    numbered = b.project(left, [exp.Star(), exp.alias_(  # an id per left row, per task
        exp.Anonymous(this="monotonically_increasing_id", expressions=[]), "__asof_row", quoted=True)])
    row_id = numbered.output[-1]
    matched = ir.Attribute("__asof_matched", _bool(), False)
    marked = ir.Project(right, [ir.NamedExpr(Analyzer._ref(a), a) for a in right.output]
                        + [ir.NamedExpr(exp.true(), matched)])
    lv, rv = to_sql(r.left_as_of), to_sql(r.right_as_of)
    parts: list[exp.Expression] = []
    using = list(r.using_columns)
    if r.HasField("join_expr"):
        parts.append(to_sql(r.join_expr))
    strict = not r.allow_exact_matches  # the client always sets it (default True)
    if direction == "backward":
        parts.append((exp.LT if strict else exp.LTE)(this=rv.copy(), expression=lv.copy()))
        distance: exp.Expression = exp.Sub(this=lv.copy(), expression=rv.copy())
    elif direction == "forward":
        parts.append((exp.GT if strict else exp.GTE)(this=rv.copy(), expression=lv.copy()))
        distance = exp.Sub(this=rv.copy(), expression=lv.copy())
    else:
        if strict:
            parts.append(exp.NEQ(this=rv.copy(), expression=lv.copy()))
        distance = exp.Abs(this=exp.Sub(this=lv.copy(), expression=rv.copy()))
    if r.HasField("tolerance"):
        parts.append(exp.LTE(this=distance.copy(), expression=to_sql(r.tolerance)))
    joined = _join(b, numbered, marked, parts, using)
    best = exp.Window(
        this=exp.RowNumber(),
        partition_by=[Analyzer._ref(row_id)],
        order=exp.Order(expressions=[exp.Ordered(this=distance, desc=False, nulls_first=False)]),
        over="OVER",
    )
    ranked = b.project(joined, [exp.Star(), exp.alias_(best, "__asof_rank", quoted=True)])
    rank = ranked.output[-1]
    keep: exp.Expression = exp.EQ(this=Analyzer._ref(rank), expression=exp.Literal.number(1))
    if how == "inner":
        keep = exp.and_(keep, exp.Not(this=exp.Is(this=Analyzer._ref(matched), expression=exp.null())))
    picked = b.filter(ranked, keep)
    out = [a for a in joined.output if a.id not in (row_id.id, matched.id)]
    return restore_output(picked, out)


def _join(b, left: ir.Plan, right: ir.Plan, parts: list[exp.Expression], using: list[str]) -> ir.Plan:  # noqa: ANN001
    """A left outer join on ``parts`` (and the USING columns, shown once as Spark does)."""
    if not using:
        cond = exp.and_(*parts) if len(parts) > 1 else (parts[0] if parts else exp.true())
        return b.join(left, right, "left", cond)
    joined = b.join(left, right, "left", None, using)
    if isinstance(joined, ir.Project) and isinstance(joined.child, ir.Join) and parts:
        inner = joined.child
        scope = b.a.scope(ir.Join(inner.left, inner.right, "left", None))
        extra = b.a.condition(exp.and_(*parts), scope) if len(parts) > 1 else b.a.condition(parts[0], scope)
        cond = exp.and_(inner.condition, extra) if inner.condition is not None else extra
        return ir.Project(ir.Join(inner.left, inner.right, "left", cond), joined.exprs)
    return joined


def _bool():  # noqa: ANN202
    from pyspark.sql.types import BooleanType

    return BooleanType()


def nearest_by_join(conv: RelationConverter, r: pb.NearestByJoin) -> ir.Plan:
    """``nearestByJoin(other, ranking, k, mode, direction)``: each left row with the ``k``
    right rows ranked first by ``ranking`` (smallest for ``distance``, largest for
    ``similarity``) -- as Spark evaluates it, over the whole cross product, keeping the top
    ``k`` per left row (``leftouter``: a left row without candidates stays, with NULLs; a
    pair whose ranking is NULL is not a candidate)."""
    b = conv.b
    how = (r.join_type or "inner").lower().replace("_", "")
    if how not in ("inner", "leftouter", "left"):
        raise AnalysisException(
            f"Unsupported join type '{r.join_type}' for nearestByJoin. Supported join types "
            "include: 'inner', 'leftouter'.", "UNSUPPORTED_JOIN_TYPE",
        )
    if not 1 <= r.num_results <= 100000:
        raise AnalysisException(
            f"The number of results must be between 1 and 100000, but got {r.num_results}.",
            "NEAREST_BY_JOIN.NUM_RESULTS_OUT_OF_RANGE", sql_state="22003",
        )
    mode, direction = (r.mode or "approx").lower(), (r.direction or "distance").lower()
    if mode not in ("approx", "exact"):
        raise AnalysisException(f"Unsupported mode '{r.mode}': use 'approx' or 'exact'.",
                                "NEAREST_BY_JOIN.UNSUPPORTED_MODE", sql_state="42K0E")
    if direction not in ("distance", "similarity"):
        raise AnalysisException(f"Unsupported direction '{r.direction}': use 'distance' or 'similarity'.",
                                "NEAREST_BY_JOIN.UNSUPPORTED_DIRECTION", sql_state="42K0E")
    left = conv.convert(r.left)
    right = b._dedup_right(left, conv.convert(r.right))
    numbered = b.project(left, [exp.Star(), exp.alias_(
        exp.Anonymous(this="monotonically_increasing_id", expressions=[]), "__nearest_row", quoted=True)])
    row_id = numbered.output[-1]
    matched = ir.Attribute("__nearest_matched", _bool(), False)
    marked = ir.Project(right, [ir.NamedExpr(Analyzer._ref(a), a) for a in right.output]
                        + [ir.NamedExpr(exp.true(), matched)])
    ranking = to_sql(r.ranking_expression)
    # a pair whose ranking value is NULL is no candidate
    joined = b.join(numbered, marked, "left", exp.Not(this=exp.Is(this=ranking.copy(), expression=exp.null())))
    order = exp.Ordered(this=ranking, desc=direction == "similarity", nulls_first=False)
    best = exp.Window(this=exp.RowNumber(), partition_by=[Analyzer._ref(row_id)],
                      order=exp.Order(expressions=[order]), over="OVER")
    ranked = b.project(joined, [exp.Star(), exp.alias_(best, "__nearest_rank", quoted=True)])
    rank = ranked.output[-1]
    keep: exp.Expression = exp.LTE(this=Analyzer._ref(rank), expression=exp.Literal.number(r.num_results))
    if how == "inner":
        keep = exp.and_(keep, exp.Not(this=exp.Is(this=Analyzer._ref(matched), expression=exp.null())))
    picked = b.filter(ranked, keep)
    return restore_output(picked, [a for a in joined.output if a.id not in (row_id.id, matched.id)])
