"""Spark's sketch functions over Python values: one call per group or per row.

HLL, theta, tuple and KLL sketches come from Apache DataSketches' Python bindings
(``datasketches``), whose serialized sketches are the Java library's format that Spark
writes: a sketch built here is read by Spark and the other way round. Parameters and
defaults are Spark's (``DatasketchesHllSketch``/``thetasketchesAggregates``/
``tupleSketchAgg``/``kllAggregates``): HLL_8 registers, theta sketches serialized compact
and compressed, tuple sketches compact with Java's double/integer summary layouts.

Spark's own count-min sketch (``CountMinSketchImpl``), 4096-byte bitmaps
(``BitmapExpressionUtils``) and numeric histogram (Hive's ``NumericHistogram``) exist in
no library and are written out here after Spark's code.
"""

from __future__ import annotations

import bisect
import math
import struct
from collections.abc import Iterable
from typing import Any

import datasketches as ds

from executors.builtins import SparkFunctionError
from executors.spark_hash import murmur3_bytes, to_signed32
from executors.spark_random import JavaRandom

# ----------------------------------------------------------------------------- HLL


def _present(values: Iterable[Any] | None) -> list[Any]:
    return [v for v in (values or ()) if v is not None]


def _hll_key(v: Any) -> Any:
    if isinstance(v, bytes | bytearray):
        return bytes(v).decode("utf-8")  # the C++ string update hashes the raw bytes
    return v


def hll_sketch_agg(values: list[Any] | None, lg_k: int) -> bytes:
    sk = ds.hll_sketch(lg_k, ds.HLL_8)
    for v in _present(values):
        if isinstance(v, str | bytes) and not v:
            continue  # Spark ignores empty strings and byte arrays
        sk.update(_hll_key(v))
    return sk.serialize_updatable()


def _hll_check(a: int, b: int, allow: bool, fn: str) -> None:
    if not allow and a != b:
        raise SparkFunctionError(
            f"[HLL_UNION_DIFFERENT_LG_K] Sketches have different `lgConfigK` values: {a} and {b}. "
            f"Set the `allowDifferentLgConfigK` parameter to true to call `{fn}` with different "
            "`lgConfigK` values."
        )


def hll_union_agg(sketches: list[bytes] | None, allow: bool) -> bytes:
    items = [_hll(s, "hll_union_agg") for s in _present(sketches)]
    if not items:
        return ds.hll_sketch(12, ds.HLL_8).serialize_updatable()
    lg = items[0].lg_config_k  # Spark sizes the union by the first sketch
    union = ds.hll_union(lg)
    for s in items:
        _hll_check(lg, s.lg_config_k, allow, "hll_union_agg")
    for s in sorted(items, key=lambda s: s.lg_config_k):
        union.update(s)  # smaller lgConfigK first: see hll_union
    return union.get_result(ds.HLL_8).serialize_updatable()


def hll_union(a: bytes, b: bytes, allow: bool) -> bytes:
    sa, sb = _hll(a, "hll_union"), _hll(b, "hll_union")
    _hll_check(sa.lg_config_k, sb.lg_config_k, allow, "hll_union")
    union = ds.hll_union(min(sa.lg_config_k, sb.lg_config_k))
    # The C++ union, given the larger sketch first, keeps its HIP estimate (and loses the
    # other's items from the estimate); Java's does not. Smaller first gives Java's bytes.
    for sk in sorted((sa, sb), key=lambda s: s.lg_config_k):
        union.update(sk)
    return union.get_result(ds.HLL_8).serialize_updatable()


def _hll(b: bytes, fn: str) -> Any:
    try:
        return ds.hll_sketch.deserialize(bytes(b))
    except Exception:  # noqa: BLE001 - any unreadable buffer is Spark's invalid input
        raise SparkFunctionError(
            f"[HLL_INVALID_INPUT_SKETCH_BUFFER] Invalid call to `{fn}`; only valid HLL sketch "
            "buffers are supported as inputs (such as those produced by the `hll_sketch_agg` "
            "function).") from None


def hll_estimate(sketch: bytes) -> int:
    return round(_hll(sketch, "hll_sketch_estimate").get_estimate())


# ----------------------------------------------------------------------------- theta


def _theta(b: bytes) -> Any:
    return ds.compact_theta_sketch.deserialize(bytes(b))


def _key(v: Any) -> Any:
    if isinstance(v, bytes | bytearray):
        return bytes(v).decode("utf-8")
    if isinstance(v, list):
        raise SparkFunctionError("[UNSUPPORTED_FEATURE.SPARKLESS] array keys of a theta/tuple sketch")
    return v


def _skip(v: Any) -> bool:
    return v is None or (isinstance(v, str | bytes) and not v)


def theta_sketch_agg(values: list[Any] | None, lg_k: int) -> bytes:
    sk = ds.update_theta_sketch(lg_k)
    for v in values or ():
        if not _skip(v):
            sk.update(_key(v))
    union = ds.theta_union(lg_k)  # Spark's result: a union of the partial sketch (k entries)
    union.update(sk)
    return union.get_result().serialize(True)


def theta_union_agg(sketches: list[bytes] | None, lg_k: int) -> bytes:
    union = ds.theta_union(lg_k)
    for s in _present(sketches):
        union.update(_theta(s))
    return union.get_result().serialize(True)


def theta_intersection_agg(sketches: list[bytes] | None) -> bytes:
    inter = ds.theta_intersection()
    for s in _present(sketches):
        inter.update(_theta(s))
    if not inter.has_result():
        return ds.update_theta_sketch().compact().serialize(True)
    return inter.get_result().serialize(True)


def theta_union(a: bytes, b: bytes, lg_k: int) -> bytes:
    return theta_union_agg([a, b], lg_k)


def theta_intersection(a: bytes, b: bytes) -> bytes:
    return theta_intersection_agg([a, b])


def theta_difference(a: bytes, b: bytes) -> bytes:
    return ds.theta_a_not_b().compute(_theta(a), _theta(b)).serialize(True)


def theta_estimate(sketch: bytes) -> int:
    return round(_theta(sketch).get_estimate())


# ----------------------------------------------------------------------------- tuple

_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


class ModePolicy(ds.TuplePolicy):
    """Java's DoubleSummary/IntegerSummary for a mode: the initial value, how a row updates
    a summary and how set operations combine two (the same rule)."""

    def __init__(self, mode: str, integer: bool) -> None:
        super().__init__()
        self.mode = mode
        self.integer = integer

    def create_summary(self) -> Any:
        if self.mode == "sum":
            return 0 if self.integer else 0.0
        if self.mode == "min":
            return _INT_MAX if self.integer else math.inf
        if self.mode == "max":
            return _INT_MIN if self.integer else -math.inf
        return 1 if self.integer else 1.0

    def update_summary(self, summary: Any, value: Any) -> Any:
        return self(summary, value)

    def __call__(self, a: Any, b: Any) -> Any:
        if self.mode == "sum":
            return to_signed32(a + b) if self.integer else a + b
        if self.mode == "min":
            return min(a, b)
        if self.mode == "max":
            return max(a, b)
        return 1 if self.integer else 1.0


_MODE_ORDINALS = {m: i for i, m in enumerate(("sum", "min", "max", "alwaysone"))}


class SummarySerDe(ds.PyObjectSerDe):
    """Java's DoubleSummary / IntegerSummary bytes: the value (little-endian double or int)
    and the mode's ordinal. Reading keeps the mode it saw, for a result without a mode
    parameter (A-not-B) to write back."""

    def __init__(self, integer: bool, mode: str | None = None) -> None:
        super().__init__()
        self.fmt = "<i" if integer else "<d"
        self.size = 5 if integer else 9
        self.mode = _MODE_ORDINALS[mode] if mode else 0

    def get_size(self, item: Any) -> int:
        return self.size

    def to_bytes(self, item: Any) -> bytes:
        return struct.pack(self.fmt, item) + bytes([self.mode])

    def from_bytes(self, data: bytes, offset: int) -> tuple[Any, int]:
        (value,) = struct.unpack_from(self.fmt, data, offset)
        self.mode = data[offset + self.size - 1]
        return value, self.size


def _tuple(b: bytes, integer: bool, serde: SummarySerDe | None = None) -> Any:
    return ds.compact_tuple_sketch.deserialize(bytes(b), serde or SummarySerDe(integer))


def _tuple_bytes(sk: Any, integer: bool, mode: str) -> bytes:
    return sk.serialize(SummarySerDe(integer, mode))


def tuple_sketch_agg(
    keys: list[Any] | None, values: list[Any] | None, lg_k: int, mode: str, integer: bool
) -> bytes:
    sk = ds.update_tuple_sketch(ModePolicy(mode, integer), lg_k)
    for k, v in zip(keys or (), values or (), strict=True):
        if not _skip(k) and v is not None:
            sk.update(_key(k), int(v) if integer else float(v))
    return _tuple_bytes(sk.compact(False), integer, mode)


def tuple_union_agg(sketches: list[bytes] | None, lg_k: int, mode: str, integer: bool) -> bytes:
    union = ds.tuple_union(ModePolicy(mode, integer), lg_k)
    for s in _present(sketches):
        union.update(_tuple(s, integer))
    return _tuple_bytes(union.get_result(False), integer, mode)


def tuple_intersection_agg(sketches: list[bytes] | None, mode: str, integer: bool) -> bytes:
    inter = ds.tuple_intersection(ModePolicy(mode, integer))
    for s in _present(sketches):
        inter.update(_tuple(s, integer))
    if not inter.has_result():
        empty = ds.update_tuple_sketch(ModePolicy(mode, integer))
        return _tuple_bytes(empty.compact(False), integer, mode)
    return _tuple_bytes(inter.get_result(False), integer, mode)


def _from_theta(b: bytes, mode: str, integer: bool) -> Any:
    """A theta sketch as a tuple sketch whose entries carry the mode's initial summary."""
    return ds.compact_tuple_sketch(_theta(b), ModePolicy(mode, integer).create_summary())


def tuple_union(a: bytes, b: bytes, lg_k: int, mode: str, integer: bool, theta: bool) -> bytes:
    union = ds.tuple_union(ModePolicy(mode, integer), lg_k)
    union.update(_tuple(a, integer))
    union.update(_from_theta(b, mode, integer) if theta else _tuple(b, integer))
    return _tuple_bytes(union.get_result(False), integer, mode)


def tuple_intersection(a: bytes, b: bytes, mode: str, integer: bool, theta: bool) -> bytes:
    inter = ds.tuple_intersection(ModePolicy(mode, integer))
    inter.update(_tuple(a, integer))
    inter.update(_from_theta(b, mode, integer) if theta else _tuple(b, integer))
    return _tuple_bytes(inter.get_result(False), integer, mode)


def tuple_difference(a: bytes, b: bytes, integer: bool, theta: bool) -> bytes:
    serde = SummarySerDe(integer)
    first = _tuple(a, integer, serde)
    other = _from_theta(b, "sum", integer) if theta else _tuple(b, integer)
    out = ds.tuple_a_not_b().compute(first, other, False)
    return out.serialize(SummarySerDe(integer, next(m for m, i in _MODE_ORDINALS.items()
                                                     if i == serde.mode)))


def tuple_estimate(sketch: bytes, integer: bool) -> float:
    return float(_tuple(sketch, integer).get_estimate())


def tuple_theta(sketch: bytes, integer: bool) -> float:
    return float(_tuple(sketch, integer).theta)


def tuple_summary(sketch: bytes, mode: str, integer: bool) -> Any:
    """The retained entries' summaries combined by ``mode`` (Spark's TupleSketchUtils)."""
    values = [s for _, s in _tuple(sketch, integer)]
    if not values:
        return 0 if integer else 0.0
    if mode == "sum":
        return sum(values)
    if mode == "min":
        return min(values)
    if mode == "max":
        return max(values)
    return len(values)


# ----------------------------------------------------------------------------- KLL

_KLL = {"bigint": ds.kll_items_sketch, "float": ds.kll_floats_sketch, "double": ds.kll_doubles_sketch}


def _kll_new(kind: str, k: int) -> Any:
    return _KLL[kind](k)


def _kll(b: bytes, kind: str) -> Any:
    if kind == "bigint":
        return ds.kll_items_sketch.deserialize(bytes(b), ds.PyLongsSerDe())
    return _KLL[kind].deserialize(bytes(b))


def _kll_bytes(sk: Any, kind: str) -> bytes:
    return sk.serialize(ds.PyLongsSerDe()) if kind == "bigint" else sk.serialize()


def kll_sketch_agg(values: list[Any] | None, k: int, kind: str) -> bytes:
    sk = _kll_new(kind, k)
    for v in values or ():
        if v is not None and not (isinstance(v, float) and math.isnan(v)):
            sk.update(int(v) if kind == "bigint" else float(v))
    return _kll_bytes(sk, kind)


def kll_merge_agg(sketches: list[bytes] | None, k: int | None, kind: str) -> bytes:
    items = [_kll(s, kind) for s in _present(sketches)]
    if not items:
        return _kll_bytes(_kll_new(kind, k or 200), kind)
    out = _kll_new(kind, k or items[0].k)
    for s in items:
        out.merge(s)
    return _kll_bytes(out, kind)


def kll_merge(a: bytes, b: bytes, kind: str) -> bytes:
    sa = _kll(a, kind)
    sa.merge(_kll(b, kind))
    return _kll_bytes(sa, kind)


def kll_n(sketch: bytes, kind: str) -> int:
    return int(_kll(sketch, kind).n)


def kll_to_string(sketch: bytes, kind: str) -> str:
    return _kll(sketch, kind).to_string()


def kll_quantile(sketch: bytes, rank: float, kind: str) -> Any:
    if not 0.0 <= rank <= 1.0:
        raise SparkFunctionError(
            f"[KLL_SKETCH_INVALID_QUANTILE_RANGE] For function `kll_sketch_get_quantile_{kind}`, "
            "the quantile value must be between 0.0 and 1.0 (inclusive)."
        )
    sk = _kll(sketch, kind)
    if sk.is_empty():
        return None
    if rank == 0.0:  # Java's sorted view holds the min and max items at the two ends
        return sk.get_min_value()
    if rank == 1.0:
        return sk.get_max_value()
    return sk.get_quantile(rank, True)


def kll_quantiles(sketch: bytes, ranks: list[float] | None, kind: str) -> list[Any] | None:
    if ranks is None:
        return None
    return [kll_quantile(sketch, r, kind) for r in ranks]


def kll_rank(sketch: bytes, value: Any, kind: str) -> float | None:
    sk = _kll(sketch, kind)
    if sk.is_empty():
        return None
    return float(sk.get_rank(int(value) if kind == "bigint" else float(value), True))


def kll_ranks(sketch: bytes, values: list[Any] | None, kind: str) -> list[Any] | None:
    if values is None:
        return None
    return [kll_rank(sketch, v, kind) for v in values]


# ----------------------------------------------------------------------------- count-min

_PRIME_MODULUS = (1 << 31) - 1


def count_min_sketch(
    values: list[Any] | None, eps: float, confidence: float, seed: int, binary: bool
) -> bytes:
    """CountMinSketchImpl(eps, confidence, seed) updated with every non-null value, then
    ``writeTo``'s big-endian layout: version, total count, depth, width, hashA, table."""
    width = math.ceil(2 / eps)
    depth = math.ceil(-math.log(1 - confidence) / math.log(2))
    rng = JavaRandom(to_signed32(seed))  # a BIGINT seed reaches CountMinSketch as its low int
    hash_a = [rng.next_int_bounded(2**31 - 1) for _ in range(depth)]
    table = [[0] * width for _ in range(depth)]
    total = 0
    for v in _present(values):
        total += 1
        if binary:
            data = v.encode("utf-8") if isinstance(v, str) else bytes(v)
            h1 = to_signed32(murmur3_bytes(data, 0))
            h2 = to_signed32(murmur3_bytes(data, h1))
            for i in range(depth):
                combined = to_signed32(h1 + i * h2)
                table[i][abs(int(math.fmod(combined, width)))] += 1
        else:
            item = int(v)
            for i in range(depth):
                h = (hash_a[i] * item) & ((1 << 64) - 1)
                h = h - (1 << 64) if h >= 1 << 63 else h
                h += h >> 32
                h &= _PRIME_MODULUS
                table[i][to_signed32(h) % width] += 1
    out = struct.pack(">iqii", 1, total, depth, width)
    out += struct.pack(f">{depth}q", *hash_a)
    for row in table:
        out += struct.pack(f">{width}q", *row)
    return out


def count_min_merge(sketches: list[bytes] | None) -> bytes | None:
    """CountMinSketchImpl.mergeInPlace over partial sketches of the same eps, confidence and
    seed: totals and tables add up (so the bytes do not depend on the partitioning)."""
    items = [bytes(s) for s in _present(sketches)]
    if not items:
        return None
    _, total, depth, width = struct.unpack_from(">iqii", items[0])
    head = 20 + 8 * depth
    table = list(struct.unpack_from(f">{depth * width}q", items[0], head))
    for other in items[1:]:
        total += struct.unpack_from(">q", other, 4)[0]
        for i, v in enumerate(struct.unpack_from(f">{depth * width}q", other, head)):
            table[i] += v
    return (struct.pack(">iq", 1, total) + items[0][12:head]
            + struct.pack(f">{depth * width}q", *table))


# ----------------------------------------------------------------------------- bitmaps

BITMAP_BYTES = 4096


def bitmap_construct(positions: list[Any] | None) -> bytes:
    buf = bytearray(BITMAP_BYTES)
    for p in _present(positions):
        if not 0 <= p < BITMAP_BYTES * 8:
            raise SparkFunctionError(
                f"[INVALID_BITMAP_POSITION] The 0-indexed bitmap position {p} is out of bounds. "
                f"The bitmap has {BITMAP_BYTES * 8} bits ({BITMAP_BYTES} bytes)."
            )
        buf[p // 8] |= 1 << (p % 8)
    return bytes(buf)


def bitmap_or(bitmaps: list[Any] | None) -> bytes:
    buf = bytearray(BITMAP_BYTES)
    for b in _present(bitmaps):
        for i, x in enumerate(bytes(b)[:BITMAP_BYTES]):
            buf[i] |= x
    return bytes(buf)


def bitmap_and(bitmaps: list[Any] | None) -> bytes:
    """Bytes a shorter input lacks count as zeros."""
    buf = bytearray(b"\xff" * BITMAP_BYTES)
    for b in _present(bitmaps):
        data = bytes(b)[:BITMAP_BYTES].ljust(BITMAP_BYTES, b"\x00")
        for i, x in enumerate(data):
            buf[i] &= x
    return bytes(buf)


def bitmap_count(bitmap: bytes) -> int:
    return sum(bin(x).count("1") for x in bytes(bitmap))


# ----------------------------------------------------------------------------- histogram


def histogram_numeric(values: list[Any] | None, nbins: int) -> list[tuple[float, float]] | None:
    """Hive's NumericHistogram (Ben-Haim and Tom-Tov) as Spark runs it: ties between equally
    close bins are broken by ``java.util.Random(31183)``. Spark returns null for no rows."""
    present = _present(values)
    if not present:
        return None
    prng = JavaRandom(31183)
    xs: list[float] = []
    ys: list[float] = []
    for raw in present:
        v = float(raw)
        i = bisect.bisect_left(xs, v)
        if i < len(xs) and xs[i] == v:
            ys[i] += 1
            continue
        xs.insert(i, v)
        ys.insert(i, 1.0)
        while len(xs) > nbins:
            best = xs[1] - xs[0]
            loc, count = 0, 1
            for j in range(1, len(xs) - 1):
                diff = xs[j + 1] - xs[j]
                if diff < best:
                    best, loc, count = diff, j, 1
                elif diff == best:
                    count += 1
                    if prng.next_double() <= 1.0 / count:
                        loc = j
            d = ys[loc] + ys[loc + 1]
            x = xs[loc] * (ys[loc] / d)  # Java's order of operations: ties depend on the bits
            xs[loc] = x + xs[loc + 1] / d * ys[loc + 1]
            ys[loc] = d
            del xs[loc + 1]
            del ys[loc + 1]
    return list(zip(xs, ys, strict=True))
