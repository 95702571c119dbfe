"""``DataFrame.explain``: Spark's section headers over sparkless's own plans.

Spark prints ``== Physical Plan ==`` for the default mode and the parsed / analyzed /
optimized / physical sections for ``extended``; ``cost`` shows the optimized plan with
statistics. Clients (and PySpark's doctests) look for those headers and for Spark's
operator names (``BroadcastHashJoin``, ``InMemoryTableScan``, ``Exchange``). The trees
beneath are ours: the logical plan as built, the optimized plan, and a physical tree
named by the strategy the physical planner takes for each node (broadcast or shuffled
join, exchanges where it shuffles), followed by its stages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyspark.sql.connect.proto import base_pb2 as pb

from sparkless.errors import UnsupportedOperationException
from sparkless.physical.estimate import estimate_size
from sparkless.physical.planner import PhysicalPlan, PhysicalPlanner, equi_keys
from sparkless.plan import ir
from sparkless.plan.optimizer import optimize

if TYPE_CHECKING:
    from sparkless.connect.session import Session

_Mode = pb.AnalyzePlanRequest.Explain.ExplainMode


def explain_string(session: Session, plan: ir.Plan, mode: int) -> str:
    """The text ``df.explain(mode)`` prints, as Spark lays it out."""
    conf = session.conf
    planner = PhysicalPlanner(conf, "explain", session.engine.parallelism, session.oracle)
    optimized = optimize(plan, conf.get_bytes("spark.sql.autoBroadcastJoinThreshold"))
    exchanges = _record_exchanges(planner)
    try:
        compiled = planner.compile(optimized)
        stages = PhysicalPlan(compiled, plan.output, planner.shuffles, planner.blocks).explain()
    except UnsupportedOperationException as e:  # e.g. a streaming plan: explained, never run
        stages = f"(sparkless cannot run this plan: {e})"
    physical = _physical(optimized, exchanges, _cache_root(session))
    phys_text = f"{physical}\n\n{stages}"
    if mode == _Mode.EXPLAIN_MODE_EXTENDED:
        schema = ", ".join(f"{a.name}: {a.dtype.simpleString()}" for a in plan.output)
        return (
            f"== Parsed Logical Plan ==\n{ir.tree_string(plan)}\n\n"
            f"== Analyzed Logical Plan ==\n{schema}\n{ir.tree_string(plan)}\n\n"
            f"== Optimized Logical Plan ==\n{ir.tree_string(optimized)}\n\n"
            f"== Physical Plan ==\n{phys_text}\n"
        )
    if mode == _Mode.EXPLAIN_MODE_COST:
        return (
            f"== Optimized Logical Plan ==\n{_with_stats(optimized)}\n\n"
            f"== Physical Plan ==\n{phys_text}\n"
        )
    if mode == _Mode.EXPLAIN_MODE_CODEGEN:
        return f"Found 0 WholeStageCodegen subtrees.\n\n== Physical Plan ==\n{phys_text}\n"
    return f"== Physical Plan ==\n{phys_text}\n"


def _record_exchanges(planner: PhysicalPlanner) -> dict[int, list[str]]:
    """Spark's name for every exchange the planner inserts, by the plan node it reads."""
    import inspect

    seen: dict[int, list[str]] = {}
    plain = planner.exchange
    signature = inspect.signature(plain)

    def exchange(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202 - the planner's own arguments
        out = plain(*args, **kwargs)
        call = signature.bind(*args, **kwargs).arguments
        source = call.get("source")
        if source is not None:
            name = _exchange_name(call["description"], call["partitioning"], out.num_partitions)
            seen.setdefault(id(source), []).append(name)
        return out

    planner.exchange = exchange  # type: ignore[method-assign]
    return seen


def _exchange_name(description: str, partitioning: dict, n: int) -> str:
    if description.startswith("BroadcastHashJoin"):
        return "BroadcastExchange"
    if description == "RangeSample":
        return f"Exchange rangepartitioning({n})"
    kind = partitioning["kind"]
    if kind == "single":
        return "Exchange SinglePartition"
    if kind == "round_robin":
        return f"Exchange RoundRobinPartitioning({n})"
    return f"Exchange hashpartitioning({n})"


def _cache_root(session: Session) -> str | None:
    st = getattr(session, "_cache_state", None)
    if not st:
        return None
    from sparkless.connect.cache import _root

    return _root(session)


def _with_stats(plan: ir.Plan) -> str:
    """The optimized tree, each node with Spark's ``Statistics(sizeInBytes=...)`` from our
    estimates (the ones the broadcast decision uses); unknown sizes print as Spark's
    default for an unknown size (spark.sql.defaultSizeInBytes: Long.MaxValue)."""
    lines = []
    for depth, node in _nodes(plan):
        size = estimate_size(node)
        stats = f"Statistics(sizeInBytes={size if size is not None else 9223372036854775807} B)"
        lines.append(_prefix(depth) + f"{node.describe()}, {stats}")
    return "\n".join(lines)


def _nodes(plan: ir.Plan, depth: int = 0):
    if isinstance(plan, ir.Tagged):
        yield from _nodes(plan.child, depth)
        return
    yield depth, plan
    for c in plan.children:
        yield from _nodes(c, depth + 1)


def _prefix(depth: int) -> str:
    return "" if depth == 0 else "   " * (depth - 1) + "+- "


def _names(attrs: list[ir.Attribute]) -> str:
    return ", ".join(a.name for a in attrs)


def _physical(plan: ir.Plan, exchanges: dict[int, list[str]], cache_root: str | None) -> str:
    """A physical operator tree: each node of the optimized plan under the name of what
    executes it, with the exchanges the physical planner put below it."""
    lines: list[str] = []

    def emit(depth: int, text: str) -> None:
        lines.append(_prefix(depth) + text)

    def child(c: ir.Plan, depth: int) -> None:
        for name in exchanges.get(id(c), ())[:1]:
            emit(depth, name)
            depth += 1
        visit(c, depth)

    def visit(p: ir.Plan, depth: int) -> None:
        while isinstance(p, (ir.Tagged, ir.Alias)):
            p = p.child
        if isinstance(p, ir.FileScan):
            cached = cache_root is not None and any(f.startswith(cache_root) for f in p.files)
            if cached:
                emit(depth, f"InMemoryTableScan [{_names(p.output)}]")
            else:
                emit(depth, f"FileScan {p.fmt} [{_names(p.output)}] Location: {p.root_paths}")
            return
        if isinstance(p, ir.LocalRelation):
            emit(depth, f"LocalTableScan [{_names(p.output)}]")
            return
        if isinstance(p, ir.Join):
            lkeys, _ = equi_keys(p)
            build = [s for s, c in (("Left", p.left), ("Right", p.right))
                     if "BroadcastExchange" in exchanges.get(id(c), ())]
            cond = p.condition.sql("duckdb") if p.condition is not None else ""
            if build:
                kind = "BroadcastHashJoin" if lkeys else "BroadcastNestedLoopJoin"
                emit(depth, f"{kind} {p.how}, Build{build[0]} {cond}".rstrip())
            else:
                emit(depth, f"{'ShuffledHashJoin' if lkeys else 'CartesianProduct'} {p.how} {cond}".rstrip())
        else:
            text = p.describe()
            name = _OPERATORS.get(type(p))
            if name is not None:
                text = f"{name} {text.split(' ', 1)[1] if ' ' in text else ''}".rstrip()
            emit(depth, text)
        for name in exchanges.get(id(p), ())[:1]:  # a limit's own partial results, gathered
            depth += 1
            emit(depth, name)
        for c in p.children:
            child(c, depth + 1)

    visit(plan, 0)
    return "\n".join(lines)


_OPERATORS = {
    ir.Aggregate: "HashAggregate",
    ir.Distinct: "HashAggregate",
    ir.WindowProject: "Window",
    ir.Limit: "GlobalLimit",
    ir.Repartition: "Exchange",
}
