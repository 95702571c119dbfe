"""The one place that maps data types between Spark, DuckDB, Arrow and Connect protos.

Spark types are pyspark's own classes (``pyspark.sql.types``): the client already
speaks them, the Connect proto converters accept them, and they carry Spark's
``simpleString``/``json`` renderings for free.
"""

from __future__ import annotations

from functools import lru_cache

import duckdb
import pyarrow as pa
from pyspark.sql.connect.proto import types_pb2
from pyspark.sql.connect.types import (
    proto_schema_to_pyspark_data_type,
    pyspark_types_to_proto_types,
)
from pyspark.sql.pandas.types import from_arrow_type, to_arrow_schema, to_arrow_type
from pyspark.sql.types import (
    ArrayType,
    BinaryType,
    BooleanType,
    ByteType,
    CalendarIntervalType,
    CharType,
    DataType,
    DateType,
    DayTimeIntervalType,
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    LongType,
    MapType,
    NullType,
    ShortType,
    StringType,
    StructField,
    StructType,
    TimestampNTZType,
    TimestampType,
    TimeType,
    VarcharType,
    VariantType,
    YearMonthIntervalType,
)
from sqlglot import exp
from sqlglot.dialects.spark import Spark
from sqlglot.errors import ErrorLevel, ParseError
from sqlglot.tokens import TokenType

__all__ = [
    "arrow_schema_of",
    "arrow_type_of",
    "ddl_parse_error",
    "duckdb_type_sql",
    "from_proto",
    "parse_ddl",
    "spark_type_from_arrow",
    "spark_type_from_duckdb",
    "to_proto",
]

# --------------------------------------------------------------------------- DuckDB -> Spark

# Leaf DuckDB type ids (``DuckDBPyType.id``) to Spark types. Unsigned integers widen to
# the next signed type so that every value fits; HUGEINT has no Spark integer, so it
# becomes the widest decimal Spark allows.
_DUCKDB_LEAVES: dict[str, DataType] = {
    "boolean": BooleanType(),
    "tinyint": ByteType(),
    "smallint": ShortType(),
    "integer": IntegerType(),
    "bigint": LongType(),
    "hugeint": DecimalType(38, 0),
    "utinyint": ShortType(),
    "usmallint": IntegerType(),
    "uinteger": LongType(),
    "ubigint": DecimalType(20, 0),
    "uhugeint": DecimalType(38, 0),
    "float": FloatType(),
    "double": DoubleType(),
    "varchar": StringType(),
    "uuid": StringType(),
    "enum": StringType(),
    "blob": BinaryType(),
    "bit": BinaryType(),
    "date": DateType(),
    "time": TimeType(6),
    "time_ns": TimeType(6),
    "timestamp": TimestampNTZType(),
    "timestamp_s": TimestampNTZType(),
    "timestamp_ms": TimestampNTZType(),
    "timestamp_ns": TimestampNTZType(),
    "timestamp with time zone": TimestampType(),
    "interval": DayTimeIntervalType(),
    "null": NullType(),
    "variant": VariantType(),
}


def spark_type_from_duckdb(t: duckdb.sqltypes.DuckDBPyType | str) -> DataType:
    """Spark type of a DuckDB result column; strings go through DuckDB's own type parser."""
    if isinstance(t, str):
        t = duckdb.sqltype(t)
    tid = t.id
    if tid == "decimal":
        params = dict(t.children)
        return DecimalType(params["precision"], params["scale"])
    if tid in ("list", "array"):
        return ArrayType(spark_type_from_duckdb(dict(t.children)["child"]), containsNull=True)
    if tid == "map":
        kv = dict(t.children)
        return MapType(spark_type_from_duckdb(kv["key"]), spark_type_from_duckdb(kv["value"]), True)
    if tid == "struct":
        return StructType(
            [StructField(name, spark_type_from_duckdb(child), True) for name, child in t.children]
        )
    try:
        return _DUCKDB_LEAVES[tid]
    except KeyError:
        raise TypeError(f"DuckDB type {t} has no Spark equivalent") from None


# --------------------------------------------------------------------------- Spark -> DuckDB

_DUCKDB_SQL: dict[type[DataType], str] = {
    BooleanType: "BOOLEAN",
    ByteType: "TINYINT",
    ShortType: "SMALLINT",
    IntegerType: "INTEGER",
    LongType: "BIGINT",
    FloatType: "FLOAT",
    DoubleType: "DOUBLE",
    StringType: "VARCHAR",
    CharType: "VARCHAR",
    VarcharType: "VARCHAR",
    BinaryType: "BLOB",
    DateType: "DATE",
    TimestampType: "TIMESTAMPTZ",
    TimestampNTZType: "TIMESTAMP",
    DayTimeIntervalType: "INTERVAL",
    YearMonthIntervalType: "INTERVAL",
    CalendarIntervalType: "INTERVAL",
    TimeType: "TIME",
    NullType: '"NULL"',
}


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def duckdb_type_sql(dt: DataType) -> str:
    """DuckDB SQL type text for a Spark type, usable in ``CAST(x AS ...)`` and DDL."""
    if isinstance(dt, DecimalType):
        return f"DECIMAL({dt.precision},{dt.scale})"
    if isinstance(dt, ArrayType):
        return f"{duckdb_type_sql(dt.elementType)}[]"
    if isinstance(dt, MapType):
        return f"MAP({duckdb_type_sql(dt.keyType)}, {duckdb_type_sql(dt.valueType)})"
    if isinstance(dt, StructType):
        if not dt.fields:
            raise TypeError("DuckDB has no empty STRUCT type")
        inner = ", ".join(
            f"{_quote_ident(f.name)} {duckdb_type_sql(f.dataType)}" for f in dt.fields
        )
        return f"STRUCT({inner})"
    try:
        return _DUCKDB_SQL[type(dt)]
    except KeyError:
        raise TypeError(f"Spark type {dt.simpleString()} has no DuckDB equivalent") from None


# --------------------------------------------------------------------------- Spark DDL


class _SparkDDL(Spark):
    """Spark dialect that also knows ``void`` (Spark's name for the NULL type)."""

    class Tokenizer(Spark.Tokenizer):
        KEYWORDS = {**Spark.Tokenizer.KEYWORDS, "VOID": TokenType.NULL}


def ddl_parse_error(text: str, pos: int, msg: str) -> ValueError:
    """The error for malformed DDL; the server wraps this hook into a ParseException."""
    return ValueError(f"{msg} (at position {pos} of {text!r})")


_LEAF_TYPES: dict[exp.DataType.Type, DataType] = {
    exp.DataType.Type.BOOLEAN: BooleanType(),
    exp.DataType.Type.TINYINT: ByteType(),
    exp.DataType.Type.SMALLINT: ShortType(),
    exp.DataType.Type.INT: IntegerType(),
    exp.DataType.Type.BIGINT: LongType(),
    exp.DataType.Type.FLOAT: FloatType(),
    exp.DataType.Type.DOUBLE: DoubleType(),
    exp.DataType.Type.TEXT: StringType(),
    exp.DataType.Type.BINARY: BinaryType(),
    exp.DataType.Type.DATE: DateType(),
    # Spark's default timestamp type (spark.sql.timestampType=TIMESTAMP_LTZ).
    exp.DataType.Type.TIMESTAMP: TimestampType(),
    exp.DataType.Type.TIMESTAMPTZ: TimestampType(),
    exp.DataType.Type.TIMESTAMPLTZ: TimestampType(),
    exp.DataType.Type.TIMESTAMPNTZ: TimestampNTZType(),
    exp.DataType.Type.NULL: NullType(),
    exp.DataType.Type.VARIANT: VariantType(),
}

_DT_FIELDS = {"DAY": 0, "HOUR": 1, "MINUTE": 2, "SECOND": 3}
_YM_FIELDS = {"YEAR": 0, "MONTH": 1}


def _int_params(node: exp.DataType) -> list[int]:
    return [int(p.this.this) for p in node.expressions]


def _interval_type(node: exp.Interval) -> DataType:
    unit = node.args.get("unit")
    if isinstance(unit, exp.IntervalSpan):
        start, end = unit.this.name.upper(), unit.expression.name.upper()
    elif unit is not None:
        start = end = unit.name.upper()
    else:
        raise ValueError("interval type needs a unit")
    if start in _YM_FIELDS and end in _YM_FIELDS:
        return YearMonthIntervalType(_YM_FIELDS[start], _YM_FIELDS[end])
    if start in _DT_FIELDS and end in _DT_FIELDS:
        return DayTimeIntervalType(_DT_FIELDS[start], _DT_FIELDS[end])
    raise ValueError(f"unsupported interval type INTERVAL {start} TO {end}")


def _field(col: exp.ColumnDef) -> StructField:
    nullable, metadata = True, {}
    for constraint in col.args.get("constraints") or []:
        kind = constraint.args.get("kind")
        if isinstance(kind, exp.NotNullColumnConstraint) and not kind.args.get("allow_null"):
            nullable = False
        elif isinstance(kind, exp.CommentColumnConstraint):
            metadata["comment"] = kind.this.name
        else:
            raise ValueError(f"unsupported field constraint {constraint.sql('spark')}")
    kind = col.args.get("kind")
    if kind is None:
        raise ValueError(f"field {col.name!r} has no type")
    return StructField(col.name, _to_spark(kind), nullable, metadata)


def _to_spark(node: exp.Expression) -> DataType:
    """Spark type of a sqlglot type tree parsed with the Spark dialect."""
    if isinstance(node, exp.DataType) and isinstance(node.this, exp.Interval):
        node = node.this
    if isinstance(node, exp.Interval):
        return _interval_type(node)
    if not isinstance(node, exp.DataType):
        raise ValueError(f"not a data type: {node.sql('spark')}")
    t = node.this
    if t in _LEAF_TYPES:
        return _LEAF_TYPES[t]
    if t == exp.DataType.Type.TIME:  # Spark 4.1's TIME(p), 6 by default
        params = _int_params(node)
        return TimeType(params[0]) if params else TimeType(6)
    if t == exp.DataType.Type.DECIMAL:
        params = _int_params(node)
        return DecimalType(*params) if params else DecimalType(10, 0)
    if t in (exp.DataType.Type.CHAR, exp.DataType.Type.VARCHAR):
        (length,) = _int_params(node) or [None]
        if length is None:
            raise ValueError(f"{t.value} needs a length")
        return CharType(length) if t == exp.DataType.Type.CHAR else VarcharType(length)
    if t == exp.DataType.Type.ARRAY:
        (element,) = node.expressions
        return ArrayType(_to_spark(element), containsNull=True)
    if t == exp.DataType.Type.MAP:
        key, value = node.expressions
        return MapType(_to_spark(key), _to_spark(value), valueContainsNull=True)
    if t == exp.DataType.Type.STRUCT:
        return StructType([_field(col) for col in node.expressions])
    raise ValueError(f"unsupported data type {node.sql('spark')}")


def _pos(err: ParseError) -> int:
    """0-based offset of the token sqlglot choked on (the text before it is its context)."""
    return len(err.errors[0].get("start_context") or "") if err.errors else 0


def _describe(err: ParseError) -> str:
    return str(err.errors[0].get("description")) if err.errors else str(err)


@lru_cache(maxsize=1024)
def _build(text: str) -> exp.DataType:
    """Strict parse of one Spark type: unlike ``DataType.build`` no trailing junk passes."""
    dialect = _SparkDDL()
    tokens = dialect.tokenize(text)
    for tok, nxt in zip(tokens, [*tokens[1:], None], strict=True):
        # sqlglot tolerates ``struct<a int,>``; Spark does not.
        if tok.token_type == TokenType.COMMA and (nxt is None or nxt.token_type == TokenType.GT):
            raise ParseError(
                "Syntax error",
                errors=[{"description": "Unexpected ','", "start_context": text[: tok.start]}],
            )
    parser = dialect.parser(error_level=ErrorLevel.RAISE, error_message_context=len(text))
    (node,) = parser.parse_into(exp.DataType, tokens, text)
    return node


def parse_ddl(text: str) -> DataType:
    """Parse Spark DDL as a client sends it: a single type or a field list.

    Accepts what pyspark's ``_parse_datatype_string`` accepts: a data type
    (``int``, ``struct<a:int>``), else a field list (``a INT, b STRING`` or
    ``a: int, b: string``) read as the fields of a ``struct<...>``. Field lists
    return a StructType, a single type returns itself.
    """
    stripped = text.strip()
    lead = len(text) - len(text.lstrip())
    if not stripped:
        raise ddl_parse_error(text, 0, "Syntax error, unexpected empty statement")
    try:
        node = _build(stripped)
    except ParseError as as_type:
        try:
            node = _build(f"struct<{stripped}>")
        except ParseError as as_fields:
            # Blame the reading that got further, at its place in the caller's text.
            type_pos, fields_pos = _pos(as_type), _pos(as_fields) - len("struct<")
            err, pos = (as_type, type_pos) if type_pos >= fields_pos else (as_fields, fields_pos)
            pos = min(max(pos, 0), len(stripped)) + lead
            raise ddl_parse_error(text, pos, _describe(err)) from err
    try:
        return _to_spark(node)
    except ValueError as err:
        raise ddl_parse_error(text, lead, str(err)) from err


# --------------------------------------------------------------------------- Arrow


def _null_fields_nullable(dt: DataType, top: bool = False) -> DataType:
    """Mark every NullType child nullable: Spark types ``array()`` as ``array<void>`` with
    ``containsNull=false``, but Arrow (and pyarrow) refuse a non-nullable null field.

    Struct fields inside a column are nullable too: a NULL struct's children are null in
    Arrow, which refuses them in a non-nullable child even though Spark's field is not
    null wherever the struct is (Spark's nullability stays in the plan's schema)."""
    if isinstance(dt, ArrayType):
        element = _null_fields_nullable(dt.elementType)
        return ArrayType(element, dt.containsNull or isinstance(element, NullType))
    if isinstance(dt, MapType):
        value = _null_fields_nullable(dt.valueType)
        return MapType(
            _null_fields_nullable(dt.keyType),
            value,
            dt.valueContainsNull or isinstance(value, NullType),
        )
    if isinstance(dt, StructType):
        return StructType(
            [
                StructField(
                    f.name,
                    _null_fields_nullable(f.dataType),
                    f.nullable or isinstance(f.dataType, NullType) or not top,
                    f.metadata,
                )
                for f in dt.fields
            ]
        )
    return dt


def arrow_type_of(dt: DataType) -> pa.DataType:
    """Arrow type Spark Connect uses on the wire (timestamps as ``timestamp[us, tz=UTC]``);
    year-month and calendar intervals as DuckDB's month_day_nano (see arrow_schema_of)."""
    if isinstance(dt, (YearMonthIntervalType, CalendarIntervalType)):
        return pa.month_day_nano_interval()
    return to_arrow_type(_null_fields_nullable(dt), timezone="UTC")


def spark_type_from_arrow(at: pa.DataType) -> DataType:
    """Spark type of an Arrow type; tz-naive timestamps are TIMESTAMP_NTZ."""
    return from_arrow_type(at, prefer_timestamp_ntz=True)


def arrow_schema_of(struct: StructType) -> pa.Schema:
    """Arrow schema for a result; duplicate names are legal in Spark results (``a JOIN a``).

    Year-month and calendar intervals have no Arrow type pyarrow can make: such a column
    stays DuckDB's month_day_nano (show() formats it; the client cannot read it)."""
    months = [i for i, f in enumerate(struct.fields)
              if isinstance(f.dataType, (YearMonthIntervalType, CalendarIntervalType))]
    if months:
        struct = StructType([
            StructField(f.name, DayTimeIntervalType(), f.nullable, f.metadata) if i in months else f
            for i, f in enumerate(struct.fields)
        ])
    schema = to_arrow_schema(
        _null_fields_nullable(struct, top=True),
        error_on_duplicated_field_names_in_struct=False,
        timezone="UTC",
    )
    for i in months:
        schema = schema.set(i, schema.field(i).with_type(pa.month_day_nano_interval()))
    return schema


# --------------------------------------------------------------------------- Connect protos


def to_proto(dt: DataType) -> types_pb2.DataType:
    """Connect proto of a Spark type (schemas in AnalyzePlan responses)."""
    return pyspark_types_to_proto_types(dt)


def from_proto(proto: types_pb2.DataType) -> DataType:
    """Spark type of a Connect proto (schemas in LocalRelation, casts, UDF return types)."""
    return proto_schema_to_pyspark_data_type(proto)
