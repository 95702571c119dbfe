"""Where Spark's round-robin repartition starts each map task, so ``repartition(n)``
spreads rows over the same partitions as Spark. ``ShuffleExchangeExec``: position =
``new XORShiftRandom(partitionId).nextInt(n)``, incremented before each row (SPARK-21782)."""

from __future__ import annotations

import struct

_M32 = 0xFFFFFFFF
_M64 = (1 << 64) - 1


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & _M32


def _mix_last(h: int, k: int) -> int:
    k = (k * 0xCC9E2D51) & _M32
    k = _rotl(k, 15)
    k = (k * 0x1B873593) & _M32
    return h ^ k


def _mix(h: int, k: int) -> int:
    h = _rotl(_mix_last(h, k), 13)
    return (h * 5 + 0xE6546B64) & _M32


def _avalanche(h: int) -> int:
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _M32
    return h ^ (h >> 16)


def bytes_hash(data: bytes, seed: int) -> int:
    """scala.util.hashing.MurmurHash3.bytesHash (unsigned 32-bit result)."""
    h = seed & _M32
    n = len(data) // 4 * 4
    for i in range(0, n, 4):
        h = _mix(h, int.from_bytes(data[i : i + 4], "little"))
    tail = data[n:]
    if tail:
        h = _mix_last(h, int.from_bytes(tail, "little"))
    return _avalanche(h ^ len(data))


def _signed32(v: int) -> int:
    return v - (1 << 32) if v >= 1 << 31 else v


def hash_seed(seed: int) -> int:
    """XORShiftRandom.hashSeed: a 64-bit seed from two MurmurHash3 passes over the long."""
    data = struct.pack(">q", seed)
    low = bytes_hash(data, 0x3C074A61)
    high = bytes_hash(data, _signed32(low))
    return ((high << 32) | low) & _M64


def xorshift_next_int(seed: int, bound: int) -> int:
    """``new XORShiftRandom(seed).nextInt(bound)`` (java.util.Random's nextInt over next(31))."""
    state = hash_seed(seed)

    def next31() -> int:
        nonlocal state
        s = state ^ ((state << 21) & _M64)
        s ^= s >> 35
        s ^= (s << 4) & _M64
        state = s
        return s & ((1 << 31) - 1)

    r = next31()
    m = bound - 1
    if bound & m == 0:
        return (bound * r) >> 31
    u = r
    r = u % bound
    while _signed32((u - r + m) & _M32) < 0:
        u = next31()
        r = u % bound
    return r


def round_robin_start(map_index: int, num_partitions: int) -> int:
    """The partition of a map task's first row (Spark increments before the first row)."""
    return (xorshift_next_int(map_index, num_partitions) + 1) % num_partitions
