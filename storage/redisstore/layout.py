"""How one logical key maps onto Redis keys.

The key itself always holds the value's first ``chunk_size`` bytes -- all of it for a value
that fits, which is every shuffle object at the default 64 MiB. A larger value also has
chunks 1..n-1 under keys named by a fresh id, and a small *header* key naming that id.
A put switches the header and chunk 0 in one MULTI/EXEC, so:

* a range inside the first chunk is ONE ``GETRANGE`` whatever the value's size: if it
  returns all the bytes asked for, they are the current value's (no header lookup);
* any other read takes the header and chunk 0 in one MULTI/EXEC, then the other chunks by
  id; a chunk gone meanwhile means the value was overwritten, and the read starts again;
* a crashed put leaves only chunks that no header names.

``NUL`` cannot occur in a caller's key, so every internal key is ``<key>\\0...`` and sorts
under the caller's prefix: ``delete_prefix`` removes chunks and headers with their keys,
and ``list_prefix`` hides them.
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
        return _HEADER.pack(
            MAGIC, self.size, self.chunk_size, self.count, self.chunk_id.encode("ascii")
        )

    @classmethod
    def unpack(cls, raw: bytes) -> Header:
        magic, size, chunk_size, count, chunk_id = _HEADER.unpack(raw)
        if magic != MAGIC:
            raise ValueError(f"not a sparkless chunk header (magic {magic!r})")
        return cls(size, chunk_size, count, chunk_id.decode("ascii"))

    def chunk_key(self, key: str, index: int) -> str:
        """Chunk 0 is the key itself."""
        return key if index == 0 else chunk_key(key, self.chunk_id, index)

    def extra_keys(self, key: str) -> list[str]:
        """Chunks 1..n-1: what is garbage once another header replaces this one."""
        return [chunk_key(key, self.chunk_id, i) for i in range(1, self.count)]

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


def is_internal(redis_key: str) -> bool:
    """Headers and chunks 1..n-1: never listed, deleted with their key's prefix."""
    return NUL in redis_key


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
