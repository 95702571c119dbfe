"""Type mapping between Spark, DuckDB, Arrow, Connect protos, and Spark DDL text."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest
from pyspark.sql.types import (
    ArrayType,
    BinaryType,
    BooleanType,
    ByteType,
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
    VarcharType,
    YearMonthIntervalType,
)

from sparkless.plan.types import (
    arrow_schema_of,
    arrow_type_of,
    ddl_parse_error,
    duckdb_type_sql,
    from_proto,
    parse_ddl,
    spark_type_from_arrow,
    spark_type_from_duckdb,
    to_proto,
)
from tests.conftest import classic_mode

NESTED = StructType(
    [
        StructField("a b", ArrayType(MapType(StringType(), DecimalType(12, 3)))),
        StructField('q"uote', StructType([StructField("x", TimestampType())])),
        StructField("n", ArrayType(ArrayType(LongType()))),
    ]
)

# --------------------------------------------------------------------------- DuckDB


@pytest.mark.parametrize(
    ("duck", "spark"),
    [
        ("BOOLEAN", BooleanType()),
        ("TINYINT", ByteType()),
        ("SMALLINT", ShortType()),
        ("INTEGER", IntegerType()),
        ("BIGINT", LongType()),
        ("HUGEINT", DecimalType(38, 0)),
        ("UTINYINT", ShortType()),
        ("USMALLINT", IntegerType()),
        ("UINTEGER", LongType()),
        ("UBIGINT", DecimalType(20, 0)),
        ("FLOAT", FloatType()),
        ("DOUBLE", DoubleType()),
        ("DECIMAL(10,2)", DecimalType(10, 2)),
        ("VARCHAR", StringType()),
        ("BLOB", BinaryType()),
        ("DATE", DateType()),
        ("TIMESTAMP WITH TIME ZONE", TimestampType()),
        ("TIMESTAMPTZ", TimestampType()),
        ("TIMESTAMP", TimestampNTZType()),
        ("TIMESTAMP_NS", TimestampNTZType()),
        ("INTERVAL", DayTimeIntervalType()),
        ('"NULL"', NullType()),
        ("INTEGER[]", ArrayType(IntegerType(), True)),
        ("VARCHAR[3]", ArrayType(StringType(), True)),
        ("MAP(VARCHAR, DOUBLE[])", MapType(StringType(), ArrayType(DoubleType()), True)),
        (
            'STRUCT("a b" INTEGER, "c,d" MAP(VARCHAR, STRUCT("x""y" DATE)))',
            StructType(
                [
                    StructField("a b", IntegerType()),
                    StructField(
                        "c,d", MapType(StringType(), StructType([StructField('x"y', DateType())]))
                    ),
                ]
            ),
        ),
    ],
)
def test_spark_type_from_duckdb(duck: str, spark: DataType) -> None:
    assert spark_type_from_duckdb(duck) == spark
    assert spark_type_from_duckdb(duckdb.sqltype(duck)) == spark


def test_spark_type_from_duckdb_result_columns() -> None:
    rel = duckdb.sql(
        "SELECT NULL AS n, [1, 2] AS l, {'k v': 1.5} AS s, 1::HUGEINT AS h, "
        "INTERVAL 1 DAY AS i, MAP {'a': [true]} AS m, now() AS t"
    )
    assert [spark_type_from_duckdb(t) for t in rel.types] == [
        NullType(),
        ArrayType(IntegerType()),
        StructType([StructField("k v", DecimalType(2, 1))]),
        DecimalType(38, 0),
        DayTimeIntervalType(),
        MapType(StringType(), ArrayType(BooleanType())),
        TimestampType(),
    ]


def test_spark_type_from_duckdb_rejects_union() -> None:
    with pytest.raises(TypeError):
        spark_type_from_duckdb("UNION(a INTEGER, b VARCHAR)")


@pytest.mark.parametrize(
    ("spark", "back"),
    [
        (BooleanType(), None),
        (ByteType(), None),
        (ShortType(), None),
        (IntegerType(), None),
        (LongType(), None),
        (FloatType(), None),
        (DoubleType(), None),
        (DecimalType(38, 10), None),
        (StringType(), None),
        (CharType(3), StringType()),
        (VarcharType(3), StringType()),
        (BinaryType(), None),
        (DateType(), None),
        (TimestampType(), None),
        (TimestampNTZType(), None),
        (DayTimeIntervalType(), None),
        (YearMonthIntervalType(), DayTimeIntervalType()),
        (NullType(), None),
        (ArrayType(ArrayType(IntegerType())), None),
        (NESTED, None),
    ],
)
def test_duckdb_type_sql_round_trips_and_casts(spark: DataType, back: DataType | None) -> None:
    sql = duckdb_type_sql(spark)
    assert spark_type_from_duckdb(sql) == (back or spark)
    (duck_type,) = duckdb.sql(f"SELECT CAST(NULL AS {sql}) AS x").types
    assert spark_type_from_duckdb(duck_type) == (back or spark)


def test_duckdb_type_sql_names() -> None:
    assert duckdb_type_sql(TimestampType()) == "TIMESTAMPTZ"
    assert duckdb_type_sql(TimestampNTZType()) == "TIMESTAMP"
    assert duckdb_type_sql(StringType()) == "VARCHAR"
    assert duckdb_type_sql(NullType()) == '"NULL"'
    with pytest.raises(TypeError):
        duckdb_type_sql(StructType([]))


# --------------------------------------------------------------------------- DDL


def _f(name: str, dt: DataType, nullable: bool = True, comment: str | None = None) -> StructField:
    return StructField(name, dt, nullable, {"comment": comment} if comment else {})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a INT, b STRING", StructType([_f("a", IntegerType()), _f("b", StringType())])),
        ("a: int, b: string", StructType([_f("a", IntegerType()), _f("b", StringType())])),
        (
            "struct<a:int,b:array<string>>",
            StructType([_f("a", IntegerType()), _f("b", ArrayType(StringType()))]),
        ),
        ("int", IntegerType()),
        ("  bigint ", LongType()),
        ("decimal(10,2)", DecimalType(10, 2)),
        ("decimal", DecimalType(10, 0)),
        ("map<string,int>", MapType(StringType(), IntegerType())),
        ("a INT NOT NULL", StructType([_f("a", IntegerType(), False)])),
        (
            "a INT COMMENT 'the a', `b c` void NOT NULL",
            StructType([_f("a", IntegerType(), comment="the a"), _f("b c", NullType(), False)]),
        ),
        (
            "x interval day to second, y interval year",
            StructType([_f("x", DayTimeIntervalType(0, 3)), _f("y", YearMonthIntervalType(0, 0))]),
        ),
        ("timestamp", TimestampType()),
        ("timestamp_ntz", TimestampNTZType()),
        ("a varchar(3), b char(2)", StructType([_f("a", VarcharType(3)), _f("b", CharType(2))])),
        (
            "order int, from string, timestamp timestamp",
            StructType(
                [
                    _f("order", IntegerType()),
                    _f("from", StringType()),
                    _f("timestamp", TimestampType()),
                ]
            ),
        ),
        ("tinyint", ByteType()),
        ("long", LongType()),
        ("short", ShortType()),
        ("byte", ByteType()),
        ("binary", BinaryType()),
    ],
)
def test_parse_ddl(text: str, expected: DataType) -> None:
    assert parse_ddl(text) == expected


@pytest.mark.parametrize(
    ("text", "pos"),
    [("a int,", 5), ("a int b", 6), ("map<int", 7), (" a int, b", 8), ("", 0)],
)
def test_parse_ddl_errors_carry_position(text: str, pos: int) -> None:
    with pytest.raises(ValueError, match=f"at position {pos} of"):
        parse_ddl(text)


def test_ddl_parse_error_is_a_hook() -> None:
    err = ddl_parse_error("a int,", 5, "boom")
    assert isinstance(err, ValueError) and "boom" in str(err) and "position 5" in str(err)


# --------------------------------------------------------------------------- Arrow and proto


def test_arrow_timestamps_are_microseconds() -> None:
    assert arrow_type_of(TimestampType()) == pa.timestamp("us", tz="UTC")
    assert arrow_type_of(TimestampNTZType()) == pa.timestamp("us")
    assert spark_type_from_arrow(pa.timestamp("us", tz="UTC")) == TimestampType()
    assert spark_type_from_arrow(pa.timestamp("ns")) == TimestampNTZType()


@pytest.mark.parametrize(
    "dt",
    [
        IntegerType(),
        DecimalType(20, 4),
        DateType(),
        DayTimeIntervalType(),
        BinaryType(),
        NESTED,
        MapType(StringType(), ArrayType(DoubleType(), False), False),
    ],
)
def test_arrow_round_trip(dt: DataType) -> None:
    assert spark_type_from_arrow(arrow_type_of(dt)) == dt


def test_arrow_schema_allows_duplicates_and_void_elements() -> None:
    schema = StructType(
        [_f("a", IntegerType()), _f("a", StringType()), _f("v", ArrayType(NullType(), False))]
    )
    arrow = arrow_schema_of(schema)
    assert arrow.names == ["a", "a", "v"]
    assert arrow.field(2).type == pa.list_(pa.field("element", pa.null(), nullable=True))


@pytest.mark.parametrize("dt", [NESTED, DecimalType(5, 1), TimestampNTZType(), NullType()])
def test_proto_round_trip(dt: DataType) -> None:
    assert from_proto(to_proto(dt)) == dt


# --------------------------------------------------------------------------- oracle

ORACLE_DDL = [
    "a INT, b STRING",
    "a: int, b: string",
    "struct<a:int,b:array<string>>",
    "int",
    "decimal(10,2)",
    "map<string,int>",
    "a INT NOT NULL",
    "a INT COMMENT 'c', b array<struct<x: double not null>>",
    "`a b` map<string, array<map<int, binary>>>, c date",
    "x interval day to second, y interval year to month, z interval hour",
    "a varchar(3), b char(2)",
    "timestamp_ntz",
    "a timestamp, b timestamp_ltz",
    "a void",
    "array<long>",
]


@pytest.fixture()
def spark(oracle):
    """The run's one classic Apache Spark session (tests/conftest.py), as the oracle."""
    with classic_mode():
        yield oracle


@pytest.mark.oracle
@pytest.mark.parametrize("text", ORACLE_DDL)
def test_parse_ddl_matches_spark(spark, text: str) -> None:
    from pyspark.sql.types import _parse_datatype_string

    assert parse_ddl(text).json() == _parse_datatype_string(text).json()


@pytest.mark.oracle
@pytest.mark.parametrize("text", ["a int,", "a int b", "map<int", "array<int>>", "struct<a int,>"])
def test_parse_ddl_rejects_what_spark_rejects(spark, text: str) -> None:
    from pyspark.sql.types import _parse_datatype_string

    with pytest.raises(Exception):  # noqa: B017 - any Spark parse error
        _parse_datatype_string(text)
    with pytest.raises(ValueError):
        parse_ddl(text)
