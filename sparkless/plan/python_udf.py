"""Python UDFs on the driver: decoded, typed and named, never called.

The client sends a UDF as ``PythonUDF`` (eval type, cloudpickled ``(func, return_type)``,
Python version). The driver does not unpickle it: the bytes travel in the task event
and only the function unpickles and runs them (``executors/python_udf.py``).

A scalar UDF call becomes a call of a DuckDB function named after its content
(``__pyudf_<hash>``); the task registers that name on its connection from the spec the
event carries. A grouped-aggregate pandas UDF becomes the same kind of call over
``ARRAY_AGG`` of its arguments, so it works wherever an aggregate works (groupBy().agg,
windows over any frame). The driver's type oracle gets a stub of the same signature so
DuckDB can bind (and type) expressions that contain the call.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from pyspark.sql.types import ArrayType, DataType
from sqlglot import exp

from shuffle.arrow_io import schema_to_b64
from sparkless.errors import AnalysisException, unsupported
from sparkless.plan.types import arrow_type_of, duckdb_type_sql, from_proto

if TYPE_CHECKING:
    from pyspark.sql.connect.proto import expressions_pb2

    from sparkless.plan.analyzer import Analyzer, Scope

# pyspark.util.PythonEvalType
BATCHED = 100
ARROW_BATCHED = 101
SCALAR_PANDAS = 200
GROUPED_MAP_PANDAS = 201
GROUPED_AGG_PANDAS = 202
WINDOW_AGG_PANDAS = 203
SCALAR_PANDAS_ITER = 204
MAP_PANDAS_ITER = 205
COGROUPED_MAP_PANDAS = 206
MAP_ARROW_ITER = 207
GROUPED_MAP_ARROW = 209
COGROUPED_MAP_ARROW = 210
SCALAR_ARROW = 250
SCALAR_ARROW_ITER = 251
GROUPED_AGG_ARROW = 252
WINDOW_AGG_ARROW = 253

SCALAR_EVAL_TYPES = {
    BATCHED,
    ARROW_BATCHED,
    SCALAR_PANDAS,
    SCALAR_PANDAS_ITER,
    SCALAR_ARROW,
    SCALAR_ARROW_ITER,
}
GROUPED_AGG_PANDAS_ITER = 217
GROUPED_AGG_ARROW_ITER = 254
AGG_EVAL_TYPES = {
    GROUPED_AGG_PANDAS,
    WINDOW_AGG_PANDAS,
    GROUPED_AGG_ARROW,
    WINDOW_AGG_ARROW,
    GROUPED_AGG_PANDAS_ITER,
    GROUPED_AGG_ARROW_ITER,
}

NAME_PREFIX = "__pyudf_"
_NAME_RE = re.compile(NAME_PREFIX + r"[0-9a-f]{20}", re.IGNORECASE)  # sqlglot upper-cases it


@dataclass(frozen=True)
class PythonFunction:
    """A client's Python function as sent: what the executor needs to run it."""

    name: str  # the user's name for it (column names, SQL)
    eval_type: int
    command: bytes  # cloudpickled (func, return_type)
    return_type: DataType
    python_ver: str
    deterministic: bool = True

    def payload(self) -> dict[str, Any]:
        return {
            "eval_type": self.eval_type,
            "command": base64.b64encode(self.command).decode("ascii"),
            "return_type": self.return_type.json(),
            "python_ver": self.python_ver,
            "user_name": self.name,
        }


def from_proto_udf(f: expressions_pb2.CommonInlineUserDefinedFunction) -> PythonFunction:
    kind = f.WhichOneof("function")
    if kind != "python_udf":
        raise unsupported(f"User-defined functions of kind '{kind}'")
    p = f.python_udf
    return PythonFunction(
        name=f.function_name,
        eval_type=p.eval_type,
        command=bytes(p.command),
        return_type=from_proto(p.output_type),
        python_ver=p.python_ver,
        deterministic=f.deterministic,
    )


# --------------------------------------------------------------------------- registry

_lock = threading.Lock()
_specs: dict[str, dict[str, Any]] = {}  # DuckDB name -> executor spec


def specs_in(*sqls: str) -> list[dict[str, Any]]:
    """Specs of the UDFs a task's SQL calls (the event carries them)."""
    names = sorted({m.lower() for s in sqls for m in _NAME_RE.findall(s)})
    with _lock:
        return [_specs[n] for n in names if n in _specs]


def _register(spec: dict[str, Any]) -> None:
    with _lock:
        _specs[spec["name"]] = spec


# --------------------------------------------------------------------------- expressions


def call(
    fn: PythonFunction, args: list[exp.Expression], arg_names: list[str | None] | None = None
) -> exp.Expression:
    """The unresolved call, as a Connect expression or a SQL function name denotes it;
    ``arg_names`` name the keyword arguments (``f(b=col("x"))``), None for positional ones."""
    from sparkless.plan.naming import spark_name

    names = arg_names or [None] * len(args)
    out = exp.Anonymous(this=fn.name, expressions=args)
    out.meta["python_udf"] = fn
    out.meta["arg_names"] = names
    rendered = [
        spark_name(a) if n is None else f"{n} => {spark_name(a)}" for a, n in zip(args, names)
    ]
    out.meta["pretty"] = f"{fn.name}({', '.join(rendered)})"
    return out


def mark_registered(e: exp.Expression, udfs: dict[str, PythonFunction]) -> None:
    """Calls of registered UDFs (by name, from SQL or ``call_udf``) become UDF calls."""
    for node in list(e.walk()):
        if isinstance(node, exp.Anonymous) and "python_udf" not in node.meta:
            fn = udfs.get(str(node.this).lower())
            if fn is not None:
                node.meta.update(call(fn, list(node.expressions)).meta)


def call_proto(f: expressions_pb2.CommonInlineUserDefinedFunction, to_sql: Any) -> exp.Expression:
    """A Connect UDF call; ``to_sql`` converts its argument expressions."""
    args, names = [], []
    for a in f.arguments:
        if a.WhichOneof("expr_type") == "named_argument_expression":
            names.append(a.named_argument_expression.key)
            args.append(to_sql(a.named_argument_expression.value))
        else:
            names.append(None)
            args.append(to_sql(a))
    return call(from_proto_udf(f), args, names)


def is_call(e: exp.Expression) -> bool:
    return isinstance(e, exp.Anonymous) and "python_udf" in e.meta


def resolve(e: exp.Expression, analyzer: Analyzer, scope: Scope) -> exp.Expression:
    """A call whose arguments are translated → the DuckDB call of the task-side function."""
    fn: PythonFunction = e.meta["python_udf"]
    args = list(e.expressions)
    if fn.eval_type not in SCALAR_EVAL_TYPES | AGG_EVAL_TYPES:
        raise AnalysisException(
            f"Invalid PythonEvalType {fn.eval_type} for a column expression (function {fn.name}).",
            "INVALID_UDF_EVAL_TYPE",
        )
    agg = fn.eval_type in AGG_EVAL_TYPES
    arg_types = [analyzer.type_of(a, scope) for a in args]
    if agg:
        args = [exp.ArrayAgg(this=a) for a in args]
        param_types = [ArrayType(t, True) for t in arg_types]
    else:
        param_types = list(arg_types)
    if not args:  # DuckDB passes a function no row count without an argument
        args = [exp.Literal.number(0)]
        param_types = []
        params_sql = ["INTEGER"]
    else:
        params_sql = [duckdb_type_sql(t) for t in param_types]
    ret_sql = duckdb_type_sql(fn.return_type)
    arg_names = e.meta.get("arg_names") or [None] * len(e.expressions)
    digest = hashlib.sha1(
        fn.command + json.dumps([fn.eval_type, params_sql, ret_sql, agg, arg_names]).encode()
    ).hexdigest()[:20]
    name = NAME_PREFIX + digest
    spec = {
        **fn.payload(),
        "name": name,
        "params": params_sql,
        "arg_types": [t.json() for t in arg_types],
        "returns": ret_sql,
        "aggregate": agg,
        "no_args": not param_types,
        "arg_names": arg_names,
        "arrow_type": schema_to_b64(pa.schema([pa.field("r", arrow_type_of(fn.return_type))])),
    }
    _register(spec)
    analyzer.oracle.add_function(name, params_sql, ret_sql)
    out = exp.Anonymous(this=name, expressions=args)
    out.meta["nullable"] = True
    out.meta["python_udf_resolved"] = spec
    if not fn.deterministic:
        out.meta["nondeterministic"] = True  # the optimizer keeps it in place
    return out


def fix_window(w: exp.Window) -> exp.Expression:
    """``agg_udf(x) OVER w`` → ``udf(ARRAY_AGG(x) OVER w)``: the window applies to the list."""
    inner = w.this
    if not (
        isinstance(inner, exp.Anonymous)
        and inner.meta.get("python_udf_resolved", {}).get("aggregate")
    ):
        return w
    args = []
    for a in inner.expressions:
        win = w.copy()
        win.set("this", a)
        args.append(win)
    out = exp.Anonymous(this=inner.this, expressions=args)
    out.meta.update(inner.meta)
    return out


def register_function(session: Any, f: expressions_pb2.CommonInlineUserDefinedFunction) -> None:
    """``spark.udf.register(name, f)``: callable by name from SQL and ``expr()`` in this session."""
    session.analyzer.udfs[f.function_name.lower()] = from_proto_udf(f)


# --------------------------------------------------------------------------- relations


def _output_attrs(fn: PythonFunction) -> list:
    from pyspark.sql.types import StructType

    from sparkless.plan.ir import Attribute

    if not isinstance(fn.return_type, StructType):
        raise AnalysisException(
            f"Invalid return type {fn.return_type.simpleString()} of {fn.name}: the function "
            "must return a struct (the output schema).",
            "INVALID_RETURN_TYPE",
        )
    return [Attribute(f.name, f.dataType, True) for f in fn.return_type.fields]


_MAP_TYPES = {MAP_PANDAS_ITER, MAP_ARROW_ITER}
GROUPED_MAP_ARROW_ITER = 215
GROUPED_MAP_PANDAS_ITER = 216
_GROUP_TYPES = {
    GROUPED_MAP_PANDAS,
    GROUPED_MAP_ARROW,
    COGROUPED_MAP_PANDAS,
    COGROUPED_MAP_ARROW,
    GROUPED_MAP_ARROW_ITER,
    GROUPED_MAP_PANDAS_ITER,
}


def map_partitions(
    builder: Any, child: Any, f: expressions_pb2.CommonInlineUserDefinedFunction
) -> Any:
    from sparkless.plan import ir

    fn = from_proto_udf(f)
    if fn.eval_type not in _MAP_TYPES:
        raise unsupported(f"mapPartitions with PythonEvalType {fn.eval_type}")
    return ir.MapInPython(child, fn, _output_attrs(fn))


def group_map(
    builder: Any,
    inputs: list,
    keys: list[list[exp.Expression]],
    f: expressions_pb2.CommonInlineUserDefinedFunction,
) -> Any:
    from sparkless.plan import ir

    fn = from_proto_udf(f)
    if fn.eval_type not in _GROUP_TYPES:
        raise unsupported(f"Grouped map with PythonEvalType {fn.eval_type}")
    resolved = []
    for child, ks in zip(inputs, keys, strict=True):
        scope = builder.a.scope(child)
        resolved.append([builder.a.resolve(k, scope).expr for k in ks])
    if len(inputs) == 2 and len(resolved[0]) != len(resolved[1]):
        raise AnalysisException(
            "cogroup requires the same number of grouping keys on both sides.",
            "INVALID_COGROUP_KEYS",
        )
    return ir.FlatMapGroupsInPython(list(inputs), resolved, fn, _output_attrs(fn))
