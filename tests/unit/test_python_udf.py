"""The function side of Python UDFs (executors/python_udf.py) on a real DuckDB connection:
payloads pickled as the PySpark client pickles them, no server."""

from __future__ import annotations

import base64
import sys

import duckdb
import pyarrow as pa
import pytest
from pyspark import cloudpickle
from pyspark.serializers import CloudPickleSerializer
from pyspark.sql.types import IntegerType, LongType, StructField, StructType

from executors import python_udf
from executors.errors import PYTHON_EXCEPTION, UserCodeError, task_error
from shuffle.arrow_io import schema_to_b64

cloudpickle.register_pickle_by_value(sys.modules[__name__])


def _payload(func, return_type, eval_type: int) -> dict:
    command = CloudPickleSerializer().dumps((func, return_type))
    return {"eval_type": eval_type, "command": base64.b64encode(command).decode(), "user_name": "f"}


def _scalar_spec(name, func, return_type, arrow_type, params, eval_type=100) -> dict:
    return {
        **_payload(func, return_type, eval_type),
        "name": name,
        "params": params,
        "returns": {pa.int32(): "INTEGER", pa.string(): "VARCHAR"}[arrow_type],
        "arrow_type": schema_to_b64(pa.schema([("r", arrow_type)])),
        "aggregate": False,
        "no_args": False,
        "arg_names": [None] * len(params),
    }


def test_row_udf_nulls_and_wrong_types_become_null():
    con = duckdb.connect()
    spec = _scalar_spec(
        "__pyudf_00000000000000000001",
        lambda x: None if x is None else ("odd" if x % 2 else x),  # str for an int column
        IntegerType(),
        pa.int32(),
        ["BIGINT"],
    )
    python_udf.register(con, [spec], {})
    rows = con.sql(
        "SELECT __pyudf_00000000000000000001(x) FROM (VALUES (1), (2), (NULL), (4)) t(x)"
    ).fetchall()
    assert rows == [(None,), (2,), (None,), (4,)]


def test_user_error_carries_the_users_traceback():
    def boom(x):
        return x / 0

    con = duckdb.connect()
    spec = _scalar_spec("__pyudf_00000000000000000002", boom, IntegerType(), pa.int32(), ["BIGINT"])
    python_udf.register(con, [spec], {})
    with pytest.raises(duckdb.Error):
        con.sql("SELECT __pyudf_00000000000000000002(1)").fetchall()
    failure = python_udf.take_failure()
    assert isinstance(failure, UserCodeError)
    assert "in boom" in failure.text and "ZeroDivisionError" in failure.text
    assert "executors/python_udf.py" not in failure.text  # only the user's frames
    error = task_error(failure)
    assert error["exception"] == PYTHON_EXCEPTION and "ZeroDivisionError" in error["message"]


def test_cogroup_step_with_a_null_key_and_a_side_missing():
    def count_both(key, left, right):
        import pandas as pd

        return pd.DataFrame({"k": [key[0]], "l": [len(left)], "r": [len(right)]})

    schema = StructType([StructField(n, LongType()) for n in ("k", "l", "r")])
    con = duckdb.connect()
    con.register("a", pa.table({"x": [1, 1, None, 2], "__g0": [1, 1, None, 2]}))
    con.register("b", pa.table({"y": ["p", None], "__g0": [1, 3]}))
    step = {
        "mode": "group",
        "udf": _payload(count_both, schema, 206),
        "sqls": ["SELECT * FROM a", "SELECT * FROM b"],
        "num_keys": 1,
        "schema": schema_to_b64(pa.schema([(n, pa.int64()) for n in ("k", "l", "r")])),
        "output_names": ["k", "l", "r"],
        "output_cols": ["_c1", "_c2", "_c3"],
        "input_names": [["x"], ["y"]],
    }
    out = python_udf.run_step(con, step, {})
    assert out.column_names == ["_c1", "_c2", "_c3"]
    assert sorted(out.to_pylist(), key=lambda r: (r["_c1"] is not None, r["_c1"] or 0)) == [
        {"_c1": None, "_c2": 1, "_c3": 0},
        {"_c1": 1, "_c2": 2, "_c3": 1},
        {"_c1": 2, "_c2": 1, "_c3": 0},
        {"_c1": 3, "_c2": 0, "_c3": 1},
    ]


@pytest.mark.parametrize(
    ("value", "arrow_type", "expected"),
    [
        (1, pa.float64(), None),  # Spark: an int is no double
        (1.5, pa.float64(), 1.5),
        (True, pa.int32(), None),  # a bool is no int
        (2**31, pa.int32(), -(2**31)),  # Int.toInt wraps
        (True, pa.string(), "true"),  # any value's text, as Java prints it
        ([1, "x"], pa.list_(pa.int64()), [1, None]),
        ({"a": 1}, pa.map_(pa.string(), pa.int64()), [("a", 1)]),
    ],
)
def test_row_results_as_spark_converts_them(value, arrow_type, expected):
    assert python_udf._from_python(value, arrow_type) == expected


def test_with_arity_gives_duckdb_the_parameter_count():
    import inspect

    f = python_udf.with_arity(lambda *a: a, 3)
    assert len(inspect.signature(f).parameters) == 3 and f(1, 2, 3) == (1, 2, 3)
