"""Python UDFs inside the function: the client's pickled code runs here, on Arrow batches.

Two entry points, both fed by the task event (see ``sparkless/plan/python_udf.py``):

* ``register(con, specs, conf)``: scalar and grouped-aggregate UDFs become DuckDB
  functions of the ``arrow`` kind on the task's connection, so the fragment SQL calls
  them on its vectors (2048 rows at a time) and the data never leaves Arrow.
* ``run_step(con, step, conf)``: ``mapInPandas`` / ``mapInArrow`` / ``applyInPandas`` /
  ``cogroup().applyInPandas`` — the step's SQL gives the partition's rows, the function
  maps them, and the output table is registered for the rest of the fragment.

An exception in user code is re-raised as ``executors.errors.UserCodeError`` carrying the
user's traceback (our frames removed); the driver reports it as Spark's PythonException.
pandas and pyspark are imported only when a UDF actually runs.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import pickle
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import duckdb
import pyarrow as pa

from executors.errors import UserCodeError
from shuffle.arrow_io import schema_from_b64

_registered: dict[int, set[str]] = {}  # id(connection) -> function names registered on it
_failure: list[UserCodeError] = []  # the user error behind a DuckDB "Python exception" error


def take_failure() -> UserCodeError | None:
    """The user-code error raised inside a DuckDB function call during this task, if any."""
    return _failure.pop() if _failure else None


def _user_error(exc: BaseException, name: str) -> UserCodeError:
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next  # keep the user's frames only, as Spark's worker shows them
    text = "".join(traceback.format_exception(type(exc), exc, tb))
    return UserCodeError(text, name)


def _call(fn: Callable, name: str, *args: Any) -> Any:
    try:
        return fn(*args)
    except UserCodeError:
        raise
    except Exception as exc:  # noqa: BLE001 - any user error is the user's
        err = _user_error(exc, name)
        _failure[:] = [err]
        raise err from None


def _load(spec: Mapping[str, Any]) -> tuple[Callable, Any]:
    """(func, return_type) from the cloudpickled command (pyspark's CloudPickleSerializer)."""
    ver = spec.get("python_ver")
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    if ver and ver != here:
        raise UserCodeError(
            f"[PYTHON_VERSION_MISMATCH] Python in worker has different version: {here} than "
            f"that in driver: {ver}, PySpark cannot run with different minor versions.",
            spec.get("user_name", ""),
        )
    return pickle.loads(base64.b64decode(spec["command"]))


def _arrow_type(spec: Mapping[str, Any]) -> pa.DataType:
    return schema_from_b64(spec["arrow_type"]).field(0).type


# --------------------------------------------------------------------------- values


def _time_zone(conf: Mapping[str, Any]) -> str:
    return str(conf.get("spark.sql.session.timeZone") or "UTC")


def _to_python(value: Any, arrow_type: pa.DataType) -> Any:
    """A value as Spark's Python worker hands it to a row UDF."""
    if value is None:
        return None
    if pa.types.is_struct(arrow_type):
        from pyspark.sql import Row

        return Row(**{f.name: _to_python(value.get(f.name), f.type) for f in arrow_type})
    if pa.types.is_map(arrow_type):
        return {
            _to_python(k, arrow_type.key_type): _to_python(v, arrow_type.item_type)
            for k, v in value
        }
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return [_to_python(v, arrow_type.value_type) for v in value]
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone().replace(tzinfo=None)  # Spark: the worker's local time
    return value


_INT_BITS = {pa.int8(): 8, pa.int16(): 16, pa.int32(): 32, pa.int64(): 64}


def _from_python(value: Any, t: pa.DataType) -> Any:
    """A row UDF's result as Spark converts it (``EvaluatePython.makeFromJava``):
    a value of the wrong kind becomes null, a string takes any value's text."""
    if value is None:
        return None
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, bytes | bytearray):
            return None
        return value if isinstance(value, str) else str(value)
    if pa.types.is_boolean(t):
        return value if isinstance(value, bool) else None
    if t in _INT_BITS:
        if isinstance(value, bool) or not isinstance(value, int) or not -(2**63) <= value < 2**63:
            return None
        bits = _INT_BITS[t]
        return (value + (1 << (bits - 1))) % (1 << bits) - (1 << (bits - 1))
    if pa.types.is_floating(t):
        return value if isinstance(value, float) else None
    if pa.types.is_decimal(t):
        if not isinstance(value, decimal.Decimal):
            return None
        try:
            q = value.quantize(decimal.Decimal(1).scaleb(-t.scale))
        except decimal.InvalidOperation:
            return None
        return q if len(q.as_tuple().digits) <= t.precision else None
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return bytes(value) if isinstance(value, bytes | bytearray) else None
    if pa.types.is_date(t):
        if isinstance(value, dt.datetime):
            return value.date()
        return value if isinstance(value, dt.date) else None
    if pa.types.is_timestamp(t):
        if not isinstance(value, dt.datetime):
            return None
        if t.tz is not None and value.tzinfo is None:
            return value.astimezone(dt.UTC)  # naive means local, as Spark's toInternal
        return value
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        if not isinstance(value, list | tuple):
            return None
        return [_from_python(v, t.value_type) for v in value]
    if pa.types.is_map(t):
        if not isinstance(value, dict):
            return None
        return [
            (_from_python(k, t.key_type), _from_python(v, t.item_type)) for k, v in value.items()
        ]
    if pa.types.is_struct(t):
        if isinstance(value, dict):
            return {f.name: _from_python(value.get(f.name), f.type) for f in t}
        if isinstance(value, list | tuple):
            from pyspark.sql import Row

            if isinstance(value, Row) and hasattr(value, "__fields__"):
                d = value.asDict()
                return {f.name: _from_python(d.get(f.name), f.type) for f in t}
            return {f.name: _from_python(v, f.type) for f, v in zip(t, value, strict=False)}
        return None
    return value


def _arrow_results(values: list[Any], t: pa.DataType) -> pa.Array:
    """An arrow-optimized UDF's results: as Arrow takes them, else cast (``"1"`` → 1)."""
    try:
        return pa.array(values, type=t)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
        return pa.array(values).cast(t)


def _pandas_args(arrays: list[pa.Array], tz: str) -> list[Any]:
    return [_to_pandas(a, tz) for a in arrays]


def _to_pandas(a: pa.Array | pa.ChunkedArray, tz: str) -> Any:
    """An Arrow column as a pandas UDF receives it (structs as DataFrames, local timestamps)."""
    import pandas as pd

    if isinstance(a, pa.ChunkedArray):
        a = a.combine_chunks()
    if pa.types.is_struct(a.type):
        return pd.DataFrame({f.name: _to_pandas(a.field(i), tz) for i, f in enumerate(a.type)})
    s = a.to_pandas(date_as_object=True)
    if pa.types.is_timestamp(a.type) and a.type.tz is not None:
        s = s.dt.tz_convert(tz).dt.tz_localize(None)
    return s


def _from_pandas(obj: Any, t: pa.DataType, tz: str) -> pa.Array:
    """A pandas UDF's Series (or DataFrame, for a struct) as an Arrow array of type ``t``."""
    import pandas as pd

    if isinstance(obj, pd.DataFrame) and pa.types.is_struct(t):
        by_name = all(isinstance(c, str) for c in obj.columns)
        children = [
            _from_pandas(obj[f.name] if by_name else obj.iloc[:, i], f.type, tz)
            for i, f in enumerate(t)
        ]
        return pa.StructArray.from_arrays(children, fields=list(t))
    if not isinstance(obj, pd.Series):
        obj = pd.Series(obj)
    if pa.types.is_timestamp(t) and pd.api.types.is_datetime64_any_dtype(obj.dtype):
        if obj.dt.tz is None:
            obj = obj.dt.tz_localize(tz)
        obj = obj.dt.tz_convert("UTC")
    if pa.types.is_struct(t) or pa.types.is_map(t) or pa.types.is_list(t):
        return pa.array([_from_python(v, t) for v in obj.tolist()], type=t)
    return pa.Array.from_pandas(obj, mask=obj.isnull().to_numpy(), type=t, safe=False)


def _length_check(result: pa.Array, n: int, name: str) -> pa.Array:
    if len(result) != n:
        raise UserCodeError(
            f"[SCHEMA_MISMATCH_FOR_PANDAS_UDF] Result vector from pandas_udf was not the required "
            f"length: expected {n}, got {len(result)}.",
            name,
        )
    return result


# --------------------------------------------------------------------------- scalar UDFs


def _with_keywords(func: Callable, names: list[str | None]) -> Callable:
    def call(*args: Any) -> Any:
        pos = [a for a, n in zip(args, names) if n is None]
        return func(*pos, **{n: a for a, n in zip(args, names) if n is not None})

    return call


def _scalar(spec: Mapping[str, Any], conf: Mapping[str, Any]) -> Callable[..., pa.Array]:
    func, _ = _load(spec)
    arg_names = spec.get("arg_names") or []
    if any(arg_names):  # keyword arguments: f(b=col("x"), a=col("y"))
        func = _with_keywords(func, arg_names)
    eval_type = int(spec["eval_type"])
    t = _arrow_type(spec)
    tz = _time_zone(conf)
    name = spec.get("user_name", "")
    no_args = bool(spec.get("no_args"))

    def rows(*arrays: pa.Array) -> pa.Array:
        n = len(arrays[0])
        if no_args:
            out = [_call(func, name) for _ in range(n)]
        else:
            cols = [[_to_python(v, a.type) for v in a.to_pylist()] for a in arrays]
            out = [_call(func, name, *row) for row in zip(*cols, strict=True)]
        if eval_type == 101:  # arrow-optimized: Arrow converts (and casts) the results
            return _call(_arrow_results, name, out, t)
        return pa.array([_from_python(v, t) for v in out], type=t)

    def pandas_series(*arrays: pa.Array) -> pa.Array:
        n = len(arrays[0])
        args = [] if no_args else _pandas_args(list(arrays), tz)
        result = _call(func, name, *args)
        return _length_check(_from_pandas(result, t, tz), n, name)

    def pandas_iter(*arrays: pa.Array) -> pa.Array:
        n = len(arrays[0])
        args = _pandas_args(list(arrays), tz)
        batch = args[0] if len(args) == 1 else tuple(args)

        def run() -> pa.Array:
            parts = [_from_pandas(r, t, tz) for r in func(iter([batch]))]
            return pa.concat_arrays(parts) if parts else pa.array([], type=t)

        return _length_check(_call(run, name), n, name)

    def arrow_array(*arrays: pa.Array) -> pa.Array:
        n = len(arrays[0])
        result = _call(func, name, *([] if no_args else arrays))
        if isinstance(result, pa.ChunkedArray):
            result = result.combine_chunks()
        return _length_check(result.cast(t) if result.type != t else result, n, name)

    def arrow_iter(*arrays: pa.Array) -> pa.Array:
        n = len(arrays[0])
        batch = arrays[0] if len(arrays) == 1 else tuple(arrays)

        def run() -> pa.Array:
            parts = [r.cast(t) if r.type != t else r for r in func(iter([batch]))]
            return pa.concat_arrays(parts) if parts else pa.array([], type=t)

        return _length_check(_call(run, name), n, name)

    def grouped_agg(*lists: pa.Array) -> pa.Array:
        out = []
        for i in range(len(lists[0])):
            groups = [
                lst[i].values if lst[i].is_valid else pa.array([], lst.type.value_type)
                for lst in lists
            ]
            args = groups if arrow_agg else _pandas_args(groups, tz)
            if eval_type in (217, 254):  # Iterator[...] -> scalar: the group as one batch
                args = [iter([args[0] if len(args) == 1 else tuple(args)])]
            out.append(_call(func, name, *args))
        if arrow_agg:
            return pa.array([v.as_py() if isinstance(v, pa.Scalar) else v for v in out], type=t)
        return _from_pandas_scalars(out, t, tz)

    arrow_agg = eval_type in (252, 253, 254)
    fn = (
        grouped_agg
        if spec.get("aggregate")
        else {
            100: rows,
            101: rows,
            200: pandas_series,
            204: pandas_iter,
            250: arrow_array,
            251: arrow_iter,
        }[eval_type]
    )

    def on_arrays(*args: pa.Array | pa.ChunkedArray) -> pa.Array:
        # DuckDB may hand a vector over as a ChunkedArray; user code expects an Array
        return fn(*(a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a for a in args))

    return on_arrays


def _from_pandas_scalars(values: list[Any], t: pa.DataType, tz: str) -> pa.Array:
    import pandas as pd

    return _from_pandas(pd.Series(values, dtype=object if not values else None), t, tz)


def with_arity(fn: Callable[..., Any], n: int) -> Callable[..., Any]:
    """``fn`` taking exactly ``n`` positional parameters: DuckDB counts them (``*args`` is 1)."""
    params = ", ".join(f"a{i}" for i in range(n))
    scope: dict[str, Any] = {"fn": fn}
    exec(f"def call({params}):\n    return fn({params})", scope)  # noqa: S102 - our own text
    return scope["call"]


def register(
    con: duckdb.DuckDBPyConnection, specs: list[Mapping[str, Any]], conf: Mapping[str, Any]
) -> None:
    """Make each UDF callable by its ``__pyudf_`` name in this connection's SQL."""
    done = _registered.setdefault(id(con), set())
    _failure.clear()
    for spec in specs:
        if spec["name"] in done:
            continue
        fn = with_arity(_scalar(spec, conf), len(spec["params"]))
        con.create_function(
            spec["name"],
            fn,
            spec["params"],
            spec["returns"],
            type="arrow",
            null_handling="special",
            side_effects=True,
        )
        done.add(spec["name"])


# --------------------------------------------------------------------------- map / group steps


def _table_from_output(
    obj: Any, schema: pa.Schema, names: list[str], tz: str, user: str
) -> pa.Table:
    """A function's output (DataFrame / RecordBatch / Table) as the step's output table."""
    import pandas as pd

    if isinstance(obj, pa.RecordBatch | pa.Table):
        cols = obj.column_names
        arrays = [obj.column(n) if n in cols else obj.column(i) for i, n in enumerate(names)]
        arrays = [a.cast(f.type) if a.type != f.type else a for a, f in zip(arrays, schema)]
        return pa.Table.from_arrays(arrays, schema=schema)
    if not isinstance(obj, pd.DataFrame):
        raise UserCodeError(
            "[UDF_RETURN_TYPE] Return type of the user-defined function should be "
            f"pandas.DataFrame, but is {type(obj).__name__}.",
            user,
        )
    by_name = all(isinstance(c, str) for c in obj.columns) and set(names) <= set(obj.columns)
    if not by_name and len(obj.columns) != len(names):
        raise UserCodeError(
            "[RESULT_COLUMNS_MISMATCH_FOR_PANDAS_UDF] Number of columns of the returned "
            f"pandas.DataFrame doesn't match specified schema. Expected: {len(names)} "
            f"Actual: {len(obj.columns)}",
            user,
        )
    arrays = [
        _from_pandas(obj[n] if by_name else obj.iloc[:, i], f.type, tz)
        for i, (n, f) in enumerate(zip(names, schema))
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


def _with_user_names(table: pa.Table, names: list[str]) -> pa.Table:
    return table.rename_columns(names)


def _groups(table: pa.Table, nkeys: int) -> dict[tuple, list[int]]:
    if nkeys == 0:
        return {(): list(range(table.num_rows))} if table.num_rows else {}
    keys = table.select(list(range(table.num_columns - nkeys, table.num_columns)))
    out: dict[tuple, list[int]] = {}
    for i, row in enumerate(zip(*(c.to_pylist() for c in keys.columns))):
        out.setdefault(row, []).append(i)
    return out


def run_step(
    con: duckdb.DuckDBPyConnection, step: Mapping[str, Any], conf: Mapping[str, Any]
) -> pa.Table:
    """One map / grouped-map / cogrouped-map step over this task's partition."""
    func, _ = _load(step["udf"])
    user = step["udf"].get("user_name", "")
    eval_type = int(step["udf"]["eval_type"])
    schema = schema_from_b64(step["schema"])
    out_names: list[str] = step["output_names"]
    tz = _time_zone(conf)
    inputs = [con.sql(sql).to_arrow_table() for sql in step["sqls"]]
    nkeys = int(step.get("num_keys", 0))
    arrow = eval_type in (207, 209, 210, 215)

    def frame(t: pa.Table, names: list[str]) -> Any:
        t = _with_user_names(t, names)
        if arrow:
            return t
        import pandas as pd

        return (
            pd.DataFrame({n: _to_pandas(c, tz) for n, c in zip(names, t.columns)})
            if len(set(names)) == len(names)
            else t.to_pandas()
        )

    results: list[pa.Table] = []
    if step["mode"] == "map":
        (table,) = inputs
        names = step["input_names"][0]
        batches = table.to_batches(
            max_chunksize=int(conf.get("spark.sql.execution.arrow.maxRecordsPerBatch") or 10000)
        )

        def feed() -> Iterator[Any]:
            for b in batches:
                t = pa.Table.from_batches([b])
                yield _with_user_names(t, names).to_batches()[0] if arrow else frame(t, names)

        def run_map() -> None:
            for out in func(feed()):
                results.append(_table_from_output(out, schema, out_names, tz, user))

        _call(run_map, user)
    else:
        sides = []
        for t, names in zip(inputs, step["input_names"]):
            sides.append((t, names, _groups(t, nkeys)))
        keys: dict[tuple, None] = {}
        for _, _, g in sides:
            keys.update(dict.fromkeys(g))
        import inspect

        n_params = len(inspect.signature(func).parameters)
        iterator = eval_type in (215, 216)  # applyInArrow / applyInPandas over Iterator[...]
        for key in keys:
            frames = []
            key_value: tuple = key
            for t, names, g in sides:
                rows = pa.array(g.get(key, []), pa.int64())
                data = t.select(list(range(t.num_columns - nkeys)))
                frames.append(frame(data.take(rows), names))
                if arrow and len(rows) and key_value is key:  # Spark: a tuple of Arrow scalars
                    keys_t = t.select(list(range(t.num_columns - nkeys, t.num_columns)))
                    key_value = tuple(c[rows[0].as_py()] for c in keys_t.columns)
            if iterator:
                frames = [iter(f.to_batches() if arrow else [f]) for f in frames]
            args = [key_value, *frames] if n_params == len(frames) + 1 else frames
            out = _call(func, user, *args)
            for item in _call(list, user, out) if iterator else [out]:
                results.append(_table_from_output(item, schema, out_names, tz, user))
    table = pa.concat_tables(results) if results else schema.empty_table()
    if not step["output_cols"]:  # e.g. foreachPartition's StructType(): DuckDB needs a column
        rows = sum(t.num_rows for t in results)
        return pa.table({"__empty": pa.nulls(rows, pa.bool_())})
    return table.rename_columns(step["output_cols"])
