"""The one interface every shuffle/broadcast/result store implements.

Stores are chosen by URI (``file:///path``, later ``s3://``, ``redis://``, ``crail://``);
the shuffle layer only ever talks to this interface, so a store can be swapped
per job without touching anything above it.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field


class StoreError(Exception):
    """Base class: something went wrong talking to a store."""

    def __init__(self, message: str, *, store: str = "", key: str = "") -> None:
        super().__init__(message)
        self.store = store
        self.key = key


class BlockNotFound(StoreError):
    """A key that should exist does not (lost block, deleted prefix, wrong job)."""


class TransientStoreError(StoreError):
    """Worth retrying: a timeout, a throttle, a dropped connection."""


@dataclass
class StoreMetrics:
    """Counters one store instance accumulates; the driver sums them per stage/job."""

    requests: int = 0
    bytes_written: int = 0
    bytes_read: int = 0
    seconds: float = 0.0
    by_op: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, float]:
        return {
            "requests": self.requests,
            "bytes_written": self.bytes_written,
            "bytes_read": self.bytes_read,
            "seconds": self.seconds,
        }


@dataclass(frozen=True)
class RangeRequest:
    """``length`` bytes of ``key`` starting at ``offset``."""

    key: str
    offset: int
    length: int


class BlockStore(abc.ABC):
    """A flat key → bytes store. Keys are ``/``-separated relative paths.

    ``put`` is atomic: a reader sees the whole value or no key at all.
    """

    uri: str

    def __init__(self) -> None:
        self.metrics = StoreMetrics()

    @abc.abstractmethod
    def put(self, key: str, data: bytes | bytearray | memoryview) -> None: ...

    @abc.abstractmethod
    def get(self, key: str) -> bytes: ...

    @abc.abstractmethod
    def get_range(self, key: str, offset: int, length: int) -> bytes: ...

    def get_many(self, keys: Iterable[str]) -> list[bytes]:
        """Values of many keys, in order. Stores override this to batch/pipeline."""
        return [self.get(k) for k in keys]

    def get_ranges(self, requests: Iterable[RangeRequest]) -> list[bytes]:
        """Many ranged reads, in order. Stores override this to coalesce/parallelise."""
        return [self.get_range(r.key, r.offset, r.length) for r in requests]

    def get_stream(self, key: str, chunk_size: int = 8 << 20) -> Iterator[bytes]:
        """The value in chunks of ranged reads, so a block larger than memory can be read."""
        total = self.size(key)
        for offset in range(0, total, chunk_size):
            yield self.get_range(key, offset, min(chunk_size, total - offset))

    def put_stream(self, key: str, chunks: Iterable[bytes | bytearray | memoryview]) -> None:
        """Store a value given in chunks, atomically like ``put``.

        This default joins the chunks in memory; stores that can write incrementally
        (file: a temp file; S3: multipart parts as they fill) override it so a block
        larger than memory can be written.
        """
        self.put(key, b"".join(bytes(c) for c in chunks))

    def discard_ranges(self, requests: Iterable[RangeRequest]) -> int:
        """A hint that these bytes will never be read again; returns how many were freed.

        The scheduler calls it for shuffle slices whose only reader has been accepted. A
        store that can free part of an object early does (the file store punches holes);
        this default frees nothing: S3 and Redis objects go whole, at the job's cleanup."""
        return 0

    @abc.abstractmethod
    def size(self, key: str) -> int: ...

    @abc.abstractmethod
    def exists(self, key: str) -> bool: ...

    @abc.abstractmethod
    def list_prefix(self, prefix: str) -> Iterator[str]: ...

    @abc.abstractmethod
    def delete_prefix(self, prefix: str) -> int:
        """Delete every key under ``prefix``; returns how many were deleted."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections; the default store holds none."""
