"""Spark's hashes (``hash``, ``xxhash64``, ``crc32``) and seeded random functions (``rand``,
``randn``, ``uniform``, ``randstr``), value for value as Spark computes them.

DuckDB's ``hash`` and ``random`` are other functions altogether; these run as task-side
Python (``executors/spark_hash.py``, ``executors/spark_random.py``). A random function
draws from Spark's ``XORShiftRandom(seed + partitionIndex)`` in the order the task
evaluates its rows, so a DataFrame split into the same partitions as Spark's gets Spark's values.
"""

from __future__ import annotations

import itertools
import random

from pyspark.sql.types import (
    BinaryType,
    ByteType,
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    LongType,
    ShortType,
    StringType,
)
from sqlglot import exp

from sparkless.errors import AnalysisException, unsupported
from sparkless.plan.catalog import Call, register
from sparkless.plan.python_builtins import call, hash_kind, type_error


def _hash_args(c: Call) -> tuple[list[str], list[exp.Expression]]:
    kinds: list[str] = []
    args: list[exp.Expression] = []
    typed = [(a, c.type(i)) for i, a in enumerate(c.args)]
    for a, t in typed:
        if isinstance(t, DecimalType):
            if t.precision > 18:
                raise unsupported(f"{c.name} of a decimal with precision above 18")
            scaled = exp.Mul(this=a, expression=exp.Literal.number(10**t.scale))
            kinds.append("i64")
            args.append(exp.cast(scaled, "BIGINT"))
            continue
        kind = hash_kind(t, a)
        if kind is None:
            raise unsupported(f"{c.name} of {t.simpleString()}")
        kinds.append(kind[0])
        args.append(kind[1])
    return kinds, args


def _chain(c: Call, family: str, seed_type: str) -> exp.Expression:
    """Spark hashes column by column, each column's hash the seed of the next."""
    kinds, args = _hash_args(c)
    out: exp.Expression = exp.cast(exp.Literal.number(42), seed_type)
    for kind, a in zip(kinds, args, strict=True):
        out = call(c, f"{family}_{kind}", a, out, nullable=False)
    out.meta["nullable"] = False
    return out


@register("hash")
def _hash(c: Call) -> exp.Expression:
    return _chain(c, "murmur3", "INTEGER")


@register("xxhash64")
def _xxhash64(c: Call) -> exp.Expression:
    return _chain(c, "xxhash64", "BIGINT")


@register("crc32")
def _crc32(c: Call) -> exp.Expression:
    t = c.type(0)
    x = c.arg(0)
    if isinstance(t, StringType):
        x = exp.Anonymous(this="encode", expressions=[x])
    elif not isinstance(t, BinaryType):
        raise type_error(c, 0, '"BINARY"')
    return call(c, "crc32", x)


def _seed(c: Call, i: int) -> int:
    if i >= len(c.args):
        return random.randint(-(2**63), 2**63 - 1)
    t = c.type(i)
    value = c.literal_value(i)
    if value is None:
        return 0
    if not isinstance(t, (IntegerType, LongType, ShortType, ByteType)) or not isinstance(value, int):
        raise AnalysisException(
            f"The seed of `{c.name}` must be a constant INT or BIGINT: {value!r}.",
            "SEED_EXPRESSION_IS_UNFOLDABLE" if not c.is_literal(i) else
            "DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE",
            sql_state="42K09",
        )
    return value


_sites = itertools.count(1)  # each random call site draws its own stream


def _stream(c: Call, short: str, seed: int, *extra: exp.Expression) -> exp.Expression:
    """``sparkless_<short>(seed, partition, call site, query, ...)``: the task writes its
    partition in (scheduler/dag.py); the function continues its stream from vector to
    vector of one query run (``txid_current()``), one draw per row in the order DuckDB
    evaluates it -- in a select list, a filter or under an aggregate alike."""
    pid = exp.cast(
        exp.Anonymous(this="getvariable", expressions=[exp.Literal.string("sparkless_partition_id")]),
        "INT",
    )
    query = exp.Anonymous(this="txid_current", expressions=[])
    out = call(c, short, exp.cast(exp.Literal.number(seed), "BIGINT"), pid,
               exp.Literal.number(next(_sites)), query, *extra, nullable=False)
    out.meta["nondeterministic"] = True
    return out


@register("rand", "random")
def _rand(c: Call) -> exp.Expression:
    return _stream(c, "rand", _seed(c, 0))


@register("randn")
def _randn(c: Call) -> exp.Expression:
    return _stream(c, "randn", _seed(c, 0))


_INTS = (ShortType, IntegerType, LongType)
_NUMERIC = (*_INTS, FloatType, DoubleType)


@register("uniform")
def _uniform(c: Call) -> exp.Expression:
    """``CAST(min + (max - min) * rand(seed) AS <type>)`` as Spark's replacement, the
    cast to an integer truncating toward zero."""
    for i in (0, 1):
        if not isinstance(c.type(i), _NUMERIC):
            raise type_error(c, i, '"integer or floating-point"')
    lo, hi = exp.cast(c.arg(0), "DOUBLE"), exp.cast(c.arg(1), "DOUBLE")
    r = _stream(c, "rand", _seed(c, 2))
    value = exp.Add(this=lo, expression=exp.Mul(
        this=exp.paren(exp.Sub(this=hi, expression=lo.copy())), expression=r))
    t0, t1 = c.type(0), c.type(1)
    if isinstance(t0, _INTS) and isinstance(t1, _INTS):
        target = next(n for cls, n in ((LongType, "BIGINT"), (IntegerType, "INTEGER"),
                                       (ShortType, "SMALLINT")) if isinstance(t0, cls) or isinstance(t1, cls))
        out = exp.cast(exp.Anonymous(this="trunc", expressions=[value]), target)
    elif isinstance(t0, DoubleType) or isinstance(t1, DoubleType):
        out = value
    else:
        out = exp.cast(value, "FLOAT")
    out.meta["nullable"] = False
    out.meta["nondeterministic"] = True
    return out


@register("randstr")
def _randstr(c: Call) -> exp.Expression:
    if not isinstance(c.type(0), (ShortType, IntegerType)) or not c.is_literal(0):
        raise type_error(c, 0, "constant value of INT or SMALLINT")
    length = c.literal_value(0)
    return _stream(c, "randstr", _seed(c, 1), exp.cast(exp.Literal.number(length), "INTEGER"))
