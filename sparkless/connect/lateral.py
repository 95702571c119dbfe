"""``DataFrame.lateralJoin``: the right side evaluated per left row, rewritten as Spark's
optimizer would into ordinary operators.

* A table-valued generator over left columns (``spark.tvf.explode(col("items").outer())``,
  optionally projected) is a Generate over the left rows (as in Spark, a left lateral join
  does not make it an outer generator: use ``explode_outer`` for that).
* A correlated subquery (filters naming left columns through ``outer()``, then an
  optional projection, sort and limit) is decorrelated as the scalar/EXISTS subqueries
  are (connect/subqueries.py): the correlated conjuncts become the join condition, and a
  sort + limit becomes a top-n per correlation key (row_number over the key).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from pyspark.sql.connect.proto import relations_pb2 as pb
from sqlglot import exp

from sparkless.connect.expressions import to_sql
from sparkless.errors import AnalysisException, unsupported
from sparkless.plan import ir
from sparkless.plan.analyzer import Analyzer
from sparkless.plan.optimizer import restore_output

if TYPE_CHECKING:
    from sparkless.connect.relations import RelationConverter

_aliases = itertools.count(1)
_GENERATORS = ("explode", "explode_outer", "posexplode", "posexplode_outer", "inline", "inline_outer")


def lateral_join(conv: RelationConverter, r: pb.LateralJoin) -> ir.Plan:
    how = {
        pb.Join.JOIN_TYPE_UNSPECIFIED: "inner", pb.Join.JOIN_TYPE_INNER: "inner",
        pb.Join.JOIN_TYPE_CROSS: "inner", pb.Join.JOIN_TYPE_LEFT_OUTER: "left",
    }.get(r.join_type)
    if how is None:
        raise AnalysisException(
            "Unsupported lateral join type. Supported join types include: 'inner', 'cross', 'left'.",
            "INVALID_LATERAL_JOIN_TYPE", sql_state="42613",
        )
    left = conv.convert(r.left)
    right = r.right
    project = right.project if right.HasField("project") else None
    source = project.input if project is not None else right
    if source.HasField("unresolved_table_valued_function"):
        plan = _generator(conv, left, source.unresolved_table_valued_function, project, how)
    else:
        plan = _subquery(conv, left, right, how)
    if r.HasField("join_condition"):
        if how != "inner":
            raise unsupported("A join condition on a left lateral join")
        plan = conv.b.filter(plan, to_sql(r.join_condition))
    return plan


def _generator(conv: RelationConverter, left: ir.Plan, tvf: pb.UnresolvedTableValuedFunction,
               project: pb.Project | None, how: str) -> ir.Plan:
    from sparkless.plan.generators import plan_select

    name = tvf.function_name.lower()
    if name not in _GENERATORS:
        raise unsupported(f"Lateral joins with the table-valued function '{tvf.function_name}'")
    call = exp.Anonymous(this=name, expressions=[to_sql(a) for a in tvf.arguments])
    generated = plan_select(conv.b, left, [exp.Star(), call])
    if project is None:
        return generated
    extra = [to_sql(e) for e in project.expressions]
    keep = [Analyzer._ref(a) for a in left.output]
    gen_scope = conv.b.a.scope(generated)
    expanded: list[exp.Expression] = []
    for e in extra:
        stars = conv.b.a.expand_star(e, gen_scope)
        expanded.extend(stars if stars is not None else [e])
    return conv.b.project(generated, [*keep, *expanded])


def _subquery(conv: RelationConverter, left: ir.Plan, rel: pb.Relation, how: str) -> ir.Plan:
    from sparkless.connect.subqueries import DataFrameSubqueries

    limit = None
    if rel.HasField("limit"):
        limit, rel = rel.limit.limit, rel.limit.input
    orders: list[exp.Expression] = []
    if rel.HasField("sort"):
        from pyspark.sql.connect.proto import expressions_pb2 as epb

        orders = [to_sql(epb.Expression(sort_order=o)) for o in rel.sort.order]
        rel = rel.sort.input
    values = [to_sql(e) for e in rel.project.expressions] if rel.HasField("project") else None
    below = rel.project.input if rel.HasField("project") else rel
    alias = f"__lat{next(_aliases)}"
    planner = DataFrameSubqueries(conv)
    inner, correlated, inner_cols = planner._decorrelate(below, alias)
    b = conv.b
    scope = b.a.scope(inner)
    shown: list[exp.Expression] = []
    for v in values if values is not None else [exp.Star()]:
        stars = b.a.expand_star(v, scope)
        shown.extend(stars if stars is not None else [v])
    corr = [exp.alias_(c.copy(), f"__corr{j}", quoted=True) for j, c in enumerate(inner_cols)]
    plan = b.project(inner, [*shown, *corr])
    n_shown = len(plan.output) - len(corr)
    if limit is not None:
        keys = [exp.column(f"__corr{j}", quoted=True) for j in range(len(corr))]
        rank = exp.Window(
            this=exp.RowNumber(), partition_by=keys or None,
            order=exp.Order(expressions=orders) if orders else None, over="OVER",
        )
        ranked = b.project(plan, [exp.Star(), exp.alias_(rank, "__rank", quoted=True)])
        kept = b.filter(ranked, exp.LTE(this=exp.column("__rank", quoted=True),
                                        expression=exp.Literal.number(limit)))
        plan = restore_output(kept, plan.output)
    right = ir.Alias(plan, alias)
    joined = b.join(left, right, how, correlated if correlated is not None else exp.true())
    right_ids = {a.id for a in plan.output[:n_shown]}
    out = list(left.output) + [a for a in joined.output if a.id in right_ids]
    by_id = {a.id: a for a in joined.output}
    return restore_output(joined, [by_id.get(a.id, a) for a in out])
