"""Logical rewrites before physical planning: the rules of Spark's optimizer that matter
most without statistics.

* **Predicate pushdown** (PushDownPredicates): filter conjuncts move below projections,
  aliases, unions, sorts, distinct and grouping keys, and into the sides of joins they
  concern, so each stage filters its input before it shuffles (and DuckDB then pushes
  them into the Parquet scan of the fragment).
* **Join conditions from WHERE** (a comma join ``FROM a, b WHERE a.x = b.y``): a conjunct
  over both sides of an inner/cross join becomes part of its condition, giving the
  physical planner equi-keys to hash on instead of a cross product.
* **Join reordering** (ReorderJoin): a chain of inner joins is rebuilt left-deep so that
  each next relation joins by a condition whenever one exists, keeping the FROM order
  otherwise.
* **Semi / anti joins below inner joins** (PushLeftSemiLeftAntiThroughJoin) when their
  condition reads one side only.
* **Distinct aggregates** (RewriteDistinctAggregates, one distinct group): distinct on
  (keys, argument) first, then an ordinary aggregate.

Column pruning runs last (plan/pruning.py). Every rule keeps attribute ids and the plan's output columns (order included).
Node types the rules do not know are left as they are (a filter above them stays there).
"""

from __future__ import annotations

import dataclasses

from pyspark.sql import types as T
from sqlglot import exp

from sparkless.plan import ir
from sparkless.plan.analyzer import Analyzer
from sparkless.plan.pruning import prune_columns

NON_DETERMINISTIC = (exp.Rand, exp.Randn, exp.Window, exp.AggFunc)
NON_DETERMINISTIC_CALLS = {"random", "rand", "randn", "uuid", "gen_random_uuid", "nextval", "shuffle"}


def optimize(plan: ir.Plan, broadcast_threshold: int = -1) -> ir.Plan:
    plan = _push_semi_joins(_pushdown(plan))
    plan = _reorder(plan, broadcast_threshold)
    plan = _propagate_empty(_pushdown(plan))
    return prune_columns(rewrite_distinct_aggregates(plan))


# ---- expression helpers --------------------------------------------------------------


def refs(e: exp.Expression) -> set[str]:
    """The ``_c<id>`` columns an expression reads."""
    return {c.name for c in e.find_all(exp.Column)}


def conjuncts(e: exp.Expression | None) -> list[exp.Expression]:
    if e is None:
        return []
    if isinstance(e, exp.And):
        return [c for part in e.flatten() for c in conjuncts(part)]
    if isinstance(e, exp.Paren) and isinstance(e.this, exp.And):
        return conjuncts(e.this)
    return [e]


def conjoin(parts: list[exp.Expression]) -> exp.Expression | None:
    out: exp.Expression | None = None
    for p in parts:
        p = exp.paren(p) if isinstance(p, exp.Or) else p
        out = p if out is None else exp.And(this=out, expression=p)
    return out


def substitute(e: exp.Expression, mapping: dict[str, exp.Expression]) -> exp.Expression:
    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and node.name in mapping:
            return mapping[node.name].copy()
        return node

    return e.copy().transform(swap)


def cols_of(plan: ir.Plan) -> set[str]:
    return {a.col for a in plan.output}


def _deterministic(e: exp.Expression) -> bool:
    """Safe to evaluate on other rows or more often: no randomness, windows, aggregates,
    subqueries or user code (nodes marked ``meta["nondeterministic"]``)."""
    for n in e.walk():
        if isinstance(n, (*NON_DETERMINISTIC, exp.Subquery)) or n.meta.get("nondeterministic"):
            return False
        if isinstance(n, exp.Anonymous) and str(n.this).lower() in NON_DETERMINISTIC_CALLS:
            return False
    return True


def _with_children(p: ir.Plan, children: list[ir.Plan]) -> ir.Plan:
    if all(a is b for a, b in zip(p.children, children)):
        return p
    if isinstance(p, ir.Unary):
        return dataclasses.replace(p, child=children[0])
    if isinstance(p, ir.Join):
        return dataclasses.replace(p, left=children[0], right=children[1])
    if isinstance(p, ir.Union):
        return dataclasses.replace(p, inputs=list(children))
    return p


def _filter(plan: ir.Plan, conds: list[exp.Expression]) -> ir.Plan:
    """``plan`` filtered by ``conds``; a conjunct over no column is folded (Spark's
    PruneFilters): TRUE disappears, FALSE or NULL leaves no rows at all."""
    kept = []
    for c in conds:
        value = _constant(c)
        if value is None:
            kept.append(c)
        elif not value:  # emptied later by _propagate_empty, which keeps zero-column plans
            return ir.Filter(plan, exp.false())
    cond = conjoin(kept)
    return plan if cond is None else ir.Filter(plan, cond)


def _constant(c: exp.Expression) -> bool | None:
    """The truth of a conjunct that reads no column (NULL counts as false), else None."""
    if refs(c) or not _deterministic(c):
        return None
    from sqlglot.optimizer.simplify import simplify

    folded = simplify(c.copy(), dialect="duckdb")
    if isinstance(folded, exp.Boolean):
        return bool(folded.this)
    if isinstance(folded, exp.Null):
        return False
    return None


def _is_empty(p: ir.Plan) -> bool:
    """Certainly no rows: a never-true filter, or an operator that has none over it."""
    if isinstance(p, ir.Filter) and isinstance(p.condition, exp.Boolean) and not p.condition.this:
        return True
    if isinstance(p, ir.Join):
        return (_is_empty(p.left) and p.how in ("inner", "cross", "left", "left_semi", "left_anti")) or (
            _is_empty(p.right) and p.how in ("inner", "cross", "right", "left_semi")
        )
    if isinstance(p, ir.Aggregate):
        return bool(p.keys) and _is_empty(p.child)
    if isinstance(p, (ir.Project, ir.Alias, ir.Tagged, ir.Filter, ir.Sort, ir.Limit, ir.Distinct)):
        return _is_empty(p.child)
    return False


def _propagate_empty(p: ir.Plan) -> ir.Plan:
    """A union drops the inputs a never-true filter emptied (part of Spark's
    PropagateEmptyRelation): TPC-DS q4's year_total unions three channels and each use
    keeps one, so the other two no longer scan, aggregate and shuffle. Other operators
    keep their ``WHERE false`` input; DuckDB reads nothing for it."""
    if isinstance(p, (ir.Unary, ir.Union, ir.Join)):
        p = _with_children(p, [_propagate_empty(c) for c in p.children])
    if isinstance(p, ir.Union):
        inputs = [c for c in p.inputs if not _is_empty(c)] or p.inputs[:1]
        if len(inputs) < len(p.inputs):
            return dataclasses.replace(p, inputs=inputs)
    return p


# ---- predicate pushdown --------------------------------------------------------------


def _pushdown(p: ir.Plan) -> ir.Plan:
    if isinstance(p, ir.Filter):
        if not _deterministic(p.condition):  # e.g. a sample: what it sees must not change
            return dataclasses.replace(p, child=_pushdown(p.child))
        return _push(_pushdown(p.child), conjuncts(p.condition))
    if isinstance(p, ir.Join):
        return _push_join(p, [], optimised=False)
    if not isinstance(p, (ir.Unary, ir.Union)):
        return p
    return _with_children(p, [_pushdown(c) for c in p.children])


def _push(p: ir.Plan, conds: list[exp.Expression]) -> ir.Plan:
    """``p`` (already optimised) filtered by ``conds``, the conjuncts placed as low as they go."""
    if not conds:
        return p
    if isinstance(p, ir.Filter):
        if not _deterministic(p.condition):
            return _filter(p, conds)
        return _push(p.child, conjuncts(p.condition) + conds)
    if isinstance(p, (ir.Alias, ir.Tagged, ir.Sort, ir.Repartition)) or (
        isinstance(p, ir.Distinct) and p.keys is None
    ):
        return _with_children(p, [_push(p.child, conds)])
    if isinstance(p, ir.Project):
        return _push_project(p, conds)
    if isinstance(p, ir.Aggregate):
        return _push_aggregate(p, conds)
    if isinstance(p, ir.Union):
        return _push_union(p, conds)
    if isinstance(p, ir.Join):
        return _push_join(p, conds, optimised=True)
    return _filter(p, conds)


def _push_project(p: ir.Project, conds: list[exp.Expression]) -> ir.Plan:
    mapping = {n.attr.col: n.expr for n in p.exprs}
    down, keep = [], []
    for c in conds:
        used = [mapping[r] for r in refs(c) if r in mapping]
        if _deterministic(c) and all(_deterministic(e) for e in used):
            down.append(substitute(c, mapping))
        else:
            keep.append(c)
    if not down:
        return _filter(p, keep)
    return _filter(dataclasses.replace(p, child=_push(p.child, down)), keep)


def _push_aggregate(p: ir.Aggregate, conds: list[exp.Expression]) -> ir.Plan:
    """Conjuncts over grouping columns only filter the groups' rows before grouping."""
    key_sql = {k.sql("duckdb") for k in p.keys}
    mapping = {
        n.attr.col: n.expr
        for n in p.aggs
        if n.expr.find(exp.AggFunc) is None  # (rendering every aggregate is slow)
        and (n.expr.sql("duckdb") in key_sql or not refs(n.expr))  # a key or a constant
        and _deterministic(n.expr)
    }
    down, keep = [], []
    for c in conds:
        r = refs(c)
        if p.keys and r and r <= set(mapping) and _deterministic(c):
            down.append(substitute(c, mapping))
        else:
            keep.append(c)
    if not down:
        return _filter(p, keep)
    return _filter(dataclasses.replace(p, child=_push(p.child, down)), keep)


def _push_union(p: ir.Union, conds: list[exp.Expression]) -> ir.Plan:
    if not all(_deterministic(c) for c in conds):
        return _filter(p, conds)
    inputs = []
    for child in p.inputs:
        mapping = {u.col: exp.column(c.col) for u, c in zip(p.attrs, child.output)}
        inputs.append(_push(child, [substitute(c, mapping) for c in conds]))
    return dataclasses.replace(p, inputs=inputs)


def _push_join(p: ir.Join, conds: list[exp.Expression], optimised: bool) -> ir.Plan:
    """Place WHERE conjuncts and the join's own single-side conjuncts (Spark's
    PushPredicateThroughJoin: only where the join type keeps the meaning)."""
    lcols, rcols = cols_of(p.left), cols_of(p.right)
    how = p.how
    left_down: list[exp.Expression] = []
    right_down: list[exp.Expression] = []
    join_conds = conjuncts(p.condition)
    if how in ("inner", "cross") and p.output:  # a constant conjunct decides the whole join
        for c in [*conds, *join_conds]:
            if _constant(c) is False:
                return ir.Filter(p, exp.false())
        conds = [c for c in conds if _constant(c) is None]
        join_conds = [c for c in join_conds if _constant(c) is None]
    above: list[exp.Expression] = []
    for c in conds:
        r = refs(c)
        if r and r <= lcols and how in ("inner", "cross", "left", "left_semi", "left_anti"):
            left_down.append(c)
        elif r and r <= rcols and how in ("inner", "cross", "right"):
            right_down.append(c)
        elif how in ("inner", "cross") and _deterministic(c):
            join_conds.append(c)
        else:
            above.append(c)
    kept: list[exp.Expression] = []
    for c in join_conds:
        r = refs(c)
        if not _deterministic(c):
            kept.append(c)
        elif r and r <= lcols and how in ("inner", "cross", "right", "left_semi"):
            left_down.append(c)
        elif r and r <= rcols and how in ("inner", "cross", "left", "left_semi", "left_anti"):
            right_down.append(c)
        else:
            kept.append(c)
    left = p.left if optimised else _pushdown(p.left)
    right = p.right if optimised else _pushdown(p.right)
    left, right = _push(left, left_down), _push(right, right_down)
    cond = conjoin(kept)
    if how == "cross" and cond is not None:
        how = "inner"
    if how == "inner" and cond is None:
        how = "cross"
    if how not in ("inner", "cross") and cond is None:
        cond = exp.true()
    joined = ir.Join(left, right, how, cond, p.right_unique)
    return _filter(joined, above)


# ---- semi / anti joins below inner joins ---------------------------------------------


def _push_semi_joins(p: ir.Plan) -> ir.Plan:
    """A semi or anti join whose condition reads one side of the inner join beneath it
    filters that side before the join (Spark's PushLeftSemiLeftAntiThroughJoin): ``x IN
    (subquery)`` over ``date_dim`` then shrinks the dimension -- small enough to
    broadcast -- instead of waiting for the fact rows joined to it."""
    if isinstance(p, (ir.Unary, ir.Union, ir.Join)):
        p = _with_children(p, [_push_semi_joins(c) for c in p.children])
    if not (isinstance(p, ir.Join) and p.how in ("left_semi", "left_anti")):
        return p
    inner = p.left
    if not (isinstance(inner, ir.Join) and inner.how in ("inner", "cross")):
        return p
    used = refs(p.condition) & cols_of(inner) if p.condition is not None else set()
    if not used or not _deterministic(p.condition):
        return p
    if used <= cols_of(inner.left):
        pushed = _push_semi_joins(dataclasses.replace(p, left=inner.left))
        return dataclasses.replace(inner, left=pushed)
    if used <= cols_of(inner.right):
        pushed = _push_semi_joins(dataclasses.replace(p, left=inner.right))
        return dataclasses.replace(inner, right=pushed)
    return p


# ---- join reordering -----------------------------------------------------------------


def _reorder(p: ir.Plan, threshold: int) -> ir.Plan:
    if isinstance(p, ir.Join) and p.how in ("inner", "cross"):
        items, conds = _flatten_inner(p)
        items = [_reorder(i, threshold) for i in items]
        if len(items) > 2:
            return _keep_output(p, _greedy_join(items, conds, threshold))
        return ir.Join(items[0], items[1], p.how, p.condition)
    if not isinstance(p, (ir.Unary, ir.Union, ir.Join)):
        return p
    return _with_children(p, [_reorder(c, threshold) for c in p.children])


def _flatten_inner(p: ir.Plan) -> tuple[list[ir.Plan], list[exp.Expression]]:
    if isinstance(p, ir.Join) and p.how in ("inner", "cross"):
        li, lc = _flatten_inner(p.left)
        ri, rc = _flatten_inner(p.right)
        return li + ri, lc + rc + conjuncts(p.condition)
    return [p], []


def _greedy_join(items: list[ir.Plan], conds: list[exp.Expression], threshold: int) -> ir.Plan:
    """Left-deep, FROM order, but a relation connected by a condition goes before one that
    would make a cross product, and among connected ones a relation small enough to
    broadcast goes first (a star join: the dimension joins shrink the fact rows inside
    the scan's tasks before anything is shuffled)."""
    from sparkless.physical.estimate import estimate_size

    def small(item: ir.Plan) -> bool:
        size = estimate_size(item)
        return threshold >= 0 and size is not None and size <= threshold

    current = items[0]
    remaining = list(items[1:])
    pending = list(conds)
    while remaining:
        have = cols_of(current)
        connected = [
            i
            for i, item in enumerate(remaining)
            if any(
                refs(c) & have and refs(c) & cols_of(item) and refs(c) <= have | cols_of(item)
                for c in pending
            )
        ]
        pick = next((i for i in connected if small(remaining[i])), connected[0] if connected else 0)
        item = remaining.pop(pick)
        avail = have | cols_of(item)
        usable = [c for c in pending if refs(c) <= avail]
        pending = [c for c in pending if not refs(c) <= avail]
        cond = conjoin(usable)
        current = ir.Join(current, item, "inner" if cond is not None else "cross", cond)
    return _filter(current, pending)


def _keep_output(original: ir.Plan, rebuilt: ir.Plan) -> ir.Plan:
    return restore_output(rebuilt, original.output)


def restore_output(plan: ir.Plan, attrs: list[ir.Attribute]) -> ir.Plan:
    """``plan`` narrowed and reordered to ``attrs`` (a subset of its output, by id)."""
    if [a.id for a in plan.output] == [a.id for a in attrs]:
        return plan
    by_id = {a.id: a for a in plan.output}
    return ir.Project(plan, [ir.NamedExpr(Analyzer._ref(by_id[a.id]), by_id[a.id]) for a in attrs])


# ---- distinct aggregates -------------------------------------------------------------

_DISTINCT_INSENSITIVE = (exp.Min, exp.Max)


def rewrite_distinct_aggregates(p: ir.Plan) -> ir.Plan:
    """``count(DISTINCT x)`` (and other aggregates over the same DISTINCT argument) as two
    aggregations, Spark's RewriteDistinctAggregates for one distinct group: rows made
    distinct on (keys, x) first -- hashed on them, so no task gets every row -- then
    aggregated by the keys without DISTINCT (now two-phase like any other)."""
    if isinstance(p, (ir.Unary, ir.Union, ir.Join)):
        p = _with_children(p, [rewrite_distinct_aggregates(c) for c in p.children])
    if not isinstance(p, ir.Aggregate):
        return p
    arg = _single_distinct_argument(p)
    if arg is None:
        return _rewrite_mixed_distinct(p) or p
    by_col = {a.col: a for a in p.child.output}
    columns = [*p.keys, arg]
    if not all(isinstance(c, exp.Column) and c.name in by_col for c in columns):
        return p  # expressions would need their types here; left as one phase
    kept = list({by_col[c.name].id: by_col[c.name] for c in columns}.values())
    distinct = ir.Distinct(ir.Project(p.child, [ir.NamedExpr(exp.column(a.col), a) for a in kept]))

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Distinct) and len(node.expressions) == 1:
            return node.expressions[0]
        return node

    aggs = [ir.NamedExpr(n.expr.copy().transform(swap), n.attr) for n in p.aggs]
    return ir.Aggregate(distinct, [k.copy() for k in p.keys], aggs)


def _single_distinct_argument(p: ir.Aggregate) -> exp.Expression | None:
    """The one argument all aggregates of ``p`` are over, at least one with DISTINCT
    (min/max are the same over distinct rows); None when there is no such argument."""
    distinct: dict[str, exp.Expression] = {}
    plain: set[str] = set()
    for n in p.aggs:
        if any(isinstance(x, exp.Anonymous) for x in n.expr.walk()):
            return None
        for node in n.expr.find_all(exp.AggFunc):
            inner = node.this
            if isinstance(inner, exp.Distinct):
                if len(inner.expressions) != 1:
                    return None
                distinct[inner.expressions[0].sql("duckdb")] = inner.expressions[0]
            elif isinstance(node, _DISTINCT_INSENSITIVE) and inner is not None:
                plain.add(inner.sql("duckdb"))
            else:
                return None
    if len(distinct) != 1 or not plain <= set(distinct):
        return None
    return next(iter(distinct.values()))


_MERGE_AS_SUM = (exp.Count, exp.Sum)


def _rewrite_mixed_distinct(p: ir.Aggregate) -> ir.Plan | None:
    """Aggregates over one DISTINCT argument ``x`` next to ordinary ones (TPC-DS q16:
    ``count(DISTINCT order), sum(cost)``) as two aggregations, so no task gets every row:
    the first groups by (keys, x) and computes the ordinary aggregates' partial values
    per group; the second groups by the keys, aggregates ``x`` without DISTINCT and
    merges the partials (counts and sums summed, min of mins, sums over counts for avg).
    Spark reaches the same with an Expand (RewriteDistinctAggregates); with one distinct
    argument this is that plan without the row duplication. Ordinary aggregates must be
    count/sum/min/max/avg of a column (their partial types are then known), else None."""
    by_col = {a.col: a for a in p.child.output}
    x: exp.Expression | None = None
    for n in p.aggs:
        if any(isinstance(node, (exp.Anonymous, exp.Filter)) for node in n.expr.walk()):
            return None
        for node in n.expr.find_all(exp.AggFunc):
            if isinstance(node.this, exp.Distinct):
                args = node.this.expressions
                if len(args) != 1 or (x is not None and args[0].sql("duckdb") != x.sql("duckdb")):
                    return None
                x = args[0]
            elif not isinstance(node, (*_MERGE_AS_SUM, exp.Min, exp.Max, exp.Avg)):
                return None
            elif _arg_type(node.this, by_col) is None and not (
                isinstance(node, exp.Count) and isinstance(node.this, exp.Star)
            ):
                return None
    columns = [*p.keys, x] if x is not None else []
    if not columns or not all(isinstance(c, exp.Column) and c.name in by_col for c in columns):
        return None
    grouped = list({by_col[c.name].id: by_col[c.name] for c in columns}.values())
    first = [ir.NamedExpr(exp.column(a.col), a) for a in grouped]

    def partial(expr: exp.Expression, dtype: T.DataType) -> exp.Column:
        attr = ir.Attribute(f"__partial{len(first)}", dtype)
        first.append(ir.NamedExpr(expr, attr))
        return exp.column(attr.col)

    def merged(node: exp.AggFunc) -> exp.Expression | None:
        if isinstance(node.this, exp.Distinct):
            return type(node)(this=node.this.expressions[0].copy())
        if isinstance(node, exp.Count):
            col = partial(node.copy(), T.LongType())
            return exp.Coalesce(this=exp.Sum(this=col), expressions=[exp.Literal.number(0)])
        arg_type = _arg_type(node.this, by_col)
        assert arg_type is not None
        if isinstance(node, (exp.Min, exp.Max)):
            return type(node)(this=partial(node.copy(), arg_type))
        sum_type = _sum_type(arg_type)
        if sum_type is None:
            return None
        total = exp.Sum(this=partial(exp.Sum(this=node.this.copy()), sum_type))
        if isinstance(node, exp.Sum):
            return total
        count = exp.Sum(this=partial(exp.Count(this=node.this.copy()), T.LongType()))
        return exp.Div(this=total, expression=exp.Nullif(this=count, expression=exp.Literal.number(0)))

    second = []
    for n in p.aggs:
        e = n.expr.copy()
        for node in list(e.find_all(exp.AggFunc)):
            replacement = merged(node)
            if replacement is None:
                return None
            if node is e:
                e = replacement
            else:
                node.replace(replacement)
        second.append(ir.NamedExpr(e, n.attr))
    inner = ir.Aggregate(p.child, [c.copy() for c in columns], first)
    return ir.Aggregate(inner, [k.copy() for k in p.keys], second)


def _arg_type(arg: exp.Expression, by_col: dict[str, ir.Attribute]) -> T.DataType | None:
    """The Spark type of an aggregate's argument when it is a column, or a column cast
    to a number (how the analyzer writes Spark's decimal avg); None otherwise."""
    if isinstance(arg, exp.Column):
        attr = by_col.get(arg.name)
        return attr.dtype if attr is not None else None
    if isinstance(arg, exp.Cast) and isinstance(arg.this, exp.Column) and arg.this.name in by_col:
        to = arg.to
        if to.this == exp.DataType.Type.DECIMAL:
            precision, scale = (int(e.this.this) for e in to.expressions)
            return T.DecimalType(precision, scale)
        return {
            exp.DataType.Type.DOUBLE: T.DoubleType(),
            exp.DataType.Type.BIGINT: T.LongType(),
            exp.DataType.Type.INT: T.IntegerType(),
        }.get(to.this)
    return None


def _sum_type(t: T.DataType) -> T.DataType | None:
    """The type DuckDB's SUM gives a column of Spark type ``t``."""
    if isinstance(t, (T.ByteType, T.ShortType, T.IntegerType, T.LongType)):
        return T.LongType()  # (DuckDB: HUGEINT for BIGINT sums; read back as a number)
    if isinstance(t, T.DecimalType):
        return T.DecimalType(38, t.scale)
    if isinstance(t, (T.FloatType, T.DoubleType)):
        return T.DoubleType()
    return None
