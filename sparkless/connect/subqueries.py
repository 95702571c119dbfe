"""DataFrame-API subqueries: ``df.scalar()``, ``df.exists()``, ``col.isin(df)``.

The client sends a ``WithRelations`` whose root's expressions hold ``SubqueryExpression``s
naming a referenced relation by plan id; names inside it that do not resolve against
the subquery's own columns are outer references (``col.outer()`` is only a marker on
the client). ``expressions.to_sql`` turns each into the node the SQL path has for it
(``exp.Subquery`` / ``exp.Exists`` / ``exp.In`` with a query) over a placeholder, so the
SQL planner's rewrites into semi/anti/left joins (plan/subqueries.py) apply as they are;
what differs is only how the subquery itself is planned, here from the relation:
correlated conjuncts of its filter are pulled out into the join condition and the inner
columns they use are kept (and grouped by, under an aggregate), as Spark's
decorrelation does.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from pyspark.sql.connect.proto import relations_pb2 as pb
from sqlglot import exp

from sparkless.connect.expressions import to_sql
from sparkless.errors import AnalysisException
from sparkless.plan import ir
from sparkless.plan.analyzer import Analyzer, Scope, column_parts, is_aggregate
from sparkless.plan.optimizer import conjoin, conjuncts
from sparkless.plan.subqueries import PlannedSubquery, SubqueryPlanner, has_subquery

if TYPE_CHECKING:
    from sparkless.connect.relations import RelationConverter

PLACEHOLDER = "__dataframe_subquery"
_aliases = itertools.count(1)


def placeholder(plan_id: int) -> exp.Expression:
    """Stands for the referenced relation inside a subquery expression."""
    out = exp.Anonymous(this=PLACEHOLDER, expressions=[])
    out.meta["subquery_plan_id"] = plan_id
    return out


class DataFrameSubqueries(SubqueryPlanner):
    """The SQL subquery rewrites, with subqueries planned from Connect relations."""

    def __init__(self, conv: RelationConverter) -> None:  # noqa: D107 - no SqlPlanner here
        self.conv = conv
        self.b = conv.b
        self.a = conv.b.a

    def plan_subquery(self, query: exp.Expression, mode: str) -> PlannedSubquery:
        node = query.this if isinstance(query, exp.Subquery) else query
        plan_id = node.meta.get("subquery_plan_id")
        rel = self.conv.references.get(plan_id) if plan_id is not None else None
        if rel is None:
            raise AnalysisException(
                f"The subquery's relation (plan id {plan_id}) was not sent with the query.",
                "INTERNAL_ERROR", sql_state="XX000",
            )
        alias = f"__dfsq{next(_aliases)}"
        keep_values = mode in ("scalar", "values", "mark")
        values = _values_of(rel)
        below = rel.project.input if rel.HasField("project") else (
            rel.aggregate.input if values is not None and rel.HasField("aggregate") else rel
        )
        inner, correlated, inner_cols = self._decorrelate(below, alias)
        b = self.b
        corr = [exp.alias_(c.copy(), f"__corr{j}", quoted=True) for j, c in enumerate(inner_cols)]
        if values is None:  # no select list: the relation's own columns are the values
            values = [Analyzer._ref(a) for a in inner.output]
        select = [exp.alias_(v, f"__v{i}", quoted=True) for i, v in enumerate(values)] if keep_values else []
        keys = [to_sql(e) for e in rel.aggregate.grouping_expressions] if rel.HasField("aggregate") else []
        if keys or any(is_aggregate(v) for v in values):
            plan = b.aggregate(inner, [*keys, *inner_cols], [*select, *corr] or [exp.true()])
            names = [f"__v{i}" for i in range(len(select))] + [f"__corr{j}" for j in range(len(corr))]
            plan = b.project(plan, [exp.column(n, quoted=True) for n in names] or [_mark()])
        else:
            plan = b.project(inner, [*select, *corr] or [_mark()])
        if mode in ("mark", "exists_mark"):
            kept = [
                exp.column(a.name, quoted=True)
                for a in plan.output
                if a.name.startswith("__corr") or (mode == "mark" and a.name.startswith("__v"))
            ]
            plan = b.distinct(b.project(plan, [*kept, _mark()]))
        return PlannedSubquery(ir.Alias(plan, alias), alias, correlated)

    def _decorrelate(
        self, rel: pb.Relation, alias: str
    ) -> tuple[ir.Plan, exp.Expression | None, list[exp.Expression]]:
        """The subquery's input with the filter conjuncts that name outer columns removed:
        those, rewritten over ``alias.__corr<j>``, and the inner columns they use."""
        if not rel.HasField("filter"):
            return self.conv.convert(rel), None, []
        inner = self.conv.convert(rel.filter.input)
        scope = self.a.scope(inner)
        keep: list[exp.Expression] = []
        correlated: list[exp.Expression] = []
        inner_cols: list[exp.Expression] = []
        index: dict[int, int] = {}
        for c in conjuncts(to_sql(rel.filter.condition)):
            cols = list(c.find_all(exp.Column))
            if all(_resolve(scope, col) is not None for col in cols) or has_subquery(c):
                keep.append(c)
                continue

            def swap(n: exp.Expression) -> exp.Expression:
                if not isinstance(n, exp.Column):
                    return n
                attr = _resolve(scope, n)
                if attr is None:
                    return n  # an outer column: resolved in the join's condition
                if attr.id not in index:
                    index[attr.id] = len(inner_cols)
                    inner_cols.append(n.copy())
                return exp.column(f"__corr{index[attr.id]}", table=alias, quoted=True)

            correlated.append(c.copy().transform(swap))
        if keep:
            inner = self.b.filter(inner, conjoin(keep))
        return inner, conjoin(correlated), inner_cols


def _mark() -> exp.Expression:
    return exp.alias_(exp.true(), "__m", quoted=True)


def _values_of(rel: pb.Relation) -> list[exp.Expression] | None:
    """The subquery's select list, when its top is a projection or a plain groupBy."""
    if rel.HasField("project"):
        return [to_sql(e) for e in rel.project.expressions]
    if rel.HasField("aggregate"):
        a = rel.aggregate
        if a.group_type not in (pb.Aggregate.GROUP_TYPE_GROUPBY, pb.Aggregate.GROUP_TYPE_UNSPECIFIED):
            return None
        return [to_sql(e) for e in [*a.grouping_expressions, *a.aggregate_expressions]]
    return None


def _resolve(scope: Scope, col: exp.Column) -> ir.Attribute | None:
    if isinstance(col.this, exp.Star):
        return None
    try:
        attr, _ = scope.resolve(column_parts(col), col.meta.get("plan_id"))
        return attr
    except AnalysisException:
        return None


def filter_with_subqueries(conv: RelationConverter, child: ir.Plan, cond: exp.Expression) -> ir.Plan:
    return DataFrameSubqueries(conv).filter(child, cond)


def project_with_subqueries(conv: RelationConverter, child: ir.Plan, exprs: list[exp.Expression]) -> ir.Plan:
    """A select list with scalar/EXISTS/IN subqueries: each joined in, then projected."""
    planner = DataFrameSubqueries(conv)
    scope = conv.b.a.scope(child)
    expanded: list[exp.Expression] = []
    for e in exprs:  # stars now: the joined columns stay hidden
        stars = conv.b.a.expand_star(e, scope)
        expanded.extend(stars if stars is not None else [e])
    plan = child
    out: list[exp.Expression] = []
    for e in expanded:
        if has_subquery(e):
            plan, e = planner.inline(plan, e)
        out.append(e)
    return conv.b.project(plan, out)
