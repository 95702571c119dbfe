"""``RedisStore``: a BlockStore over one Redis (or Valkey) database.

Round trips per call, whatever the number of keys (``layout`` says why this is safe):

* ``get_ranges``: ONE pipeline of GETRANGEs when every slice lies in its value's first
  chunk (every shuffle slice at the default chunk size); else up to two more, a
  MULTI/EXEC of header + chunk 0, then the other chunks;
* ``get_many``: the MULTI/EXEC (header + value of each key), then chunks of large values;
* ``put``: one MULTI/EXEC for a value that fits in a chunk, else the chunks first.

Metrics count ``requests`` as round trips to the server (what latency is made of, failed
ones included) and ``by_op`` as calls of this API. ``storage.redisstore.config`` lists
the URI options.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import redis
from redis.client import Pipeline

from storage.base import BlockNotFound, BlockStore, RangeRequest, StoreError
from storage.redisstore.client import make_pool, translated
from storage.redisstore.config import RedisConfig, parse_uri
from storage.redisstore.layout import (
    Header,
    check_key,
    glob_escape,
    header_key,
    is_internal,
)

MAX_PIPELINE_BYTES = 256 << 20  # chunk writes per round trip: bounds client and server buffers
READ_ATTEMPTS = 5  # a large value overwritten while being read is re-read from its header
SCAN_COUNT = 1000


@dataclass
class _IO:
    """What one API call did: round trips and payload bytes."""

    trips: int = 0
    read: int = 0
    written: int = 0


@dataclass(frozen=True)
class _Want:
    """One read: ``length`` bytes at ``offset`` of ``key``, or the whole value if None."""

    key: str
    offset: int = 0
    length: int | None = None


class RedisStore(BlockStore):
    """Keys live in one Redis database; large values are chunked (``layout``)."""

    def __init__(self, config: RedisConfig) -> None:
        super().__init__()
        self.config = config
        self.uri = config.redacted_uri
        self._lock = threading.Lock()
        self._client: redis.Redis | None = None

    @classmethod
    def from_uri(cls, uri: str) -> RedisStore:
        return cls(parse_uri(uri))

    def __repr__(self) -> str:
        return f"RedisStore({self.uri!r}, chunk_size={self.config.chunk_size})"

    @property
    def client(self) -> redis.Redis:
        """The pooled client, created on first use (a zygote that imports us opens nothing)."""
        client = self._client
        if client is None:
            with self._lock:
                if self._client is None:
                    self._client = redis.Redis(connection_pool=make_pool(self.config))
                client = self._client
        return client

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.connection_pool.disconnect()

    # -- helpers ---------------------------------------------------------------------

    @contextmanager
    def _request(self, op: str, key: str) -> Iterator[_IO]:
        """One API call: errors translated (naming ``key``), metrics counted even on failure."""
        io = _IO()
        start = time.perf_counter()
        try:
            with translated(self.uri, key, self.config.retries):
                yield io
        finally:
            elapsed = time.perf_counter() - start
            m = self.metrics
            with self._lock:
                m.requests += io.trips
                m.seconds += elapsed
                m.bytes_read += io.read
                m.bytes_written += io.written
                m.by_op[op] = m.by_op.get(op, 0) + 1

    @staticmethod
    def _run(pipe: Pipeline, io: _IO) -> list[Any]:
        if not len(pipe):
            return []
        io.trips += 1
        return pipe.execute()

    def _missing(self, key: str, why: str = "") -> BlockNotFound:
        return BlockNotFound(f"no such key {key!r} in {self.uri}{why}", store=self.uri, key=key)

    def _short(self, key: str, offset: int, length: int, got: int) -> StoreError:
        return StoreError(
            f"short read of {key!r} in {self.uri}: wanted {length} bytes at {offset}, got {got}",
            store=self.uri,
            key=key,
        )

    # -- writes ----------------------------------------------------------------------

    def put(self, key: str, data: bytes | bytearray | memoryview) -> None:
        check_key(key)
        view = memoryview(data).cast("B")
        with self._request("put", key) as io:
            if view.nbytes <= self.config.chunk_size:
                old = self._switch(key, view, None, io)
                if old is not None:
                    self._drop_chunks(key, Header.unpack(old), "", io)
            else:
                self._put_chunked(key, view, io)
            io.written = view.nbytes

    def _put_chunked(self, key: str, view: memoryview, io: _IO) -> None:
        """Chunks 1..n-1 under a fresh id, then chunk 0 + header in one switch."""
        size, step = view.nbytes, self.config.chunk_size
        header = Header(size, step, -(-size // step), secrets.token_hex(8))
        extra = header.extra_keys(key)
        pipe = self.client.pipeline(transaction=False)
        try:
            queued = 0
            for i, ckey in enumerate(extra, start=1):
                pipe.set(ckey, view[i * step : (i + 1) * step])
                queued += step
                if queued >= MAX_PIPELINE_BYTES:
                    self._run(pipe, io)
                    queued = 0
            self._run(pipe, io)
            old = self._switch(key, view[:step], header, io)
        except BaseException:
            self._unlink_quietly(extra, io)
            raise
        if old is not None:
            self._drop_chunks(key, Header.unpack(old), header.chunk_id, io)

    def _switch(self, key: str, first: memoryview, header: Header | None, io: _IO) -> bytes | None:
        """Make ``first`` the key's value (all of it, or chunk 0 of ``header``'s) in one
        MULTI/EXEC; returns the previous header, whose chunks are now garbage."""
        hkey = header_key(key)
        pipe = self.client.pipeline(transaction=True)
        pipe.get(hkey)
        pipe.set(key, first)
        if header is None:
            pipe.unlink(hkey)
        else:
            pipe.set(hkey, header.pack())
        return self._run(pipe, io)[0]

    def _drop_chunks(self, key: str, old: Header, keep_id: str, io: _IO) -> None:
        if old.chunk_id != keep_id:  # a retried switch sees its own header as "old"
            self._unlink_quietly(old.extra_keys(key), io)

    def _unlink_quietly(self, keys: Sequence[str], io: _IO) -> None:
        """Best effort: garbage left behind is removed by the job's ``delete_prefix``."""
        if not keys:
            return
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.unlink(*keys)
            self._run(pipe, io)
        except redis.RedisError:
            pass

    # -- reads -----------------------------------------------------------------------

    def get(self, key: str) -> bytes:
        check_key(key)
        with self._request("get", key) as io:
            return self._read([_Want(key)], io)[0]

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        want = self._want(key, offset, length)
        with self._request("get_range", key) as io:
            return self._read([want], io)[0]

    def get_many(self, keys: Iterable[str]) -> list[bytes]:
        """All values in two round trips at most (one if none is chunked)."""
        wants = [_Want(k) for k in keys]
        for w in wants:
            check_key(w.key)
        if not wants:
            return []
        with self._request("get_many", wants[0].key) as io:
            return self._read(wants, io)

    def get_ranges(self, requests: Iterable[RangeRequest]) -> list[bytes]:
        """All slices in one round trip when they lie in first chunks (every shuffle slice
        at the default chunk size), else at most three."""
        wants = [self._want(r.key, r.offset, r.length) for r in requests]
        if not wants:
            return []
        with self._request("get_ranges", wants[0].key) as io:
            return self._read(wants, io)

    @staticmethod
    def _want(key: str, offset: int, length: int) -> _Want:
        check_key(key)
        if offset < 0 or length < 0:
            raise ValueError(f"bad range offset={offset} length={length} for {key!r}")
        return _Want(key, offset, length)

    def _read(self, wants: list[_Want], io: _IO) -> list[bytes]:
        results: list[bytes | None] = [None] * len(wants)
        pending = self._read_fast(wants, results, io)
        for _ in range(READ_ATTEMPTS):
            if not pending:
                break
            pending = self._read_once(wants, pending, results, io)
        if not pending:  # (the last attempt may be the one that succeeds)
            out = [r for r in results if r is not None]
            io.read += sum(len(r) for r in out)
            return out
        key = wants[pending[0]].key
        raise self._missing(
            key,
            " (its chunks vanished: evicted by the server's "
            "maxmemory-policy, or overwritten on every read)",
        )

    def _read_fast(self, wants: list[_Want], results: list[bytes | None], io: _IO) -> list[int]:
        """One GETRANGE per non-empty range, pipelined; a full answer is final (the key holds
        the current value's first chunk). Returns the reads that need the careful path."""
        fast = [
            i
            for i, w in enumerate(wants)
            if w.length and w.offset + w.length <= self.config.chunk_size
        ]
        if not fast:
            return list(range(len(wants)))
        pipe = self.client.pipeline(transaction=False)
        for i in fast:
            w = wants[i]
            pipe.getrange(w.key, w.offset, w.offset + w.length - 1)
        for i, value in zip(fast, self._run(pipe, io), strict=True):
            if len(value) == wants[i].length:
                results[i] = value
        return [i for i, r in enumerate(results) if r is None]

    def _read_once(
        self, wants: list[_Want], pending: list[int], results: list[bytes | None], io: _IO
    ) -> list[int]:
        """Header and chunk 0 of every pending read in one MULTI/EXEC, then the other chunks
        of large values in one pipeline; returns the reads whose chunks changed underneath."""
        pipe = self.client.pipeline(transaction=True)
        for i in pending:
            w = wants[i]
            pipe.get(header_key(w.key))
            pipe.exists(w.key)
            if w.length is None:
                pipe.get(w.key)
            elif w.length:
                pipe.getrange(w.key, w.offset, w.offset + w.length - 1)
            else:
                pipe.strlen(w.key)
        replies = self._run(pipe, io)
        large: list[tuple[int, Header, int, int, bytes]] = []
        for n, i in enumerate(pending):
            w = wants[i]
            raw_header, exists, value = replies[3 * n : 3 * n + 3]
            if not exists:
                raise self._missing(w.key)
            if w.length == 0:
                results[i] = b""
            elif raw_header is not None:
                header = Header.unpack(raw_header)
                offset, length = (0, header.size) if w.length is None else (w.offset, w.length)
                if offset + length > header.size:
                    raise self._short(w.key, offset, length, max(0, header.size - offset))
                large.append((i, header, offset, length, value))
            else:
                if w.length is not None and len(value) != w.length:
                    raise self._short(w.key, w.offset, w.length, len(value))
                results[i] = value
        return self._read_chunks(wants, large, results, io)

    def _read_chunks(
        self,
        wants: list[_Want],
        large: list[tuple[int, Header, int, int, bytes]],
        results: list[bytes | None],
        io: _IO,
    ) -> list[int]:
        """Assemble large values from the chunk-0 bytes already read and chunks 1..n-1."""
        pipe = self.client.pipeline(transaction=False)
        plans = []
        for i, header, offset, length, first in large:
            pieces = header.pieces(offset, length)
            sizes = [end - start + 1 for _, start, end in pieces]
            if pieces[0][0] == 0 and len(first) != sizes[0]:
                raise StoreError(
                    f"corrupt chunked value {wants[i].key!r} in {self.uri}: chunk 0 holds "
                    f"{len(first)} bytes where the header implies more",
                    store=self.uri,
                    key=wants[i].key,
                )
            for index, start, end in pieces:
                if index:
                    pipe.getrange(header.chunk_key(wants[i].key, index), start, end)
            plans.append((i, first if pieces[0][0] == 0 else None, sizes))
        replies = iter(self._run(pipe, io))
        changed = []
        for i, first, sizes in plans:
            parts = [first] if first is not None else []
            parts += [next(replies) for _ in sizes[len(parts) :]]
            if any(len(p) != s for p, s in zip(parts, sizes, strict=True)):
                changed.append(i)  # header switched (or key deleted) after we read it
            else:
                results[i] = parts[0] if len(parts) == 1 else b"".join(parts)
        return changed

    # -- metadata --------------------------------------------------------------------

    def size(self, key: str) -> int:
        check_key(key)
        with self._request("size", key) as io:
            pipe = self.client.pipeline(transaction=True)
            pipe.get(header_key(key))
            pipe.exists(key)
            pipe.strlen(key)
            raw_header, exists, length = self._run(pipe, io)
        if raw_header is not None:
            return Header.unpack(raw_header).size
        if not exists:
            raise self._missing(key)
        return int(length)

    def exists(self, key: str) -> bool:
        check_key(key)
        with self._request("exists", key) as io:
            io.trips += 1
            return bool(self.client.exists(key))

    def _scan(self, prefix: str, io: _IO) -> Iterator[list[bytes]]:
        """Batches of Redis keys starting with ``prefix`` (glob characters taken literally)."""
        pattern = glob_escape(prefix) + "*"
        cursor = 0
        while True:
            io.trips += 1
            cursor, batch = self.client.scan(cursor, match=pattern, count=SCAN_COUNT)
            if batch:
                yield batch
            if cursor == 0:
                return

    def list_prefix(self, prefix: str) -> Iterator[str]:
        """Keys starting with ``prefix`` (a plain string prefix, as in S3), sorted."""
        check_key(prefix, prefix=True)
        names: set[str] = set()
        with self._request("list_prefix", prefix) as io:
            for batch in self._scan(prefix, io):
                for raw in batch:
                    name = raw.decode("utf-8", "surrogateescape")
                    if not is_internal(name):
                        names.add(name)
        return iter(sorted(names))

    def delete_prefix(self, prefix: str) -> int:
        """Delete keys under ``prefix`` with their chunks (and those of crashed puts)."""
        check_key(prefix, prefix=True)
        deleted = 0
        with self._request("delete_prefix", prefix) as io:
            for batch in self._scan(prefix, io):
                mine, internal = [], []
                for raw in batch:
                    name = raw.decode("utf-8", "surrogateescape")
                    (internal if is_internal(name) else mine).append(raw)
                pipe = self.client.pipeline(transaction=False)
                if mine:
                    pipe.unlink(*mine)
                if internal:
                    pipe.unlink(*internal)
                replies = self._run(pipe, io)
                if mine:
                    deleted += int(replies[0])
        return deleted
