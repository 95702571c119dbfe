"""The logical IR: relational operators over attributes, expressions as sqlglot trees.

Every attribute has a unique id and is rendered as the column ``_c<id>`` in the SQL
we generate, so user-visible names (which may repeat, as after a join) never make
generated SQL ambiguous. Expressions inside nodes are already *resolved*: their
column references are these ``_c<id>`` names and their functions are in DuckDB's
dialect with Spark's semantics (see analyzer.py).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import pyarrow as pa
from pyspark.sql.types import DataType, StructField, StructType
from sqlglot import exp

_ids = itertools.count(1)


def new_id() -> int:
    return next(_ids)


@dataclass(frozen=True, eq=False)
class Attribute:
    """A column of a plan's output (Spark's AttributeReference)."""

    name: str
    dtype: DataType
    nullable: bool = True
    id: int = field(default_factory=new_id)
    qualifier: str | None = None  # table alias / view name, lower-cased
    plan_ids: frozenset[int] = frozenset()
    metadata: dict[str, Any] | None = None  # the field's metadata (withMetadata, alias(metadata=))

    @property
    def col(self) -> str:
        return f"_c{self.id}"

    def ref(self) -> exp.Column:
        return exp.column(self.col)

    def renamed(self, name: str) -> Attribute:
        return replace(self, name=name)

    def fresh(self) -> Attribute:
        """Same column, new identity (for self-joins and set operations)."""
        return replace(self, id=new_id())

    def field(self) -> StructField:
        return StructField(self.name, self.dtype, self.nullable, self.metadata)


@dataclass(eq=False)
class NamedExpr:
    """An output column computed by an expression."""

    expr: exp.Expression
    attr: Attribute


@dataclass(eq=False)
class SortKey:
    expr: exp.Expression
    ascending: bool = True
    nulls_first: bool = True  # Spark: ASC NULLS FIRST, DESC NULLS LAST by default


class Plan:
    """Base of logical operators."""

    children: tuple[Plan, ...] = ()

    @property
    def output(self) -> list[Attribute]:
        raise NotImplementedError

    def schema(self) -> StructType:
        return StructType([a.field() for a in self.output])

    def node_name(self) -> str:
        return type(self).__name__

    def describe(self) -> str:
        """One line for explain()."""
        return self.node_name()


@dataclass(eq=False)
class Unary(Plan):
    """An operator over one child; by default it keeps the child's columns."""

    child: Plan

    def __post_init__(self) -> None:
        self.children = (self.child,)

    @property
    def output(self) -> list[Attribute]:
        return self.child.output


@dataclass(eq=False)
class FileScan(Plan):
    """Files of one format; ``files`` are split into tasks by the physical planner."""

    fmt: str
    files: list[str]
    attrs: list[Attribute]
    reader_sql: str  # DuckDB table function with a {files} placeholder
    partition_values: list[dict[str, Any]] | None = None
    source_columns: list[str] = field(default_factory=list)
    root_paths: list[str] = field(default_factory=list)

    @property
    def output(self) -> list[Attribute]:
        return self.attrs

    def describe(self) -> str:
        return f"FileScan {self.fmt} [{', '.join(a.name for a in self.attrs)}] {self.root_paths}"


@dataclass(eq=False)
class LocalRelation(Plan):
    table: pa.Table
    attrs: list[Attribute]

    @property
    def output(self) -> list[Attribute]:
        return self.attrs

    def describe(self) -> str:
        return f"LocalRelation [{', '.join(a.name for a in self.attrs)}], {self.table.num_rows} rows"


@dataclass(eq=False)
class Range(Plan):
    start: int
    end: int
    step: int
    num_partitions: int | None
    attr: Attribute

    @property
    def output(self) -> list[Attribute]:
        return [self.attr]

    def describe(self) -> str:
        return f"Range ({self.start}, {self.end}, step={self.step})"


@dataclass(eq=False)
class Project(Unary):
    exprs: list[NamedExpr]

    @property
    def output(self) -> list[Attribute]:
        return [e.attr for e in self.exprs]

    def describe(self) -> str:
        return f"Project [{', '.join(e.attr.name for e in self.exprs)}]"


@dataclass(eq=False)
class WindowProject(Unary):
    """A projection with window functions: rows of one window partition must meet in one
    task, so it runs after an exchange on the windows' common PARTITION BY keys."""

    exprs: list[NamedExpr]
    partition_keys: list[exp.Expression]  # empty: one partition (no common keys)

    @property
    def output(self) -> list[Attribute]:
        return [e.attr for e in self.exprs]

    def describe(self) -> str:
        keys = ", ".join(k.sql("duckdb") for k in self.partition_keys)
        return f"Window [{', '.join(e.attr.name for e in self.exprs)}] partitionBy [{keys}]"


@dataclass(eq=False)
class Generate(Unary):
    """Spark's Generate: each row of the child joined with the rows a generator makes of it
    (explode, posexplode, inline, stack, json_tuple); ``outer`` keeps one row of NULLs
    where the generator makes none. Rendered by ``plan/generators.py``."""

    generator: str  # explode | posexplode | inline | stack | json_tuple
    args: list[exp.Expression]  # resolved
    outer: bool
    is_map: bool  # explode/posexplode of a map: key and value columns
    attrs: list[Attribute]  # the generator's columns, after the child's

    @property
    def output(self) -> list[Attribute]:
        return [*self.child.output, *self.attrs]

    def describe(self) -> str:
        args = ", ".join(a.sql("duckdb") for a in self.args)
        outer = " outer" if self.outer else ""
        return f"Generate {self.generator}({args}){outer} [{', '.join(a.name for a in self.attrs)}]"


@dataclass(eq=False)
class Filter(Unary):
    condition: exp.Expression

    def describe(self) -> str:
        return f"Filter {self.condition.sql('duckdb')}"


@dataclass(eq=False)
class Aggregate(Unary):
    keys: list[exp.Expression]
    aggs: list[NamedExpr]  # the output: grouping columns and aggregate results

    @property
    def output(self) -> list[Attribute]:
        return [e.attr for e in self.aggs]

    def describe(self) -> str:
        keys = ", ".join(k.sql("duckdb") for k in self.keys)
        return f"Aggregate [{keys}] [{', '.join(e.attr.name for e in self.aggs)}]"


JOIN_TYPES = ("inner", "left", "right", "full", "left_semi", "left_anti", "cross")


@dataclass(eq=False)
class Join(Plan):
    left: Plan
    right: Plan
    how: str
    condition: exp.Expression | None
    # each left row meets at most one right row (a decorrelated scalar or mark subquery):
    # the join is as big as its left side, which size estimates need to know
    right_unique: bool = False

    def __post_init__(self) -> None:
        self.children = (self.left, self.right)

    @cached_property  # plans never change once built; the planner asks often
    def output(self) -> list[Attribute]:
        if self.how in ("left_semi", "left_anti"):
            return self.left.output
        left, right = self.left.output, self.right.output
        if self.how in ("right", "full"):
            left = [replace(a, nullable=True) for a in left]
        if self.how in ("left", "full"):
            right = [replace(a, nullable=True) for a in right]
        return left + right

    def describe(self) -> str:
        cond = self.condition.sql("duckdb") if self.condition is not None else ""
        return f"Join {self.how} {cond}"


@dataclass(eq=False)
class Sort(Unary):
    keys: list[SortKey]
    is_global: bool = True

    def describe(self) -> str:
        parts = [
            f"{k.expr.sql('duckdb')} {'ASC' if k.ascending else 'DESC'} "
            f"NULLS {'FIRST' if k.nulls_first else 'LAST'}"
            for k in self.keys
        ]
        return f"Sort [{', '.join(parts)}], global={self.is_global}"


@dataclass(eq=False)
class Limit(Unary):
    n: int

    def describe(self) -> str:
        return f"Limit {self.n}"


@dataclass(eq=False)
class Offset(Unary):
    n: int

    def describe(self) -> str:
        return f"Offset {self.n}"


@dataclass(eq=False)
class Union(Plan):
    """UNION ALL by position; the output takes the first child's names."""

    inputs: list[Plan]
    attrs: list[Attribute]

    def __post_init__(self) -> None:
        self.children = tuple(self.inputs)

    @property
    def output(self) -> list[Attribute]:
        return self.attrs


@dataclass(eq=False)
class Distinct(Unary):
    """Rows unique over ``keys`` (all columns when keys is None); first row of each kept."""

    keys: list[Attribute] | None = None

    def describe(self) -> str:
        keys = "all" if self.keys is None else ", ".join(a.name for a in self.keys)
        return f"Distinct [{keys}]"


@dataclass(eq=False)
class Repartition(Unary):
    """``repartition(n[, cols])``: an exchange the user asked for, kept as asked."""

    num_partitions: int | None
    keys: list[exp.Expression]
    range_keys: list[SortKey] | None = None  # repartitionByRange: ranges of these, not hashes

    def describe(self) -> str:
        keys = ", ".join(k.sql("duckdb") for k in self.keys)
        kind = "RepartitionByRange" if self.range_keys else "Repartition"
        return f"{kind} {self.num_partitions} [{keys}]"


@dataclass(eq=False)
class Alias(Unary):
    """``df.alias("t")`` / ``FROM x AS t``: same columns, a new qualifier."""

    alias: str

    @cached_property  # plans never change once built; the planner asks often
    def output(self) -> list[Attribute]:
        return [replace(a, qualifier=self.alias.lower()) for a in self.child.output]

    def describe(self) -> str:
        return f"SubqueryAlias {self.alias}"


@dataclass(eq=False)
class Tagged(Unary):
    """Marks a Connect plan id on its output, so ``df["col"]`` resolves to this DataFrame."""

    plan_id: int

    @cached_property  # plans never change once built; the planner asks often
    def output(self) -> list[Attribute]:
        return [replace(a, plan_ids=a.plan_ids | {self.plan_id}) for a in self.child.output]

    def node_name(self) -> str:
        return ""


@dataclass(eq=False)
class MapInPython(Unary):
    """``mapInPandas`` / ``mapInArrow``: each partition's rows through a Python function."""

    function: Any  # plan.python_udf.PythonFunction
    attrs: list[Attribute]

    @property
    def output(self) -> list[Attribute]:
        return self.attrs

    def describe(self) -> str:
        return f"MapInPython {self.function.name} [{', '.join(a.name for a in self.attrs)}]"


@dataclass(eq=False)
class FlatMapGroupsInPython(Plan):
    """``applyInPandas`` (one input) / ``cogroup().applyInPandas`` (two): a Python function
    per group key; the rows of one key meet in one task after an exchange on the keys."""

    inputs: list[Plan]
    keys: list[list[exp.Expression]]  # per input, resolved against it
    function: Any  # plan.python_udf.PythonFunction
    attrs: list[Attribute]

    def __post_init__(self) -> None:
        self.children = tuple(self.inputs)

    @property
    def output(self) -> list[Attribute]:
        return self.attrs

    def describe(self) -> str:
        keys = "; ".join(", ".join(k.sql("duckdb") for k in ks) for ks in self.keys)
        return f"FlatMapGroupsInPython {self.function.name} [{keys}]"


def walk(plan: Plan):
    yield plan
    for c in plan.children:
        yield from walk(c)


def tree_string(plan: Plan, indent: int = 0) -> str:
    lines: list[str] = []

    def visit(p: Plan, depth: int) -> None:
        if isinstance(p, Tagged):
            visit(p.child, depth)
            return
        prefix = "" if depth == 0 else "   " * (depth - 1) + "+- "
        lines.append(prefix + p.describe())
        for c in p.children:
            visit(c, depth + 1)

    visit(plan, indent)
    return "\n".join(lines)
