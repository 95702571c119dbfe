"""DataFrame operations as logical plans — shared by the Connect and SQL front doors.

Each function takes resolved child plans and unresolved Spark expressions (sqlglot
trees) and returns a new plan, raising AnalysisException as Spark would.
"""

from __future__ import annotations

from dataclasses import replace

import pyarrow as pa
from pyspark.sql.types import (
    ArrayType,
    DataType,
    MapType,
    NullType,
    StructField,
    StructType,
)
from sqlglot import exp

from sparkless.errors import AnalysisException
from sparkless.plan import generators, ir
from sparkless.plan.analyzer import (
    Analyzer,
    Scope,
    cast_sql,
    is_aggregate,
    nullability,
    refine_type,
)
from sparkless.plan.types import duckdb_type_sql, spark_type_from_arrow, spark_type_from_duckdb


class PlanBuilder:
    def __init__(self, analyzer: Analyzer) -> None:
        self.a = analyzer

    # ---- leaves ------------------------------------------------------------------

    def local(self, table: pa.Table, schema: StructType | None) -> ir.Plan:
        if schema is not None:
            if len(schema.fields) != table.num_columns:
                raise AnalysisException(
                    f"The schema has {len(schema.fields)} fields but the data has "
                    f"{table.num_columns} columns.",
                    "AXIS_LENGTH_MISMATCH",
                )
            attrs = [ir.Attribute(f.name, f.dataType, f.nullable) for f in schema.fields]
        else:
            attrs = [
                ir.Attribute(f.name, spark_type_from_arrow(f.type), f.nullable)
                for f in table.schema
            ]
        table = table.rename_columns([a.col for a in attrs])
        return ir.LocalRelation(table, attrs)

    def range(self, start: int, end: int, step: int, num_partitions: int | None) -> ir.Plan:
        from pyspark.sql.types import LongType

        if step == 0:
            raise AnalysisException("The step of range must not be 0.", "INVALID_PARAMETER_VALUE")
        return ir.Range(start, end, step, num_partitions, ir.Attribute("id", LongType(), False))

    # ---- narrow operators --------------------------------------------------------

    def project(self, child: ir.Plan, exprs: list[exp.Expression]) -> ir.Plan:
        if generators.has_generator(exprs):
            return generators.plan_select(self, child, exprs)
        scope = self.a.scope(child)
        if any(is_aggregate(e) for e in exprs):
            return self.aggregate(child, [], exprs)
        named = self.a.project_list(exprs, scope)
        self._check_types(child, named)
        child = time_window_rows(child, [n.expr for n in named])
        windows = [w for n in named for w in n.expr.find_all(exp.Window)
                   if not w.meta.get("per_task")]  # monotonically_increasing_id: no exchange
        if windows:
            return ir.WindowProject(child, named, common_partition_keys(windows))
        return ir.Project(child, named)

    def _check_types(self, child: ir.Plan, named: list[ir.NamedExpr]) -> None:
        """Bind the whole select list once: DuckDB reports unknown functions, bad types."""
        if not named:
            return
        cols = ", ".join(f"{n.expr.sql('duckdb')} AS {n.attr.col}" for n in named)
        self.a.oracle.describe(f"SELECT {cols} FROM {self.a.oracle.scope_sql(child.output, cols)}")

    def filter(self, child: ir.Plan, condition: exp.Expression) -> ir.Plan:
        return ir.Filter(child, self.a.condition(condition, self.a.scope(child)))

    def with_columns(
        self, child: ir.Plan, names: list[str], exprs: list[exp.Expression]
    ) -> ir.Plan:
        if generators.has_generator(exprs):  # a select: the generator is no expression
            given = {n.lower(): exp.alias_(e, n, quoted=True) for n, e in zip(names, exprs)}
            items = [given.pop(a.name.lower(), None) or Analyzer._ref(a) for a in child.output]
            return self.project(child, [*items, *given.values()])
        scope = self.a.scope(child)
        new = {
            n.lower(): self.a.named(exp.alias_(e, n, quoted=True), scope)
            for n, e in zip(names, exprs)
        }
        out: list[ir.NamedExpr] = []
        for attr in child.output:
            replacement = new.pop(attr.name.lower(), None)
            out.append(replacement or ir.NamedExpr(Analyzer._ref(attr), attr))
        out.extend(new.values())
        windows = [w for n in out for w in n.expr.find_all(exp.Window) if not w.meta.get("per_task")]
        if windows:  # withColumn(..., row_number().over(w)): rows meet as for a select
            return ir.WindowProject(child, out, common_partition_keys(windows))
        return ir.Project(child, out)

    def rename_columns(self, child: ir.Plan, mapping: dict[str, str]) -> ir.Plan:
        lowered = {k.lower(): v for k, v in mapping.items()}
        out = []
        for attr in child.output:
            target = lowered.get(attr.name.lower())
            new_attr = ir.Attribute(target, attr.dtype, attr.nullable) if target else attr
            out.append(ir.NamedExpr(Analyzer._ref(attr), new_attr))
        return ir.Project(child, out)

    def to_df(self, child: ir.Plan, names: list[str]) -> ir.Plan:
        if len(names) != len(child.output):
            raise AnalysisException(
                f"The number of columns doesn't match.\nOld column names ({len(child.output)}): "
                f"{', '.join(a.name for a in child.output)}\nNew column names ({len(names)}): "
                f"{', '.join(names)}",
                "INVALID_COLUMN_NAMES",
            )
        return ir.Project(
            child,
            [
                ir.NamedExpr(Analyzer._ref(a), ir.Attribute(n, a.dtype, a.nullable))
                for a, n in zip(child.output, names)
            ],
        )

    def drop(self, child: ir.Plan, names: list[str], columns: list[exp.Expression]) -> ir.Plan:
        scope = self.a.scope(child)
        drop_ids: set[int] = set()
        lowered = {n.lower() for n in names}
        for attr in child.output:
            if attr.name.lower() in lowered:
                drop_ids.add(attr.id)
        for c in columns:
            r = self.a.resolve(c, scope)
            if r.attr is not None:
                drop_ids.add(r.attr.id)
        kept = [a for a in child.output if a.id not in drop_ids]
        return ir.Project(child, [ir.NamedExpr(Analyzer._ref(a), a) for a in kept])

    def alias(self, child: ir.Plan, name: str) -> ir.Plan:
        return ir.Alias(child, name)

    # ---- wide operators ----------------------------------------------------------

    def aggregate(
        self, child: ir.Plan, keys: list[exp.Expression], aggs: list[exp.Expression]
    ) -> ir.Plan:
        from sparkless.plan import session_windows

        if any(session_windows.session_call(k) is not None for k in keys):
            return session_windows.plan(self, child, keys, aggs)
        scope = self.a.scope(child)
        key_named = [self.a.named(k, scope) for k in keys]
        agg_resolved = []
        for e in aggs:
            expanded = self.a.expand_star(e, scope)
            for item in expanded if expanded is not None else [e]:
                agg_resolved.append(self.a.resolve(item, scope))
        key_sql = [k.expr.sql("duckdb") for k in key_named]
        select = [f"{k} AS {n.attr.col}" for k, n in zip(key_sql, key_named)]
        select += [f"{r.expr.sql('duckdb')} AS __a{i}" for i, r in enumerate(agg_resolved)]
        columns = ", ".join(select) or "1"
        group = f" GROUP BY {', '.join(key_sql)}" if key_sql else ""
        scope = self.a.oracle.scope_sql(child.output, columns + group)
        types = [t for _, t in self.a.oracle.describe(f"SELECT {columns} FROM {scope}{group}")]
        types = types[len(key_named) :]
        outputs = list(key_named)
        for r, t in zip(agg_resolved, types):
            if r.attr is not None and any(r.attr.id == k.attr.id for k in key_named):
                outputs.append(ir.NamedExpr(r.expr, r.attr))
                continue
            attr = ir.Attribute(r.name, refine_type(r.expr, spark_type_from_duckdb(t)), r.nullable)
            outputs.append(ir.NamedExpr(r.expr, attr))
        # Spark's output for groupBy(keys).agg(aggs) is keys then aggs; for a SQL
        # SELECT the caller passes the select list as `aggs` and no separate keys.
        child = time_window_rows(child, [k.expr for k in key_named] + [o.expr for o in outputs])
        return ir.Aggregate(child, [k.expr for k in key_named], outputs)

    def aggregate_sql(
        self, child: ir.Plan, keys: list[exp.Expression], select: list[exp.Expression]
    ) -> ir.Plan:
        """SELECT list with GROUP BY (SQL): output is exactly the select list."""
        agg = self.aggregate(child, keys, select)
        assert isinstance(agg, ir.Aggregate)
        n = len(keys)
        return ir.Aggregate(agg.child, agg.keys, agg.aggs[n:])

    def sort(self, child: ir.Plan, orders: list[exp.Expression], is_global: bool = True) -> ir.Plan:
        try:
            keys = [self.a.sort_key(o, self.a.scope(child)) for o in orders]
            return ir.Sort(child, keys, is_global)
        except AnalysisException:
            # Spark resolves sort keys missing from a projection against its input.
            if isinstance(child, ir.Project):
                inner = self.sort(child.child, orders, is_global)
                return ir.Project(inner, child.exprs)
            raise

    def limit(self, child: ir.Plan, n: int) -> ir.Plan:
        if n < 0:
            raise AnalysisException(
                f"The limit expression must be equal to or greater than 0, but got {n}.",
                "INVALID_LIMIT_LIKE_EXPRESSION.IS_NEGATIVE",
            )
        return ir.Limit(child, n)

    def offset(self, child: ir.Plan, n: int) -> ir.Plan:
        return ir.Offset(child, n)

    def distinct(self, child: ir.Plan, subset: list[str] | None = None) -> ir.Plan:
        if subset is None:
            return ir.Distinct(child)
        scope = self.a.scope(child)
        keys = []
        for name in subset:
            attr, _ = scope.resolve([name])
            keys.append(attr)
        return ir.Distinct(child, keys)

    def join(
        self,
        left: ir.Plan,
        right: ir.Plan,
        how: str,
        condition: exp.Expression | None,
        using: list[str] | None = None,
    ) -> ir.Plan:
        right = self._dedup_right(left, right)
        how = normalize_join_type(how)
        if using:
            return self._join_using(left, right, how, using)
        scope = Scope(left.output + right.output, self.a.conf.case_sensitive)
        cond = self.a.condition(condition, scope) if condition is not None else None
        if cond is None and how not in ("cross", "inner"):
            cond = exp.true()
        if cond is not None and how == "cross":
            how = "inner"
        return ir.Join(left, right, "cross" if cond is None else how, cond)

    def _dedup_right(self, left: ir.Plan, right: ir.Plan) -> ir.Plan:
        """A self-join sees the same attributes twice: give the right side new identities."""
        left_ids = {a.id for a in left.output}
        if not any(a.id in left_ids for a in right.output):
            return right
        return ir.Project(right, [ir.NamedExpr(Analyzer._ref(a), a.fresh()) for a in right.output])

    def _join_using(self, left: ir.Plan, right: ir.Plan, how: str, using: list[str]) -> ir.Plan:
        ls, rs = Scope(left.output, False), Scope(right.output, False)
        pairs = []
        for name in using:
            try:
                la, _ = ls.resolve([name])
                ra, _ = rs.resolve([name])
            except AnalysisException:
                raise AnalysisException(
                    f"USING column `{name}` cannot be resolved on the "
                    f"{'left' if not any(a.name.lower() == name.lower() for a in left.output) else 'right'}"
                    " side of the join.",
                    "UNRESOLVED_USING_COLUMN_FOR_JOIN",
                    sql_state="42703",
                ) from None
            pairs.append((la, ra))
        cond: exp.Expression | None = None
        for la, ra in pairs:
            eq = exp.EQ(this=Analyzer._ref(la), expression=Analyzer._ref(ra))
            cond = eq if cond is None else exp.And(this=cond, expression=eq)
        join = ir.Join(left, right, how, cond)
        out_attrs = {a.id: a for a in join.output}
        key_ids = {la.id for la, _ in pairs} | {ra.id for _, ra in pairs}
        exprs: list[ir.NamedExpr] = []
        for la, ra in pairs:
            if how == "full":
                e = exp.Coalesce(this=Analyzer._ref(la), expressions=[Analyzer._ref(ra)])
                exprs.append(
                    ir.NamedExpr(e, ir.Attribute(la.name, la.dtype, la.nullable and ra.nullable))
                )
            elif how == "right":
                exprs.append(ir.NamedExpr(Analyzer._ref(ra), out_attrs[ra.id]))
            else:
                exprs.append(ir.NamedExpr(Analyzer._ref(la), out_attrs[la.id]))
        for a in join.output:
            if a.id not in key_ids:
                exprs.append(ir.NamedExpr(Analyzer._ref(a), a))
        return ir.Project(join, exprs)

    def union(
        self, left: ir.Plan, right: ir.Plan, by_name: bool = False, allow_missing: bool = False
    ) -> ir.Plan:
        if by_name:
            right = self._align_by_name(left, right, allow_missing)
            if allow_missing:
                left = self._align_by_name(right, left, True, keep_order_of=left)
        lo, ro = left.output, right.output
        if len(lo) != len(ro):
            raise AnalysisException(
                f"UNION can only be performed on inputs with the same number of columns, but the "
                f"first input has {len(lo)} columns and the second input has {len(ro)} columns.",
                "NUM_COLUMNS_MISMATCH",
                sql_state="42826",
            )
        # The common type of each column, as DuckDB's UNION resolves it.
        l_cols = ", ".join(f"CAST(NULL AS {duckdb_type_sql(a.dtype)})" for a in lo)
        r_cols = ", ".join(f"CAST(NULL AS {duckdb_type_sql(a.dtype)})" for a in ro)
        types = self.a.oracle.describe(f"SELECT {l_cols} UNION ALL SELECT {r_cols}")
        attrs = [
            ir.Attribute(la.name, merge_types(la.dtype, ra.dtype, spark_type_from_duckdb(t)),
                         la.nullable or ra.nullable)
            for la, ra, (_, t) in zip(lo, ro, types)
        ]
        inputs = [self._conform(left, attrs), self._conform(right, attrs)]
        return ir.Union(inputs, attrs)

    def intersect(self, left: ir.Plan, right: ir.Plan, keep_all: bool = False) -> ir.Plan:
        """INTERSECT [ALL] as Spark rewrites it: a left semi join on null-safe equality of
        every column (distinct rows; ALL matches the n-th copy of a row with the n-th)."""
        return self._set_join(left, right, "left_semi", keep_all, "INTERSECT")

    def except_(self, left: ir.Plan, right: ir.Plan, keep_all: bool = False) -> ir.Plan:
        """EXCEPT [ALL] (subtract / exceptAll): a left anti join, likewise."""
        return self._set_join(left, right, "left_anti", keep_all, "EXCEPT")

    def _set_join(self, left: ir.Plan, right: ir.Plan, how: str, keep_all: bool, op: str) -> ir.Plan:
        union = self.union(left, right)  # the column count check and the common types
        attrs = union.output
        left, right = self._conform(left, attrs), self._conform(right, attrs)
        right = self._dedup_right(left, right)
        if how == "left_semi":
            nullable = [la.nullable and ra.nullable for la, ra in zip(left.output, right.output)]
        else:
            nullable = [a.nullable for a in left.output]
        if keep_all:
            left, right = self._numbered(left), self._numbered(right)
        else:
            left = ir.Distinct(left)
        cond: exp.Expression | None = None
        for la, ra in zip(left.output, right.output):
            eq = exp.NullSafeEQ(this=Analyzer._ref(la), expression=Analyzer._ref(ra))
            cond = eq if cond is None else exp.And(this=cond, expression=eq)
        joined: ir.Plan = ir.Join(left, right, how, cond or exp.true())
        shown = [
            ir.NamedExpr(Analyzer._ref(a), ir.Attribute(u.name, a.dtype, n, id=a.id))
            for a, u, n in zip(left.output, attrs, nullable)
        ]
        return ir.Project(joined, shown)

    def _numbered(self, plan: ir.Plan) -> ir.Plan:
        """Each row with its copy number among equal rows (for INTERSECT/EXCEPT ALL)."""
        from pyspark.sql.types import LongType

        refs = [Analyzer._ref(a) for a in plan.output]
        number = exp.Window(this=exp.RowNumber(), partition_by=refs, over="OVER")
        n = ir.Attribute("__copy", LongType(), False)
        exprs = [ir.NamedExpr(Analyzer._ref(a), a) for a in plan.output] + [ir.NamedExpr(number, n)]
        return ir.WindowProject(plan, exprs, list(refs))

    def _conform(self, plan: ir.Plan, attrs: list[ir.Attribute]) -> ir.Plan:
        exprs = []
        for src, dst in zip(plan.output, attrs):
            ref: exp.Expression = Analyzer._ref(src)
            if duckdb_type_sql(src.dtype) != duckdb_type_sql(dst.dtype):
                ref = cast_sql(ref, dst.dtype)
            exprs.append(ir.NamedExpr(ref, replace(src, dtype=dst.dtype)))
        return ir.Project(plan, exprs)

    def _align_by_name(
        self,
        left: ir.Plan,
        right: ir.Plan,
        allow_missing: bool,
        keep_order_of: ir.Plan | None = None,
    ) -> ir.Plan:
        """Reorder ``right``'s columns to ``left``'s names (adding NULLs if allowed)."""
        by_name = {a.name.lower(): a for a in right.output}
        exprs: list[ir.NamedExpr] = []
        base = keep_order_of.output if keep_order_of is not None else []
        order = [a for a in left.output]
        if keep_order_of is not None:
            order = base + [
                a for a in left.output if a.name.lower() not in {b.name.lower() for b in base}
            ]
        for a in order:
            match = by_name.get(a.name.lower())
            if match is not None:
                exprs.append(ir.NamedExpr(Analyzer._ref(match), match))
            elif allow_missing:
                e = cast_sql(exp.null(), a.dtype)
                exprs.append(ir.NamedExpr(e, ir.Attribute(a.name, a.dtype, True)))
            else:
                raise AnalysisException(
                    f"Cannot resolve column name `{a.name}` among "
                    f"({', '.join(x.name for x in right.output)}).",
                    "UNRESOLVED_COLUMN.WITH_SUGGESTION",
                    sql_state="42703",
                )
        if keep_order_of is None:
            extra = [
                a
                for a in right.output
                if a.name.lower() not in {x.name.lower() for x in left.output}
            ]
            if extra and allow_missing:
                for a in extra:
                    exprs.append(ir.NamedExpr(Analyzer._ref(a), a))
            elif extra:
                raise AnalysisException(
                    f"Cannot resolve column name `{extra[0].name}` among "
                    f"({', '.join(x.name for x in left.output)}).",
                    "UNRESOLVED_COLUMN.WITH_SUGGESTION",
                    sql_state="42703",
                )
        return ir.Project(right, exprs)


def time_window_rows(child: ir.Plan, exprs: list[exp.Expression]) -> ir.Plan:
    """Spark drops the rows whose time is NULL wherever a time window (``window()``) is
    computed of it; the translated window marks its time expression ``window_time_of``."""
    found = [n.meta["window_time_of"] for e in exprs for n in e.walk() if "window_time_of" in n.meta]
    times = list({t.sql("duckdb"): t for t in found}.values())
    if not times:
        return child
    cond: exp.Expression | None = None
    for t in times:
        part = exp.Not(this=exp.Is(this=t.copy(), expression=exp.null()))
        cond = part if cond is None else exp.And(this=cond, expression=part)
    return ir.Filter(child, cond)


def merge_types(a: DataType, b: DataType, common: DataType) -> DataType:
    """The union of two Spark types that DuckDB unifies to ``common``: where both sides
    are the same Spark type (up to nullability) it is kept -- with what DuckDB's types
    cannot say: a year-month interval, containsNull, struct fields' nullability."""
    if isinstance(a, NullType):
        return b if duckdb_type_sql(b) == duckdb_type_sql(common) else common
    if isinstance(b, NullType):
        return a if duckdb_type_sql(a) == duckdb_type_sql(common) else common
    if type(a) is not type(b) or duckdb_type_sql(a) != duckdb_type_sql(common):
        return common
    if isinstance(a, ArrayType) and isinstance(b, ArrayType) and isinstance(common, ArrayType):
        return ArrayType(merge_types(a.elementType, b.elementType, common.elementType),
                         a.containsNull or b.containsNull)
    if isinstance(a, StructType) and isinstance(b, StructType) and isinstance(common, StructType):
        if len(a.fields) != len(b.fields) or len(a.fields) != len(common.fields):
            return common
        return StructType([
            StructField(c.name, merge_types(x.dataType, y.dataType, c.dataType),
                        x.nullable or y.nullable, c.metadata)
            for x, y, c in zip(a.fields, b.fields, common.fields)
        ])
    if isinstance(a, MapType) and isinstance(b, MapType) and isinstance(common, MapType):
        return MapType(merge_types(a.keyType, b.keyType, common.keyType),
                       merge_types(a.valueType, b.valueType, common.valueType),
                       a.valueContainsNull or b.valueContainsNull)
    return a if a == b else common


def common_partition_keys(windows: list[exp.Window]) -> list[exp.Expression]:
    """The PARTITION BY keys every window has (the exchange hashes on them: rows equal on
    a window's whole key are equal on these too), else none -- one partition."""
    specs = [[p.sql("duckdb") for p in (w.args.get("partition_by") or [])] for w in windows]
    shared = set(specs[0]).intersection(*specs[1:])
    first = windows[0].args.get("partition_by") or []
    return [p for p, sql in zip(first, specs[0]) if sql in shared]


def normalize_join_type(how: str) -> str:
    h = how.lower().replace("_", "").replace(" ", "")
    table = {
        "inner": "inner",
        "cross": "cross",
        "outer": "full",
        "full": "full",
        "fullouter": "full",
        "left": "left",
        "leftouter": "left",
        "right": "right",
        "rightouter": "right",
        "semi": "left_semi",
        "leftsemi": "left_semi",
        "anti": "left_anti",
        "leftanti": "left_anti",
    }
    if h not in table:
        raise AnalysisException(
            f"Unsupported join type '{how}'. Supported join types include: 'inner', 'outer', "
            "'full', 'fullouter', 'full_outer', 'leftouter', 'left', 'left_outer', 'rightouter', "
            "'right', 'right_outer', 'leftsemi', 'left_semi', 'semi', 'leftanti', 'left_anti', "
            "'anti', 'cross'.",
            "UNSUPPORTED_JOIN_TYPE",
        )
    return table[h]


__all__ = ["PlanBuilder", "normalize_join_type", "nullability"]
