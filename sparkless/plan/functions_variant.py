"""Variant functions on DuckDB's VARIANT type.

DuckDB's VARIANT is Spark's (both are the Parquet variant encoding): it reaches the client
as Arrow ``struct<metadata, value>`` that pyspark reads as ``VariantVal``, and objects keep
their keys sorted, as Spark's do. Reading a value (``variant_get``) goes through the JSON
text of the variant with DuckDB's JSON paths (Spark's ``$.a[0]`` syntax); the edits
(``variant_set``/``insert``/``delete``...) and ``schema_of_variant`` are Python built-ins
over that JSON text (``executors.builtin_variant``).

Departure from Spark: ``parse_json`` stores a fractional number as DOUBLE where Spark keeps
a DECIMAL; the JSON text and values read back are the same, ``schema_of_variant`` says
DECIMAL for a fraction written without an exponent, as Spark does. DuckDB does not tell a
top-level JSON null from SQL NULL: ``parse_json('null')`` is NULL here (``is_variant_null``
false, ``to_json`` NULL) where Spark has a variant holding null.
"""

from __future__ import annotations

import json

from pyspark.sql.types import (
    ArrayType,
    BinaryType,
    BooleanType,
    DataType,
    MapType,
    NullType,
    StringType,
    StructType,
    VariantType,
)
from sqlglot import exp

from executors.builtins import call
from sparkless.errors import AnalysisException
from sparkless.plan.catalog import Call, register, register_aggregate, template
from sparkless.plan.types import duckdb_type_sql, parse_ddl


def _variant(c: Call, i: int) -> exp.Expression:
    t = c.type(i)
    if isinstance(t, (VariantType, NullType)):
        return exp.cast(c.arg(i), "VARIANT") if isinstance(t, NullType) else c.arg(i)
    raise AnalysisException(
        f'Cannot resolve "{c.name}" due to data type mismatch: the parameter {i + 1} requires '
        f'the "VARIANT" type, however it has the type "{t.simpleString().upper()}".',
        "DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE",
        sql_state="42K09",
    )


def _json_of(c: Call, i: int) -> exp.Expression:
    """The JSON text of argument ``i``: a variant's own, else ``to_json`` of the value."""
    t = c.type(i)
    if isinstance(t, VariantType):
        # DuckDB's VARIANT has no top-level JSON null apart from SQL NULL: a variant value
        # written into another is JSON null when NULL (a NULL literal is NullType instead).
        return template("coalesce(CAST(CAST({v} AS JSON) AS VARCHAR), 'null')", v=c.arg(i))
    if isinstance(t, NullType):
        return exp.cast(exp.null(), "VARCHAR")
    return template("CAST(to_json({v}) AS VARCHAR)", v=c.arg(i))


_TO_VARIANT = "CAST(CAST({j} AS JSON) AS VARIANT)"


@register("parse_json")
def _parse_json(c: Call) -> exp.Expression:
    s = c.arg(0)
    return template(
        "CASE WHEN {s} IS NULL THEN NULL WHEN json_valid({s}) THEN CAST(CAST({s} AS JSON) AS VARIANT) "
        "ELSE error('[MALFORMED_RECORD_IN_PARSING.WITHOUT_SUGGESTION] Malformed records are "
        "detected in record parsing: ' || {s} || '. Parse Mode: FAILFAST. To process malformed "
        "records as null result, try setting the option ''mode'' as ''PERMISSIVE''.') END",
        s=s,
    )


@register("try_parse_json")
def _try_parse_json(c: Call) -> exp.Expression:
    return template(
        "CASE WHEN json_valid({s}) THEN CAST(CAST({s} AS JSON) AS VARIANT) END",
        nullable=True,
        s=c.arg(0),
    )


@register("to_variant_object")
def _to_variant_object(c: Call) -> exp.Expression:
    if not isinstance(c.type(0), (StructType, ArrayType, MapType)):
        raise AnalysisException(
            f'Cannot resolve "to_variant_object" due to data type mismatch: the input must be a '
            f'struct, array or map, not "{c.type(0).simpleString().upper()}".',
            "DATATYPE_MISMATCH.CAST_WITHOUT_SUGGESTION",
            sql_state="42K09",
        )
    return template("CAST(to_json({v}) AS VARIANT)", nullable=True, v=c.arg(0))


@register("is_variant_null")
def _is_variant_null(c: Call) -> exp.Expression:
    out = template(
        "coalesce(json_type(CAST({v} AS JSON)) = 'NULL', false)", v=_variant(c, 0)
    )
    out.meta["nullable"] = False
    return out


@register("is_valid_variant")
def _is_valid_variant(c: Call) -> exp.Expression:
    """A DuckDB VARIANT is always well formed (DuckDB builds and checks it)."""
    return template("CASE WHEN {v} IS NULL THEN NULL ELSE true END", v=_variant(c, 0))


def _target(c: Call, i: int) -> DataType:
    value = c.literal_value(i)
    if not isinstance(value, str):
        raise AnalysisException(
            f"The target type of `{c.name}` must be a string literal.",
            "INVALID_SCHEMA.NON_STRING_LITERAL",
            sql_state="42K07",
        )
    return parse_ddl(value)


def _variant_get(c: Call, strict: bool) -> exp.Expression:
    v = _variant(c, 0)
    t = _target(c, 2)
    sub = template("json_extract(CAST({v} AS JSON), {p})", v=v, p=c.arg(1))
    if isinstance(t, VariantType):
        return template("CAST({x} AS VARIANT)", nullable=True, x=sub)
    bad = (
        f"error('[INVALID_VARIANT_CAST] The variant value `' || CAST({{x}} AS VARCHAR) || "
        f"'` cannot be cast into `{t.simpleString().upper()}`. Please use `try_variant_get` "
        "instead.')"
    )
    if isinstance(t, StringType):
        value = (
            "CASE WHEN {x} IS NULL OR json_type({x}) = 'NULL' THEN NULL "
            "WHEN json_type({x}) = 'VARCHAR' THEN {x} ->> '$' ELSE CAST({x} AS VARCHAR) END"
        )
    elif isinstance(t, (StructType, ArrayType, MapType)):
        from sparkless.plan.functions_json import _structure

        structure = json.dumps(_structure(t)).replace("'", "''")
        value = (
            f"CASE WHEN {{x}} IS NULL OR json_type({{x}}) = 'NULL' THEN NULL "
            f"ELSE TRY_CAST(json_transform({{x}}, '{structure}') AS {duckdb_type_sql(t)}) END"
        )
    elif isinstance(t, BinaryType):
        value = f"CASE WHEN {{x}} IS NULL OR json_type({{x}}) = 'NULL' THEN NULL ELSE {bad if strict else 'NULL'} END"
        value = f"CAST({value} AS BLOB)"
    else:
        target = duckdb_type_sql(t)
        scalar = "CASE WHEN json_type({x}) IN ('OBJECT', 'ARRAY') THEN NULL ELSE {x} ->> '$' END"
        if isinstance(t, BooleanType):
            cast = f"TRY_CAST({scalar} AS BOOLEAN)"
        else:
            cast = f"TRY_CAST({scalar} AS {target})"
        fail = bad if strict else "NULL"
        value = (
            f"CASE WHEN {{x}} IS NULL OR json_type({{x}}) = 'NULL' THEN NULL "
            f"WHEN {cast} IS NULL THEN CAST({fail} AS {target}) ELSE {cast} END"
        )
    return template(value, nullable=True, x=sub)


@register("variant_get")
def _variant_get_strict(c: Call) -> exp.Expression:
    return _variant_get(c, True)


@register("try_variant_get")
def _try_variant_get(c: Call) -> exp.Expression:
    return _variant_get(c, False)


@register("schema_of_variant")
def _schema_of_variant(c: Call) -> exp.Expression:
    return template(f"{call('schema_of_variant')}({{j}})", j=template("CAST(CAST({v} AS JSON) AS VARCHAR)", v=_variant(c, 0)))


@register_aggregate("schema_of_variant_agg")
def _schema_of_variant_agg(c: Call) -> exp.Expression:
    out = template(
        f"{call('schema_of_variant_merge')}(list({{j}}))",
        j=template("CAST(CAST({v} AS JSON) AS VARCHAR)", v=_variant(c, 0)),
    )
    out.meta["nullable"] = False
    return out


# --------------------------------------------------------------------------- edits


def _modify(c: Call, op: str, strict: bool, path: exp.Expression, value: exp.Expression,
            flag: bool) -> exp.Expression:
    j = template("CAST(CAST({v} AS JSON) AS VARCHAR)", v=_variant(c, 0))
    body = (
        f"{call('variant_modify')}('{op}', {{j}}, {{p}}, {{x}}, {'true' if flag else 'false'}, "
        f"{'true' if strict else 'false'})"
    )
    return template(_TO_VARIANT.replace("{j}", body), nullable=True, j=j, p=path, x=value)


def _editor(op: str, strict: bool):  # noqa: ANN202
    def translate(c: Call) -> exp.Expression:
        _variant(c, 0)
        flag = True
        if op == "set" and len(c.args) > 3:
            flag = bool(c.literal_value(3))
        return _modify(c, op, strict, c.arg(1), _json_of(c, 2), flag)

    return translate


for _op in ("array_append", "insert", "set"):
    register(f"variant_{_op}")(_editor(_op, True))
    register(f"try_variant_{_op}")(_editor(_op, False))


def _delete(strict: bool):  # noqa: ANN202
    def translate(c: Call) -> exp.Expression:
        out = _variant(c, 0)
        for i in range(1, len(c.args)):
            if isinstance(c.type(i), NullType):
                continue  # a NULL path deletes nothing
            j = template("CAST(CAST({v} AS JSON) AS VARCHAR)", v=out)
            body = (
                f"{call('variant_modify')}('delete', {{j}}, {{p}}, NULL, true, "
                f"{'true' if strict else 'false'})"
            )
            out = template(_TO_VARIANT.replace("{j}", body), nullable=True, j=j, p=c.arg(i))
        return out if len(c.args) > 1 else template("{v}", v=out)

    return translate


register("variant_delete")(_delete(True))
register("try_variant_delete")(_delete(False))


@register("variant_strip_nulls")
def _variant_strip_nulls(c: Call) -> exp.Expression:
    all_nulls = bool(c.literal_value(1)) if len(c.args) > 1 else True
    j = template("CAST(CAST({v} AS JSON) AS VARCHAR)", v=_variant(c, 0))
    body = (
        f"{call('variant_modify')}('strip_nulls', {{j}}, '$', NULL, "
        f"{'true' if all_nulls else 'false'}, true)"
    )
    return template(_TO_VARIANT.replace("{j}", body), nullable=True, j=j)
