"""gensort's 128-bit linear congruential generator (rand16.c), vectorised with numpy.

gensort 1.5 draws every record from X(n+1) = (A * X(n) + C) mod 2**128 with X(0) = 0;
record r uses X(r+1) (``next_rand(skip_ahead_rand(r))``). numpy has no 128-bit integers,
so a block of states is held as four 32-bit limbs in uint64 arrays: a limb product fits
in 64 bits and column sums of a few of them cannot overflow. A block of n consecutive
states is built by doubling: states [m, 2m) are f**m applied to states [0, m), one
vectorised multiply-add per doubling, so the cost is O(n) array work and no Python
per-record loop.
"""

from __future__ import annotations

import numpy as np

A = 0x2360ED051FC65DA44385DF649FCCF645
C = 0x4A696D47726179524950202020202001
MASK128 = (1 << 128) - 1
_M32 = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)


def compose(f: tuple[int, int], g: tuple[int, int]) -> tuple[int, int]:
    """Coefficients of f(g(x)) for affine maps x -> a*x + c mod 2**128."""
    return (f[0] * g[0]) & MASK128, (f[0] * g[1] + f[1]) & MASK128


def power(steps: int) -> tuple[int, int]:
    """Coefficients (a, c) of f**steps, by squaring (what rand16.c's Gen[] table holds)."""
    result, square = (1, 0), (A, C)
    while steps:
        if steps & 1:
            result = compose(square, result)
        square = compose(square, square)
        steps >>= 1
    return result


def state(n: int) -> int:
    """X(n): the generator advanced n steps from 0 (``skip_ahead_rand(n)``)."""
    return power(n)[1]


def _limbs(x: int) -> list[np.uint64]:
    return [np.uint64((x >> (32 * i)) & 0xFFFFFFFF) for i in range(4)]


def mul_add(x: np.ndarray, a: int, c: int) -> np.ndarray:
    """(a * x + c) mod 2**128 for a (4, n) limb array x (least significant limb first)."""
    al, cl = _limbs(a), _limbs(c)
    acc = [np.full(x.shape[1], cl[k], dtype=np.uint64) for k in range(4)]
    for i in range(4):
        for j in range(4 - i):
            p = x[i] * al[j]
            acc[i + j] += p & _M32
            if i + j + 1 < 4:
                acc[i + j + 1] += p >> _S32
    out = np.empty_like(x)
    carry = np.zeros(x.shape[1], dtype=np.uint64)
    for k in range(4):
        col = acc[k] + carry
        out[k] = col & _M32
        carry = col >> _S32
    return out


def states(first: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """X(first), ..., X(first + count - 1) as (hi, lo) uint64 arrays (big-endian halves)."""
    x0 = state(first)
    limbs = np.array([[(x0 >> (32 * i)) & 0xFFFFFFFF] for i in range(4)], dtype=np.uint64)
    while limbs.shape[1] < count:
        m = limbs.shape[1]
        a, c = power(m)
        limbs = np.concatenate([limbs, mul_add(limbs[:, : count - m], a, c)], axis=1)
    limbs = limbs[:, :count]
    hi = (limbs[3] << _S32) | limbs[2]
    lo = (limbs[1] << _S32) | limbs[0]
    return hi, lo
