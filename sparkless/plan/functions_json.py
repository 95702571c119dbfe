"""JSON functions: Spark's schemas for from_json (DDL or JSON text), NULL for malformed
input, Spark's result types; written as DuckDB json_* SQL."""

from __future__ import annotations

import json
import re

from pyspark.sql.types import (
    ArrayType,
    DataType,
    MapType,
    StringType,
    StructType,
    _parse_datatype_json_string,
)
from sqlglot import exp

from sparkless.errors import AnalysisException, unsupported
from sparkless.plan.catalog import Call, register, template
from sparkless.plan.types import duckdb_type_sql, parse_ddl


def _schema(c: Call, i: int) -> DataType:
    text = c.literal_value(i)
    if not isinstance(text, str):
        raise AnalysisException(
            "The schema of from_json must be a string literal.",
            "INVALID_SCHEMA.NON_STRING_LITERAL",
            sql_state="42K07",
        )
    if text.lstrip().startswith("{"):
        return _parse_datatype_json_string(text)
    return parse_ddl(text)


def _structure(t: DataType) -> object:
    """DuckDB's json_transform structure for a Spark type."""
    if isinstance(t, StructType):
        return {f.name: _structure(f.dataType) for f in t.fields}
    if isinstance(t, ArrayType):
        return [_structure(t.elementType)]
    if isinstance(t, MapType):
        if not isinstance(t.keyType, StringType):
            raise unsupported("from_json to a map with non-string keys")
        return duckdb_type_sql(t)
    return duckdb_type_sql(t)


@register("from_json")
def _from_json(c: Call) -> exp.Expression:
    if len(c.args) > 2:
        raise unsupported("from_json with options")
    t = _schema(c, 1)
    structure = json.dumps(_structure(t)).replace("'", "''")
    target = duckdb_type_sql(t)
    parsed = f"CAST(json_transform({{s}}, '{structure}') AS {target})"
    if isinstance(t, StructType):
        # PERMISSIVE: a malformed record or a non-object is a struct of NULLs.
        empty = f"CAST(json_transform('{{}}', '{structure}') AS {target})"
        body = (
            f"CASE WHEN {{s}} IS NULL THEN NULL WHEN json_valid({{s}}) AND json_type({{s}}) = 'OBJECT' "
            f"THEN {parsed} ELSE {empty} END"
        )
    else:
        body = f"CASE WHEN json_valid({{s}}) THEN {parsed} END"
    return template(body, nullable=True, s=c.arg(0))


@register("json_array_length")
def _json_array_length(c: Call) -> exp.Expression:
    return template(
        "CASE WHEN json_valid({s}) AND json_type({s}) = 'ARRAY' "
        "THEN CAST(json_array_length({s}) AS INTEGER) END",
        nullable=True,
        s=c.arg(0),
    )


@register("json_object_keys")
def _json_object_keys(c: Call) -> exp.Expression:
    return template(
        "CASE WHEN json_valid({s}) AND json_type({s}) = 'OBJECT' THEN json_keys({s}) END",
        nullable=True,
        s=c.arg(0),
    )


def _infer(value: object) -> str:
    """Spark's schema_of_json inference: integers bigint, fractions double, fields sorted."""
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, int):
        return "BIGINT"
    if isinstance(value, float):
        return "DOUBLE"
    if isinstance(value, str) or value is None:
        return "STRING"
    if isinstance(value, list):
        elems = {_infer(v) for v in value if v is not None}
        if len(elems) > 1 and elems <= {"BIGINT", "DOUBLE"}:
            elems = {"DOUBLE"}
        elem = elems.pop() if len(elems) == 1 else "STRING"
        return f"ARRAY<{elem}>"
    assert isinstance(value, dict)
    fields = ", ".join(f"{k}: {_infer(v)}" for k, v in sorted(value.items()))
    return f"STRUCT<{fields}>"


@register("schema_of_json")
def _schema_of_json(c: Call) -> exp.Expression:
    from sparkless.plan.functions_formats import options

    opts = {k.lower(): v.lower() for k, v in options(c, 1).items()}
    text = str(c.literal_value(0))
    if opts.get("allowunquotedfieldnames") == "true":  # Jackson's ALLOW_UNQUOTED_FIELD_NAMES
        text = re.sub(r'([{,]\s*)([A-Za-z_$][\w$]*)(\s*:)', r'\1"\2"\3', text)
    try:
        value = json.loads(text)
    except ValueError:
        raise unsupported("schema_of_json of malformed JSON") from None
    out = exp.Literal.string(_infer(value))
    out.meta["nullable"] = False
    return out
