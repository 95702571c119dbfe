"""Text-format functions: XPath, CSV, URLs, base32, UTF-8 checks.

What DuckDB can say is SQL; the parsing DuckDB cannot do (XPath, CSV records with quotes,
java.net.URI's reading of a URL) calls the Python built-ins of
``executors.builtin_formats`` (see ``executors.builtins``).
"""

from __future__ import annotations

from pyspark.sql.types import (
    BinaryType,
    DataType,
    StringType,
    StructType,
    _parse_datatype_json_string,
)
from sqlglot import exp

from executors.builtins import call
from sparkless.errors import AnalysisException, unsupported
from sparkless.plan.catalog import Call, register, template
from sparkless.plan.types import duckdb_type_sql, parse_ddl


def text(c: Call, i: int) -> exp.Expression:
    a = c.arg(i)
    return a if isinstance(c.type(i), StringType) else exp.cast(a, "VARCHAR")


def options(c: Call, i: int) -> dict[str, str]:
    """A ``map(lit k, lit v, ...)`` options argument (the client's ``_options_to_col``)."""
    if i >= len(c.args):
        return {}
    values = [lit.this for lit in c.arg(i).dfs() if isinstance(lit, exp.Literal)]
    if not values and not isinstance(c.arg(i), exp.Null):
        raise AnalysisException(
            f"Must use the `map()` function for options of `{c.name}`.",
            "INVALID_OPTIONS.NON_MAP_FUNCTION",
            sql_state="42K06",
        )
    keys = values[: len(values) // 2]
    vals = values[len(values) // 2 :]
    if _interleaved(c.arg(i)):
        keys, vals = values[0::2], values[1::2]
    return {str(k): str(v) for k, v in zip(keys, vals, strict=True)}


def _interleaved(m: exp.Expression) -> bool:
    """``MAP {k: v, ...}`` lists key, value pairs; ``MAP([keys], [values])`` keys first."""
    return not (isinstance(m, (exp.Map, exp.VarMap)) and isinstance(m.args.get("keys"), exp.Array))


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def struct_schema(c: Call, i: int, what: str) -> StructType:
    """``literal_schema`` that must be a struct (from_csv / from_xml rows)."""
    schema = literal_schema(c, i, what)
    if not isinstance(schema, StructType):
        raise AnalysisException(
            f"Schema should be struct type but got {schema.simpleString()}.",
            "INVALID_SCHEMA.NON_STRUCT_TYPE",
            sql_state="42K07",
        )
    return schema


def literal_schema(c: Call, i: int, what: str) -> DataType:
    value = c.literal_value(i)
    if not isinstance(value, str):
        raise AnalysisException(
            f"The schema of {what} must be a string literal.",
            "INVALID_SCHEMA.NON_STRING_LITERAL",
            sql_state="42K07",
        )
    if value.lstrip().startswith("{"):  # a StructType the client sent as its JSON
        return _parse_datatype_json_string(value)
    return parse_ddl(value)


# --------------------------------------------------------------------------- XPath


def _xpath(fn: str, returns_nullable: bool = True):  # noqa: ANN202
    def translate(c: Call) -> exp.Expression:
        if not c.is_literal(1):
            raise AnalysisException(
                f"The path of `{c.name}` must be a string literal.",
                "DATATYPE_MISMATCH.NON_FOLDABLE_INPUT",
                sql_state="42K09",
            )
        return template(f"{call(fn)}({{x}}, {{p}})", nullable=returns_nullable,
                        x=text(c, 0), p=text(c, 1))

    return translate


register("xpath")(_xpath("xpath"))
register("xpath_boolean")(_xpath("xpath_boolean"))
register("xpath_string")(_xpath("xpath_string"))


@register("xpath_double", "xpath_number")
def _xpath_double(c: Call) -> exp.Expression:
    return exp.cast(_xpath("xpath_double")(c), "DOUBLE")


register("xpath_long")(_xpath("xpath_long"))
register("xpath_int")(_xpath("xpath_int"))
register("xpath_short")(_xpath("xpath_short"))


@register("xpath_float")
def _xpath_float(c: Call) -> exp.Expression:
    return exp.cast(_xpath_double(c), "FLOAT")


# --------------------------------------------------------------------------- CSV


def _flag(opts: dict[str, str], key: str, default: bool) -> bool:
    v = opts.get(key)
    return default if v is None else v.strip().lower() == "true"


@register("from_csv")
def _from_csv(c: Call) -> exp.Expression:
    schema = struct_schema(c, 1, "from_csv")
    opts = options(c, 2)
    sep = opts.get("sep", opts.get("delimiter", ","))
    fields_sql = (
        f"{call('csv_fields')}({{s}}, {_sql_str(sep)}, {_sql_str(opts.get('quote', chr(34)))}, "
        f"{_sql_str(opts.get('escape', chr(92)))}, "
        f"{'true' if _flag(opts, 'ignoreLeadingWhiteSpace', False) else 'false'}, "
        f"{'true' if _flag(opts, 'ignoreTrailingWhiteSpace', False) else 'false'})"
    )
    parts, nulls, bad = [], [], []
    for n, f in enumerate(schema.fields, start=1):
        target = duckdb_type_sql(f.dataType)
        raw = f"list_extract(__f, {n})"
        value = raw
        if not isinstance(f.dataType, StringType):
            value = f"TRY_CAST(trim({raw}) AS {target})"
            bad.append(f"({raw} IS NOT NULL AND {value} IS NULL)")
        name = f"'{f.name.replace(chr(39), chr(39) * 2)}'"
        parts.append(f"{name}: {value}")
        nulls.append(f"{name}: CAST(NULL AS {target})")
    # PERMISSIVE: a field that does not parse makes the record malformed, all fields NULL.
    record = f"{{{', '.join(parts)}}}"
    if bad:
        record = f"CASE WHEN {' OR '.join(bad)} THEN {{{', '.join(nulls)}}} ELSE {record} END"
    body = f"(SELECT {record} FROM (SELECT {fields_sql} AS __f))"
    out = template(
        f"CASE WHEN {{s}} IS NULL THEN NULL ELSE {body} END", nullable=True, s=text(c, 0)
    )
    return out


def _csv_infer(value: str) -> str:
    """Spark's CSV type inference for one field (nullValue "" is NULL: STRING)."""
    v = value.strip()
    if v == "":
        return "NULL"
    try:
        n = int(v)
        return "INT" if -(2**31) <= n < 2**31 else "BIGINT" if -(2**63) <= n < 2**63 else "DECIMAL"
    except ValueError:
        pass
    try:
        float(v)
        return "DOUBLE"
    except ValueError:
        pass
    if v.lower() in ("true", "false"):
        return "BOOLEAN"
    return "STRING"


@register("schema_of_csv")
def _schema_of_csv(c: Call) -> exp.Expression:
    import csv

    value = c.literal_value(0)
    if not isinstance(value, str):
        raise AnalysisException(
            "The input csv of schema_of_csv must be a string literal.",
            "DATATYPE_MISMATCH.NON_FOLDABLE_INPUT",
            sql_state="42K09",
        )
    opts = options(c, 1)
    sep = opts.get("sep", opts.get("delimiter", ","))
    row = next(csv.reader([value], delimiter=sep, quotechar=opts.get("quote", '"')), [])
    types = []
    for i, field in enumerate(row):
        t = _csv_infer(field)
        types.append(f"_c{i}: {'STRING' if t == 'NULL' else t}")
    out = exp.Literal.string(f"STRUCT<{', '.join(types)}>")
    out.meta["nullable"] = False
    return out


@register("to_csv")
def _to_csv(c: Call) -> exp.Expression:
    """Fields as Spark casts them to text, quoted when they hold the separator, a quote or a
    line break (univocity's writer), leading/trailing blanks trimmed, NULL as empty."""
    t = c.type(0)
    if not isinstance(t, StructType):
        raise unsupported("to_csv of a non-struct value")
    opts = options(c, 1)
    sep = opts.get("sep", opts.get("delimiter", ","))
    quote = opts.get("quote", '"')
    items = []
    for f in t.fields:
        v = f"CAST(({{s}}).{_quote_ident(f.name)} AS VARCHAR)"
        if str(f.dataType.simpleString()) == "boolean":
            v = f"CASE WHEN ({{s}}).{_quote_ident(f.name)} THEN 'true' ELSE 'false' END"
        v = f"trim({v}, ' \t')"
        special = f"contains({v}, {_sql_str(sep)}) OR contains({v}, {_sql_str(quote)}) OR contains({v}, chr(10)) OR contains({v}, chr(13))"
        quoted = f"{_sql_str(quote)} || replace({v}, {_sql_str(quote)}, {_sql_str(chr(92) + quote)}) || {_sql_str(quote)}"
        items.append(
            f"CASE WHEN ({{s}}).{_quote_ident(f.name)} IS NULL THEN '' "
            f"WHEN {v} = '' THEN '{quote}{quote}' WHEN {special} THEN {quoted} ELSE {v} END"
        )
    body = " || " + _sql_str(sep) + " || "
    return template(
        f"CASE WHEN {{s}} IS NULL THEN NULL ELSE {body.join(items) or chr(39) * 2} END",
        nullable=True,
        s=c.arg(0),
    )


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --------------------------------------------------------------------------- URLs


def _parse_url(c: Call, strict: bool) -> exp.Expression:
    key = text(c, 2) if len(c.args) > 2 else exp.cast(exp.null(), "VARCHAR")
    return template(
        f"{call('parse_url')}({{u}}, {{p}}, {{k}}, {'true' if strict else 'false'})",
        nullable=True,
        u=text(c, 0),
        p=text(c, 1),
        k=key,
    )


@register("parse_url")
def _parse_url_strict(c: Call) -> exp.Expression:
    return _parse_url(c, c.ansi)


@register("try_parse_url")
def _try_parse_url(c: Call) -> exp.Expression:
    return _parse_url(c, False)


@register("url_decode")
def _url_decode(c: Call) -> exp.Expression:
    return template(f"{call('url_decode')}({{s}}, true)", s=text(c, 0))


@register("try_url_decode")
def _try_url_decode(c: Call) -> exp.Expression:
    return template(f"{call('url_decode')}({{s}}, false)", nullable=True, s=text(c, 0))


# --------------------------------------------------------------------------- base32, UTF-8


def bytes_arg(c: Call, i: int) -> exp.Expression:
    a = c.arg(i)
    return a if isinstance(c.type(i), BinaryType) else template("encode({s})", s=text(c, i))


@register("to_base32")
def _to_base32(c: Call) -> exp.Expression:
    return template(f"{call('to_base32')}({{b}})", b=bytes_arg(c, 0))


@register("from_base32")
def _from_base32(c: Call) -> exp.Expression:
    return template(f"{call('from_base32')}({{s}})", nullable=True, s=text(c, 0))


# DuckDB's VARCHAR is valid UTF-8 by construction (decode() rejects bad bytes), so a string
# is always valid; the checks matter for binary input, whose bytes are tested here.


@register("is_valid_utf8")
def _is_valid_utf8(c: Call) -> exp.Expression:
    if isinstance(c.type(0), BinaryType):
        return template("CASE WHEN {b} IS NULL THEN NULL ELSE try(decode({b})) IS NOT NULL END",
                        b=c.arg(0))
    return template("CASE WHEN {s} IS NULL THEN NULL ELSE true END", s=text(c, 0))


@register("make_valid_utf8", "validate_utf8", "try_validate_utf8")
def _utf8_identity(c: Call) -> exp.Expression:
    if isinstance(c.type(0), BinaryType):
        raise unsupported(f"{c.name} of binary input")
    return template("CAST({s} AS VARCHAR)", s=c.arg(0))


# --------------------------------------------------------------------------- XML


@register("from_xml")
def _from_xml(c: Call) -> exp.Expression:
    import json

    from sparkless.plan.functions_json import _structure

    schema = struct_schema(c, 1, "from_xml")
    structure = json.dumps(_structure(schema)).replace("'", "''")
    spec = _sql_str(schema.json())
    target = duckdb_type_sql(schema)
    return template(
        f"CASE WHEN {{s}} IS NULL THEN NULL ELSE CAST(json_transform("
        f"{call('xml_to_json')}({{s}}, {spec}), '{structure}') AS {target}) END",
        nullable=True,
        s=text(c, 0),
    )


@register("schema_of_xml")
def _schema_of_xml(c: Call) -> exp.Expression:
    from executors.builtin_xml import infer, parse

    value = c.literal_value(0)
    root = parse(value) if isinstance(value, str) else None
    if root is None:
        raise AnalysisException(
            f"The input xml of schema_of_xml must be a well-formed XML string literal, got {value!r}.",
            "DATATYPE_MISMATCH.NON_FOLDABLE_INPUT",
            sql_state="42K09",
        )
    opts = options(c, 1)
    inferred = infer(root, _flag(opts, "excludeAttribute", False))
    if not inferred.startswith("STRUCT<"):
        inferred = f"STRUCT<{'_VALUE'}: {inferred}>"
    out = exp.Literal.string(inferred)
    out.meta["nullable"] = False
    return out


@register("to_xml")
def _to_xml(c: Call) -> exp.Expression:
    if not isinstance(c.type(0), StructType):
        raise unsupported("to_xml of a non-struct value")
    tag = options(c, 1).get("rowTag", "ROW")
    return template(
        f"{call('to_xml')}(CAST(to_json({{s}}) AS VARCHAR), {_sql_str(tag)})", nullable=True,
        s=c.arg(0)
    )
