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

import numpy as np
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


def murmur3_bytes(data: bytes, seed: int) -> int:
    """Spark's ``Murmur3_x86_32.hashUnsafeBytes`` of ``data`` (unsigned): whole words, then
    each tail byte mixed as a sign-extended int of its own."""
    h = seed & _M32
    n = len(data) // 4 * 4
    for (word,) in struct.iter_unpack("<I", data[:n]):
        h = _mix_h1(h, _mix_k1(word))
    for b in data[n:]:
        h = _mix_h1(h, _mix_k1((b - 256 if b > 127 else b) & _M32))
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


# ----------------------------------------------------------------------------- vectorized

_P1, _P2, _P3, _P4, _P5 = (np.uint64(p) for p in (  # XXH64's primes
    0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x85EBCA77C2B2AE63,
    0x27D4EB2F165667C5))


def _words(values: np.ndarray, kind: str) -> list[np.ndarray]:
    """The little-endian 32-bit words Spark hashes for numeric values (see :func:`encoder`)."""
    if kind == "f32":
        v = values.astype(np.float32)
        v = np.where(v == 0, np.float32(0), v)  # -0.0 as 0.0
        bits = v.view(np.uint32).copy()
        bits[np.isnan(v)] = 0x7FC00000
        return [bits]
    if kind == "f64":
        v = values.astype(np.float64)
        v = np.where(v == 0, 0.0, v)
        bits = v.view(np.uint64).copy()
        bits[np.isnan(v)] = np.uint64(0x7FF8000000000000)
        return [(bits & np.uint64(_M32)).astype(np.uint32), (bits >> np.uint64(32)).astype(np.uint32)]
    if kind == "i32":
        return [values.astype(np.int32).view(np.uint32)]
    bits = values.astype(np.int64).view(np.uint64)
    return [(bits & np.uint64(_M32)).astype(np.uint32), (bits >> np.uint64(32)).astype(np.uint32)]


def _rotl32v(x: np.ndarray, r: int) -> np.ndarray:
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def murmur3_numeric(values: np.ndarray, seeds: np.ndarray, kind: str) -> np.ndarray:
    """:func:`murmur3` of non-null numeric values, a vector at a time (int32 results)."""
    with np.errstate(over="ignore"):
        h = seeds.astype(np.int64).astype(np.uint32)
        words = _words(values, kind)
        for w in words:
            k = _rotl32v(w * np.uint32(0xCC9E2D51), 15) * np.uint32(0x1B873593)
            h = _rotl32v(h ^ k, 13) * np.uint32(5) + np.uint32(0xE6546B64)
        h ^= np.uint32(4 * len(words))
        h ^= h >> np.uint32(16)
        h *= np.uint32(0x85EBCA6B)
        h ^= h >> np.uint32(13)
        h *= np.uint32(0xC2B2AE35)
        h ^= h >> np.uint32(16)
    return h.view(np.int32)


def _rotl64v(x: np.ndarray, r: int) -> np.ndarray:
    return (x << np.uint64(r)) | (x >> np.uint64(64 - r))


def xxhash64_numeric(values: np.ndarray, seeds: np.ndarray, kind: str) -> np.ndarray:
    """:func:`xxhash64` of non-null numeric values: XXH64 of their 4 or 8 bytes, vectorized."""
    with np.errstate(over="ignore"):
        words = _words(values, kind)
        seed = seeds.astype(np.int64).view(np.uint64)
        if len(words) == 1:
            h = seed + _P5 + np.uint64(4)
            h ^= words[0].astype(np.uint64) * _P1
            h = _rotl64v(h, 23) * _P2 + _P3
        else:
            v = words[0].astype(np.uint64) | (words[1].astype(np.uint64) << np.uint64(32))
            h = seed + _P5 + np.uint64(8)
            h ^= _rotl64v(v * _P2, 31) * _P1
            h = _rotl64v(h, 27) * _P1 + _P4
        h ^= h >> np.uint64(33)
        h *= _P2
        h ^= h >> np.uint64(29)
        h *= _P3
        h ^= h >> np.uint64(32)
    return h.view(np.int64)


def _mix_k1v(k: np.ndarray) -> np.ndarray:
    return _rotl32v(k * np.uint32(0xCC9E2D51), 15) * np.uint32(0x1B873593)


def _mix_h1v(h: np.ndarray, k: np.ndarray) -> np.ndarray:
    return _rotl32v(h ^ k, 13) * np.uint32(5) + np.uint32(0xE6546B64)


def murmur3_bytes_vector(offsets: np.ndarray, data: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """:func:`murmur3_bytes` (Spark's tail) of every value of a binary vector given by its
    Arrow ``offsets`` and ``data``: word ``j`` of all values at once, longest values first."""
    starts = offsets[:-1].astype(np.int64)
    lengths = (offsets[1:] - offsets[:-1]).astype(np.int64)
    nwords = lengths // 4
    order = np.argsort(-nwords, kind="stable")
    by_words = nwords[order]
    with np.errstate(over="ignore"):
        h = seeds.astype(np.int64).astype(np.uint32)
        for j in range(int(by_words[0]) if len(by_words) else 0):
            rows = order[: int(np.searchsorted(-by_words, -j, side="left"))]
            p = starts[rows] + 4 * j
            w = (data[p].astype(np.uint32) | (data[p + 1].astype(np.uint32) << np.uint32(8))
                 | (data[p + 2].astype(np.uint32) << np.uint32(16))
                 | (data[p + 3].astype(np.uint32) << np.uint32(24)))
            h[rows] = _mix_h1v(h[rows], _mix_k1v(w))
        tail = lengths - 4 * nwords
        for t in range(3):
            rows = np.nonzero(tail > t)[0]
            if len(rows):
                b = data[starts[rows] + 4 * nwords[rows] + t].view(np.int8).astype(np.int32)
                h[rows] = _mix_h1v(h[rows], _mix_k1v(b.view(np.uint32)))
        h ^= lengths.astype(np.uint32)
        h ^= h >> np.uint32(16)
        h *= np.uint32(0x85EBCA6B)
        h ^= h >> np.uint32(13)
        h *= np.uint32(0xC2B2AE35)
        h ^= h >> np.uint32(16)
    return h.view(np.int32)
