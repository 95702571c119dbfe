"""Spark SQL text → logical plan: sqlglot parses (Spark dialect), PlanBuilder builds.

Covers plain queries: SELECT [DISTINCT] … FROM tables/views/subqueries with JOINs,
WHERE, GROUP BY, HAVING, ORDER BY, LIMIT/OFFSET, UNION [ALL], and WITH. The wider
dialect (windows, grouping sets, subquery expressions) is the Spark SQL issue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from sparkless.connect.expressions import parse_error
from sparkless.errors import ParseException, unsupported
from sparkless.plan import ir
from sparkless.plan.analyzer import is_aggregate

if TYPE_CHECKING:
    from sparkless.connect.session import Session


def parse_statement(text: str) -> exp.Expression:
    try:
        statements = [s for s in sqlglot.parse(text, read="spark") if s is not None]
    except ParseError as e:
        raise parse_error(text, e) from None
    if len(statements) != 1:
        raise unsupported("More than one SQL statement in one spark.sql call")
    stmt = statements[0]
    if not isinstance(stmt, (exp.Query, exp.Create, exp.Drop, exp.Insert, exp.Command, exp.Describe)):
        first = text.strip().split()[0] if text.strip() else ""
        raise ParseException(
            f"Syntax error at or near '{first}'. (line 1, pos 0)\n\n== SQL ==\n{text}\n^^^\n",
            "PARSE_SYNTAX_ERROR",
            sql_state="42601",
            parameters={"error": f"'{first}'", "hint": ""},
        )
    return stmt


class SqlPlanner:
    def __init__(self, session: Session, ctes: dict[str, ir.Plan] | None = None) -> None:
        self.session = session
        self.b = session.builder
        self.ctes = dict(ctes or {})

    def query(self, text: str) -> ir.Plan:
        return self.plan(parse_statement(text))

    def plan(self, node: exp.Expression) -> ir.Plan:
        if isinstance(node, exp.Subquery):
            return self.plan(node.this)
        with_ = node.args.get("with_") or node.args.get("with")
        if with_ is not None:
            inner = SqlPlanner(self.session, self.ctes)
            for cte in with_.expressions:
                inner.ctes[cte.alias.lower()] = ir.Alias(inner.plan(cte.this), cte.alias)
            node = node.copy()
            node.set("with_", None)
            node.set("with", None)
            return inner.plan(node)
        if isinstance(node, exp.Union):
            left, right = self.plan(node.this), self.plan(node.expression)
            plan = self.b.union(left, right)
            plan = plan if not node.args.get("distinct") else self.b.distinct(plan)
            return self._order_limit(plan, node)
        if isinstance(node, (exp.Intersect, exp.Except)):
            raise unsupported(f"{type(node).__name__.upper()}")
        if isinstance(node, exp.Select):
            return self._select(node)
        if isinstance(node, exp.Values):
            raise unsupported("VALUES")
        raise unsupported(f"The SQL statement {type(node).__name__}")

    def _source(self, node: exp.Expression) -> ir.Plan:
        if isinstance(node, exp.Table) and isinstance(node.this, (exp.Anonymous, exp.Func)):
            return self._table_function(node)
        if isinstance(node, exp.Table):
            name = node.name
            if not node.args.get("db") and name.lower() in self.ctes:
                plan = self.ctes[name.lower()]
            else:
                ident = ".".join(p.name for p in node.parts)
                plan = self.session.lookup_table(ident)
            alias = node.alias or name
            return ir.Alias(plan, alias)
        if isinstance(node, exp.Subquery):
            plan = self.plan(node.this)
            return ir.Alias(plan, node.alias) if node.alias else plan
        raise unsupported(f"FROM {type(node).__name__}")

    def _table_function(self, node: exp.Table) -> ir.Plan:
        fn = node.this
        name = (fn.name if isinstance(fn, exp.Anonymous) else fn.key).lower()
        if name != "range":
            raise unsupported(f"The table-valued function {name}()")
        args = [int(a.this) if not isinstance(a, exp.Neg) else -int(a.this.this) for a in fn.expressions]
        start, end, step, parts = 0, 0, 1, None
        if len(args) == 1:
            end = args[0]
        elif len(args) >= 2:
            start, end = args[0], args[1]
            step = args[2] if len(args) > 2 else 1
            parts = args[3] if len(args) > 3 else None
        plan = self.b.range(start, end, step, parts)
        return ir.Alias(plan, node.alias) if node.alias else plan

    def _select(self, node: exp.Select) -> ir.Plan:
        from_ = node.args.get("from_") or node.args.get("from")
        if from_ is None:
            import pyarrow as pa

            plan: ir.Plan = self.b.local(pa.table({"__one": [1]}), None)
        else:
            plan = self._source(from_.this)
        for j in node.args.get("joins") or []:
            right = self._source(j.this)
            side = (j.side or "").lower()
            kind = (j.kind or "").lower()
            how = {"left": "left", "right": "right", "full": "full"}.get(side, "inner")
            if kind in ("semi", "anti"):
                how = f"left_{kind}"
            elif kind == "cross":
                how = "cross"
            using = [u.name for u in j.args.get("using") or []]
            cond = j.args.get("on")
            plan = self.b.join(plan, right, how, cond, using or None)
        where = node.args.get("where")
        if where is not None:
            plan = self.b.filter(plan, where.this)
        group = node.args.get("group")
        having = node.args.get("having")
        select = list(node.expressions)
        if group is not None or having is not None or any(is_aggregate(e) for e in select):
            keys = list(group.expressions) if group is not None else []
            keys = [self._ordinal(k, select) for k in keys]
            if having is not None:
                hidden = exp.alias_(having.this, "__having", quoted=True)
                agg = self.b.aggregate_sql(plan, keys, [*select, hidden])
                flag = agg.output[-1]
                plan = ir.Filter(agg, flag.ref())
                plan = ir.Project(plan, [ir.NamedExpr(a.ref(), a) for a in agg.output[:-1]])
                for ne in plan.exprs:
                    ne.expr.meta["attr"] = ne.attr
            else:
                plan = self.b.aggregate_sql(plan, keys, select)
        else:
            plan = self.b.project(plan, select)
        if node.args.get("distinct"):
            plan = self.b.distinct(plan)
        return self._order_limit(plan, node)

    @staticmethod
    def _ordinal(key: exp.Expression, select: list[exp.Expression]) -> exp.Expression:
        """GROUP BY 1 / ORDER BY 1 refer to the select list, as in Spark."""
        if isinstance(key, exp.Literal) and key.is_int:
            item = select[int(key.this) - 1]
            return item.this if isinstance(item, exp.Alias) else item
        return key

    def _order_limit(self, plan: ir.Plan, node: exp.Expression) -> ir.Plan:
        order = node.args.get("order")
        if order is not None:
            keys = []
            for o in order.expressions:
                o = o.copy()
                if isinstance(o, exp.Ordered) and isinstance(o.this, exp.Literal) and o.this.is_int:
                    attr = plan.output[int(o.this.this) - 1]
                    o.set("this", exp.column(attr.name, quoted=True))
                if isinstance(o, exp.Ordered) and o.args.get("nulls_first") is not None:
                    o.set("explicit_nulls", True)
                keys.append(o)
            plan = self.b.sort(plan, keys)
        offset = node.args.get("offset")
        if offset is not None:
            plan = self.b.offset(plan, int(offset.expression.this))
        limit = node.args.get("limit")
        if limit is not None:
            plan = self.b.limit(plan, int(limit.expression.this))
        return plan
