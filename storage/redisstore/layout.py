"""How one logical key maps onto Redis keys.

A value of at most ``chunk_size`` bytes is stored as-is under its own key, so a small get
is one GET and a ranged get one GETRANGE, with no copy on either side. A larger value is
split into chunk keys written under a fresh id, and a small *header* key names that id:
a reader reads the header first, so swapping the header (one MULTI/EXEC) is the moment a
put becomes visible, and a crashed put leaves only unreferenced chunks behind.

``NUL`` cannot occur in a caller's key, so every internal key is ``<key>\\0...`` and sorts
under the caller's prefix: ``delete_prefix`` removes chunks and headers with their keys,
and ``list_prefix`` recognises and hides them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

NUL = "\x00"
HEADER_SUFFIX = NUL + "h"
CHUNK_INFIX = NUL + "c"
_HEADER = struct.Struct("<4sQQI16s")  # magic, value size, chunk size, chunk count, id
MAGIC = b"SKR1"
GLOB_SPECIAL = frozenset("*?[]\\")


@dataclass(frozen=True)
class Header:
    """Where the chunks of one large value live."""

    size: int
    chunk_size: int
    count: int
    chunk_id: str

    def pack(self) -> bytes:
        return _HEADER.pack(MAGIC, self.size, self.chunk_size, self.count,
                            self.chunk_id.encode("ascii"))

    @classmethod
    def unpack(cls, raw: bytes) -> Header:
        magic, size, chunk_size, count, chunk_id = _HEADER.unpack(raw)
        if magic != MAGIC:
            raise ValueError(f"not a sparkless chunk header (magic {magic!r})")
        return cls(size, chunk_size, count, chunk_id.decode("ascii"))

    def chunk_keys(self, key: str) -> list[str]:
        return [chunk_key(key, self.chunk_id, i) for i in range(self.count)]

    def pieces(self, offset: int, length: int) -> list[tuple[int, int, int]]:
        """(chunk index, start, end inclusive) covering ``[offset, offset + length)``."""
        out = []
        pos, end = offset, offset + length
        while pos < end:
            index, start = divmod(pos, self.chunk_size)
            stop = min(self.chunk_size, start + end - pos)
            out.append((index, start, stop - 1))
            pos += stop - start
        return out


def header_key(key: str) -> str:
    return key + HEADER_SUFFIX


def chunk_key(key: str, chunk_id: str, index: int) -> str:
    return f"{key}{CHUNK_INFIX}{chunk_id}:{index}"


def logical_key(redis_key: str) -> str | None:
    """The caller's key a Redis key stands for; ``None`` for a chunk (never listed)."""
    if NUL not in redis_key:
        return redis_key
    if redis_key.endswith(HEADER_SUFFIX) and redis_key.count(NUL) == 1:
        return redis_key[: -len(HEADER_SUFFIX)]
    return None


def glob_escape(prefix: str) -> str:
    """``prefix`` as a literal for SCAN MATCH (``*?[]\\`` are glob syntax there)."""
    return "".join("\\" + c if c in GLOB_SPECIAL else c for c in prefix)


def check_key(key: str, *, prefix: bool = False) -> None:
    """Keys are non-empty ``str`` without NUL (NUL marks our internal keys)."""
    what = "prefix" if prefix else "key"
    if not isinstance(key, str):
        raise ValueError(f"{what} must be a str, got {type(key).__name__}")
    if (not key and not prefix) or NUL in key:
        raise ValueError(f"invalid {what} {key!r}: must be a non-empty string without NUL")
