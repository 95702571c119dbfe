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
from sparkless.errors import AnalysisException, ParseException, unsupported
from sparkless.plan import generators, ir
from sparkless.plan.analyzer import Analyzer, is_aggregate
from sparkless.plan.grouping import GroupedSelect, grouping_sets
from sparkless.plan.spark_dialect import SparklessSpark
from sparkless.plan.subqueries import SubqueryPlanner, has_subquery

if TYPE_CHECKING:
    from sparkless.connect.session import Session


def parse_statement(text: str) -> exp.Expression:
    try:
        statements = [s for s in sqlglot.parse(text, read=SparklessSpark) if s is not None]
    except ParseError as e:
        raise parse_error(text, e) from None
    if len(statements) != 1:
        raise unsupported("More than one SQL statement in one spark.sql call")
    stmt = statements[0]
    if not isinstance(stmt, (exp.Query, exp.Values, exp.Create, exp.Drop, exp.Insert, exp.Command, exp.Describe)):
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
        self.subqueries = SubqueryPlanner(self)

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
            left, right = self.plan(node.this), self.plan(node.expression)
            keep_all = not node.args.get("distinct")
            if isinstance(node, exp.Intersect):
                plan = self.b.intersect(left, right, keep_all)
            else:
                plan = self.b.except_(left, right, keep_all)
            return self._order_limit(plan, node)
        if isinstance(node, exp.Select):
            return self._select(node)
        if isinstance(node, exp.Values):
            return self._values(node)
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
        if isinstance(node, exp.Values):
            return self._values(node)
        raise unsupported(f"FROM {type(node).__name__}")

    def _values(self, node: exp.Values) -> ir.Plan:
        """An inline table: one projection per row, UNION ALL'd (Spark's common types);
        columns ``col1``.. unless the alias names them."""
        import pyarrow as pa

        rows = [r.expressions if isinstance(r, exp.Tuple) else [r] for r in node.expressions]
        alias = node.args.get("alias")
        names = [c.name for c in alias.columns] if alias is not None and alias.columns else []
        width = len(rows[0])
        if any(len(r) != width for r in rows) or (names and len(names) != width):
            raise AnalysisException(
                "[INVALID_INLINE_TABLE.NUM_COLUMNS_MISMATCH] Invalid inline table. Inline table "
                f"expected {len(names) or width} columns but found a row with a different count.",
                "INVALID_INLINE_TABLE.NUM_COLUMNS_MISMATCH",
                sql_state="42000",
            )
        names = names or [f"col{i + 1}" for i in range(width)]
        one = self.b.local(pa.table({"__one": [1]}), None)
        plan: ir.Plan | None = None
        for row in rows:
            part = self.b.project(one, [exp.alias_(v.copy(), n, quoted=True) for v, n in zip(row, names)])
            plan = part if plan is None else self.b.union(plan, part)
        assert plan is not None
        return ir.Alias(plan, alias.name) if alias is not None and alias.name else plan

    def _table_function(self, node: exp.Table) -> ir.Plan:
        fn = node.this
        name = (fn.name if isinstance(fn, exp.Anonymous) else fn.key).lower()
        if generators.generator_call(fn) is not None:
            return generators.table_function(self.b, node)
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

    def from_plan(self, node: exp.Select) -> ir.Plan:
        """The FROM clause with its joins (what the WHERE and select list see)."""
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
        return plan

    def _select(self, node: exp.Select) -> ir.Plan:
        plan = self.from_plan(node)
        for lateral in node.args.get("laterals") or []:
            plan = generators.lateral_view(self.b, plan, lateral)
        select = self._expand_stars(list(node.expressions), plan)
        where = node.args.get("where")
        if where is not None:
            plan = self.subqueries.filter(plan, where.this)
        out = self._core(plan, node, select)
        order = node.args.get("order")
        if order is None:
            return self._offset_limit(out, node)
        keys, hidden = self._order_keys(order.expressions, select, out, node)
        if hidden:
            wide = self._core(plan, node, [*select, *hidden])
            keys = [self._rebind(k, out, wide) for k in keys]
            shown = wide.output[: len(out.output)]
            out = ir.Project(self.b.sort(wide, keys), [ir.NamedExpr(Analyzer._ref(a), a) for a in shown])
        else:
            out = self.b.sort(out, keys)
        return self._offset_limit(out, node)

    def _expand_stars(self, select: list[exp.Expression], plan: ir.Plan) -> list[exp.Expression]:
        """``*`` as column references now, so columns joined in for subqueries stay hidden."""
        scope = self.b.a.scope(plan)
        out: list[exp.Expression] = []
        for e in select:
            expanded = self.b.a.expand_star(e, scope)
            out.extend(expanded if expanded is not None else [e])
        return out

    def _core(self, plan: ir.Plan, node: exp.Select, select: list[exp.Expression]) -> ir.Plan:
        """The select list over ``plan``: a projection, or an aggregation."""
        group = node.args.get("group")
        having_node = node.args.get("having")
        having = having_node.this if having_node is not None else None
        aggregated = group is not None or having is not None or any(is_aggregate(e) for e in select)
        if any(has_subquery(e) for e in select) or (having is not None and has_subquery(having)):
            items = []
            for e in select:
                plan, e = self.subqueries.inline(plan, e, in_aggregate=aggregated)
                items.append(e)
            select = items
            if having is not None:
                plan, having = self.subqueries.inline(plan, having, in_aggregate=True)
        if not aggregated:
            out = self.b.project(plan, select)
        else:
            keys, sets = grouping_sets(group) if group is not None else ([], None)
            scope = self.b.a.scope(plan)
            keys = [self._group_key(k, select, scope) for k in keys]
            windows = any(e.find(exp.Window) for e in select)
            if sets is not None or windows:
                out = GroupedSelect(self.b).plan(plan, keys, sets, select, having)
            elif having is not None:
                hidden = exp.alias_(having, "__having", quoted=True)
                agg = self.b.aggregate_sql(plan, keys, [*select, hidden])
                flag = agg.output[-1]
                out = ir.Filter(agg, flag.ref())
                out = ir.Project(out, [ir.NamedExpr(a.ref(), a) for a in agg.output[:-1]])
                for ne in out.exprs:
                    ne.expr.meta["attr"] = ne.attr
            else:
                out = self.b.aggregate_sql(plan, keys, select)
        if node.args.get("distinct"):
            out = self.b.distinct(out)
        return out

    def _group_key(self, key: exp.Expression, select: list[exp.Expression], scope) -> exp.Expression:
        """GROUP BY 1 / GROUP BY alias refer to the select list, as in Spark."""
        if isinstance(key, exp.Literal) and key.is_int:
            item = select[int(key.this) - 1]
            return item.this if isinstance(item, exp.Alias) else item
        if isinstance(key, exp.Column) and not key.table:
            try:
                scope.resolve([key.name])
            except AnalysisException:
                for item in select:
                    if isinstance(item, exp.Alias) and item.alias.lower() == key.name.lower():
                        return item.this
        return key

    def _order_keys(
        self,
        orders: list[exp.Expression],
        select: list[exp.Expression],
        out: ir.Plan,
        node: exp.Select,
    ) -> tuple[list[exp.Expression], list[exp.Expression]]:
        """Sort keys over the select output; what it lacks is computed as hidden columns
        (Spark's ResolveMissingReferences): aggregates, or columns not selected."""
        aggregated = (
            node.args.get("group") is not None
            or node.args.get("having") is not None
            or any(is_aggregate(e) for e in select)
        )
        texts = [(s.this if isinstance(s, exp.Alias) else s).sql("spark").lower() for s in select]
        keys: list[exp.Expression] = []
        hidden: list[exp.Expression] = []
        scope = self.b.a.scope(out)
        for o in orders:
            o = o.copy()
            if not isinstance(o, exp.Ordered):
                o = exp.Ordered(this=o)
            if o.args.get("nulls_first") is not None:
                o.set("explicit_nulls", True)
            e = o.this
            target: ir.Attribute | None = None
            if isinstance(e, exp.Literal) and e.is_int:
                target = out.output[int(e.this) - 1]
            elif e.sql("spark").lower() in texts and not isinstance(e, exp.Column):
                target = out.output[texts.index(e.sql("spark").lower())]
            elif not (aggregated and is_aggregate(e)):
                try:
                    self.b.a.resolve(e, scope)
                except AnalysisException:
                    if node.args.get("distinct"):
                        raise
                else:
                    keys.append(o)
                    continue
            if target is not None:
                o.set("this", Analyzer._ref(target))
            else:
                name = f"__o{len(hidden)}"
                hidden.append(exp.alias_(e.copy(), name, quoted=True))
                o.set("this", exp.column(name, quoted=True))
                o.meta["hidden"] = True
            keys.append(o)
        return keys, hidden

    @staticmethod
    def _rebind(key: exp.Expression, narrow: ir.Plan, wide: ir.Plan) -> exp.Expression:
        """A key bound to the narrow output, re-pointed at the same position of the wide one."""
        col = key.this
        attr = col.meta.get("attr") if isinstance(col, exp.Column) else None
        if attr is None:
            return key
        pos = [a.id for a in narrow.output].index(attr.id)
        key = key.copy()
        key.set("this", Analyzer._ref(wide.output[pos]))
        return key

    def _order_limit(self, plan: ir.Plan, node: exp.Expression) -> ir.Plan:
        """ORDER BY / OFFSET / LIMIT of a set operation: keys name its output columns."""
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
        return self._offset_limit(plan, node)

    def _offset_limit(self, plan: ir.Plan, node: exp.Expression) -> ir.Plan:
        offset = node.args.get("offset")
        if offset is not None:
            plan = self.b.offset(plan, int(offset.expression.this))
        limit = node.args.get("limit")
        if limit is not None:
            plan = self.b.limit(plan, int(limit.expression.this))
        return plan
