"""Column pruning (Spark's ColumnPruning): every subtree produces only the columns some
operator above it reads.

Why it matters here more than anywhere: an exchange ships its child's whole output through
the store, and a broadcast writes its side's whole output once per query. Without pruning
a join of ``store_sales`` with ``store_returns`` shuffles all 23 + 20 columns of both
tables (and every dimension column joined in on the way) when the query reads six.

The rule walks top-down with the set of columns (``_c<id>`` names) the parent needs and
narrows with a ``Project`` of plain column references wherever a child would carry more:
under each side of a join, under sorts, windows, aggregates and repartitions (the
operators that exchange), and over scans -- DuckDB then reads only those Parquet
columns. Attribute ids never change, so nothing above has to be rewritten.

Operators whose meaning depends on every input column -- ``Distinct`` over all columns,
the Python map/group operators -- keep their children whole; ``Union`` (positional) keeps
the same positions in every input.
"""

from __future__ import annotations

import dataclasses

from sqlglot import exp

from sparkless.plan import ir
from sparkless.plan.analyzer import Analyzer


def prune_columns(plan: ir.Plan) -> ir.Plan:
    return _prune(plan, {a.col for a in plan.output})


def _refs(*exprs: exp.Expression | None) -> set[str]:
    out: set[str] = set()
    for e in exprs:
        if e is not None:
            out |= {c.name for c in e.find_all(exp.Column)}
    return out


def narrow(plan: ir.Plan, needed: set[str]) -> ir.Plan:
    """``plan`` with only the ``needed`` columns (at least one, so rows still count)."""
    keep = [a for a in plan.output if a.col in needed] or plan.output[:1]
    if len(keep) == len(plan.output):
        return plan
    return ir.Project(plan, [ir.NamedExpr(Analyzer._ref(a), a) for a in keep])


def _child(plan: ir.Plan, needed: set[str]) -> ir.Plan:
    """The child pruned to what its parent reads, then narrowed to exactly that (a sort
    or limit is left as it is: the physical planner fuses Limit over Sort into top-N)."""
    pruned = _prune(plan, needed)
    return pruned if isinstance(pruned, (ir.Sort, ir.Limit, ir.Offset)) else narrow(pruned, needed)


def _prune(p: ir.Plan, needed: set[str]) -> ir.Plan:
    if isinstance(p, ir.Project):
        exprs = [e for e in p.exprs if e.attr.col in needed] or p.exprs[:1]
        return dataclasses.replace(p, child=_child(p.child, _refs(*(e.expr for e in exprs))), exprs=exprs)
    if isinstance(p, ir.WindowProject):
        exprs = [e for e in p.exprs if e.attr.col in needed or not isinstance(e.expr, exp.Column)]
        exprs = exprs or p.exprs[:1]
        child_needs = _refs(*(e.expr for e in exprs), *p.partition_keys)
        return dataclasses.replace(p, child=_child(p.child, child_needs), exprs=exprs)
    if isinstance(p, ir.Aggregate):
        child_needs = _refs(*p.keys, *(e.expr for e in p.aggs))
        return dataclasses.replace(p, child=_child(p.child, child_needs))
    if isinstance(p, ir.Filter):
        return dataclasses.replace(p, child=_child(p.child, needed | _refs(p.condition)))
    if isinstance(p, ir.Sort):
        return dataclasses.replace(p, child=_child(p.child, needed | _refs(*(k.expr for k in p.keys))))
    if isinstance(p, ir.Repartition):
        keys = [*p.keys, *(k.expr for k in p.range_keys or [])]
        return dataclasses.replace(p, child=_child(p.child, needed | _refs(*keys)))
    if isinstance(p, ir.Distinct):
        if p.keys is None:
            return dataclasses.replace(p, child=_prune(p.child, {a.col for a in p.child.output}))
        return dataclasses.replace(p, child=_child(p.child, needed | {a.col for a in p.keys}))
    if isinstance(p, (ir.Limit, ir.Offset)):
        return dataclasses.replace(p, child=_prune(p.child, needed))
    if isinstance(p, (ir.Alias, ir.Tagged)):
        return dataclasses.replace(p, child=_prune(p.child, needed))
    if isinstance(p, ir.Join):
        return _prune_join(p, needed)
    if isinstance(p, ir.Union):
        return _prune_union(p, needed)
    if isinstance(p, ir.Unary):  # opaque (Python map functions, ...): the child whole
        return dataclasses.replace(p, child=_prune(p.child, {a.col for a in p.child.output}))
    if isinstance(p, ir.FlatMapGroupsInPython):
        inputs = [_prune(c, {a.col for a in c.output}) for c in p.inputs]
        return dataclasses.replace(p, inputs=inputs)
    return p  # leaves: the parent narrows them


def _prune_join(p: ir.Join, needed: set[str]) -> ir.Plan:
    wanted = needed | _refs(p.condition)
    left = _child(p.left, wanted & {a.col for a in p.left.output})
    right = _child(p.right, wanted & {a.col for a in p.right.output})
    return dataclasses.replace(p, left=left, right=right)


def _prune_union(p: ir.Union, needed: set[str]) -> ir.Plan:
    positions = [i for i, a in enumerate(p.attrs) if a.col in needed] or [0]
    if len(positions) == len(p.attrs):
        return dataclasses.replace(p, inputs=[_prune(c, {a.col for a in c.output}) for c in p.inputs])
    inputs = []
    for child in p.inputs:
        attrs = [child.output[i] for i in positions]
        pruned = _prune(child, {a.col for a in attrs})
        by_id = {a.id: a for a in pruned.output}
        inputs.append(ir.Project(pruned, [ir.NamedExpr(Analyzer._ref(by_id[a.id]), by_id[a.id]) for a in attrs]))
    return dataclasses.replace(p, inputs=inputs, attrs=[p.attrs[i] for i in positions])
