"""Spark's ``hash`` (Murmur3 x86_32) and ``xxhash64`` over values of a known Spark type.

Both hash a value as the bytes Spark feeds them: int-like types (boolean, byte, short, int,
date) as a 4-byte little-endian int, long-like ones (long, timestamp, decimal of precision
<= 18 by its unscaled value) as 8 bytes, float/double by their IEEE bits (-0.0 as 0.0,
NaN canonical), strings as UTF-8, binary as is. Columns chain: each column's hash seeds
the next, a null leaves the running hash unchanged; the first seed is 42 (the planner
writes the chain, one call per column).

xxhash64 is the standard XXH64 over those bytes (the PyPI ``xxhash`` package). Spark's
Murmur3 is standard for whole 4-byte words but mixes each trailing byte of a string or
binary value as a sign-extended int of its own (``Murmur3_x86_32.hashUnsafeBytes``), which
no library does, so it is written out here.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable

import xxhash

_M32 = 0xFFFFFFFF

def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & _M32


def _mix_k1(k: int) -> int:
    k = (k * 0xCC9E2D51) & _M32
    return (_rotl(k, 15) * 0x1B873593) & _M32


def _mix_h1(h: int, k: int) -> int:
    h = _rotl(h ^ k, 13)
    return (h * 5 + 0xE6546B64) & _M32


def _fmix(h: int, length: int) -> int:
    h ^= length
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _M32
    return h ^ (h >> 16)


def murmur3_bytes(data: bytes, seed: int, spark_tail: bool = True) -> int:
    """Murmur3_x86_32 of ``data`` (unsigned); ``spark_tail``: Spark's per-byte tail."""
    h = seed & _M32
    n = len(data) // 4 * 4
    for (word,) in struct.iter_unpack("<I", data[:n]):
        h = _mix_h1(h, _mix_k1(word))
    if spark_tail:
        for b in data[n:]:
            h = _mix_h1(h, _mix_k1((b - 256 if b > 127 else b) & _M32))
    elif len(data) > n:
        h ^= _mix_k1(int.from_bytes(data[n:], "little"))
    return _fmix(h, len(data))


def to_signed32(v: int) -> int:
    v &= _M32
    return v - (1 << 32) if v >= 1 << 31 else v


def to_signed64(v: int) -> int:
    v &= (1 << 64) - 1
    return v - (1 << 64) if v >= 1 << 63 else v


def _float_bits(v: float) -> bytes:
    if v == 0.0:
        v = 0.0
    if math.isnan(v):
        return struct.pack("<I", 0x7FC00000)
    return struct.pack("<f", v)


def _double_bits(v: float) -> bytes:
    if v == 0.0:
        v = 0.0
    if math.isnan(v):
        return struct.pack("<Q", 0x7FF8000000000000)
    return struct.pack("<d", v)


def encoder(kind: str) -> Callable[[object], bytes]:
    """The bytes Spark hashes for a non-null value of ``kind``."""
    if kind == "i32":
        return lambda v: struct.pack("<i", int(v))  # type: ignore[call-overload]
    if kind == "i64":
        return lambda v: struct.pack("<q", int(v))  # type: ignore[call-overload]
    if kind == "f32":
        return lambda v: _float_bits(float(v))  # type: ignore[arg-type]
    if kind == "f64":
        return lambda v: _double_bits(float(v))  # type: ignore[arg-type]
    if kind == "str":
        return lambda v: str(v).encode("utf-8")
    if kind == "bin":
        return lambda v: bytes(v)  # type: ignore[call-overload]
    raise ValueError(f"unknown hash kind {kind!r}")


_ENCODERS: dict[str, Callable[[object], bytes]] = {}


def _encode(value: object, kind: str) -> bytes:
    enc = _ENCODERS.get(kind)
    if enc is None:
        enc = _ENCODERS[kind] = encoder(kind)
    return enc(value)


def murmur3(value: object, seed: int, kind: str) -> int:
    """One column's step of Spark's ``hash``: a null leaves the running hash as it is."""
    if value is None:
        return seed
    return to_signed32(murmur3_bytes(_encode(value, kind), seed))


def xxhash64(value: object, seed: int, kind: str) -> int:
    """One column's step of Spark's ``xxhash64``."""
    if value is None:
        return seed
    return to_signed64(xxhash.xxh64_intdigest(_encode(value, kind), seed & ((1 << 64) - 1)))
