"""gensort 1.5 record layouts, built for a block of record numbers at once.

Two modes, both byte-for-byte those of gensort 1.5 (Chris Nyberg, sortbenchmark.org):

``ascii`` (``gensort -a``), record r from X = X(r+1):
    [0:10)   key: 10 printable chars ' ' + d, d the base-95 digits (least first) of
             X's high 64 bits (8 digits) then of its low 64 bits (2 digits)
    [10:12)  "  "
    [12:44)  r as 32 upper-case hex digits
    [44:46)  "  "
    [46:98)  13 hex digits of X's low 64 bits (bits 48..0, high first), each repeated 4x
    [98:100) "\\r\\n"

``binary`` (gensort's default): ten 10-byte slices, slice k the top 10 bytes of
X(r+1+k) XOR a per-slice constant (slice 0, the key, is not XORed), so every byte is
pseudo-random. (gensort <= 1.1 and Hadoop's TeraGen used a different binary layout, with
00 11 / 88 99 AA BB / CC DD EE FF breaks; gensort 1.5 does not.)
"""

from __future__ import annotations

import numpy as np

from tpcds.sort import lcg

RECORD = 100
KEY = 10
MODES = ("ascii", "binary")
_HEX = np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)
# gen_rec(): the XOR constants of payload slices 1..9 (hi 8 bytes, then 2 more bytes).
_XOR = (
    (0xF0E8E4E2E1D8D4D2, 0xD1CC),
    (0xCAC9C6C5C3B8B4B2, 0xB1AC),
    (0xAAA9A6A5A39C9A99, 0x9695),
    (0x938E8D8B87787472, 0x716C),
    (0x6A696665635C5A59, 0x5655),
    (0x534E4D4B473C3A39, 0x3635),
    (0x332E2D2B271E1D1B, 0x170F),
    (0xC8C4C2C198949291, 0x8CE0),
    (0x170F332E2D2B271E, 0x1D1B),
)


def block(first: int, count: int, mode: str = "ascii") -> np.ndarray:
    """Records first .. first+count-1 as a (count, 100) uint8 array."""
    if mode == "ascii":
        return _ascii(first, count)
    if mode == "binary":
        return _binary(first, count)
    raise ValueError(f"unknown gensort mode {mode!r}; known: {MODES}")


def _ascii(first: int, count: int) -> np.ndarray:
    hi, lo = lcg.states(first + 1, count)
    rec = np.empty((count, RECORD), dtype=np.uint8)
    n95 = np.uint64(95)
    t = hi.copy()
    for i in range(8):
        rec[:, i] = np.uint8(32) + (t % n95).astype(np.uint8)
        t //= n95
    t = lo.copy()
    for i in range(8, 10):
        rec[:, i] = np.uint8(32) + (t % n95).astype(np.uint8)
        t //= n95
    rec[:, 10:12] = 32
    rec[:, 12:28] = np.frombuffer(f"{first >> 64:016X}".encode(), dtype=np.uint8)
    low = np.uint64(first & 0xFFFFFFFFFFFFFFFF) + np.arange(count, dtype=np.uint64)
    if int(low[-1]) < first & 0xFFFFFFFFFFFFFFFF:
        raise ValueError("a block must not cross a 2**64 record-number boundary")
    for i in range(16):
        rec[:, 28 + i] = _HEX[(low >> np.uint64(60 - 4 * i)) & np.uint64(0xF)]
    rec[:, 44:46] = 32
    for i in range(13):
        digit = _HEX[(lo >> np.uint64(48 - 4 * i)) & np.uint64(0xF)]
        rec[:, 46 + 4 * i : 50 + 4 * i] = digit[:, None]
    rec[:, 98] = 13
    rec[:, 99] = 10
    return rec


def _top10(hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    out = np.empty((hi.shape[0], 10), dtype=np.uint8)
    out[:, :8] = hi.astype(">u8").view(np.uint8).reshape(-1, 8)
    out[:, 8] = (lo >> np.uint64(56)).astype(np.uint8)
    out[:, 9] = ((lo >> np.uint64(48)) & np.uint64(0xFF)).astype(np.uint8)
    return out


def _binary(first: int, count: int) -> np.ndarray:
    hi, lo = lcg.states(first + 1, count + 9)
    rec = np.empty((count, RECORD), dtype=np.uint8)
    rec[:, :10] = _top10(hi[:count], lo[:count])
    for k, (xh, xl) in enumerate(_XOR, start=1):
        h = hi[k : k + count] ^ np.uint64(xh)
        lw = lo[k : k + count] ^ np.uint64(xl << 48)
        rec[:, 10 * k : 10 * k + 10] = _top10(h, lw)
    return rec
