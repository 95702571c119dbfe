"""Connect ``Relation`` protos → logical plans, through the shared PlanBuilder."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pyarrow as pa
from pyspark.sql.connect.proto import relations_pb2 as pb
from pyspark.sql.types import StructType, _parse_datatype_json_string
from sqlglot import exp

from sparkless.connect.expressions import to_sql
from sparkless.errors import AnalysisException, unsupported
from sparkless.plan import ir, sources
from sparkless.plan.subqueries import has_subquery
from sparkless.plan.types import parse_ddl

if TYPE_CHECKING:
    from sparkless.connect.session import Session

_JOIN_TYPES = {
    pb.Join.JOIN_TYPE_UNSPECIFIED: "inner",
    pb.Join.JOIN_TYPE_INNER: "inner",
    pb.Join.JOIN_TYPE_FULL_OUTER: "full",
    pb.Join.JOIN_TYPE_LEFT_OUTER: "left",
    pb.Join.JOIN_TYPE_RIGHT_OUTER: "right",
    pb.Join.JOIN_TYPE_LEFT_ANTI: "left_anti",
    pb.Join.JOIN_TYPE_LEFT_SEMI: "left_semi",
    pb.Join.JOIN_TYPE_CROSS: "cross",
}


def parse_schema(text: str) -> StructType:
    """A schema as the client sends it: DDL (``a INT, b STRING``) or Spark's JSON."""
    text = text.strip()
    if text.startswith("{"):
        dt = _parse_datatype_json_string(text)
    else:
        dt = parse_ddl(text)
    if not isinstance(dt, StructType):
        from pyspark.sql.types import StructField

        dt = StructType([StructField("value", dt, True)])
    return dt


def regex_columns(child: ir.Plan, r, case_sensitive: bool) -> list[exp.Expression]:  # noqa: ANN001
    """``colRegex("`re`")``: references to the columns whose whole name matches ``re``
    (Spark's UnresolvedRegex; a name without backticks is an ordinary column)."""
    import re

    from sparkless.connect.expressions import split_identifier
    from sparkless.plan.analyzer import Analyzer

    text = r.col_name
    attrs = [a for a in child.output if not r.HasField("plan_id") or r.plan_id in a.plan_ids]
    attrs = attrs or child.output  # another DataFrame's colRegex: by name, as a column would
    m = re.fullmatch(r"(?:`((?:[^`]|``)+)`\.)?`((?:[^`]|``)+)`", text)
    if m is None:  # not quoted: a column name
        from sparkless.connect.expressions import _qualified

        col = _qualified(split_identifier(text))
        if r.HasField("plan_id"):
            col.meta["plan_id"] = r.plan_id
        return [col]
    qualifier, pattern = m.group(1), m.group(2).replace("``", "`")
    flags = 0 if case_sensitive else re.IGNORECASE
    out: list[exp.Expression] = []
    for a in attrs:
        if qualifier is not None and (a.qualifier or "") != qualifier.lower():
            continue
        if re.fullmatch(pattern, a.name, flags):
            out.append(Analyzer._ref(a))
    return out


class RelationConverter:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.b = session.builder
        self.references: dict[int, pb.Relation] = {}  # WithRelations: subqueries by plan id

    def convert(self, rel: pb.Relation) -> ir.Plan:
        kind = rel.WhichOneof("rel_type")
        from sparkless.connect.cache import cached_plan  # persisted / checkpointed results

        cached = cached_plan(self, rel)
        if cached is not None:
            return ir.Tagged(cached, rel.common.plan_id) if rel.common.HasField("plan_id") else cached
        method = getattr(self, f"_{kind}", None)
        if method is None:
            from sparkless.connect.reshape import HANDLERS as RESHAPE
            from sparkless.connect.stat import HANDLERS  # na / stat / sample relations

            handler = HANDLERS.get(kind) or RESHAPE.get(kind)
            if handler is None:
                raise unsupported(f"The Connect relation '{kind}'")
            method = lambda m: handler(self, m)  # noqa: E731
        plan = method(getattr(rel, kind))
        if rel.HasField("common") and rel.common.HasField("plan_id"):
            plan = ir.Tagged(plan, rel.common.plan_id)
        return plan

    # ---- leaves ------------------------------------------------------------------

    def _read(self, r: pb.Read) -> ir.Plan:
        if r.HasField("named_table"):
            return self.session.lookup_table(r.named_table.unparsed_identifier)
        ds = r.data_source
        fmt = ds.format or "parquet"
        schema = parse_schema(ds.schema) if ds.schema else None
        if r.is_streaming:
            from sparkless.connect.streaming import streaming_source

            return streaming_source(ds.format, schema)
        return sources.read(
            fmt, list(ds.paths), dict(ds.options), schema, self.session.oracle.con,
            self.session.conf.snapshot(),
        )

    def _local_relation(self, r: pb.LocalRelation) -> ir.Plan:
        schema = parse_schema(r.schema) if r.HasField("schema") and r.schema else None
        if r.HasField("data"):
            table = pa.ipc.open_stream(r.data).read_all()
        elif schema is not None:
            from sparkless.plan.types import arrow_schema_of

            table = arrow_schema_of(schema).empty_table()
        else:
            table = pa.table({})
        if schema is not None and table.num_columns == len(schema.fields):
            from sparkless.plan.types import arrow_schema_of

            target = arrow_schema_of(schema)
            try:
                table = pa.Table.from_arrays(
                    [c.cast(f.type) for c, f in zip(table.columns, target)], schema=target
                )
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                pass
        return self.b.local(table, schema)

    def _range(self, r: pb.Range) -> ir.Plan:
        start = r.start if r.HasField("start") else 0
        n = r.num_partitions if r.HasField("num_partitions") else None
        return self.b.range(start, r.end, r.step or 1, n)

    def _sql(self, r: pb.SQL) -> ir.Plan:
        from sparkless.plan.sql import SqlPlanner

        if r.args or r.pos_args or r.named_arguments or r.pos_arguments:
            raise unsupported("Parameterised spark.sql(...) queries")
        return self.session.plan_cache.analyse(
            self.session, r.query, lambda: SqlPlanner(self.session).query(r.query)
        )

    # ---- unary -------------------------------------------------------------------

    def _project(self, r: pb.Project) -> ir.Plan:
        child = self.convert(r.input) if r.HasField("input") else self.b.local(pa.table({"__one": [1]}), None)
        exprs: list[exp.Expression] = []
        for e in r.expressions:
            if e.HasField("unresolved_regex"):  # df.colRegex: the columns whose names match
                exprs.extend(regex_columns(child, e.unresolved_regex, self.session.conf.case_sensitive))
            else:
                exprs.append(to_sql(e))
        if any(has_subquery(e) for e in exprs):
            from sparkless.connect.subqueries import project_with_subqueries

            return project_with_subqueries(self, child, exprs)
        return self.b.project(child, exprs)

    def _filter(self, r: pb.Filter) -> ir.Plan:
        cond = to_sql(r.condition)
        if has_subquery(cond):
            from sparkless.connect.subqueries import filter_with_subqueries

            return filter_with_subqueries(self, self.convert(r.input), cond)
        return self.b.filter(self.convert(r.input), cond)

    def _lateral_join(self, r: pb.LateralJoin) -> ir.Plan:
        from sparkless.connect.lateral import lateral_join

        return lateral_join(self, r)

    def _nearest_by_join(self, r) -> ir.Plan:  # noqa: ANN001 - relations_pb2.NearestByJoin
        from sparkless.connect.asof import nearest_by_join

        return nearest_by_join(self, r)

    def _as_of_join(self, r: pb.AsOfJoin) -> ir.Plan:
        from sparkless.connect.asof import as_of_join

        return as_of_join(self, r)

    def _with_watermark(self, r: pb.WithWatermark) -> ir.Plan:
        from sparkless.connect.streaming import with_watermark

        return with_watermark(self.convert(r.input), r.event_time, r.delay_threshold)

    def _with_relations(self, r: pb.WithRelations) -> ir.Plan:
        for ref in r.references:  # the relations subquery expressions of the root name
            self.references[ref.common.plan_id] = ref
        return self.convert(r.root)

    def _aggregate(self, r: pb.Aggregate) -> ir.Plan:
        from sparkless.plan.grouping import GroupedSelect, dataframe_grouping_sets

        child = self.convert(r.input)
        keys = [to_sql(e) for e in r.grouping_expressions]
        aggs = [to_sql(e) for e in r.aggregate_expressions]
        if r.group_type in (pb.Aggregate.GROUP_TYPE_GROUPBY, pb.Aggregate.GROUP_TYPE_UNSPECIFIED):
            return self.b.aggregate(child, keys, aggs)
        if r.group_type == pb.Aggregate.GROUP_TYPE_PIVOT:
            from pyspark.sql.connect.proto import expressions_pb2 as epb

            from sparkless.plan.pivot import pivot

            values = [to_sql(epb.Expression(literal=v)) for v in r.pivot.values] or None

            def collect(plan: ir.Plan) -> list:
                return self.session.collect(plan).column(0).to_pylist()

            max_values = self.session.conf.get_int("spark.sql.pivotMaxValues")
            return pivot(self.b, child, keys, to_sql(r.pivot.col), values, aggs, collect, max_values)
        kind = {pb.Aggregate.GROUP_TYPE_ROLLUP: "rollup", pb.Aggregate.GROUP_TYPE_CUBE: "cube"}
        sets_sql = [[to_sql(e) for e in gs.grouping_set] for gs in r.grouping_sets]
        all_keys, sets = dataframe_grouping_sets(keys, kind.get(r.group_type, "sets"), sets_sql)
        return GroupedSelect(self.b).plan(child, all_keys, sets, [*keys, *aggs], None)

    def _sort(self, r: pb.Sort) -> ir.Plan:
        is_global = r.is_global if r.HasField("is_global") else True
        from pyspark.sql.connect.proto import expressions_pb2 as epb

        orders = [to_sql(epb.Expression(sort_order=o)) for o in r.order]
        return self.b.sort(self.convert(r.input), orders, is_global)

    def _limit(self, r: pb.Limit) -> ir.Plan:
        return self.b.limit(self.convert(r.input), r.limit)

    def _offset(self, r: pb.Offset) -> ir.Plan:
        return self.b.offset(self.convert(r.input), r.offset)

    def _deduplicate(self, r: pb.Deduplicate) -> ir.Plan:
        child = self.convert(r.input)
        if r.all_columns_as_keys or not r.column_names:
            return self.b.distinct(child)
        return self.b.distinct(child, list(r.column_names))

    def _subquery_alias(self, r: pb.SubqueryAlias) -> ir.Plan:
        return self.b.alias(self.convert(r.input), r.alias)

    def _with_columns(self, r: pb.WithColumns) -> ir.Plan:
        names = []
        exprs = []
        for a in r.aliases:
            names.append(a.name[0])
            exprs.append(to_sql(a.expr))
        plan = self.b.with_columns(self.convert(r.input), names, exprs)
        metadata = {a.name[0].lower(): json.loads(a.metadata) for a in r.aliases if a.metadata}
        if metadata and isinstance(plan, ir.Project):  # withMetadata: kept in the schema
            for n in plan.exprs:
                if n.attr.name.lower() in metadata:
                    n.attr = ir.Attribute(n.attr.name, n.attr.dtype, n.attr.nullable,
                                          metadata=metadata[n.attr.name.lower()])
        return plan

    def _with_columns_renamed(self, r: pb.WithColumnsRenamed) -> ir.Plan:
        mapping = dict(r.rename_columns_map)
        for rn in r.renames:
            mapping[rn.col_name] = rn.new_col_name
        return self.b.rename_columns(self.convert(r.input), mapping)

    def _to_df(self, r: pb.ToDF) -> ir.Plan:
        return self.b.to_df(self.convert(r.input), list(r.column_names))

    def _drop(self, r: pb.Drop) -> ir.Plan:
        child = self.convert(r.input)
        columns = [c for c in (to_sql(c) for c in r.columns) if self._droppable(child, c)]
        return self.b.drop(child, list(r.column_names), columns)

    def _droppable(self, child: ir.Plan, c: exp.Expression) -> bool:
        """Spark's drop(col): a reference that names no top-level column (``col("a.b.c")``
        when ``a.b.c`` is one column's name, a struct field, an unknown name) drops nothing;
        an ambiguous one still fails."""
        from sparkless.plan.analyzer import column_parts

        if not isinstance(c, exp.Column) or isinstance(c.this, exp.Star):
            return True
        parts = column_parts(c)
        try:
            attr, rest = self.b.a.scope(child).resolve(parts, c.meta.get("plan_id"))
        except AnalysisException as e:
            if "AMBIGUOUS" in str(getattr(e, "error_class", "")) or "ambiguous" in str(e):
                raise
            return False
        dotted = len(parts) > 1 and attr.name.lower() == ".".join(parts).lower()
        return not rest and not dotted

    def _hint(self, r: pb.Hint) -> ir.Plan:
        return self.convert(r.input)  # hints are advice; the planner decides

    def _repartition(self, r: pb.Repartition) -> ir.Plan:
        return ir.Repartition(self.convert(r.input), r.num_partitions, [])

    def _repartition_by_expression(self, r: pb.RepartitionByExpression) -> ir.Plan:
        child = self.convert(r.input)
        n = r.num_partitions if r.HasField("num_partitions") else None
        scope = self.b.a.scope(child)
        exprs = [to_sql(e) for e in r.partition_exprs]
        if any(isinstance(e, exp.Ordered) for e in exprs):  # repartitionByRange
            range_keys = [self.b.a.sort_key(e, scope) for e in exprs]
            return ir.Repartition(child, n, [k.expr for k in range_keys], range_keys)
        keys = [self.b.a.resolve(e, scope).expr for e in exprs]
        return ir.Repartition(child, n, keys)

    # ---- Python functions over partitions and groups ------------------------------

    def _map_partitions(self, r: pb.MapPartitions) -> ir.Plan:
        from sparkless.plan import python_udf

        return python_udf.map_partitions(self.b, self.convert(r.input), r.func)

    def _group_map(self, r: pb.GroupMap) -> ir.Plan:
        from sparkless.plan import python_udf

        if r.is_map_groups_with_state or r.HasField("transform_with_state_info"):
            raise unsupported("applyInPandasWithState / transformWithState")
        child = self.convert(r.input)
        keys = [to_sql(e) for e in r.grouping_expressions]
        return python_udf.group_map(self.b, [child], [keys], r.func)

    def _co_group_map(self, r: pb.CoGroupMap) -> ir.Plan:
        from sparkless.plan import python_udf

        left, right = self.convert(r.input), self.convert(r.other)
        keys = [[to_sql(e) for e in r.input_grouping_expressions],
                [to_sql(e) for e in r.other_grouping_expressions]]
        return python_udf.group_map(self.b, [left, right], keys, r.func)

    # ---- binary ------------------------------------------------------------------

    def _join(self, r: pb.Join) -> ir.Plan:
        left, right = self.convert(r.left), self.convert(r.right)
        how = _JOIN_TYPES[r.join_type]
        cond = to_sql(r.join_condition) if r.HasField("join_condition") else None
        using = list(r.using_columns) or None
        return self.b.join(left, right, how, cond, using)

    def _set_op(self, r: pb.SetOperation) -> ir.Plan:
        left, right = self.convert(r.left_input), self.convert(r.right_input)
        is_all = r.is_all if r.HasField("is_all") else True
        if r.set_op_type == pb.SetOperation.SET_OP_TYPE_INTERSECT:
            return self.b.intersect(left, right, is_all)
        if r.set_op_type == pb.SetOperation.SET_OP_TYPE_EXCEPT:
            return self.b.except_(left, right, is_all)
        plan = self.b.union(left, right, r.by_name, r.allow_missing_columns)
        return plan if is_all else self.b.distinct(plan)

    def _catalog(self, r) -> ir.Plan:  # noqa: ANN001 - catalog_pb2.Catalog
        from sparkless.connect.tables import catalog_relation

        return catalog_relation(self, r)

    # ---- results as relations ----------------------------------------------------

    def _show_string(self, r: pb.ShowString) -> ir.Plan:
        from sparkless.connect.show import show_string

        child = self.convert(r.input)
        rows = self.session.collect(self.b.limit(child, r.num_rows + 1))
        has_more = rows.num_rows > r.num_rows
        text = show_string(
            rows.slice(0, r.num_rows), child.schema(), r.num_rows, r.truncate, r.vertical, has_more,
            self.session.conf.time_zone,
        )
        from pyspark.sql.types import StringType, StructField

        return self.b.local(
            pa.table({"show_string": [text]}), StructType([StructField("show_string", StringType(), False)])
        )


__all__ = ["RelationConverter", "parse_schema", "json", "AnalysisException"]
