"""Cut a logical plan into stages at exchanges; render each task's fragment as DuckDB SQL.

The model is Spark's RDD partitions: compiling a plan node yields the list of its
partitions, each computable by one task. Narrow operators wrap each partition's
SQL; a union concatenates partition lists; wide operators (aggregate, join, sort,
distinct, global limit) insert a shuffle whose reduce side is a *template*: how
many tasks it gets is decided when its map stages have finished and their output
sizes are known (adaptive coalescing, as Spark's AQE does).
"""

from __future__ import annotations

import itertools
import os
import re
from dataclasses import dataclass, field

import pyarrow as pa
from sqlglot import exp

from sparkless.conf import SessionConf
from sparkless.errors import unsupported
from sparkless.physical.aggregation import TwoPhase
from sparkless.physical.aggregation import split as split_aggregate
from sparkless.physical.estimate import estimate_size
from sparkless.plan import ir
from sparkless.plan.optimizer import _deterministic, optimize
from sparkless.plan.type_oracle import TypeOracle
from sparkless.plan.types import arrow_type_of, duckdb_type_sql, spark_type_from_duckdb


@dataclass
class ShuffleRead:
    shuffle_id: int
    name: str


@dataclass
class BlockRead:
    name: str
    key: str
    table: pa.Table  # written to the store once when the job starts


@dataclass
class BroadcastRead:
    """All of a single-partition shuffle, read by every task of a stage (broadcast join)."""

    shuffle_id: int
    name: str


@dataclass
class PythonStep:
    """A table the task computes before its SQL: ``sqls`` (over the inputs listed before it)
    feed a Python function (``executors/python_udf.py``); registered as ``name``."""

    name: str
    sqls: list[str]
    spec: dict  # JSON-able: the function, modes, names and output schema


Input = ShuffleRead | BlockRead | BroadcastRead | PythonStep


@dataclass
class Frag:
    """One partition: SQL over named inputs, producing exactly the node's ``_c`` columns."""

    sql: str
    inputs: list[Input] = field(default_factory=list)


@dataclass
class Fixed:
    frags: list[Frag]


@dataclass
class Shuffled:
    """Reduce side of co-partitioned shuffles; one task per (coalesced) reduce range."""

    frag: Frag
    shuffle_ids: list[int]
    num_partitions: int
    adaptive: bool = True  # may reduce partitions be coalesced (not for repartition(n))


Group = Fixed | Shuffled


@dataclass
class ShuffleDep:
    shuffle_id: int
    parts: list[Group]
    partitioning: dict
    num_partitions: int
    schema: pa.Schema
    description: str
    estimated_bytes: int | None = None  # for choosing a store (spark.sparkless.store=auto)


@dataclass
class PhysicalPlan:
    result: list[Group]
    output: list[ir.Attribute]
    shuffles: dict[int, ShuffleDep]
    blocks: list[BlockRead]

    def explain(self) -> str:
        lines = ["== Physical Plan (sparkless stages) =="]
        for sid, dep in sorted(self.shuffles.items()):
            lines.append(
                f"ShuffleMapStage for shuffle {sid}: {dep.description} -> "
                f"{dep.partitioning['kind']}({dep.num_partitions}); map tasks: {_count(dep.parts)}; "
                f"reads shuffles {sorted(stage_deps(dep.parts))}"
            )
        lines.append(
            f"ResultStage: tasks: {_count(self.result)}; reads shuffles {sorted(stage_deps(self.result))}"
        )
        return "\n".join(lines)


def _count(parts: list[Group]) -> str:
    fixed = sum(len(g.frags) for g in parts if isinstance(g, Fixed))
    adaptive = [g.num_partitions for g in parts if isinstance(g, Shuffled)]
    return f"{fixed}" + (f" + adaptive(<= {sum(adaptive)})" if adaptive else "")


def stage_deps(parts: list[Group]) -> set[int]:
    """Shuffles a stage reads: its reduce inputs and any broadcasts."""
    out: set[int] = set()
    for g in parts:
        frags = g.frags if isinstance(g, Fixed) else [g.frag]
        for f in frags:
            out.update(i.shuffle_id for i in f.inputs if isinstance(i, (ShuffleRead, BroadcastRead)))
    return out


def cols(attrs: list[ir.Attribute]) -> str:
    return ", ".join(a.col for a in attrs) if attrs else "1 AS __empty"


def ordered_cross_sql(p: ir.Join, l_sql: str, r_sql: str, streamed: str) -> str:
    """A cross join in Spark's row order: its nested loop join takes the streamed side's
    rows in order and pairs each with all the other side's rows. DuckDB's cross product
    loops over its smaller input instead, so both sides are numbered and ordered by."""
    other = "r" if streamed == "l" else "l"
    return (
        f"SELECT {cols(p.output)} FROM (SELECT *, row_number() OVER () AS __n FROM ({l_sql}) AS t) AS l "
        f"CROSS JOIN (SELECT *, row_number() OVER () AS __n FROM ({r_sql}) AS t) AS r "
        f"ORDER BY {streamed}.__n, {other}.__n"
    )


# Operators whose result does not depend on the order of their input rows.
ORDER_FREE = (ir.Aggregate, ir.Sort, ir.Distinct)


# Map tasks per slot for the scan under a global sort (see ``PhysicalPlanner._sort_child``).
SORT_SCAN_TASKS_PER_SLOT = 4


class PhysicalPlanner:
    order_matters = True  # the rows' order can be seen above the node being compiled
    fine_scans = False  # compiling the partition-free scan under a global sort

    def __init__(
        self, conf: SessionConf, job_id: str, default_parallelism: int, oracle: TypeOracle
    ) -> None:
        self.conf = conf
        self.oracle = oracle
        self.job_id = job_id
        self.parallelism = max(1, default_parallelism)
        self.shuffle_partitions = max(1, conf.get_int("spark.sql.shuffle.partitions"))
        self.shuffles: dict[int, ShuffleDep] = {}
        self.blocks: list[BlockRead] = []
        self._names = itertools.count()
        self._shuffle_ids = itertools.count()
        self._exchanges: dict[str, int] = {}  # exchange signature -> shuffle id (reuse)

    def plan(self, root: ir.Plan) -> PhysicalPlan:
        parts = self.compile(optimize(root, self.conf.get_bytes("spark.sql.autoBroadcastJoinThreshold")))
        return PhysicalPlan(parts, root.output, self.shuffles, self.blocks)

    def _name(self) -> str:
        return f"in_{next(self._names)}"

    # ---- compile -----------------------------------------------------------------

    def compile(self, p: ir.Plan) -> list[Group]:
        method = getattr(self, f"_compile_{type(p).__name__}", None)
        if method is None:
            raise unsupported(f"The plan node {type(p).__name__}")
        if isinstance(p, (ir.Limit, ir.Offset)):  # which rows it keeps depends on order
            kept, self.order_matters = self.order_matters, True
        elif isinstance(p, ORDER_FREE):
            kept, self.order_matters = self.order_matters, False
        else:
            return method(p)
        try:
            return method(p)
        finally:
            self.order_matters = kept

    def _cross_sql(self, p: ir.Join, l_sql: str, r_sql: str, streamed: str) -> str:
        """Spark's nested-loop row order where someone can see it; a plain cross product
        under an aggregate, sort or distinct (the grouping-sets Expand of TPC-DS q22
        would otherwise number and sort tens of millions of rows)."""
        if self.order_matters:
            return ordered_cross_sql(p, l_sql, r_sql, streamed)
        return f"SELECT {cols(p.output)} FROM ({l_sql}) AS l CROSS JOIN ({r_sql}) AS r"

    def _compile_Tagged(self, p: ir.Tagged) -> list[Group]:
        return self.compile(p.child)

    def _compile_Alias(self, p: ir.Alias) -> list[Group]:
        return self.compile(p.child)

    def _compile_FileScan(self, p: ir.FileScan) -> list[Group]:
        frags = self._scan_frags(p, self.parallelism)
        if self.fine_scans and len(frags) > 1:  # a one-task read stays one task (no exchange)
            frags = self._scan_frags(p, self.parallelism * SORT_SCAN_TASKS_PER_SLOT)
        return [Fixed(frags)]

    def _scan_frags(self, p: ir.FileScan, parallelism: int) -> list[Frag]:
        """One fragment per split: Spark's FilePartition packing for ``parallelism`` slots."""
        max_bytes = self.conf.get_bytes("spark.sql.files.maxPartitionBytes")
        splits = split_files(p.files, max_bytes, parallelism)
        target = split_target(p.files, max_bytes, parallelism)
        frags = []
        for s in splits:
            sql = p.reader_sql.replace("{files}", sql_list(s))
            ranges = row_ranges(self.oracle.con, s[0], target) if p.fmt == "parquet" and len(s) == 1 else []
            if len(ranges) <= 1 or "union_by_name=true" not in sql:
                frags.append(Frag(sql))
                continue
            numbered = sql.replace("union_by_name=true", "union_by_name=true, file_row_number=true")
            frags += [
                Frag(f"{numbered} WHERE file_row_number >= {lo} AND file_row_number < {hi}")
                for lo, hi in ranges
            ]
        if not frags:  # no files: one empty partition with the right columns
            frags = [Frag(empty_sql(p.output))]
        return frags

    def _compile_LocalRelation(self, p: ir.LocalRelation) -> list[Group]:
        name = self._name()
        block = BlockRead(name, f"{self.job_id}/local/{name}.arrow", p.table)
        self.blocks.append(block)
        return [Fixed([Frag(f"SELECT {cols(p.output)} FROM {name}", [block])])]

    def _compile_Range(self, p: ir.Range) -> list[Group]:
        n_rows = max(0, -(-(p.end - p.start) // p.step))
        n = p.num_partitions or self.parallelism
        n = max(1, min(n, n_rows) if n_rows else 1)
        frags = []
        for i in range(n):
            lo, hi = n_rows * i // n, n_rows * (i + 1) // n
            a, b = p.start + lo * p.step, p.start + hi * p.step
            frags.append(Frag(f"SELECT range AS {p.attr.col} FROM range({a}, {b}, {p.step})"))
        return [Fixed(frags)]

    def _compile_Project(self, p: ir.Project) -> list[Group]:
        select = (
            ", ".join(f"{e.expr.sql('duckdb')} AS {e.attr.col}" for e in p.exprs) or "1 AS __empty"
        )
        return wrap(self.compile(p.child), lambda s: f"SELECT {select} FROM ({s}) AS t")

    def _compile_WindowProject(self, p: ir.WindowProject) -> list[Group]:
        child = self.compile(p.child)
        keys = [k.sql("duckdb") for k in p.partition_keys]
        kind = {"kind": "hash"} if keys else {"kind": "single"}
        if not keys and single_partition(child):
            part = child
        else:
            part = [self.exchange(child, p.child.output, kind, keys, "Window", source=p.child)]
        select = ", ".join(f"{e.expr.sql('duckdb')} AS {e.attr.col}" for e in p.exprs)
        order = window_order(p, keyed=bool(keys)) if self.order_matters else ""
        return wrap(part, lambda s: f"SELECT {select} FROM ({s}) AS t{order}")

    def _compile_Generate(self, p: ir.Generate) -> list[Group]:
        from sparkless.plan.generators import generate_sql

        return wrap(self.compile(p.child), lambda s: generate_sql(p, s))

    def _compile_Filter(self, p: ir.Filter) -> list[Group]:
        cond = p.condition.sql("duckdb")
        return wrap(
            self.compile(p.child), lambda s: f"SELECT {cols(p.output)} FROM ({s}) AS t WHERE {cond}"
        )

    def _compile_Union(self, p: ir.Union) -> list[Group]:
        out: list[Group] = []
        for child in p.inputs:
            renames = ", ".join(f"{c.col} AS {u.col}" for c, u in zip(child.output, p.attrs))
            out.extend(
                wrap(self.compile(child), lambda s, r=renames: f"SELECT {r} FROM ({s}) AS t")
            )
        return out

    def _compile_Aggregate(self, p: ir.Aggregate) -> list[Group]:
        child = self.compile(p.child)
        two = split_aggregate(p)
        if two is not None and not single_partition(child):
            return self._two_phase(p, child, two)
        keys = [k.sql("duckdb") for k in p.keys]
        select = ", ".join(f"{e.expr.sql('duckdb')} AS {e.attr.col}" for e in p.aggs)
        group = f" GROUP BY {', '.join(keys)}" if keys else ""
        if single_partition(child):  # every row is in this one task already
            return wrap(child, lambda s: f"SELECT {select} FROM ({s}) AS t{group}")
        kind = {"kind": "hash"} if keys else {"kind": "single"}
        part = self.exchange(child, p.child.output, kind, keys, "Aggregate", source=p.child)
        return wrap([part], lambda s: f"SELECT {select} FROM ({s}) AS t{group}")

    def _two_phase(self, p: ir.Aggregate, child: list[Group], two: TwoPhase) -> list[Group]:
        group = f" GROUP BY {', '.join(two.keys)}" if two.keys else ""
        partial_sql = ", ".join(f"{sql} AS {name}" for sql, name in two.partial)
        scope = self.oracle.scope_sql(p.child.output, partial_sql + group)
        types = self.oracle.describe(f"SELECT {partial_sql} FROM {scope}{group}")
        attrs = [
            ir.Attribute(name, spark_type_from_duckdb(t)) for (_, name), (_, t) in zip(two.partial, types)
        ]
        renames = ", ".join(f"{name} AS {a.col}" for (_, name), a in zip(two.partial, attrs))
        partial = wrap(
            child, lambda s: f"SELECT {renames} FROM (SELECT {partial_sql} FROM ({s}) AS t{group}) AS t"
        )
        key_attrs = attrs[: len(two.keys)]
        kind = {"kind": "hash"} if two.keys else {"kind": "single"}
        part = self.exchange(
            partial, attrs, kind, [a.col for a in key_attrs], "HashAggregate (partial)", source=p.child
        )
        back = ", ".join(f"{a.col} AS {name}" for (_, name), a in zip(two.partial, attrs))
        final = ", ".join(
            f"CAST({e.sql('duckdb')} AS {duckdb_type_sql(a.dtype)}) AS {a.col}" for e, a in two.final
        )
        final_group = f" GROUP BY {', '.join(f'__g{i}' for i in range(len(two.keys)))}" if two.keys else ""
        return wrap([part], lambda s: f"SELECT {final} FROM (SELECT {back} FROM ({s}) AS t) AS t{final_group}")

    def _compile_Distinct(self, p: ir.Distinct) -> list[Group]:
        child = self.compile(p.child)
        keys = [a.col for a in (p.keys if p.keys is not None else p.output)]
        if p.keys is None:  # partial distinct in the map tasks: the exchange carries less
            child = wrap(child, lambda s: f"SELECT DISTINCT {cols(p.output)} FROM ({s}) AS t")
        part = self.exchange(child, p.output, {"kind": "hash"}, keys, "Distinct", source=p.child)
        if p.keys is None:
            return wrap([part], lambda s: f"SELECT DISTINCT {cols(p.output)} FROM ({s}) AS t")
        on = ", ".join(keys)
        return wrap([part], lambda s: f"SELECT DISTINCT ON ({on}) {cols(p.output)} FROM ({s}) AS t")

    def _compile_Repartition(self, p: ir.Repartition) -> list[Group]:
        child = self.compile(p.child)
        if p.range_keys:  # repartitionByRange: the sort's range exchange, without the sort
            n = p.num_partitions or self.shuffle_partitions
            part = self._range_exchange(ir.Sort(p.child, p.range_keys), child, n)
            part.adaptive = False
            return [part]
        keys = [k.sql("duckdb") for k in p.keys]
        kind = {"kind": "hash"} if keys else {"kind": "round_robin"}
        part = self.exchange(
            child, p.output, kind, keys, "Repartition", num_partitions=p.num_partitions, source=p.child
        )
        if p.num_partitions is not None:
            part.adaptive = False
        return [part]

    def _compile_Sort(self, p: ir.Sort) -> list[Group]:
        order = sort_sql(p.keys)
        child = self._sort_child(p) if p.is_global else self.compile(p.child)
        if p.is_global and not single_partition(child):
            if self.shuffle_partitions > 1:
                child = [self._range_exchange(p, child)]
            else:
                child = [self.exchange(child, p.output, {"kind": "single"}, [], "Sort", source=p.child)]
        return wrap(child, lambda s: f"SELECT {cols(p.output)} FROM ({s}) AS t ORDER BY {order}")

    def _sort_child(self, p: ir.Sort) -> list[Group]:
        """The input of a global sort; a file scan under it is cut into smaller map tasks.

        Spark's FilePartition packing (kept for what ``getNumPartitions`` shows of the
        read) gives uneven tasks -- 10 files of 40 MB pack 3+3+3+1, so one of 2 slots
        idles for a file's time at the end of the sort's map stage. The sort's map tasks
        are invisible to the job (its output partitions come from the range exchange), so
        when the sort reads files through deterministic, partition-free projections and
        filters only, they are packed for ``SORT_SCAN_TASKS_PER_SLOT`` tasks per slot:
        balanced, and each task holds a smaller map output (less fresh memory touched).
        """
        if self.shuffle_partitions <= 1 or not partition_free_scan(p.child):
            return self.compile(p.child)
        kept, self.fine_scans = self.fine_scans, True
        try:
            return self.compile(p.child)
        finally:
            self.fine_scans = kept

    def _range_exchange(self, p: ir.Sort, child: list[Group], n: int | None = None) -> Shuffled:
        """Spark's RangePartitioner: sample the sort key, cut N ranges at its quantiles, send
        each row to its range. Partitions come out in key order, each sorted by its task.
        Ranges are cut on the first sort key: rows tied on it share a partition, so ordering
        by the remaining keys inside each partition keeps the whole output ordered."""
        key = p.keys[0]
        key_sql = key.expr.sql("duckdb")
        n = n or self.shuffle_partitions
        (key_type,) = self.oracle.duck_types([key_sql], p.child.output)
        sample_attr = ir.Attribute("sort_key_sample", spark_type_from_duckdb(key_type))
        per_task = 1000  # keys sampled per map task (Spark: ~20 per output partition, capped)
        sampled = pack_fragments(
            wrap(
                child,
                lambda s: f"SELECT {key_sql} AS {sample_attr.col} FROM ({s}) AS t "
                f"USING SAMPLE reservoir({per_task} ROWS) REPEATABLE (42)",
            ),
            self.parallelism,
        )
        samples = self.exchange(sampled, [sample_attr], {"kind": "single"}, [], "RangeSample", source=p.child)
        name = self._name()
        bounds_input = BroadcastRead(samples.shuffle_ids[0], name)
        null_pid = 0 if key.nulls_first else n - 1
        pid = "t.__pos" if key.ascending else f"{n - 1} - t.__pos"
        out_cols = ", ".join(f"t.{a.col}" for a in p.output)

        def with_pid(s: str) -> str:
            return (
                f"SELECT {out_cols}, CASE WHEN t.__rk IS NULL THEN {null_pid} ELSE {pid} END AS __k0 "
                f"FROM ({range_position_sql(s, key_sql, name, sample_attr.col, n)}) AS t"
            )

        map_parts: list[Group] = []
        for g in wrap(child, with_pid):
            if isinstance(g, Fixed):
                map_parts.append(Fixed([Frag(f.sql, [*f.inputs, bounds_input]) for f in g.frags]))
            else:
                g.frag.inputs.append(bounds_input)
                map_parts.append(g)
        sid = next(self._shuffle_ids)
        # the writer takes the ids from __k0 and does not store the column
        schema = pa.schema([pa.field(a.col, arrow_type_of(a.dtype)) for a in p.output])
        self.shuffles[sid] = ShuffleDep(
            sid,
            map_parts,
            {"kind": "precomputed", "column": "__k0"},
            n,
            schema,
            "RangePartitioning (sampled bounds)",
            estimate_size(p.child),
        )
        read = self._name()
        return Shuffled(Frag(f"SELECT {cols(p.output)} FROM {read}", [ShuffleRead(sid, read)]), [sid], n)

    def _compile_Limit(self, p: ir.Limit) -> list[Group]:
        if isinstance(p.child, ir.Sort) and p.child.is_global:
            return self._take_ordered(p, p.child)
        below = p.child.child if isinstance(p.child, ir.Project) else None
        if isinstance(below, ir.Sort) and below.is_global:  # a limit commutes with a projection
            return self._compile_Project(ir.Project(ir.Limit(below, p.n), p.child.exprs))
        child = self.compile(p.child)
        limit = lambda s: f"SELECT {cols(p.output)} FROM ({s}) AS t LIMIT {p.n}"  # noqa: E731
        if single_partition(child):
            return wrap(child, limit)
        local = wrap(child, limit)
        return wrap([self.exchange(local, p.output, {"kind": "single"}, [], "Limit", source=p)], limit)

    def _take_ordered(self, p: ir.Limit, sort: ir.Sort) -> list[Group]:
        """ORDER BY ... LIMIT n (Spark's TakeOrderedAndProject): each task keeps its own
        top n, one task merges them -- no range exchange, no sampling."""
        order = sort_sql(sort.keys)
        top = lambda s: f"SELECT {cols(p.output)} FROM ({s}) AS t ORDER BY {order} LIMIT {p.n}"  # noqa: E731
        child = self.compile(sort.child)
        if not single_partition(child):
            local = wrap(child, top)
            child = [self.exchange(local, p.output, {"kind": "single"}, [], "TakeOrdered", source=p)]
        return wrap(child, top)

    def _compile_Offset(self, p: ir.Offset) -> list[Group]:
        child = self.compile(p.child)
        if not single_partition(child):
            child = [self.exchange(child, p.output, {"kind": "single"}, [], "Offset", source=p.child)]
        return wrap(child, lambda s: f"SELECT {cols(p.output)} FROM ({s}) AS t OFFSET {p.n}")

    def _compile_Join(self, p: ir.Join) -> list[Group]:
        join_sql = {
            "inner": "JOIN",
            "left": "LEFT JOIN",
            "right": "RIGHT JOIN",
            "full": "FULL OUTER JOIN",
            "left_semi": "SEMI JOIN",
            "left_anti": "ANTI JOIN",
            "cross": "CROSS JOIN",
        }[p.how]
        on = f" ON {p.condition.sql('duckdb')}" if p.condition is not None and p.how != "cross" else ""
        build = self._broadcast_side(p)
        if build is not None:
            return self._broadcast_join(p, build, join_sql, on)
        left, right = self.compile(p.left), self.compile(p.right)
        lkeys, rkeys = equi_keys(p)
        lkeys, rkeys = align_key_types(lkeys, rkeys, p.left.output, p.right.output, self.oracle)
        kind = {"kind": "hash"} if lkeys else {"kind": "single"}
        lpart = self.exchange(left, p.left.output, kind, lkeys, "ShuffledHashJoin (left side)", source=p.left)
        rpart = self.exchange(
            right, p.right.output, kind, rkeys, "ShuffledHashJoin (right side)", like=lpart, source=p.right
        )
        sql = f"SELECT {cols(p.output)} FROM ({lpart.frag.sql}) AS l {join_sql} ({rpart.frag.sql}) AS r{on}"
        if p.how == "cross":
            sql = self._cross_sql(p, lpart.frag.sql, rpart.frag.sql, "l")
        frag = Frag(sql, lpart.frag.inputs + rpart.frag.inputs)
        shuffle_ids = list(dict.fromkeys(lpart.shuffle_ids + rpart.shuffle_ids))
        return [Shuffled(frag, shuffle_ids, lpart.num_partitions)]

    def _broadcast_side(self, p: ir.Join) -> str | None:
        """Which side to broadcast (Spark's rules by join type), if small enough."""
        threshold = self.conf.get_bytes("spark.sql.autoBroadcastJoinThreshold")
        if threshold < 0:
            return None
        candidates = {
            "inner": ("right", "left"),
            "cross": ("right", "left"),
            "left": ("right",),
            "left_semi": ("right",),
            "left_anti": ("right",),
            "right": ("left",),
        }.get(p.how, ())
        sizes = {"left": estimate_size(p.left), "right": estimate_size(p.right)}
        fits = [s for s in candidates if sizes[s] is not None and sizes[s] <= threshold]
        return min(fits, key=lambda s: sizes[s]) if fits else None

    def _broadcast_join(self, p: ir.Join, build: str, join_sql: str, on: str) -> list[Group]:
        build_plan = p.right if build == "right" else p.left
        probe_plan = p.left if build == "right" else p.right
        built = self.exchange(
            self.compile(build_plan),
            build_plan.output,
            {"kind": "single"},
            [],
            f"BroadcastHashJoin (build side: {build})",
            source=build_plan,
        )
        name = self._name()
        bcast = BroadcastRead(built.shuffle_ids[0], name)
        build_sql = f"SELECT {cols(build_plan.output)} FROM {name}"

        def join(s: str) -> str:
            l_sql, r_sql = (s, build_sql) if build == "right" else (build_sql, s)
            if p.how == "cross":
                return self._cross_sql(p, l_sql, r_sql, "l" if build == "right" else "r")
            return f"SELECT {cols(p.output)} FROM ({l_sql}) AS l {join_sql} ({r_sql}) AS r{on}"

        out: list[Group] = []
        for g in wrap(self.compile(probe_plan), join):
            if isinstance(g, Fixed):
                out.append(Fixed([Frag(f.sql, [*f.inputs, bcast]) for f in g.frags]))
            else:
                g.frag.inputs.append(bcast)
                out.append(g)
        return out

    # ---- Python functions over partitions -----------------------------------------

    def _python_spec(self, p: ir.Plan, mode: str, inputs: list[list[ir.Attribute]],
                     num_keys: int = 0) -> dict:
        from shuffle.arrow_io import schema_to_b64

        fields = [pa.field(a.name, arrow_type_of(a.dtype)) for a in p.output]
        return {
            "mode": mode,
            "udf": p.function.payload(),
            "num_keys": num_keys,
            "schema": schema_to_b64(pa.schema(fields)),
            "output_names": [a.name for a in p.output],
            "output_cols": [a.col for a in p.output],
            "input_names": [[a.name for a in attrs] for attrs in inputs],
        }

    def _python_steps(self, parts: list[Group], spec: dict, sqls) -> list[Group]:
        """Each partition through a Python step; ``sqls(frag_sql)`` gives the step's inputs."""
        out: list[Group] = []
        for g in parts:
            frags = g.frags if isinstance(g, Fixed) else [g.frag]
            stepped = []
            for f in frags:
                name = self._name()
                step = PythonStep(name, sqls(f.sql), spec)
                stepped.append(Frag(f"SELECT * FROM {name}", [*f.inputs, step]))
            if isinstance(g, Fixed):
                out.append(Fixed(stepped))
            else:
                out.append(Shuffled(stepped[0], list(g.shuffle_ids), g.num_partitions, g.adaptive))
        return out

    def _compile_MapInPython(self, p: ir.MapInPython) -> list[Group]:
        spec = self._python_spec(p, "map", [p.child.output])
        return self._python_steps(
            self.compile(p.child), spec, lambda s: [f"SELECT {cols(p.child.output)} FROM ({s}) AS t"]
        )

    def _compile_FlatMapGroupsInPython(self, p: ir.FlatMapGroupsInPython) -> list[Group]:
        keys = [[k.sql("duckdb") for k in ks] for ks in p.keys]
        if len(p.inputs) == 2:
            keys[0], keys[1] = align_key_types(
                keys[0], keys[1], p.inputs[0].output, p.inputs[1].output, self.oracle
            )
        kind = {"kind": "hash"} if keys[0] else {"kind": "single"}
        parts: list[Shuffled] = []
        for child, ks in zip(p.inputs, keys):
            parts.append(self.exchange(
                self.compile(child), child.output, kind, ks, "FlatMapGroupsInPython",
                like=parts[0] if parts else None, source=child,
            ))
        sqls = [
            f"SELECT {cols(child.output)}{''.join(f', {k} AS __g{j}' for j, k in enumerate(ks))} "
            f"FROM ({part.frag.sql}) AS t"
            for child, ks, part in zip(p.inputs, keys, parts)
        ]
        spec = self._python_spec(p, "group", [c.output for c in p.inputs], len(keys[0]))
        name = self._name()
        inputs = [i for part in parts for i in part.frag.inputs]
        frag = Frag(f"SELECT * FROM {name}", [*inputs, PythonStep(name, sqls, spec)])
        shuffle_ids = [sid for part in parts for sid in part.shuffle_ids]
        return [Shuffled(frag, shuffle_ids, parts[0].num_partitions)]

    # ---- exchanges ---------------------------------------------------------------

    def exchange(
        self,
        parts: list[Group],
        attrs: list[ir.Attribute],
        partitioning: dict,
        key_sql: list[str],
        description: str,
        like: Shuffled | None = None,
        num_partitions: int | None = None,
        source: ir.Plan | None = None,
    ) -> Shuffled:
        """A shuffle of ``parts`` on ``key_sql``; returns the reduce-side template.

        An exchange identical to one already planned (same map SQL over the same inputs,
        same partitioning) is read again instead of recomputed -- Spark's ReuseExchange:
        a CTE referenced twice, the same broadcast for several joins."""
        n = 1 if partitioning["kind"] == "single" else self.shuffle_partitions
        if like is not None:
            n = like.num_partitions
        elif num_partitions is not None:
            n = num_partitions
        by_col = {a.col: a for a in attrs}
        extra_keys = [(i, k) for i, k in enumerate(key_sql) if k not in by_col]
        extra_types = self.oracle.duck_types([k for _, k in extra_keys], attrs) if extra_keys else ()
        key_cols = [k if k in by_col else f"__k{i}" for i, k in enumerate(key_sql)]
        extra = "".join(f", {k} AS __k{i}" for i, k in extra_keys)
        map_parts = wrap(parts, lambda s: f"SELECT {cols(attrs)}{extra} FROM ({s}) AS t")
        spec = dict(partitioning)
        if spec["kind"] == "hash":
            spec["keys"] = key_cols
        schema = pa.schema(
            [pa.field(a.col, arrow_type_of(a.dtype)) for a in attrs]
            + ([] if attrs else [pa.field("__empty", pa.int32())])  # cols(): "1 AS __empty"
            + [
                pa.field(f"__k{i}", arrow_type_of(spark_type_from_duckdb(t)))
                for (i, _), t in zip(extra_keys, extra_types)
            ]
        )
        signature = exchange_signature(map_parts, spec, n, schema)
        sid = self._exchanges.get(signature) if signature is not None else None
        if sid is None:
            sid = next(self._shuffle_ids)
            size = estimate_size(source) if source is not None else None
            self.shuffles[sid] = ShuffleDep(sid, map_parts, spec, n, schema, description, size)
            if signature is not None:
                self._exchanges[signature] = sid
        name = self._name()
        return Shuffled(
            Frag(f"SELECT {cols(attrs)} FROM {name}", [ShuffleRead(sid, name)]), [sid], n
        )


def exchange_signature(parts: list[Group], spec: dict, n: int, schema: pa.Schema) -> str | None:
    """What makes two exchanges produce the same blocks: their map SQL with input names
    replaced by what the inputs are. None when an input has no stable identity."""
    pieces = [repr(sorted(spec.items())), str(n), str(schema)]
    for g in parts:
        frags = g.frags if isinstance(g, Fixed) else [g.frag]
        if isinstance(g, Shuffled):
            pieces.append(f"shuffled{g.shuffle_ids}/{g.num_partitions}/{g.adaptive}")
        for f in frags:
            sql = f.sql
            for inp in f.inputs:
                if isinstance(inp, (ShuffleRead, BroadcastRead)):
                    token = f"<{type(inp).__name__}:{inp.shuffle_id}>"
                elif isinstance(inp, BlockRead):
                    token = f"<BlockRead:{id(inp.table)}>"
                else:
                    return None
                sql = re.sub(rf"\b{re.escape(inp.name)}\b", token, sql)
            pieces.append(sql)
    return "\n".join(pieces)


def window_order(p: ir.WindowProject, keyed: bool = False) -> str:
    """`` ORDER BY`` the first window's ordering: one partition's rows come out in it, as
    from Spark's sort for the window (``row_number().over(Window.orderBy(...))``); with
    PARTITION BY keys (``keyed``), each task's rows come out sorted by the keys first, as
    Spark sorts each partition by ``partitionSpec ++ orderSpec`` before its WindowExec."""
    windows = [w for e in p.exprs for w in e.expr.find_all(exp.Window) if not w.meta.get("per_task")]
    order = windows[0].args.get("order") if windows else None
    items = [o.sql("duckdb") for o in order.expressions] if order is not None else []
    if keyed and windows:
        keys = windows[0].args.get("partition_by") or []
        items = [f"{k.sql('duckdb')} ASC NULLS FIRST" for k in keys] + items
        # rows tied on the sort keys: in the order the window numbered them (row_number)
        items += [e.attr.col for e in p.exprs if windows[0] in list(e.expr.find_all(exp.Window))][:1]
    if not items:
        return ""
    return " ORDER BY " + ", ".join(items)


def wrap(parts: list[Group], fn) -> list[Group]:
    out: list[Group] = []
    for g in parts:
        if isinstance(g, Fixed):
            out.append(Fixed([Frag(fn(f.sql), list(f.inputs)) for f in g.frags]))
        else:
            out.append(
                Shuffled(
                    Frag(fn(g.frag.sql), list(g.frag.inputs)),  # never share: callers append
                    list(g.shuffle_ids),
                    g.num_partitions,
                    g.adaptive,
                )
            )
    return out


def range_position_sql(s: str, key_sql: str, samples: str, sample_col: str, n: int) -> str:
    """``s``'s rows with ``__rk`` (the range key) and ``__pos``: how many of the ``n - 1``
    bounds cut at the sampled key's quantiles are ``< __rk`` — the ascending range id.

    A key equal to a bound stays below it, as in Spark's RangePartitioner (which
    ``repartitionByRange`` shows through ``spark_partition_id()``).

    A branchless binary search over the bounds *list*, one nested projection per step
    (``log2 n`` of them), each a vectorised list lookup and comparison. It replaces an
    ASOF join against the bounds table, which sorted the whole map input first (measured:
    3 M gensort rows, 200 partitions, one thread: ~3-6 s as ASOF join, ~0.2-0.5 s here).
    A lookup past the end of the list, or into a NULL list (no samples), is NULL, so that
    step adds nothing. Duplicate bounds just leave a partition empty; the id is monotone in
    the key either way, which is all a global sort needs.
    """
    m = n - 1
    fractions = ", ".join(f"{i / n:.12g}" for i in range(1, n))
    bounds = (
        f"(SELECT quantile_disc({sample_col}, [{fractions}]) AS __bl FROM {samples} "
        f"WHERE {sample_col} IS NOT NULL)"
    )
    sql = (
        f"SELECT t0.*, {key_sql} AS __rk, __b.__bl AS __bl, 0::BIGINT AS __pos "
        f"FROM ({s}) AS t0 CROSS JOIN {bounds} AS __b"
    )
    for k in reversed(range(m.bit_length())):
        step = 1 << k
        sql = (
            f"SELECT * REPLACE (__pos + CASE WHEN __rk > __bl[__pos + {step}] THEN {step} "
            f"ELSE 0 END AS __pos) FROM ({sql}) AS t{k + 1}"
        )
    return sql


def _partition_free(e: exp.Expression) -> bool:
    """Deterministic and blind to the task it runs in (spark_partition_id() and
    monotonically_increasing_id() read the task's partition through a DuckDB variable)."""
    return _deterministic(e) and "getvariable" not in e.sql("duckdb").lower()


def partition_free_scan(p: ir.Plan) -> bool:
    """``p`` is a file scan under projections and filters whose rows do not depend on
    how the files are split into tasks."""
    while True:
        if isinstance(p, ir.FileScan):
            return True
        if isinstance(p, ir.Project):
            if not all(_partition_free(e.expr) for e in p.exprs):
                return False
        elif isinstance(p, ir.Filter):
            if not _partition_free(p.condition):
                return False
        elif not isinstance(p, ir.Tagged | ir.Alias):
            return False
        p = p.child


def sort_sql(keys: list[ir.SortKey]) -> str:
    return ", ".join(
        f"{k.expr.sql('duckdb')} {'ASC' if k.ascending else 'DESC'} NULLS {'FIRST' if k.nulls_first else 'LAST'}"
        for k in keys
    )


def pack_fragments(parts: list[Group], tasks: int) -> list[Group]:
    """Each ``Fixed`` group's fragments as at most ``tasks`` fragments (``UNION ALL`` of
    neighbours), for a stage whose tasks are too small to be worth an invocation each.

    The range sample reads one column and keeps 1,000 rows per fragment: 10-34 tasks of
    20-100 ms on 2 slots, a stage that was half dispatch and idle slots. Each fragment
    keeps its own SQL, so it samples the same rows as it did alone and the bounds do not
    change. A group whose fragments name different inputs alike stays as it is."""
    out: list[Group] = []
    for g in parts:
        if not isinstance(g, Fixed) or len(g.frags) <= tasks:
            out.append(g)
            continue
        by_name: dict[str, Input] = {}
        if any(by_name.setdefault(i.name, i) is not i for f in g.frags for i in f.inputs):
            out.append(g)
            continue
        n = len(g.frags)
        chunks = [g.frags[n * t // tasks : n * (t + 1) // tasks] for t in range(tasks)]
        out.append(Fixed([
            Frag(
                " UNION ALL ".join(f"({f.sql})" for f in chunk),
                list({i.name: i for f in chunk for i in f.inputs}.values()),  # one per name
            )
            for chunk in chunks
        ]))
    return out


def single_partition(parts: list[Group]) -> bool:
    if len(parts) != 1:
        return False
    g = parts[0]
    return len(g.frags) == 1 if isinstance(g, Fixed) else g.num_partitions == 1


def equi_keys(p: ir.Join) -> tuple[list[str], list[str]]:
    """Pairs ``left_expr = right_expr`` among the condition's conjuncts, as SQL."""
    if p.condition is None:
        return [], []
    left_ids = {a.col for a in p.left.output}
    right_ids = {a.col for a in p.right.output}
    lkeys: list[str] = []
    rkeys: list[str] = []
    for conj in p.condition.flatten() if isinstance(p.condition, exp.And) else [p.condition]:
        if not isinstance(conj, (exp.EQ, exp.NullSafeEQ)):
            continue
        a, b = conj.this, conj.expression
        sa = {c.name for c in a.find_all(exp.Column)}
        sb = {c.name for c in b.find_all(exp.Column)}
        if sa and sb and sa <= left_ids and sb <= right_ids:
            lkeys.append(a.sql("duckdb"))
            rkeys.append(b.sql("duckdb"))
        elif sa and sb and sa <= right_ids and sb <= left_ids:
            lkeys.append(b.sql("duckdb"))
            rkeys.append(a.sql("duckdb"))
    return lkeys, rkeys


def align_key_types(
    lkeys: list[str], rkeys: list[str], left: list[ir.Attribute], right: list[ir.Attribute], oracle: TypeOracle
) -> tuple[list[str], list[str]]:
    """Hash both sides alike: DuckDB hashes all integer widths alike, but not int vs double."""
    if not lkeys:
        return lkeys, rkeys
    lt = oracle.duck_types(lkeys, left)
    rt = oracle.duck_types(rkeys, right)
    out_l, out_r = [], []
    for lk, rk, a, b in zip(lkeys, rkeys, lt, rt):
        sa, sb = str(a), str(b)
        if sa != sb and not (_integral(sa) and _integral(sb)):
            target = "DOUBLE" if _numeric(sa) and _numeric(sb) else "VARCHAR"
            lk, rk = f"CAST({lk} AS {target})", f"CAST({rk} AS {target})"
        out_l.append(lk)
        out_r.append(rk)
    return out_l, out_r


def _integral(t: str) -> bool:
    return t in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT")


def _numeric(t: str) -> bool:
    return _integral(t) or t in ("FLOAT", "DOUBLE") or t.startswith("DECIMAL")


OPEN_COST_BYTES = 4 << 20  # spark.sql.files.openCostInBytes


def _file_sizes(files: list[str]) -> list[int]:
    from storage.files import size  # s3:// and cached-block sizes come from the listing

    return [size(f) for f in files]


def split_target(files: list[str], max_bytes: int, parallelism: int = 1) -> int:
    """Spark's maxSplitBytes: ``min(maxPartitionBytes, max(openCostInBytes, total / parallelism))``."""
    total = sum(_file_sizes(files)) + OPEN_COST_BYTES * len(files)
    return min(max_bytes, max(OPEN_COST_BYTES, total // max(1, parallelism)))


def row_ranges(con, path: str, target: int) -> list[tuple[int, int]]:  # noqa: ANN001 - duckdb connection
    """A Parquet file larger than the split size, as row ranges on row-group boundaries
    (each range is a task; DuckDB skips the row groups outside it by file_row_number)."""
    size = (_file_sizes([path]) or [0])[0]
    if size <= target * 3 // 2:
        return []
    groups = _row_groups(con, path, size)
    ranges: list[tuple[int, int]] = []
    start = row = acc = 0
    for rows, nbytes in groups:
        row += rows
        acc += nbytes
        if acc >= target:
            ranges.append((start, row))
            start, acc = row, 0
    if row > start:
        ranges.append((start, row))
    return ranges


_ROW_GROUPS: dict[tuple[str, int, int], list[tuple[int, int]]] = {}


def _row_groups(con, path: str, size: int) -> list[tuple[int, int]]:  # noqa: ANN001
    """(rows, compressed bytes) per row group of a Parquet file; [] if it is not readable.

    A local file's footer is read once per version (path, size, mtime): every query over a
    large table splits the same files, and reading the footer costs ~10 ms each time.
    """
    try:
        key: tuple[str, int, int] | None = (path, size, os.stat(path).st_mtime_ns)
    except OSError:
        key = None  # not a local file (s3://, cached blocks): ask each time
    if key is not None and key in _ROW_GROUPS:
        return _ROW_GROUPS[key]
    try:
        rows = con.sql(
            "SELECT row_group_id, any_value(row_group_num_rows), sum(total_compressed_size) "
            f"FROM parquet_metadata({sql_list([path])}) GROUP BY row_group_id ORDER BY row_group_id"
        ).fetchall()
    except Exception:  # noqa: BLE001 -- not readable as Parquet here: the task will say why
        return []
    groups = [(int(n), int(b or 0)) for _, n, b in rows]
    if key is not None:
        if len(_ROW_GROUPS) > 10000:
            _ROW_GROUPS.clear()
        _ROW_GROUPS[key] = groups
    return groups


def split_files(files: list[str], max_bytes: int, parallelism: int = 1) -> list[list[str]]:
    """Pack files into tasks as Spark's FilePartition does: split size
    ``min(maxPartitionBytes, max(openCostInBytes, total / parallelism))``, so a small input
    still gets one task per core, and each file also costs ``openCostInBytes``; a file
    larger than that is split further by row groups (``row_ranges``)."""
    sizes = _file_sizes(files)
    target = split_target(files, max_bytes, parallelism)
    splits: list[list[str]] = []
    current: list[str] = []
    size = 0
    for f, n in zip(files, sizes):
        if current and size + n > target:
            splits.append(current)
            current, size = [], 0
        current.append(f)
        size += n + OPEN_COST_BYTES
    if current:
        splits.append(current)
    return splits


def sql_list(items: list[str]) -> str:
    return "[" + ", ".join("'" + s.replace("'", "''") + "'" for s in items) + "]"


def empty_sql(attrs: list[ir.Attribute]) -> str:
    from sparkless.plan.types import duckdb_type_sql

    select = ", ".join(f"CAST(NULL AS {duckdb_type_sql(a.dtype)}) AS {a.col}" for a in attrs)
    return f"SELECT {select or '1 AS __empty'} WHERE false"
