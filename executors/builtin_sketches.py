"""Spark built-ins with no DuckDB form: sketches, Spark's exact hashes, seeded random streams.

Registered in the shared registry (``executors.builtins``) as ``sparkless_<name>``: a task
or the driver's type oracle registers on its connection only those its SQL names. The
planner renders them in ``sparkless/plan/functions_sketch.py`` and
``functions_hash_random.py``; aggregates arrive as a scalar call over ``list(x)`` of the
group (DuckDB's Python functions are scalar only). This module is imported with the
registry, so it stays light: the implementations (``executors.sketches``,
``executors.spark_hash``, ``executors.spark_random``) are imported on first call.

Every function is of DuckDB's ``arrow`` kind and sees nulls: an aggregate skips the nulls
in its list, a scalar function of a null sketch is null. Hashes chain one column at a
time (``sparkless_murmur3_<kind>(value, seed)``, a null value passing the seed through),
as Spark's ``hash(a, b)`` seeds ``b``'s hash with ``a``'s. A random function gets its
call site and query run (``txid_current()``) and continues the stream of Spark's
``XORShiftRandom(seed + partitionIndex)`` from vector to vector: one draw per row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from executors import builtins


@dataclass(frozen=True)
class Spec:
    params: list[str]
    returns: str
    impl: tuple[str, str, tuple]  # (module, function, trailing constant arguments)
    strict: bool = False  # null in any argument -> null out (scalar functions of sketches)


_TYPES = {"i32": "INTEGER", "i64": "BIGINT", "f32": "FLOAT", "f64": "DOUBLE",
          "str": "VARCHAR", "bin": "BLOB"}
_KLL_TYPES = {"bigint": "BIGINT", "float": "FLOAT", "double": "DOUBLE"}
_SK = "executors.sketches"


def _sketch_specs() -> dict[str, Spec]:
    t: dict[str, Spec] = {}

    def add(name: str, params: list[str], returns: str, fn: str, *extra: Any,
            strict: bool = False) -> None:
        t[name] = Spec(params, returns, (_SK, fn, extra), strict)

    for k in ("i64", "str", "bin"):
        add(f"hll_agg_{k}", [f"{_TYPES[k]}[]", "INTEGER"], "BLOB", "hll_sketch_agg")
    add("hll_union_agg", ["BLOB[]", "BOOLEAN"], "BLOB", "hll_union_agg")
    add("hll_union", ["BLOB", "BLOB", "BOOLEAN"], "BLOB", "hll_union", strict=True)
    add("hll_estimate", ["BLOB"], "BIGINT", "hll_estimate", strict=True)
    for k in ("i64", "f64", "str", "bin"):
        add(f"theta_agg_{k}", [f"{_TYPES[k]}[]", "INTEGER"], "BLOB", "theta_sketch_agg")
    add("theta_union_agg", ["BLOB[]", "INTEGER"], "BLOB", "theta_union_agg")
    add("theta_intersection_agg", ["BLOB[]"], "BLOB", "theta_intersection_agg")
    add("theta_union", ["BLOB", "BLOB", "INTEGER"], "BLOB", "theta_union", strict=True)
    add("theta_intersection", ["BLOB", "BLOB"], "BLOB", "theta_intersection", strict=True)
    add("theta_difference", ["BLOB", "BLOB"], "BLOB", "theta_difference", strict=True)
    add("theta_estimate", ["BLOB"], "BIGINT", "theta_estimate", strict=True)
    for s, integer in (("d", False), ("i", True)):
        v = "INTEGER" if integer else "DOUBLE"
        for k in ("i64", "f64", "str", "bin"):
            add(f"tuple_agg_{s}_{k}", [f"{_TYPES[k]}[]", f"{v}[]", "INTEGER", "VARCHAR"], "BLOB",
                "tuple_sketch_agg", integer)
        add(f"tuple_union_agg_{s}", ["BLOB[]", "INTEGER", "VARCHAR"], "BLOB",
            "tuple_union_agg", integer)
        add(f"tuple_intersection_agg_{s}", ["BLOB[]", "VARCHAR"], "BLOB",
            "tuple_intersection_agg", integer)
        for theta, suffix in ((False, ""), (True, "_theta")):
            add(f"tuple_union{suffix}_{s}", ["BLOB", "BLOB", "INTEGER", "VARCHAR"], "BLOB",
                "tuple_union", integer, theta, strict=True)
            add(f"tuple_intersection{suffix}_{s}", ["BLOB", "BLOB", "VARCHAR"], "BLOB",
                "tuple_intersection", integer, theta, strict=True)
            add(f"tuple_difference{suffix}_{s}", ["BLOB", "BLOB"], "BLOB",
                "tuple_difference", integer, theta, strict=True)
        add(f"tuple_estimate_{s}", ["BLOB"], "DOUBLE", "tuple_estimate", integer, strict=True)
        add(f"tuple_theta_{s}", ["BLOB"], "DOUBLE", "tuple_theta", integer, strict=True)
        add(f"tuple_summary_{s}", ["BLOB", "VARCHAR"], "BIGINT" if integer else "DOUBLE",
            "tuple_summary", integer, strict=True)
    for kind, ty in _KLL_TYPES.items():
        add(f"kll_agg_{kind}", [f"{ty}[]", "INTEGER"], "BLOB", "kll_sketch_agg", kind)
        add(f"kll_merge_agg_{kind}", ["BLOB[]", "INTEGER"], "BLOB", "kll_merge_agg", kind)
        add(f"kll_merge_{kind}", ["BLOB", "BLOB"], "BLOB", "kll_merge", kind, strict=True)
        add(f"kll_n_{kind}", ["BLOB"], "BIGINT", "kll_n", kind, strict=True)
        add(f"kll_to_string_{kind}", ["BLOB"], "VARCHAR", "kll_to_string", kind, strict=True)
        add(f"kll_quantile_{kind}", ["BLOB", "DOUBLE"], ty, "kll_quantile", kind, strict=True)
        add(f"kll_quantiles_{kind}", ["BLOB", "DOUBLE[]"], f"{ty}[]", "kll_quantiles", kind,
            strict=True)
        add(f"kll_rank_{kind}", ["BLOB", ty], "DOUBLE", "kll_rank", kind, strict=True)
        add(f"kll_ranks_{kind}", ["BLOB", f"{ty}[]"], "DOUBLE[]", "kll_ranks", kind,
            strict=True)
    for k in ("i64", "str", "bin"):
        add(f"cms_{k}", [f"{_TYPES[k]}[]", "DOUBLE", "DOUBLE", "BIGINT"], "BLOB",
            "count_min_sketch", k != "i64")
    add("cms_merge", ["BLOB[]"], "BLOB", "count_min_merge")
    add("bitmap_construct", ["BIGINT[]"], "BLOB", "bitmap_construct")
    add("bitmap_or", ["BLOB[]"], "BLOB", "bitmap_or")
    add("bitmap_and", ["BLOB[]"], "BLOB", "bitmap_and")
    add("bitmap_count", ["BLOB"], "BIGINT", "bitmap_count", strict=True)
    add("histogram_numeric", ["DOUBLE[]", "INTEGER"], "STRUCT(x DOUBLE, y DOUBLE)[]",
        "histogram_numeric")
    for k, ty in _TYPES.items():
        t[f"murmur3_{k}"] = Spec([ty, "INTEGER"], "INTEGER", ("executors.spark_hash", "murmur3", (k,)))
        t[f"xxhash64_{k}"] = Spec([ty, "BIGINT"], "BIGINT", ("executors.spark_hash", "xxhash64", (k,)))
    t["crc32"] = Spec(["BLOB"], "BIGINT", ("zlib", "crc32", ()), strict=True)
    return t


_PA = {"BLOB": pa.binary(), "BIGINT": pa.int64(), "INTEGER": pa.int32(), "DOUBLE": pa.float64(),
       "FLOAT": pa.float32(), "VARCHAR": pa.string(), "BOOLEAN": pa.bool_(),
       "STRUCT(x DOUBLE, y DOUBLE)": pa.struct([("x", pa.float64()), ("y", pa.float64())])}


def _pa_type(sql: str) -> pa.DataType:
    return pa.list_(_pa_type(sql[:-2])) if sql.endswith("[]") else _PA[sql]


_RENAMES = (("theta_estimate", "theta_sketch_estimate"), ("tuple_estimate", "tuple_sketch_estimate"),
            ("tuple_theta", "tuple_sketch_theta"), ("tuple_summary", "tuple_sketch_summary"),
            ("kll_n_", "kll_sketch_get_n_"), ("kll_to_string_", "kll_sketch_to_string_"),
            ("kll_quantiles_", "kll_sketch_get_quantile_"),
            ("kll_quantile_", "kll_sketch_get_quantile_"), ("kll_ranks_", "kll_sketch_get_rank_"),
            ("kll_rank_", "kll_sketch_get_rank_"), ("kll_merge_agg_", "kll_merge_agg_"),
            ("kll_merge_", "kll_sketch_merge_"))
_VALUE_INPUTS = ("hll", "theta_agg_", "tuple_agg_", "kll_agg_", "cms", "bitmap", "histogram",
                 "murmur3", "xxhash64", "crc32")  # no sketch among their inputs
_BUFFER_ERRORS = {
    "theta": ("THETA_INVALID_INPUT_SKETCH_BUFFER", "Theta", "the `theta_sketch_agg`"),
    "tuple": ("TUPLE_INVALID_INPUT_SKETCH_BUFFER", "Tuple",
              "the corresponding `tuple_sketch_agg_*`"),
    "kll": ("KLL_INVALID_INPUT_SKETCH_BUFFER", "KLL", "the `kll_sketch_agg`"),
}


def _spark_name(short: str) -> str:
    for ours, spark in _RENAMES:
        if short.startswith(ours):
            short = spark + short[len(ours):]
            break
    if short.startswith("tuple_"):
        short = short[:-2] + ("_double" if short.endswith("_d") else "_integer")
    return short


def _buffer_error(short: str) -> Exception | None:
    """Spark's error for a sketch buffer the library cannot read (HLL's: executors.sketches)."""
    family = short.split("_", 1)[0]
    if short.startswith(_VALUE_INPUTS) or family not in _BUFFER_ERRORS:
        return None
    cls, kind, producer = _BUFFER_ERRORS[family]
    return builtins.SparkFunctionError(
        f"[{cls}] Invalid call to `{_spark_name(short)}`; only valid {kind} sketch buffers are "
        f"supported as inputs (such as those produced by {producer} function).")


def _rows(spec: Spec, short: str = "") -> Callable[..., pa.Array]:
    """An arrow function applying the implementation to each row's Python values."""
    module, name, extra = spec.impl
    out_type = _pa_type(spec.returns)
    fn: list[Callable[..., Any]] = []
    bad_buffer = _buffer_error(short)

    def call(*arrays: pa.ChunkedArray) -> pa.Array:
        if not fn:
            import importlib

            fn.append(getattr(importlib.import_module(module), name))
        impl = fn[0]
        cols = [a.to_pylist() for a in arrays]
        out = []
        for vals in zip(*cols, strict=True):
            if spec.strict and any(v is None for v in vals):
                out.append(None)
                continue
            try:
                out.append(impl(*vals, *extra))
            except builtins.SparkFunctionError:
                raise
            except (ValueError, RuntimeError):
                if bad_buffer is None:
                    raise
                raise bad_buffer from None
        return pa.array(out, out_type)

    return call


# ----------------------------------------------------------------------------- random

_CHARS = "0123456789abcdefghijklmnopqrstuvwxyz" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_generators: dict[tuple, Any] = {}  # (function, seed, partition, call site, ...) -> its rng
_query: list[int] = [-1]  # the query run (txid) the generators belong to


def _draw(kind: str, rng: Any, extra: tuple) -> Any:
    if kind == "rand":
        return rng.next_double()
    if kind == "randn":
        return rng.next_gaussian()
    return "".join(_CHARS[abs(rng.next_int()) % 62] for _ in range(int(extra[0])))


def _random(kind: str, out_type: pa.DataType) -> Callable[..., pa.Array]:
    """Each call continues the stream of XORShiftRandom(seed + partition) of its call site
    in this query run: one draw per row, as Spark's per-partition generator."""

    def call(seed: pa.ChunkedArray, pid: pa.ChunkedArray, site: pa.ChunkedArray,
             query: pa.ChunkedArray, *extra: pa.ChunkedArray) -> pa.Array:
        from executors.spark_random import XORShiftRandom

        n = len(seed)
        if n == 0:
            return pa.array([], out_type)
        txid = query[0].as_py()
        if txid != _query[0]:  # a new task (or a rerun): every stream starts over
            _generators.clear()
            _query[0] = txid
        consts = tuple(e[0].as_py() for e in extra)
        key = (kind, seed[0].as_py(), pid[0].as_py(), site[0].as_py(), *consts)
        rng = _generators.get(key)
        if rng is None:
            rng = _generators[key] = XORShiftRandom(key[1] + key[2])
        return pa.array([_draw(kind, rng, consts) for _ in range(n)], out_type)

    return call


_NUMERIC_KINDS = ("i32", "i64", "f32", "f64")


def _hash_vector(family: str, kind: str) -> Callable[..., pa.Array]:
    """A column's hash step over a whole vector with numpy (a null keeps the seed); numbers
    for both hashes, strings and binary for Murmur3 (xxhash64's C library is fast per value)."""

    def call(values: pa.ChunkedArray, seeds: pa.ChunkedArray) -> pa.Array:
        import numpy as np
        import pyarrow.compute as pc

        from executors import spark_hash

        seed = seeds.to_numpy()
        if kind in ("str", "bin"):  # murmur3 only: the bytes of each value from the buffers
            flat = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
            flat = flat.cast(pa.large_binary())
            buffers = flat.buffers()
            offsets = np.frombuffer(buffers[1], dtype=np.int64)[
                flat.offset : flat.offset + len(flat) + 1]
            data = (np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None
                    else np.zeros(0, np.uint8))
            out = spark_hash.murmur3_bytes_vector(offsets, data, seed)
        else:
            filled = pc.fill_null(values, 0).to_numpy()
            fn = spark_hash.murmur3_numeric if family == "murmur3" else spark_hash.xxhash64_numeric
            out = fn(filled, seed, kind)
        if values.null_count:
            out = np.where(values.is_null().to_numpy(), seed.astype(out.dtype), out)
        return pa.array(out)

    return call


def _register() -> None:
    from executors.python_udf import with_arity

    for name, spec in _sketch_specs().items():
        family, _, kind = name.partition("_")
        if (family in ("murmur3", "xxhash64") and kind in _NUMERIC_KINDS) or (
                family == "murmur3" and kind in ("str", "bin")):
            fn = _hash_vector(family, kind)
        else:
            fn = with_arity(_rows(spec, name), len(spec.params))
        builtins.builtin(name, spec.params, spec.returns, kind="arrow", special_nulls=True)(fn)
    site = ["BIGINT", "INTEGER", "INTEGER", "UBIGINT"]  # seed, partition, call site, txid
    for name, extra, returns in (("rand", [], "DOUBLE"), ("randn", [], "DOUBLE"),
                                 ("randstr", ["INTEGER"], "VARCHAR")):
        params = site + extra
        builtins.builtin(name, params, returns, kind="arrow", special_nulls=True,
                         side_effects=True)(
            with_arity(_random(name, _pa_type(returns)), len(params)))


def _register_errors() -> None:
    """Spark's exception class and SQLSTATE of the errors these functions raise
    (``executors.errors`` reports a ``[CLASS] message`` raised inside a built-in)."""
    from executors.errors import ERROR_CLASSES

    runtime = "org.apache.spark.SparkRuntimeException"
    ERROR_CLASSES.setdefault("HLL_UNION_DIFFERENT_LG_K", (runtime, "22000"))
    ERROR_CLASSES.setdefault("HLL_INVALID_INPUT_SKETCH_BUFFER", (runtime, "22546"))
    ERROR_CLASSES.setdefault("KLL_SKETCH_INVALID_QUANTILE_RANGE", (runtime, "22003"))
    for cls, _, _ in _BUFFER_ERRORS.values():
        ERROR_CLASSES.setdefault(cls, (runtime, "22000"))
    ERROR_CLASSES.setdefault(
        "INVALID_BITMAP_POSITION", ("org.apache.spark.SparkArrayIndexOutOfBoundsException", "22003"))


NAMES = sorted({*_sketch_specs(), "rand", "randn", "randstr"})
_register()
_register_errors()
