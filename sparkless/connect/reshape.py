"""Connect relations that reshape a DataFrame: tail, to(schema), transpose, unpivot, zip.

Each handler takes the converter and the relation's message and returns a logical plan
built from the ordinary operators (projection, union, offset, local relations).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa
from pyspark.sql.connect.proto import relations_pb2 as pb
from pyspark.sql.connect.types import proto_schema_to_pyspark_data_type
from pyspark.sql.types import DataType, StringType, StructField, StructType
from sqlglot import exp

from sparkless.connect.expressions import to_sql
from sparkless.errors import AnalysisException, unsupported
from sparkless.plan import ir
from sparkless.plan.analyzer import Analyzer, cast_sql
from sparkless.plan.types import arrow_type_of, duckdb_type_sql, spark_type_from_duckdb

if TYPE_CHECKING:
    from sparkless.connect.relations import RelationConverter


def tail(conv: RelationConverter, r: pb.Tail) -> ir.Plan:
    """The last ``limit`` rows: count the rows, then skip all but those (an offset keeps
    the partitions' order, as Spark's CollectTailExec)."""
    child = conv.convert(r.input)
    if r.limit < 0:
        raise AnalysisException(
            f"The limit expression must be equal to or greater than 0, but got {r.limit}.",
            "INVALID_LIMIT_LIKE_EXPRESSION.IS_NEGATIVE",
        )
    count = conv.b.aggregate(child, [], [exp.alias_(exp.Count(this=exp.Star()), "n")])
    n = conv.session.collect(count).column(0)[0].as_py()
    return conv.b.offset(child, max(0, n - r.limit))


def to_schema(conv: RelationConverter, r: pb.ToSchema) -> ir.Plan:
    """``df.to(schema)``: columns matched by name, reordered and cast to the schema's types
    (Spark's Project.matchSchema); missing columns and nulls into non-nullable fields fail."""
    child = conv.convert(r.input)
    schema = proto_schema_to_pyspark_data_type(r.schema)
    assert isinstance(schema, StructType)
    scope = conv.b.a.scope(child)
    out: list[ir.NamedExpr] = []
    for f in schema.fields:
        try:
            attr, _ = scope.resolve([f.name])
        except AnalysisException:
            raise AnalysisException(
                f"Unresolved column: `{f.name}`.", "UNRESOLVED_COLUMN.WITHOUT_SUGGESTION",
                sql_state="42703", parameters={"objectName": f"`{f.name}`"},
            ) from None
        if attr.nullable and not f.nullable:
            raise AnalysisException(
                f"Cannot write nullable values to non-null column `{f.name}`.",
                "NULLABLE_COLUMN_OR_FIELD", sql_state="42000",
            )
        ref: exp.Expression = Analyzer._ref(attr)
        if duckdb_type_sql(attr.dtype) != duckdb_type_sql(f.dataType):
            ref = cast_sql(ref, f.dataType)
        out.append(ir.NamedExpr(ref, ir.Attribute(f.name, f.dataType, attr.nullable, metadata=f.metadata)))
    return ir.Project(child, out)


def _common_type(conv: RelationConverter, types: list[DataType]) -> DataType:
    """The type values of all ``types`` widen to (as a UNION ALL resolves it)."""
    sql = " UNION ALL ".join(f"SELECT CAST(NULL AS {duckdb_type_sql(t)})" for t in types)
    ((_, t),) = conv.b.a.oracle.describe(sql)
    return spark_type_from_duckdb(t)


def _check_least_common_type(types: list[DataType]) -> None:
    """Spark's least common type exists for equal types and for numbers (widened); a string
    and a number, say, have none (TRANSPOSE_NO_LEAST_COMMON_TYPE)."""
    from pyspark.sql.types import NullType, NumericType

    kinds = {t.simpleString() for t in types if not isinstance(t, NullType)}
    if len(kinds) <= 1 or all(isinstance(t, (NumericType, NullType)) for t in types):
        return
    first = next(t for t in types if not isinstance(t, NullType))
    other = next(t for t in types if t.simpleString() != first.simpleString() and not isinstance(t, NullType))
    raise AnalysisException(
        f"Transpose requires non-index columns to share a least common type, but "
        f"\"{first.simpleString().upper()}\" and \"{other.simpleString().upper()}\" do not.",
        "TRANSPOSE_NO_LEAST_COMMON_TYPE", sql_state="42K09",
    )


def unpivot(conv: RelationConverter, r: pb.Unpivot) -> ir.Plan:
    """``unpivot(ids, values, var, val)``: one row per input row and value column, as a
    union of one projection per value column."""
    child = conv.convert(r.input)
    scope = conv.b.a.scope(child)
    ids = conv.b.a.project_list([to_sql(e) for e in r.ids], scope)
    if r.HasField("values"):
        values = conv.b.a.project_list([to_sql(e) for e in r.values.values], scope)
    else:
        id_cols = {n.attr.id for n in ids}
        values = [ir.NamedExpr(Analyzer._ref(a), a) for a in child.output if a.id not in id_cols]
    if not values:
        raise AnalysisException(
            "At least one value column needs to be specified for UNPIVOT, all columns specified as ids.",
            "UNPIVOT_REQUIRES_VALUE_COLUMNS", sql_state="42K0A",
        )
    value_type = _common_type(conv, [v.attr.dtype for v in values])
    var_attr = ir.Attribute(r.variable_column_name, StringType(), False)
    val_attr = ir.Attribute(r.value_column_name, value_type, any(v.attr.nullable for v in values))
    branches: list[ir.Plan] = []
    for v in values:
        exprs = [ir.NamedExpr(n.expr, n.attr.fresh()) for n in ids]
        exprs.append(ir.NamedExpr(exp.Literal.string(v.attr.name), var_attr.fresh()))
        val = v.expr if duckdb_type_sql(v.attr.dtype) == duckdb_type_sql(value_type) else cast_sql(v.expr, value_type)
        exprs.append(ir.NamedExpr(val, val_attr.fresh()))
        branches.append(ir.Project(child, exprs))
    attrs = [ir.Attribute(n.attr.name, n.attr.dtype, n.attr.nullable) for n in ids] + [var_attr, val_attr]
    return ir.Union(branches, attrs)


def transpose(conv: RelationConverter, r: pb.Transpose) -> ir.Plan:
    """Rows become columns, as Spark's Transpose: the index column's values (sorted, nulls
    dropped, at most spark.sql.transposeMaxValues) name the new columns; a ``key`` column
    holds the other columns' names, whose values widen to one common type. Spark collects
    the index values to plan it; so does this, collecting the (bounded) rows."""
    child = conv.convert(r.input)
    scope = conv.b.a.scope(child)
    if r.index_columns:
        index = conv.b.a.resolve(to_sql(r.index_columns[0]), scope)
        if index.attr is None:
            raise unsupported("transpose() over an index expression that is not a column")
        index_attr = index.attr
    else:
        index_attr = child.output[0]
    value_attrs = [a for a in child.output if a.id != index_attr.id]
    max_values = int(conv.session.conf.get("spark.sql.transposeMaxValues") or 500)
    ref = Analyzer._ref(index_attr)
    rows_plan = conv.b.limit(
        ir.Sort(ir.Filter(child, exp.Not(this=exp.Is(this=ref, expression=exp.null()))),
                [ir.SortKey(ref, True, True)]),
        max_values + 1,
    )
    rows = conv.session.collect(rows_plan)
    if rows.num_rows > max_values:
        raise AnalysisException(
            f"Number of values in the index column exceeds the maximum allowed ({max_values}).",
            "TRANSPOSE_EXCEED_ROW_LIMIT", sql_state="54006",
            parameters={"maxValues": str(max_values), "config": "spark.sql.transposeMaxValues"},
        )
    index_pos = [a.id for a in child.output].index(index_attr.id)
    names = [str(v) for v in rows.column(index_pos).to_pylist()]
    value_type: DataType = StringType()
    if value_attrs:
        _check_least_common_type([a.dtype for a in value_attrs])
        value_type = _common_type(conv, [a.dtype for a in value_attrs])
    arrow_type = arrow_type_of(value_type)
    positions = [[a.id for a in child.output].index(a.id) for a in value_attrs]
    columns = [rows.column(p).cast(arrow_type).to_pylist() for p in positions]
    data = {"key": pa.array([a.name for a in value_attrs], pa.string())}
    fields = [StructField("key", StringType(), False)]
    for i, name in enumerate(names):
        data[f"__{i}"] = pa.array([col[i] for col in columns], arrow_type)
        fields.append(StructField(name, value_type, True))
    return conv.b.local(pa.table(data), StructType(fields))


def zip_(conv: RelationConverter, r: pb.Zip) -> ir.Plan:
    """``left.zip(right)``: the columns of two projections of one DataFrame side by side
    (Spark requires both to project the same input); the input is planned once."""
    left, right = r.left, r.right
    if not (left.HasField("project") and right.HasField("project")):
        raise unsupported("DataFrame.zip of DataFrames that are not projections")
    base_l, base_r = left.project.input, right.project.input
    if base_l.SerializeToString(deterministic=True) != base_r.SerializeToString(deterministic=True):
        raise AnalysisException(
            "The DataFrames to zip must be projections of the same DataFrame.",
            "UNSUPPORTED_ZIP", sql_state="0A000",
        )
    base = conv.convert(base_l)
    exprs = [to_sql(e) for e in left.project.expressions] + [to_sql(e) for e in right.project.expressions]
    return conv.b.project(base, exprs)


def parse(conv: RelationConverter, r: pb.Parse) -> ir.Plan:
    """``spark.read.json(df)`` / ``csv(df)`` / ``xml(df)``: a DataFrame of strings read as
    the lines of a file. The strings are collected (as Spark scans them all to infer a
    schema), written to a temporary file and read by the ordinary reader (its inference
    and options), eagerly: the result is a local relation."""
    import os
    import shutil
    import tempfile

    from sparkless.plan import sources

    fmt = {pb.Parse.PARSE_FORMAT_JSON: "json", pb.Parse.PARSE_FORMAT_CSV: "csv",
           pb.Parse.PARSE_FORMAT_XML: "xml"}.get(r.format)
    if fmt is None:
        raise unsupported("Parsing a DataFrame of strings in an unknown format")
    child = conv.convert(r.input)
    if len(child.output) != 1 or not isinstance(child.output[0].dtype, StringType):
        raise AnalysisException(
            f"The input of spark.read.{fmt}(DataFrame) must be one string column.",
            "INVALID_PARSE_INPUT", sql_state="42K09",
        )
    schema = proto_schema_to_pyspark_data_type(r.schema) if r.HasField("schema") else None
    lines = [v for v in conv.session.collect(child).column(0).to_pylist() if v is not None]
    tmp = tempfile.mkdtemp(prefix="sparkless-parse-")
    try:
        with open(os.path.join(tmp, f"part-00000.{fmt}"), "w", encoding="utf-8") as f:
            f.writelines(line + "\n" for line in lines)
        plan = sources.read(fmt, [tmp], dict(r.options), schema, conv.session.oracle.con)
        table = conv.session.collect(plan)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return conv.b.local(table, plan.schema())


HANDLERS = {
    "parse": parse,
    "tail": tail,
    "to_schema": to_schema,
    "unpivot": unpivot,
    "transpose": transpose,
    "zip": zip_,
}
