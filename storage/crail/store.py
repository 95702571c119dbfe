"""``CrailStore``: the BlockStore client of the memory store (``crail://host:port``).

The client asks the metadata server where blocks live (one ``LOOKUP`` for a whole batch
of keys, then cached), and moves the bytes to and from the storage servers directly:

* ``put``: ``ALLOCATE`` (metadata) → ``PUT`` header + ``sendall`` of the caller's
  memoryview (storage server) → ``COMMIT`` (metadata). Only the commit makes the key
  visible, so a put is atomic. A storage server that refuses (gone, or full with no disk)
  is excluded and the block is placed on another one.
* ``get_ranges`` / ``get_many``: requests are grouped by storage server; on each server's
  connection up to ``window`` GET requests are in flight (sent as one write), and every
  reply body is received with ``recv_into`` straight into a buffer allocated at its final
  size, which is what the caller gets back (a ``bytearray``: bytes-like, never copied).
  Different servers are read in parallel.
* A read that finds its server unreachable, or the block not there, looks the key up
  again once (it may have been rewritten elsewhere); if the metadata server still places
  it there — or reports it ``LOST`` — the read raises ``BlockNotFound`` naming the server,
  which the shuffle reader turns into a fetch failure (the map output is recomputed).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from storage.base import BlockNotFound, BlockStore, RangeRequest, StoreError, TransientStoreError
from storage.crail.config import CrailConfig, parse_uri
from storage.crail.control import MetadataClient, MetadataReply
from storage.crail.metadata import Placement
from storage.crail.pool import ConnectionPool, Connector, call, tcp_connector
from storage.crail.protocol import (
    RESPONSE,
    Op,
    Status,
    decode_json,
    pack_request,
    unpack_response,
)

MAX_PUT_ATTEMPTS = 3
MAX_READ_ATTEMPTS = 5
MAX_CACHED_PLACEMENTS = 200_000
FETCH_THREADS = 4


class _Stale(Exception):
    """A read failed in a way a fresh lookup might fix; carries the error to raise if not."""

    def __init__(self, error: StoreError, block: int) -> None:
        super().__init__(str(error))
        self.error = error
        self.block = block


def _placement(raw: list[Any]) -> Placement:
    host, port, block, size = raw
    return Placement(f"{host}:{port}", int(block), int(size))


def _check_key(key: str, *, prefix: bool = False) -> None:
    if not isinstance(key, str):
        raise ValueError(f"{'prefix' if prefix else 'key'} must be a str, got {type(key).__name__}")
    if not prefix and not key:
        raise ValueError("key must be a non-empty string")


class CrailStore(BlockStore):
    """Client of one crail cluster; thread-safe; one instance per process (``open_store``)."""

    def __init__(self, config: CrailConfig, *, connector: Connector = tcp_connector) -> None:
        super().__init__()
        self.config = config
        self.uri = config.uri
        self._connector = connector
        self.meta = MetadataClient(
            config.host, config.port, timeout=config.timeout, connector=connector
        )
        self._pools: dict[str, ConnectionPool] = {}
        self._placements: dict[str, Placement] = {}
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None

    @classmethod
    def from_uri(cls, uri: str) -> CrailStore:
        return cls(parse_uri(uri))

    def __repr__(self) -> str:
        return f"CrailStore({self.uri!r})"

    # -- plumbing ------------------------------------------------------------------

    @contextmanager
    def _timed(self, op: str) -> Iterator[list[int]]:
        """Account one call; the body adds [bytes_read, bytes_written, data-path requests].

        Metadata calls are counted as requests too, by ``_meta``."""
        io = [0, 0, 0]
        start = time.perf_counter()
        try:
            yield io
        finally:
            m = self.metrics
            with self._lock:
                m.requests += io[2]
                m.seconds += time.perf_counter() - start
                m.bytes_read += io[0]
                m.bytes_written += io[1]
                m.by_op[op] = m.by_op.get(op, 0) + 1

    def _pool(self, server: str) -> ConnectionPool:
        with self._lock:
            pool = self._pools.get(server)
            if pool is None:
                host, _, port = server.rpartition(":")
                pool = ConnectionPool(
                    host,
                    int(port),
                    timeout=self.config.timeout,
                    max_idle=self.config.pool,
                    connector=self._connector,
                )
                self._pools[server] = pool
            return pool

    def _meta(self, op: Op, body: Any = None, *, block: int = 0) -> Any:
        """A metadata call; an unreachable metadata server is a transient store error."""
        with self._lock:
            self.metrics.requests += 1
            name = "metadata:" + op.name.lower()
            self.metrics.by_op[name] = self.metrics.by_op.get(name, 0) + 1
        try:
            return self.meta.call(op, body, block=block)
        except OSError as e:
            raise TransientStoreError(
                f"crail metadata server {self.meta.address} unreachable: {e}", store=self.uri
            ) from e

    def _cache(self, key: str, p: Placement | None) -> None:
        with self._lock:
            if p is None:
                self._placements.pop(key, None)
                return
            if len(self._placements) >= MAX_CACHED_PLACEMENTS:
                self._placements.clear()
            self._placements[key] = p

    def _locate(self, keys: Iterable[str], *, fresh: bool = False) -> dict[str, Placement]:
        """Placements of ``keys``: cached, the rest in ONE lookup. Raises for a missing key."""
        wanted = list(dict.fromkeys(keys))
        with self._lock:
            out = {} if fresh else {k: self._placements[k] for k in wanted if k in self._placements}
        todo = [k for k in wanted if k not in out]
        if todo:
            reply = self._meta(Op.LOOKUP, {"keys": todo})
            for k, raw in reply["found"].items():
                out[k] = _placement(raw)
                self._cache(k, out[k])
            for k, (_status, message) in reply["missing"].items():
                self._cache(k, None)
                raise BlockNotFound(f"{message} (crail store {self.uri})", store=self.uri, key=k)
        return out

    # -- writes --------------------------------------------------------------------

    def put(self, key: str, data: bytes | bytearray | memoryview) -> None:
        _check_key(key)
        view = memoryview(data)
        if view.format != "B" or view.ndim != 1:
            view = view.cast("B")
        size = view.nbytes
        exclude: list[str] = []
        errors: list[str] = []
        with self._timed("put") as io:
            for _ in range(MAX_PUT_ATTEMPTS):
                try:
                    p = _placement(
                        self._meta(Op.ALLOCATE, {"key": key, "size": size, "exclude": exclude})
                    )
                except MetadataReply as e:
                    errors.append(str(e))
                    break
                io[2] += 1
                problem = self._store_bytes(p, view)
                if problem is None:
                    try:
                        old = self._meta(Op.COMMIT, {"key": key}, block=p.block)
                    except MetadataReply as e:  # its server was declared dead meanwhile
                        problem = str(e)
                    else:
                        io[1] += size
                        self._cache(key, p)
                        if old is not None:
                            self._delete_blocks([_placement(old)])
                        return
                errors.append(f"{p.server}: {problem}")
                exclude.append(p.server)
                self._abort(p)
        raise StoreError(
            f"could not store {key!r} ({size} bytes) in {self.uri}: " + "; ".join(errors),
            store=self.uri,
            key=key,
        )

    def _store_bytes(self, p: Placement, view: memoryview) -> str | None:
        """Send the block to its storage server; None if stored, else why not."""
        try:
            with self._pool(p.server).connection() as conn:
                conn.send(pack_request(Op.PUT, p.block, 0, view.nbytes), view)
                status, length = unpack_response(conn.recv_exact(RESPONSE.size))
                body = conn.recv_exact(length)
        except OSError as e:
            return f"unreachable ({e})"
        if status is not Status.OK:
            return body.decode(errors="replace")
        return None

    def _abort(self, p: Placement) -> None:
        try:
            self.meta.call(Op.ABORT, block=p.block)
        except (OSError, MetadataReply):
            pass  # best effort: a pending entry only reserves placement weight
        self._delete_blocks([p])

    def _delete_blocks(self, placements: list[Placement]) -> None:
        """Free blocks on their servers, pipelined per server; unreachable servers skipped."""
        by_server: dict[str, list[int]] = defaultdict(list)
        for p in placements:
            by_server[p.server].append(p.block)
        for server, blocks in by_server.items():
            try:
                with self._pool(server).connection() as conn:
                    conn.send(b"".join(pack_request(Op.DELETE, b) for b in blocks))
                    for _ in blocks:
                        _, length = unpack_response(conn.recv_exact(RESPONSE.size))
                        conn.recv_exact(length)
            except OSError:
                pass  # the server is gone, and its blocks with it

    # -- reads ---------------------------------------------------------------------

    def get(self, key: str) -> bytes:
        return self.get_many([key])[0]

    def get_many(self, keys: Iterable[str]) -> list[bytes]:
        keys = list(keys)
        for k in keys:
            _check_key(k)
        with self._timed("get_many") as io:
            out = self._read([(k, 0, None) for k in keys], io)
        return out  # type: ignore[return-value] - bytearrays: bytes-like, received in place

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        return self.get_ranges([RangeRequest(key, offset, length)])[0]

    def get_ranges(self, requests: Iterable[RangeRequest]) -> list[bytes]:
        reqs = list(requests)
        for r in reqs:
            _check_key(r.key)
            if r.offset < 0 or r.length < 0:
                raise ValueError(f"bad range offset={r.offset} length={r.length} for {r.key!r}")
        with self._timed("get_ranges") as io:
            out = self._read([(r.key, r.offset, r.length) for r in reqs], io)
        return out  # type: ignore[return-value]

    def _read(self, items: list[tuple[str, int, int | None]], io: list[int]) -> list[bytearray]:
        """Read (key, offset, length or None = whole) items.

        A block not found where its placement said (rewritten, or its server unreachable)
        is looked up afresh: if the key now lives elsewhere the read is retried, if it is
        still placed on the same block the error stands (or the lookup's own is raised:
        deleted, or lost with its server)."""
        if not items:
            return []
        for attempt in range(MAX_READ_ATTEMPTS):
            try:
                return self._read_once(items, io, fresh=attempt > 0)
            except _Stale as e:
                for k, _, _ in items:
                    self._cache(k, None)
                if attempt == MAX_READ_ATTEMPTS - 1:
                    raise e.error from None
                if self._locate([e.error.key], fresh=True)[e.error.key].block == e.block:
                    raise e.error from None
        raise AssertionError("unreachable")

    def _read_once(
        self, items: list[tuple[str, int, int | None]], io: list[int], *, fresh: bool
    ) -> list[bytearray]:
        placements = self._locate((k for k, _, _ in items), fresh=fresh)
        groups: dict[str, list[tuple[int, str, int, int, int]]] = defaultdict(list)
        for i, (key, offset, length) in enumerate(items):
            p = placements[key]
            if length is None:
                length = p.size
            if offset + length > p.size:
                raise StoreError(
                    f"short read of {key!r} in {self.uri}: wanted {length} bytes at {offset}, "
                    f"the block has {p.size}",
                    store=self.uri,
                    key=key,
                )
            groups[p.server].append((i, key, p.block, offset, length))
        out: list[bytearray] = [bytearray()] * len(items)
        jobs = list(groups.items())
        if len(jobs) == 1:
            self._pipeline(*jobs[0], out)
        else:
            futures = [self._pool_executor().submit(self._pipeline, s, g, out) for s, g in jobs]
            errors = [f.exception() for f in futures]
            for e in errors:  # a permanent error wins over one a fresh lookup might fix
                if e is not None and not isinstance(e, _Stale):
                    raise e
            for e in errors:
                if e is not None:
                    raise e
        io[0] += sum(len(b) for b in out)
        io[2] += len(items)
        return out

    def _pool_executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(FETCH_THREADS, thread_name_prefix="crail")
            return self._executor

    def _pipeline(
        self, server: str, reqs: list[tuple[int, str, int, int, int]], out: list[bytearray]
    ) -> None:
        """GETs on one connection with up to ``window`` in flight; replies land in place."""
        window = self.config.window
        n = len(reqs)
        _, key, block, _, _ = reqs[0]
        try:
            with self._pool(server).connection() as conn:
                sent = min(window, n)
                conn.send(
                    b"".join(pack_request(Op.GET, b, o, ln) for _, _, b, o, ln in reqs[:sent])
                )
                header = memoryview(bytearray(RESPONSE.size))
                for j, (i, key, block, _offset, length) in enumerate(reqs):
                    conn.recv_into(header)
                    status, body_len = unpack_response(header)
                    if status is not Status.OK:
                        self._read_failed(server, key, block, status, conn.recv_exact(body_len))
                    if body_len != length:
                        raise StoreError(
                            f"storage server {server} sent {body_len} bytes for "
                            f"{key!r}, {length} were asked",
                            store=self.uri,
                            key=key,
                        )
                    buf = bytearray(length)
                    if length:
                        conn.recv_into(memoryview(buf))
                    out[i] = buf
                    in_flight = sent - j - 1
                    if sent < n and in_flight <= window // 2:
                        more = reqs[sent : min(n, j + 1 + window)]
                        conn.send(
                            b"".join(pack_request(Op.GET, b, o, ln) for _, _, b, o, ln in more)
                        )
                        sent += len(more)
        except OSError as e:
            raise _Stale(
                BlockNotFound(
                    f"block {key!r} is on crail storage server {server}, which is unreachable "
                    f"({type(e).__name__}: {e}) (crail store {self.uri})",
                    store=self.uri,
                    key=key,
                ),
                block,
            ) from e

    def _read_failed(
        self, server: str, key: str, block: int, status: Status, body: bytearray
    ) -> None:
        message = f"{body.decode(errors='replace')} (key {key!r}, crail store {self.uri})"
        if status is Status.NOT_FOUND:
            raise _Stale(BlockNotFound(message, store=self.uri, key=key), block)
        raise StoreError(f"storage server {server}: {message}", store=self.uri, key=key)

    # -- metadata-only calls ---------------------------------------------------------

    def size(self, key: str) -> int:
        _check_key(key)
        with self._timed("size"):
            return self._locate([key], fresh=True)[key].size

    def exists(self, key: str) -> bool:
        _check_key(key)
        try:
            self.size(key)
        except BlockNotFound:
            return False
        return True

    def list_prefix(self, prefix: str) -> Iterator[str]:
        _check_key(prefix, prefix=True)
        with self._timed("list_prefix"):
            return iter(self._meta(Op.LIST, {"prefix": prefix}))

    def delete_prefix(self, prefix: str) -> int:
        _check_key(prefix, prefix=True)
        with self._timed("delete_prefix") as io:
            removed = [_placement(raw) for raw in self._meta(Op.DELETE_PREFIX, {"prefix": prefix})]
            with self._lock:
                for k in [k for k in self._placements if k.startswith(prefix)]:
                    del self._placements[k]
            self._delete_blocks(removed)
            io[2] += len(removed)
        return len(removed)

    # -- cluster introspection -------------------------------------------------------

    def locate(self, key: str) -> str:
        """The ``host:port`` of the storage server holding ``key`` (asked afresh)."""
        _check_key(key)
        return self._locate([key], fresh=True)[key].server

    def servers(self) -> list[dict[str, Any]]:
        """The live storage servers as the metadata server sees them."""
        return self._meta(Op.SERVERS)

    def server_stats(self, server: str) -> dict[str, Any]:
        """Tier usage and request counts, asked of the storage server itself."""
        with self._pool(server).connection() as conn:
            status, body = call(conn, Op.STATS)
        if status is not Status.OK:
            raise StoreError(f"stats of {server}: {body.decode(errors='replace')}", store=self.uri)
        return decode_json(body)

    def close(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
            executor, self._executor = self._executor, None
        for p in pools:
            p.close()
        self.meta.close()
        if executor is not None:
            executor.shutdown(wait=False)
