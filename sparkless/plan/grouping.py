"""GROUP BY with grouping sets, and aggregation queries that use window functions.

Both are planned the way Spark's analyzer does it: aggregate first, then evaluate the
select list over the aggregate's output.

* **Grouping sets** (``GROUPING SETS``, ``ROLLUP``, ``CUBE``, ``WITH ROLLUP``): Spark's
  Expand. Each input row is paired with one row per grouping set (a cross join with a
  tiny relation of grouping ids, narrow: it runs inside the scan's tasks), the keys a
  set leaves out are NULLed, and the aggregate groups by the keys plus the grouping id
  — so a NULL that means "all values" never meets a NULL from the data.
  ``grouping(k)`` and ``grouping_id(…)`` read bits of that id, Spark's way round: the
  first key is the most significant bit, a 1 means the key is aggregated away.
* **Windows over aggregates** (``rank() OVER (ORDER BY sum(x))``, ``sum(sum(x)) OVER
  (…)``): the aggregates inside are computed by the Aggregate, the windows by a window
  projection over its result.
"""

from __future__ import annotations

import itertools

import pyarrow as pa
from pyspark.sql.types import LongType
from sqlglot import exp

from sparkless.errors import AnalysisException
from sparkless.plan import ir
from sparkless.plan.analyzer import Analyzer, Scope, column_parts, refine_type
from sparkless.plan.builder import PlanBuilder
from sparkless.plan.naming import spark_name
from sparkless.plan.types import spark_type_from_duckdb


def grouping_sets(group: exp.Group) -> tuple[list[exp.Expression], list[list[int]] | None]:
    """The distinct grouping keys and, when the GROUP BY has any, the sets as key indices."""
    keys: list[exp.Expression] = []
    seen: dict[str, int] = {}

    def index(e: exp.Expression) -> int:
        e = e.this if isinstance(e, exp.Paren) else e
        sql = e.sql("spark").lower()
        if sql not in seen:
            seen[sql] = len(keys)
            keys.append(e)
        return seen[sql]

    def members(e: exp.Expression) -> list[int]:
        items = e.expressions if isinstance(e, exp.Tuple) else [e]
        return [index(i) for i in items]

    factors: list[list[list[int]]] = []
    has_sets = False
    for e in group.expressions:
        if isinstance(e, exp.Rollup):
            has_sets = True
            cols = [index(x) for x in e.expressions]
            factors.append([cols[:n] for n in range(len(cols), -1, -1)])
        elif isinstance(e, exp.Cube):
            has_sets = True
            factors.append(_cube([index(x) for x in e.expressions]))
        elif isinstance(e, exp.GroupingSets):
            has_sets = True
            factors.append([members(s) for s in e.expressions])
        else:
            factors.append([[index(e)]])
    for flag, make in (("rollup", lambda c: [c[:n] for n in range(len(c), -1, -1)]), ("cube", _cube)):
        if group.args.get(flag):
            has_sets = True
            cols = [i for f in factors for s in f for i in s]
            factors = [make(cols)]
    if not has_sets:
        return keys, None
    sets = [sorted(set(itertools.chain.from_iterable(combo))) for combo in itertools.product(*factors)]
    return keys, sets


def dataframe_grouping_sets(
    keys: list[exp.Expression], kind: str, sets: list[list[exp.Expression]]
) -> tuple[list[exp.Expression], list[list[int]]]:
    """``df.rollup(..)`` / ``df.cube(..)`` / ``df.groupingSets(sets, ..)`` as a GROUP BY."""
    if kind == "rollup":
        group = exp.Group(expressions=[exp.Rollup(expressions=keys)])
    elif kind == "cube":
        group = exp.Group(expressions=[exp.Cube(expressions=keys)])
    else:
        tuples = [exp.Tuple(expressions=s) for s in sets]
        group = exp.Group(expressions=[*keys, exp.GroupingSets(expressions=tuples)])
        # the keys listed beside the sets only name the output columns, as in Spark
        found, found_sets = grouping_sets(exp.Group(expressions=[exp.GroupingSets(expressions=tuples)]))
        order = {k.sql("spark").lower(): i for i, k in enumerate(found)}
        out_keys = list(found) + [k for k in keys if k.sql("spark").lower() not in order]
        return out_keys, found_sets or []
    found, found_sets = grouping_sets(group)
    return found, found_sets or []


def _cube(cols: list[int]) -> list[list[int]]:
    out = []
    for mask in range((1 << len(cols)) - 1, -1, -1):
        out.append([c for i, c in enumerate(cols) if mask & (1 << (len(cols) - 1 - i))])
    return out


class GroupedSelect:
    """Aggregate (optionally over an Expand), then HAVING and the select list above it."""

    def __init__(self, builder: PlanBuilder) -> None:
        self.b = builder
        self.a: Analyzer = builder.a

    def plan(
        self,
        child: ir.Plan,
        keys: list[exp.Expression],
        sets: list[list[int]] | None,
        select: list[exp.Expression],
        having: exp.Expression | None,
    ) -> ir.Plan:
        scope = self.a.scope(child)
        named_keys = [self.a.named(k, scope) for k in keys]
        n = len(keys)
        gid: ir.Attribute | None = None
        if sets is not None:
            child, key_attrs, gid = self._expand(child, named_keys, sets)
            key_outputs = [ir.NamedExpr(Analyzer._ref(a), a) for a in [*key_attrs, gid]]
        else:
            key_attrs = [k.attr for k in named_keys]
            key_outputs = list(named_keys)
        rewriter = _Rewriter(self.a, scope, keys, named_keys, key_attrs, gid, n)
        select = [_named_item(s) for s in select]
        new_select = [rewriter.rewrite(s) for s in select]
        new_having = rewriter.rewrite(having) if having is not None else None
        aggs = self._aggregates(rewriter.aggregates, scope)
        final = {ne.attr.id: ne.attr for ne in aggs}
        for e in [*new_select, new_having]:
            for col in e.find_all(exp.Column) if e is not None else ():
                placeholder = col.meta.get("agg_placeholder")
                if placeholder is not None:
                    col.meta["attr"] = final[placeholder]
                    col.meta["resolved"] = True
        agg = ir.Aggregate(child, [o.expr for o in key_outputs], [*key_outputs, *aggs])
        plan: ir.Plan = agg
        if new_having is not None:
            plan = self.b.filter(plan, new_having)
        return self.b.project(plan, new_select)

    def _expand(
        self, child: ir.Plan, named_keys: list[ir.NamedExpr], sets: list[list[int]]
    ) -> tuple[ir.Plan, list[ir.Attribute], ir.Attribute]:
        n = len(named_keys)
        ids = [sum(1 << (n - 1 - i) for i in range(n) if i not in s) for s in sets]
        gids = self.b.local(pa.table({"spark_grouping_id": pa.array(ids, pa.int64())}), None)
        gid = ir.Attribute("spark_grouping_id", LongType(), False)
        gids = ir.Project(gids, [ir.NamedExpr(Analyzer._ref(gids.output[0]), gid)])
        joined = ir.Join(child, gids, "cross", None)
        exprs = [ir.NamedExpr(Analyzer._ref(a), a) for a in child.output]
        key_attrs = []
        for i, k in enumerate(named_keys):
            case = exp.Case(
                ifs=[exp.If(this=_bit(gid, n - 1 - i).eq(1), true=exp.Null())], default=k.expr.copy()
            )
            attr = ir.Attribute(k.attr.name, k.attr.dtype, True, qualifier=k.attr.qualifier)
            exprs.append(ir.NamedExpr(case, attr))
            key_attrs.append(attr)
        exprs.append(ir.NamedExpr(Analyzer._ref(gid), gid))
        return ir.Project(joined, exprs), key_attrs, gid

    def _aggregates(self, found: list[tuple[exp.Expression, ir.Attribute]], scope: Scope) -> list[ir.NamedExpr]:
        if not found:
            return []
        resolved = [self.a.resolve(e, scope) for e, _ in found]
        sql = ", ".join(f"{r.expr.sql('duckdb')} AS __a{i}" for i, r in enumerate(resolved))
        types = self.a.oracle.describe(f"SELECT {sql} FROM {self.a.oracle.scope_sql(scope.attrs, sql)}")
        out = []
        for (_, placeholder), r, (_, t) in zip(found, resolved, types):
            dtype = refine_type(r.expr, spark_type_from_duckdb(t))
            attr = ir.Attribute(placeholder.name, dtype, r.nullable, id=placeholder.id)
            out.append(ir.NamedExpr(r.expr, attr))
        return out


class _Rewriter:
    """Select-list expressions over the Aggregate's output: aggregates and grouping
    calls become columns of it, grouping keys become its key columns."""

    def __init__(
        self,
        analyzer: Analyzer,
        scope: Scope,
        keys: list[exp.Expression],
        named_keys: list[ir.NamedExpr],
        key_attrs: list[ir.Attribute],
        gid: ir.Attribute | None,
        n: int,
    ) -> None:
        self.a = analyzer
        self.scope = scope
        self.key_sql = {k.sql("spark").lower(): i for i, k in enumerate(keys)}
        self.key_ids = {
            nk.attr.id: i for i, nk in enumerate(named_keys) if isinstance(nk.expr, exp.Column)
        }
        self.key_attrs = key_attrs
        self.gid = gid
        self.n = n
        self.aggregates: list[tuple[exp.Expression, ir.Attribute]] = []
        self._agg_index: dict[str, ir.Attribute] = {}

    def rewrite(self, e: exp.Expression) -> exp.Expression:
        return e.copy().transform(self._swap)

    def _swap(self, node: exp.Expression) -> exp.Expression:
        if isinstance(node, (exp.Grouping, exp.GroupingId)):
            return self._grouping(node)
        if isinstance(node, exp.AggFunc) and not (
            isinstance(node.parent, exp.Window) and node.arg_key == "this"
        ):
            return self._aggregate(node)
        if not isinstance(node, exp.Window):
            i = self._key_index(node)
            if i is not None:
                return Analyzer._ref(self.key_attrs[i])
        return node

    def _key_index(self, node: exp.Expression) -> int | None:
        if isinstance(node, exp.Column) and not isinstance(node.this, exp.Star):
            try:
                attr, fields = self.scope.resolve(column_parts(node), node.meta.get("plan_id"))
            except AnalysisException:
                return None
            if not fields and attr.id in self.key_ids:
                return self.key_ids[attr.id]
        if isinstance(node, (exp.Literal, exp.Column, exp.Identifier)):
            return None
        return self.key_sql.get(node.sql("spark").lower())

    def _aggregate(self, node: exp.Expression) -> exp.Expression:
        sql = node.sql("spark").lower()
        attr = self._agg_index.get(sql)
        if attr is None:
            attr = ir.Attribute(f"__agg{len(self.aggregates)}", LongType())
            self._agg_index[sql] = attr
            self.aggregates.append((node.copy(), attr))
        col = exp.column(attr.col)
        col.meta["agg_placeholder"] = attr.id
        return col

    def _grouping(self, node: exp.Expression) -> exp.Expression:
        if self.gid is None:
            raise AnalysisException(
                "grouping()/grouping_id() can only be used with GroupingSets/Cube/Rollup.",
                "UNSUPPORTED_GROUPING_EXPRESSION",
                sql_state="42K0E",
            )
        gid = Analyzer._ref(self.gid)
        if isinstance(node, exp.GroupingId) and not node.expressions:
            return gid
        args = node.expressions
        bits: list[int] = []
        for arg in args:
            i = self._key_index(arg)
            if i is None:
                raise AnalysisException(
                    f"Column of grouping ({arg.sql('spark')}) can't be found in grouping columns "
                    f"{', '.join(a.name for a in self.key_attrs)}.",
                    "GROUPING_COLUMN_MISMATCH",
                    sql_state="42803",
                )
            bits.append(self.n - 1 - i)
        if isinstance(node, exp.Grouping):
            return exp.cast(_bit(self.gid, bits[0]), "TINYINT")
        out: exp.Expression | None = None
        for pos, bit in enumerate(bits):
            term = exp.BitwiseLeftShift(this=_bit(self.gid, bit), expression=exp.Literal.number(len(bits) - 1 - pos))
            out = term if out is None else exp.Add(this=out, expression=term)
        return out if out is not None else gid


def _bit(gid: ir.Attribute, bit: int) -> exp.Expression:
    shifted = exp.BitwiseRightShift(this=Analyzer._ref(gid), expression=exp.Literal.number(bit))
    return exp.paren(exp.BitwiseAnd(this=exp.paren(shifted), expression=exp.Literal.number(1)))


def _named_item(e: exp.Expression) -> exp.Expression:
    """Keep Spark's name for a select item before its parts are replaced by columns."""
    if isinstance(e, (exp.Alias, exp.Column)):
        return e
    return exp.alias_(e, spark_name(e), quoted=True)
