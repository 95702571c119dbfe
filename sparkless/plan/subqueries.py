"""Subquery expressions → joins, as Spark's optimizer rewrites them before execution.

* ``x [NOT] IN (SELECT …)`` and ``[NOT] EXISTS (SELECT …)`` as a top-level WHERE
  conjunct become a left semi / anti join (RewritePredicateSubquery). ``NOT IN`` keeps
  Spark's null semantics by a null-aware condition: a row is dropped when some subquery
  value equals it *or either side is NULL* — so a NULL ``x`` survives only an empty
  subquery, and any NULL in the subquery drops every row.
* The same predicates anywhere else (under OR, in a CASE) become an *existence join*: a
  left join to the distinct subquery rows carrying a ``TRUE`` mark, the predicate
  replaced by ``mark IS NOT NULL``.
* A scalar subquery becomes a left join to its (one-row, or one row per correlation
  key) result (RewriteCorrelatedScalarSubquery); inside an aggregate query its value
  is taken with ``max`` since it is the same for every row of a group.

Correlated predicates (conjuncts of the subquery's WHERE that name columns of the
outer query) are pulled out of the subquery into the join condition; the inner
columns they use are added to the subquery's output, and to its GROUP BY when the
subquery aggregates. What Spark itself rejects (correlation below a LIMIT, outer
references outside WHERE) is not decorrelated here either.

An uncorrelated scalar subquery that returns more than one row raises Spark's
SCALAR_SUBQUERY_TOO_MANY_ROWS (:func:`at_most_one_row`; one that aggregates without
grouping needs no check). A correlated one is an aggregate grouped by its correlation
keys, as Spark requires, so it has one row per key; when its value over no rows is not
NULL (``count``), an outer row without matches gets that value (the "count bug").

Known departures from Spark:
* an IN subquery under NOT inside OR/CASE (an existence join) takes an unknown result as
  false, where Spark's three-valued logic keeps it NULL;
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyspark.sql.types import LongType
from sqlglot import exp

from sparkless.errors import AnalysisException
from sparkless.plan import ir
from sparkless.plan.analyzer import Analyzer, Scope, column_parts, is_aggregate
from sparkless.plan.optimizer import conjoin, conjuncts, restore_output

if TYPE_CHECKING:
    from sparkless.plan.sql import SqlPlanner

_aliases = itertools.count(1)

SUBQUERY_NODES = (exp.Subquery, exp.Exists)


def has_subquery(e: exp.Expression) -> bool:
    return any(_is_subquery_expr(n) for n in e.walk())


def _is_subquery_expr(n: exp.Expression) -> bool:
    return isinstance(n, SUBQUERY_NODES) or (isinstance(n, exp.In) and n.args.get("query") is not None)


@dataclass
class PlannedSubquery:
    plan: ir.Plan  # aliased: columns __v<i> (values), __corr<j>, __m (mark)
    alias: str
    correlation: exp.Expression | None  # over outer columns and alias.__corr<j>
    # a correlated scalar aggregate's value over no rows when it is not NULL (count):
    # what an outer row without matches gets (Spark's "count bug" rewrite)
    empty_value: exp.Expression | None = None

    def value(self, i: int = 0) -> exp.Column:
        return exp.column(f"__v{i}", table=self.alias)

    def mark(self) -> exp.Column:
        return exp.column("__m", table=self.alias)


class SubqueryPlanner:
    def __init__(self, sql: SqlPlanner) -> None:
        self.sql = sql
        self.b = sql.b
        self.a: Analyzer = sql.b.a

    # ---- WHERE ---------------------------------------------------------------------

    def filter(self, plan: ir.Plan, condition: exp.Expression) -> ir.Plan:
        """``plan WHERE condition``: plain conjuncts first (they shrink what is joined),
        then semi/anti joins, then conjuncts with inlined subquery values."""
        if not has_subquery(condition):
            return self.b.filter(plan, condition)
        base = plan.output
        parts = conjuncts(condition)
        plain = [c for c in parts if not has_subquery(c)]
        if plain:
            plan = self.b.filter(plan, conjoin(plain))
        residual: list[exp.Expression] = []
        for c in parts:
            if not has_subquery(c):
                continue
            negated = isinstance(c, exp.Not)
            inner = _unparen(c.this if negated else c)
            if isinstance(inner, exp.Exists):
                plan = self._semi(plan, inner.this, None, negated)
            elif isinstance(inner, exp.In) and inner.args.get("query") is not None:
                plan = self._semi(plan, inner.args["query"], inner.this, negated)
            else:
                plan, rewritten = self.inline(plan, c)
                residual.append(rewritten)
        if residual:
            plan = self.b.filter(plan, conjoin(residual))
        return restore_output(plan, base)

    def _semi(
        self, plan: ir.Plan, query: exp.Expression, value: exp.Expression | None, anti: bool
    ) -> ir.Plan:
        sq = self.plan_subquery(query, "values" if value is not None else "exists")
        parts: list[exp.Expression] = []
        if value is not None:
            values = value.expressions if isinstance(value, exp.Tuple) else [value]
            for i, v in enumerate(values):
                eq: exp.Expression = exp.EQ(this=v.copy(), expression=sq.value(i))
                if anti and self._nullable(v, plan, sq, i):
                    eq = exp.paren(
                        exp.or_(
                            eq,
                            exp.Is(this=v.copy(), expression=exp.Null()),
                            exp.Is(this=sq.value(i), expression=exp.Null()),
                        )
                    )
                parts.append(eq)
        if sq.correlation is not None:
            parts.append(sq.correlation)
        cond = conjoin(parts) or exp.true()
        return self.b.join(plan, sq.plan, "left_anti" if anti else "left_semi", cond)

    def _nullable(self, v: exp.Expression, plan: ir.Plan, sq: PlannedSubquery, i: int) -> bool:
        outer_nullable = self.a.resolve(v, self.a.scope(plan)).nullable
        return outer_nullable or sq.plan.output[i].nullable

    # ---- anywhere else ---------------------------------------------------------------

    def inline(
        self, plan: ir.Plan, e: exp.Expression, in_aggregate: bool = False
    ) -> tuple[ir.Plan, exp.Expression]:
        """Join what each subquery in ``e`` needs to ``plan``; ``e`` rewritten over it."""
        joins: list[tuple[PlannedSubquery, exp.Expression | None]] = []

        def swap(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Subquery):
                sq = self.plan_subquery(node, "scalar")
                if sq.correlation is None:
                    sq = dataclasses.replace(sq, plan=at_most_one_row(sq.plan, sq.alias))
                joins.append((sq, None))
                value: exp.Expression = sq.value()
                if sq.empty_value is not None:
                    unmatched = exp.Is(this=sq.mark(), expression=exp.Null())
                    value = exp.Case(ifs=[exp.If(this=unmatched, true=sq.empty_value)], default=value)
                return exp.Max(this=value) if in_aggregate and sq.correlation is None else value
            if isinstance(node, exp.Exists):
                sq = self.plan_subquery(node.this, "exists_mark")
                joins.append((sq, None))
                return exp.Not(this=exp.Is(this=sq.mark(), expression=exp.Null()))
            if isinstance(node, exp.In) and node.args.get("query") is not None:
                sq = self.plan_subquery(node.args["query"], "mark")
                joins.append((sq, exp.EQ(this=node.this.copy(), expression=sq.value())))
                return exp.Not(this=exp.Is(this=sq.mark(), expression=exp.Null()))
            return node

        rewritten = e.copy().transform(swap)
        for sq, extra in joins:
            cond = conjoin([c for c in (extra, sq.correlation) if c is not None]) or exp.true()
            joined = self.b.join(plan, sq.plan, "left", cond)
            plan = dataclasses.replace(joined, right_unique=True) if isinstance(joined, ir.Join) else joined
        return plan, rewritten

    # ---- the subquery itself ---------------------------------------------------------

    def plan_subquery(self, query: exp.Expression, mode: str) -> PlannedSubquery:
        """Plan ``query`` with renamed outputs; pull correlated WHERE conjuncts out.

        ``mode``: "scalar"/"values" keep the select list as ``__v<i>``; "exists" keeps
        none; "mark" keeps the values, adds ``TRUE AS __m`` and makes rows distinct;
        "exists_mark" is "mark" without the values.
        """
        node = query.this if isinstance(query, exp.Subquery) else query
        alias = f"__sq{next(_aliases)}"
        keep_values = mode in ("scalar", "values", "mark")
        if not isinstance(node, exp.Select):
            mark = mode in ("mark", "exists_mark")
            return PlannedSubquery(self._wrap_query(node, alias, keep_values, mark), alias, None)
        node = node.copy()
        correlation, inner_cols = self._decorrelate(node, alias)
        select: list[exp.Expression] = []
        if keep_values:
            select = [exp.alias_(_unalias(s), f"__v{i}", quoted=True) for i, s in enumerate(node.expressions)]
        select += [exp.alias_(c.copy(), f"__corr{j}", quoted=True) for j, c in enumerate(inner_cols)]
        empty_value = None
        if mode == "scalar" and correlation is not None and len(node.expressions) == 1:
            empty_value = _value_over_no_rows(_unalias(node.expressions[0]))
            if empty_value is not None:
                select.append(exp.alias_(exp.true(), "__m", quoted=True))
        if mode in ("mark", "exists_mark"):
            select.append(exp.alias_(exp.true(), "__m", quoted=True))
            node.set("distinct", exp.Distinct())
        if not select:
            select = [exp.alias_(exp.true(), "__m", quoted=True)]
        if inner_cols and (node.args.get("group") is not None or any(is_aggregate(s) for s in node.expressions)):
            group = node.args.get("group") or exp.Group(expressions=[])
            group.set("expressions", [*group.expressions, *(c.copy() for c in inner_cols)])
            node.set("group", group)
        node.set("expressions", select)
        plan = self.sql.plan(node)
        return PlannedSubquery(ir.Alias(plan, alias), alias, correlation, empty_value)

    def _wrap_query(self, node: exp.Expression, alias: str, keep_values: bool, mark: bool) -> ir.Plan:
        """A set operation (or other query) used as a subquery: outputs renamed."""
        plan = self.sql.plan(node)
        plan = self.b.to_df(plan, [f"__v{i}" for i in range(len(plan.output))])
        if mark:
            values = [exp.column("__v0")] if keep_values else []
            plan = self.b.project(plan, [*values, exp.alias_(exp.true(), "__m", quoted=True)])
            plan = self.b.distinct(plan)
        elif not keep_values:
            plan = self.b.project(plan, [exp.alias_(exp.true(), "__m", quoted=True)])
        return ir.Alias(plan, alias)

    def _decorrelate(
        self, node: exp.Select, alias: str
    ) -> tuple[exp.Expression | None, list[exp.Column]]:
        """Remove the outer-referencing conjuncts from ``node``'s WHERE (in place)."""
        where = node.args.get("where")
        if where is None:
            return None, []
        inner = self.a.scope(self.sql.from_plan(node))
        keep: list[exp.Expression] = []
        correlated: list[exp.Expression] = []
        inner_cols: list[exp.Column] = []
        index: dict[int, int] = {}
        for c in conjuncts(where.this):
            cols = [col for col in c.find_all(exp.Column) if not _under_subquery(col, c)]
            outer = [col for col in cols if _resolve(inner, col) is None]
            if not outer or has_subquery(c):
                keep.append(c)
                continue

            def swap(n: exp.Expression) -> exp.Expression:
                if not isinstance(n, exp.Column):
                    return n
                attr = _resolve(inner, n)
                if attr is None:
                    return n
                if attr.id not in index:
                    index[attr.id] = len(inner_cols)
                    inner_cols.append(n.copy())
                return exp.column(f"__corr{index[attr.id]}", table=alias)

            correlated.append(c.copy().transform(swap))
        node.set("where", exp.Where(this=conjoin(keep)) if keep else None)
        return conjoin(correlated), inner_cols


def _resolve(scope: Scope, col: exp.Column) -> ir.Attribute | None:
    if isinstance(col.this, exp.Star):
        return None
    try:
        attr, _ = scope.resolve(column_parts(col))
        return attr
    except AnalysisException:
        return None


def _under_subquery(node: exp.Expression, root: exp.Expression) -> bool:
    p = node.parent
    while p is not None and p is not root:
        if _is_subquery_expr(p):
            return True
        p = p.parent
    return False


def _unparen(e: exp.Expression) -> exp.Expression:
    while isinstance(e, exp.Paren):
        e = e.this
    return e


def _unalias(e: exp.Expression) -> exp.Expression:
    return e.this.copy() if isinstance(e, exp.Alias) else e.copy()


def _value_over_no_rows(e: exp.Expression) -> exp.Expression | None:
    """What an aggregate select expression gives over no rows, when that is not NULL:
    ``count(...)`` is 0 there, every other aggregate NULL (Spark's evalAggOnZeroTups);
    None when no count is involved (the left join's NULL is then already right)."""
    if not is_aggregate(e) or not any(isinstance(n, exp.Count) for n in e.find_all(exp.Count)):
        return None

    def zero(n: exp.Expression) -> exp.Expression:
        if isinstance(n, exp.Count):
            return exp.Literal.number(0)
        if isinstance(n, exp.AggFunc):
            return exp.Null()
        return n

    return e.copy().transform(zero)


TOO_MANY_ROWS = "[SCALAR_SUBQUERY_TOO_MANY_ROWS] More than one row returned by a subquery used as an expression."


def at_most_one_row(plan: ir.Plan, alias: str) -> ir.Plan:
    """``plan`` (a scalar subquery's rows) raising SCALAR_SUBQUERY_TOO_MANY_ROWS when it
    has more than one row: each value becomes ``CASE WHEN count(*) OVER () > 1 THEN
    error(...) ELSE value END`` -- one small single-partition window over the subquery's
    result. Spark checks the same at execution."""
    from sparkless.plan.functions import runtime_error

    if _one_row(plan):
        return plan
    n = ir.Attribute("__rows", LongType(), False)
    counted = ir.WindowProject(
        plan,
        [*(ir.NamedExpr(Analyzer._ref(a), a) for a in plan.output),
         ir.NamedExpr(exp.Window(this=exp.Count(this=exp.Star())), n)],
        [],
    )
    too_many = exp.GT(this=exp.column(n.col), expression=exp.Literal.number(1))
    checked = [
        ir.NamedExpr(exp.Case(ifs=[exp.If(this=too_many, true=runtime_error(TOO_MANY_ROWS))],
                              default=Analyzer._ref(a)), a.fresh())
        for a in plan.output
    ]
    return ir.Alias(ir.Project(counted, checked), alias)


def _one_row(plan: ir.Plan) -> bool:
    """An aggregate without grouping keys (under projections/aliases) has one row."""
    while isinstance(plan, (ir.Alias, ir.Tagged, ir.Project)):
        plan = plan.child
    return isinstance(plan, ir.Aggregate) and not plan.keys
