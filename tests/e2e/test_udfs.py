"""Python code in functions: udf, pandas_udf, registered UDFs in SQL, mapInPandas /
mapInArrow, applyInPandas, cogroup().applyInPandas — against Apache Spark as the oracle.

The functions below are pickled by value (as a user's ``__main__`` code would be), so
neither engine's Python workers need to import this test module.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pandas as pd
import pyarrow as pa
import pytest
from pyspark import cloudpickle

from tests.conftest import classic_mode, connect_mode

cloudpickle.register_pickle_by_value(sys.modules[__name__])

ROWS = [
    (1, "a", 1.5, 10),
    (2, None, None, 20),
    (3, "c", 3.0, None),
    (4, "dd", -2.5, 40),
    (5, "a", 0.5, 50),
]
SCHEMA = "id int, s string, d double, v long"


def _df(s):
    return s.createDataFrame(ROWS, SCHEMA)


def F():  # the functions module of the current mode (Connect or classic)
    from pyspark.sql import functions

    return functions


# --------------------------------------------------------------------------- row UDFs


def test_udf_return_types_and_nulls(compare):
    def q(s):
        f = F()
        plus = f.udf(lambda x: None if x is None else x + 1, "int")
        upper = f.udf(lambda x: x.upper() if x else None)  # default: string
        as_long = f.udf(lambda x: x * 1000000000000, "bigint")
        return _df(s).select(
            "id",
            plus("v").alias("p"),
            upper("s").alias("u"),
            as_long("id").alias("l"),
        )

    compare(q)


def test_udf_wrong_return_type_is_null(compare):
    def q(s):
        def udf(fn, t):
            return F().udf(fn, t, useArrow=False)  # the pickled-rows path

        return _df(s).select(
            "id",
            udf(lambda x: x, "double")("id").alias("int_as_double"),  # Spark: null
            udf(lambda x: x, "string")("id").alias("int_as_string"),  # Spark: its text
            udf(lambda x: "x", "int")("id").alias("str_as_int"),  # Spark: null
            udf(lambda x: x > 2, "boolean")("id").alias("b"),
        )

    compare(q)


def test_arrow_udf_converts_results(compare):
    def q(s):
        def udf(fn, t):
            return F().udf(fn, t, useArrow=True)

        return _df(s).select(
            "id",
            udf(lambda x: x, "double")("id").alias("int_as_double"),  # Arrow casts: 1.0
            udf(lambda x: str(x), "int")("id").alias("digits_as_int"),
        )

    compare(q)


def test_udf_complex_return_types(compare):
    def q(s):
        f = F()
        arr = f.udf(lambda x: list(range(x)), "array<int>")
        mp = f.udf(lambda x: {"k": x}, "map<string,int>")
        st = f.udf(lambda x, y: (x, y), "struct<a:int,b:string>")
        return _df(s).select(
            "id", arr("id").alias("arr"), mp("id").alias("m"), st("id", "s").alias("st")
        )

    compare(q)


def test_udf_use_arrow_and_several_args(compare):
    def q(s):
        f = F()
        add = f.udf(lambda a, b: None if a is None or b is None else a * b, "double", useArrow=True)
        return _df(s).select("id", add("d", "v").alias("prod"))

    compare(q)


def test_udf_in_filter_and_nested_expression(compare):
    def q(s):
        f = F()
        sq = f.udf(lambda x: x * x, "int")
        return _df(s).where(sq("id") > 4).select("id", (sq("id") + 1).alias("sq1"))

    compare(q)


def test_registered_udf_from_sql(compare):
    def q(s):
        s.udf.register("twice_plus", lambda x, y: x * 2 + y, "bigint")
        _df(s).createOrReplaceTempView("udf_people")
        return s.sql("SELECT id, twice_plus(id, v) AS t FROM udf_people WHERE v IS NOT NULL")

    compare(q)


# --------------------------------------------------------------------------- pandas UDFs


def test_pandas_udf_scalar(compare):
    def q(s):
        f = F()

        @f.pandas_udf("double")
        def scaled(d: pd.Series, v: pd.Series) -> pd.Series:
            return d * 2 + v

        @f.pandas_udf("string")
        def tagged(x: pd.Series) -> pd.Series:
            return x.map(lambda t: None if t is None else f"<{t}>")

        return _df(s).select("id", scaled("d", "v").alias("sc"), tagged("s").alias("t"))

    compare(q)


def test_pandas_udf_iterator(compare):
    def q(s):
        f = F()

        @f.pandas_udf("long")
        def plus_one(it: Iterator[pd.Series]) -> Iterator[pd.Series]:
            for x in it:
                yield x + 1

        return s.range(0, 100, 1, 3).select("id", plus_one("id").alias("p"))

    compare(q)


def test_pandas_udf_grouped_agg(compare):
    def q(s):
        f = F()

        @f.pandas_udf("double")
        def mean_v(v: pd.Series) -> float:
            return v.mean()

        return _df(s).groupBy("s").agg(mean_v("v").alias("m"))

    compare(q)


def test_pandas_udf_grouped_agg_over_window(compare):
    def q(s):
        f = F()
        from pyspark.sql import Window

        @f.pandas_udf("long")
        def total(v: pd.Series) -> int:
            return int(v.fillna(0).sum())

        w = Window.partitionBy("s")
        return _df(s).select("id", "s", total("v").over(w).alias("t"))

    compare(q)


# --------------------------------------------------------------------------- map / group


def test_map_in_pandas(compare):
    def double_big(it):
        for pdf in it:
            pdf = pdf[pdf.id > 1]
            yield pdf.assign(v=pdf.v * 2)

    compare(lambda s: _df(s).mapInPandas(double_big, "id int, s string, d double, v long"))


def test_map_in_arrow(compare):
    def names(it):
        for batch in it:
            t = pa.Table.from_batches([batch])
            yield pa.RecordBatch.from_pydict(
                {"id": t.column("id").to_pylist(), "n": [len(x or "") for x in t["s"].to_pylist()]},
                schema=pa.schema([("id", pa.int32()), ("n", pa.int64())]),
            )

    compare(lambda s: _df(s).repartition(3).mapInArrow(names, "id int, n long"))


def test_group_apply_in_pandas(compare):
    def center(pdf):
        return pdf.assign(d=pdf.d - pdf.d.mean())[["id", "s", "d"]]

    def with_key(key, pdf):
        return pd.DataFrame({"k": [key[0]], "n": [len(pdf)], "sum_v": [pdf.v.sum()]})

    compare(lambda s: _df(s).groupBy("s").applyInPandas(center, "id int, s string, d double"))
    compare(
        lambda s: (
            _df(s).groupBy(F().col("id") % 2).applyInPandas(with_key, "k int, n long, sum_v double")
        )
    )


def test_cogroup_apply_in_pandas(compare):
    def merge(left, right):
        return pd.merge_asof(left.sort_values("t"), right.sort_values("t"), on="t", by="k")

    def q(s):
        a = s.createDataFrame(
            [(1, 1, 1.0), (2, 1, 2.0), (1, 2, 3.0), (3, 2, 4.0)], "t int, k int, x double"
        )
        b = s.createDataFrame([(1, 1, "a"), (2, 2, "b"), (0, 3, "c")], "t int, k int, y string")
        return (
            a.groupBy("k")
            .cogroup(b.groupBy("k"))
            .applyInPandas(merge, "t int, k int, x double, y string")
        )

    compare(q)


# --------------------------------------------------------------------------- errors


def test_python_error_is_python_exception_with_traceback(spark, oracle):
    from pyspark.errors import PythonException

    def explode(x):
        return x // (x - x)  # ZeroDivisionError in user code

    for session, mode in ((oracle, classic_mode), (spark, connect_mode)):
        with mode():
            f = F()
            with pytest.raises(PythonException) as info:
                _df(session).select(f.udf(explode, "int")("id")).collect()
        text = str(info.value)
        assert "ZeroDivisionError" in text, text
        assert "in explode" in text and "x // (x - x)" in text, text


def test_python_error_in_map_in_pandas(spark):
    from pyspark.errors import PythonException

    def broken(it):
        for pdf in it:
            raise ValueError(f"bad batch of {len(pdf)}")
        yield from ()

    with pytest.raises(PythonException) as info:
        _df(spark).mapInPandas(broken, SCHEMA).collect()
    assert "ValueError: bad batch of" in str(info.value)
    assert "in broken" in str(info.value)


def test_udfs_over_dates_and_timestamps(compare):
    def q(s):
        f = F()
        df = s.createDataFrame(
            [(1, "2024-02-29 23:30:00"), (2, None), (3, "1999-12-31 00:00:01")], "id int, t string"
        ).select("id", f.to_timestamp("t").alias("ts"), f.to_date("t").alias("d"))
        next_day = f.udf(lambda d: None if d is None else d.replace(day=1), "date", useArrow=False)
        hour = f.udf(lambda t: None if t is None else t.hour, "int", useArrow=False)

        @f.pandas_udf("timestamp")
        def plus_hour(t: pd.Series) -> pd.Series:
            return t + pd.Timedelta(hours=1)

        return df.select(
            "id",
            next_day("d").alias("first"),
            hour("ts").alias("h"),
            plus_hour("ts").alias("ts1"),
        )

    compare(q)


def test_grouped_agg_udf_over_a_bounded_frame(compare):
    def q(s):
        f = F()
        from pyspark.sql import Window

        @f.pandas_udf("double")
        def mean_d(v: pd.Series) -> float:
            return v.mean()

        w = Window.partitionBy("s").orderBy("id").rowsBetween(-1, 0)
        return _df(s).select("id", "s", mean_d("d").over(w).alias("m"))

    compare(q)


def test_udf_as_grouping_and_sort_key(compare):
    def q(s):
        f = F()
        parity = f.udf(lambda x: "odd" if x % 2 else "even")
        return (
            s.range(0, 20, 1, 3)
            .groupBy(parity("id").alias("p"))
            .agg(f.count("*").alias("n"))
            .orderBy(f.udf(lambda p: p[::-1])("p"))
        )

    compare(q, ordered=True)


def test_arrow_udfs_and_iterator_aggregates(compare):
    def q(s):
        f = F()

        @f.arrow_udf("long")
        def plus_one(v: pa.Array) -> pa.Array:
            return pa.compute.add(v, 1)

        @f.arrow_udf("long")
        def times_two(it: Iterator[pa.Array]) -> Iterator[pa.Array]:
            for v in it:
                yield pa.compute.multiply(v, 2)

        return s.range(0, 50, 1, 2).select(
            "id", plus_one("id").alias("p"), times_two("id").alias("t")
        )

    compare(q)

    def agg(s):
        f = F()

        @f.pandas_udf("double")
        def mean_iter(it: Iterator[pd.Series]) -> float:
            total, n = 0.0, 0
            for v in it:
                total, n = total + v.sum(), n + v.count()
            return total / n if n else None

        @f.arrow_udf("long")
        def arrow_max(v: pa.Array) -> int:
            return pa.compute.max(v).as_py()

        return _df(s).groupBy("s").agg(mean_iter("d").alias("m")), _df(s).groupBy("s").agg(
            arrow_max("v").alias("x")
        )  # Spark plans one kind of Python aggregate per Aggregate

    compare(lambda s: agg(s)[0])
    compare(lambda s: agg(s)[1])
