"""Sources: spark.read parquet/csv/json, createDataFrame in all its forms, spark.range."""

from __future__ import annotations

import datetime as dt
import decimal

import pandas as pd
import pytest
from pyspark.sql import Row
from pyspark.sql.types import (
    BooleanType,
    DateType,
    DecimalType,
    DoubleType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from tests.e2e.data import PEOPLE, PEOPLE_COLUMNS, PEOPLE_DDL

PEOPLE_STRUCT = StructType([
    StructField("id", IntegerType(), False),
    StructField("name", StringType(), True),
    StructField("dept", StringType(), True),
    StructField("salary", DoubleType(), True),
    StructField("age", IntegerType(), True),
    StructField("active", BooleanType(), True),
])


# ---------------------------------------------------------------- files


def test_read_parquet_file(compare, datadir):
    compare(lambda s: s.read.parquet(str(datadir / "people.parquet")))


def test_read_parquet_directory_of_files(compare, datadir):
    compare(lambda s: s.read.parquet(str(datadir / "people_parquet")))


def test_read_parquet_via_format_load(compare, datadir):
    compare(lambda s: s.read.format("parquet").load(str(datadir / "people_parquet")))


def test_read_csv_without_options_is_all_strings(compare, datadir):
    compare(lambda s: s.read.csv(str(datadir / "people.csv")))


def test_read_csv_header(compare, datadir):
    compare(lambda s: s.read.option("header", True).csv(str(datadir / "people.csv")))


def test_read_csv_header_infer_schema(compare, datadir):
    compare(lambda s: s.read.csv(str(datadir / "people.csv"), header=True, inferSchema=True))


def test_read_csv_explicit_ddl_schema(compare, datadir):
    compare(lambda s: s.read.schema(PEOPLE_DDL).csv(str(datadir / "people_noheader.csv")))


def test_read_csv_explicit_struct_schema_with_header(compare, datadir):
    compare(lambda s: s.read.csv(str(datadir / "people.csv"), schema=PEOPLE_STRUCT, header=True))


def test_read_csv_directory(compare, datadir):
    compare(lambda s: s.read.options(header="true", inferSchema="true")
            .csv(str(datadir / "csv_dir")))


def test_read_csv_format_load(compare, datadir):
    compare(lambda s: s.read.format("csv").option("header", "true")
            .load(str(datadir / "people.csv")))


def test_read_json(compare, datadir):
    compare(lambda s: s.read.json(str(datadir / "people.json")))


def test_read_json_explicit_schema(compare, datadir):
    compare(lambda s: s.read.schema(PEOPLE_DDL).json(str(datadir / "people.json")))


def test_read_then_transform(compare, datadir):
    compare(lambda s: s.read.parquet(str(datadir / "people.parquet"))
            .where("salary > 70").select("name", "salary"))


# ---------------------------------------------------------------- createDataFrame


def test_create_from_tuples_with_column_names(compare):
    compare(lambda s: s.createDataFrame([(1, "a", 1.5), (2, None, None)], ["x", "y", "z"]))


def test_create_from_tuples_with_ddl_schema(compare):
    compare(lambda s: s.createDataFrame(PEOPLE, PEOPLE_DDL))


def test_create_from_tuples_with_struct_schema(compare):
    compare(lambda s: s.createDataFrame(PEOPLE, PEOPLE_STRUCT))


def test_create_from_rows(compare):
    rows = [Row(id=1, name="a", score=2.5), Row(id=2, name=None, score=None)]
    compare(lambda s: s.createDataFrame(rows))


def test_create_from_rows_with_ddl(compare):
    rows = [Row(id=1, name="a"), Row(id=2, name="b")]
    compare(lambda s: s.createDataFrame(rows, "id long, name string"))


def test_create_from_dicts(compare):
    compare(lambda s: s.createDataFrame([{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]))


def test_create_from_pandas(compare):
    pdf = pd.DataFrame({"i": [1, 2, 3], "f": [1.5, float("nan"), -2.0], "s": ["a", None, "c"],
                        "b": [True, False, True]})
    compare(lambda s: s.createDataFrame(pdf))


def test_create_from_pandas_with_ddl(compare):
    pdf = pd.DataFrame({"i": [1, 2, 3], "s": ["a", "b", "c"]})
    compare(lambda s: s.createDataFrame(pdf, "i int, s string"))


def test_create_from_pandas_with_struct(compare):
    pdf = pd.DataFrame(PEOPLE, columns=PEOPLE_COLUMNS).astype({"age": "Int32", "id": "int32"})
    compare(lambda s: s.createDataFrame(pdf, PEOPLE_STRUCT), check_nullability=False)


def test_create_with_dates_timestamps_decimals(compare):
    data = [(dt.date(2024, 2, 29), dt.datetime(2024, 2, 29, 13, 45, 1), decimal.Decimal("12.34")),
            (None, None, None)]
    schema = StructType([StructField("d", DateType()), StructField("t", TimestampType()),
                         StructField("m", DecimalType(10, 2))])
    compare(lambda s: s.createDataFrame(data, schema))


def test_create_with_long_and_nested_types(compare):
    compare(lambda s: s.createDataFrame(
        [(2**40, [1, 2], {"k": 1}, Row(a=1, b="x"))],
        "big long, arr array<int>, m map<string,int>, st struct<a:int,b:string>"))


def test_create_empty_with_schema(compare):
    compare(lambda s: s.createDataFrame([], PEOPLE_DDL))


# ---------------------------------------------------------------- range


@pytest.mark.parametrize("args", [(10,), (3, 17), (0, 100, 7), (20, 0, -3), (5, 5), (0, 1000, 1, 4)])
def test_range(compare, args):
    compare(lambda s: s.range(*args))


def test_range_with_num_partitions_keyword(compare):
    compare(lambda s: s.range(0, 50, 2, numPartitions=3).selectExpr("id", "id * 2 AS twice"))


def test_range_schema_is_non_nullable_long(spark):
    f = spark.range(3).schema.fields
    assert [(x.name, x.dataType, x.nullable) for x in f] == [("id", LongType(), False)]


def test_parquet_merged_schema_across_scan_splits(compare, tmp_path):
    """Each task reads some of the files; a column only other files have is NULL there."""
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    import duckdb

    con = duckdb.connect()
    con.sql(f"COPY (SELECT 100 AS age, 'Hyukjin' AS name) TO '{tmp_path}/one/a.parquet'")
    con.sql(f"COPY (SELECT 170 AS height) TO '{tmp_path}/two/b.parquet'")
    compare(
        lambda s: s.read.option("mergeSchema", "true")
        .parquet(str(tmp_path / "one"), str(tmp_path / "two"))
        .sort("height"),
        ordered=True,
    )
