"""Spark's pseudo-random generators, value for value.

``rand``/``randn``/``uniform``/``randstr`` draw from ``XORShiftRandom(seed + partitionIndex)``
(Spark's ``org.apache.spark.util.random.XORShiftRandom``: a ``java.util.Random`` whose
``next(bits)`` is an xorshift over a seed hashed with MurmurHash3); count-min sketches and
numeric histograms use a plain ``java.util.Random``. No library reproduces these streams,
so they are written out here (the Java sources are the specification).
"""

from __future__ import annotations

import math
import struct

_M32 = 0xFFFFFFFF
_M64 = (1 << 64) - 1
_DOUBLE_UNIT = 1.0 / (1 << 53)


def _signed32(v: int) -> int:
    v &= _M32
    return v - (1 << 32) if v >= 1 << 31 else v


def _rotl32(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & _M32


def _scala_mix_last(h: int, k: int) -> int:
    k = (k * 0xCC9E2D51) & _M32
    k = _rotl32(k, 15)
    k = (k * 0x1B873593) & _M32
    return h ^ k


def _scala_bytes_hash(data: bytes, seed: int) -> int:
    """scala.util.hashing.MurmurHash3.bytesHash (unsigned 32-bit result)."""
    h = seed & _M32
    n = len(data) // 4 * 4
    for i in range(0, n, 4):
        h = _rotl32(_scala_mix_last(h, int.from_bytes(data[i : i + 4], "little")), 13)
        h = (h * 5 + 0xE6546B64) & _M32
    if len(data) > n:
        h = _scala_mix_last(h, int.from_bytes(data[n:], "little"))
    h ^= len(data)
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _M32
    return h ^ (h >> 16)


def hash_seed(seed: int) -> int:
    """XORShiftRandom.hashSeed: a 64-bit state from two MurmurHash3 passes over the long."""
    data = struct.pack(">q", _signed64(seed))
    low = _scala_bytes_hash(data, 0x3C074A61)
    high = _scala_bytes_hash(data, _signed32(low))
    return ((high << 32) | low) & _M64


def _signed64(v: int) -> int:
    v &= _M64
    return v - (1 << 64) if v >= 1 << 63 else v


class XORShiftRandom:
    """``new XORShiftRandom(seed)``: nextInt/nextDouble/nextGaussian as java.util.Random
    defines them over this class's ``next(bits)``."""

    def __init__(self, seed: int) -> None:
        self.state = hash_seed(seed)
        self._next_gaussian: float | None = None

    def next_bits(self, bits: int) -> int:
        s = self.state
        s ^= (s << 21) & _M64
        s ^= s >> 35
        s ^= (s << 4) & _M64
        self.state = s
        return s & ((1 << bits) - 1)

    def next_int(self) -> int:
        return _signed32(self.next_bits(32))

    def next_double(self) -> float:
        return ((self.next_bits(26) << 27) + self.next_bits(27)) * _DOUBLE_UNIT

    def next_gaussian(self) -> float:
        """java.util.Random.nextGaussian (Java 17: Marsaglia's polar method, pairs cached)."""
        if self._next_gaussian is not None:
            v, self._next_gaussian = self._next_gaussian, None
            return v
        while True:
            v1 = 2 * self.next_double() - 1
            v2 = 2 * self.next_double() - 1
            s = v1 * v1 + v2 * v2
            if 0 < s < 1:
                break
        multiplier = math.sqrt(-2 * strict_log(s) / s)  # StrictMath.sqrt is IEEE's
        self._next_gaussian = v2 * multiplier
        return v1 * multiplier


_LN2_HI, _LN2_LO, _TWO54 = 6.93147180369123816490e-01, 1.90821492927058770002e-10, 2.0**54
_LG = (6.666666666666735130e-01, 3.999999999940941908e-01, 2.857142874366239149e-01,
       2.222219843214978396e-01, 1.818357216161805012e-01, 1.531383769920937332e-01,
       1.479819860511658591e-01)


def strict_log(x: float) -> float:
    """Java's ``StrictMath.log``: fdlibm's ``__ieee754_log``, bit for bit (the C library's
    ``log`` that ``math.log`` calls may differ in the last place, and nextGaussian's
    values with it)."""
    bits = struct.unpack("<q", struct.pack("<d", x))[0]
    hx, lx = bits >> 32, bits & _M32
    k = 0
    if hx < 0x00100000:
        if ((hx & 0x7FFFFFFF) | lx) == 0:
            return -math.inf
        if hx < 0:
            return math.nan
        k -= 54
        x *= _TWO54
        bits = struct.unpack("<q", struct.pack("<d", x))[0]
        hx = bits >> 32
    if hx >= 0x7FF00000:
        return x + x
    k += (hx >> 20) - 1023
    hx &= 0x000FFFFF
    i = (hx + 0x95F64) & 0x100000
    low = struct.unpack("<q", struct.pack("<d", x))[0] & _M32
    x = struct.unpack("<d", struct.pack("<q", ((hx | (i ^ 0x3FF00000)) << 32) | low))[0]
    k += i >> 20
    f = x - 1.0
    if (0x000FFFFF & (2 + hx)) < 3:
        if f == 0.0:
            return 0.0 if k == 0 else k * _LN2_HI + k * _LN2_LO
        r = f * f * (0.5 - 0.33333333333333333 * f)
        return f - r if k == 0 else k * _LN2_HI - ((r - k * _LN2_LO) - f)
    s = f / (2.0 + f)
    dk = float(k)
    z = s * s
    i = hx - 0x6147A
    w = z * z
    j = 0x6B851 - hx
    t1 = w * (_LG[1] + w * (_LG[3] + w * _LG[5]))
    t2 = z * (_LG[0] + w * (_LG[2] + w * (_LG[4] + w * _LG[6])))
    i |= j
    r = t2 + t1
    if i > 0:
        hfsq = 0.5 * f * f
        if k == 0:
            return f - (hfsq - s * (hfsq + r))
        return dk * _LN2_HI - ((hfsq - (s * (hfsq + r) + dk * _LN2_LO)) - f)
    if k == 0:
        return f - s * (f - r)
    return dk * _LN2_HI - ((s * (f - r) - dk * _LN2_LO) - f)


class JavaRandom:
    """``java.util.Random(seed)``: the 48-bit linear congruential generator."""

    _MULT = 0x5DEECE66D
    _MASK = (1 << 48) - 1

    def __init__(self, seed: int) -> None:
        self.seed = (seed ^ self._MULT) & self._MASK

    def next_bits(self, bits: int) -> int:
        self.seed = (self.seed * self._MULT + 0xB) & self._MASK
        return _signed32(self.seed >> (48 - bits)) if bits == 32 else self.seed >> (48 - bits)

    def next_int_bounded(self, bound: int) -> int:
        r = self.next_bits(31)
        m = bound - 1
        if bound & m == 0:
            return (bound * r) >> 31
        u = r
        r = u % bound
        while _signed32(u - r + m) < 0:
            u = self.next_bits(31)
            r = u % bound
        return r

    def next_double(self) -> float:
        return ((self.next_bits(26) << 27) + self.next_bits(27)) * _DOUBLE_UNIT


class Well19937c:
    """Commons Math 3's ``Well19937c`` (Panneton, L'Ecuyer, Matsumoto), the generator of
    the ``PoissonDistribution`` Spark's PoissonSampler draws from (sample with replacement)."""

    _R, _M1, _M2, _M3 = 624, 70, 179, 449

    def __init__(self, seed: int) -> None:
        r = self._R
        seed &= _M64
        v = [0] * r
        v[0], v[1] = _signed32(seed >> 32), _signed32(seed)
        for i in range(2, r):  # AbstractWell.setSeed(int[]): l is the (signed) int widened
            lv = v[i - 2]
            v[i] = _signed32(1812433253 * (lv ^ (lv >> 30)) + i)
        self.v = [x & _M32 for x in v]
        self.index = 0

    def next_bits(self, bits: int) -> int:
        r, v, i = self._R, self.v, self.index
        rm1, rm2 = (i + r - 1) % r, (i + r - 2) % r
        v0, vm1 = v[i], v[(i + self._M1) % r]
        vm2, vm3 = v[(i + self._M2) % r], v[(i + self._M3) % r]
        z0 = (0x80000000 & v[rm1]) ^ (0x7FFFFFFF & v[rm2])
        z1 = (v0 ^ (v0 << 25)) ^ (vm1 ^ (vm1 >> 27))
        z2 = (vm2 >> 9) ^ (vm3 ^ (vm3 >> 1))
        z3 = (z1 ^ z2) & _M32
        z4 = (z0 ^ (z1 ^ (z1 << 9)) ^ (z2 ^ (z2 << 21)) ^ (z3 ^ (z3 >> 21))) & _M32
        v[i] = z3
        v[rm1] = z4
        v[rm2] &= 0x80000000
        self.index = rm1
        z4 ^= (z4 << 7) & 0xE46E1700
        z4 ^= (z4 << 15) & 0x9B868000
        return (z4 & _M32) >> (32 - bits)

    def next_double(self) -> float:
        high = self.next_bits(26) << 26
        return (high | self.next_bits(26)) * 2.0**-52


class PoissonSampler:
    """Spark's ``PoissonSampler(fraction, useGapSamplingIfPossible = false)`` after
    ``setSeed(seed)``: ``sample()`` is Commons Math's ``PoissonDistribution.sample()``, whose
    algorithm for a mean below 40 multiplies uniform draws until they fall below e^-mean."""

    def __init__(self, mean: float, seed: int) -> None:
        if not 0.0 < mean < 40.0:
            raise ValueError("PoissonSampler: the mean must be in (0, 40)")
        self.mean = mean
        self.limit = math.exp(-mean)
        self.rng = Well19937c(seed)

    def sample(self) -> int:
        n, r = 0, 1.0
        while n < 1000 * self.mean:
            r *= self.rng.next_double()
            if r >= self.limit:
                n += 1
            else:
                return n
        return n
