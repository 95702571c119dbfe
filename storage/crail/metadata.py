"""The metadata server: which storage servers exist, and where every block lives.

Storage servers register and then heartbeat; one that misses heartbeats for
``heartbeat_timeout`` seconds is removed together with the placements of its blocks, and a
lookup of such a block answers ``LOST`` with the server's address (so a reader fails fast
and clearly, and the scheduler recomputes the map output) instead of pointing clients at
a dead address. A write is two steps: ``ALLOCATE`` picks a server and a fresh 64-bit block
id (the block is pending, invisible), the client stores the bytes on that server, then
``COMMIT`` makes the key visible. So ``put`` is atomic: readers see the old block or the
new one, never a partial one. Placement is least-used: the live server with the fewest
bytes placed (committed + pending).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from storage.crail.protocol import Op, Status, decode_json, encode_json
from storage.crail.server import FrameServer, reply, reply_error
from storage.crail.transport import Transport

log = logging.getLogger(__name__)

DEFAULT_HEARTBEAT_INTERVAL = 0.5
DEFAULT_HEARTBEAT_TIMEOUT = 3.0


@dataclass
class StorageServerInfo:
    host: str
    port: int
    last_seen: float
    placed_bytes: int = 0
    blocks: int = 0
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class Placement:
    server: str  # "host:port"
    block: int
    size: int


class Placements:
    """The metadata server's state and rules, with no sockets: easy to reason about."""

    def __init__(self, heartbeat_timeout: float) -> None:
        self.heartbeat_timeout = heartbeat_timeout
        self.servers: dict[str, StorageServerInfo] = {}
        self.blocks: dict[str, Placement] = {}
        self.pending: dict[int, tuple[str, Placement]] = {}
        self.lost: dict[str, str] = {}  # key -> why it is gone
        self._next_id = secrets.randbits(62)  # ids never repeat across metadata restarts
        self._rr = 0
        self.lock = threading.Lock()

    def register(self, host: str, port: int, stats: dict[str, Any]) -> str:
        info = StorageServerInfo(host, port, time.monotonic(), stats=stats)
        with self.lock:
            if info.address in self.servers:  # restarted: its old blocks are gone
                self._forget(info.address, "restarted and re-registered")
            self.servers[info.address] = info
        log.info("storage server %s registered", info.address)
        return info.address

    def heartbeat(self, server: str, stats: dict[str, Any]) -> bool:
        with self.lock:
            info = self.servers.get(server)
            if info is None:
                return False
            info.last_seen = time.monotonic()
            info.stats = stats
            return True

    def reap(self) -> list[str]:
        """Remove servers whose heartbeats stopped; returns their addresses."""
        now = time.monotonic()
        with self.lock:
            dead = [
                a for a, s in self.servers.items() if now - s.last_seen > self.heartbeat_timeout
            ]
            for a in dead:
                age = now - self.servers[a].last_seen
                self._forget(a, f"stopped heartbeating ({age:.1f}s ago) and was removed")
                del self.servers[a]
        for a in dead:
            log.warning("storage server %s timed out; its blocks are lost", a)
        return dead

    def _forget(self, server: str, why: str) -> None:
        for key, p in list(self.blocks.items()):
            if p.server == server:
                del self.blocks[key]
                self.lost[key] = f"block {key!r} was on storage server {server}, which {why}"
        for block, (_, p) in list(self.pending.items()):
            if p.server == server:
                del self.pending[block]
        info = self.servers.get(server)
        if info is not None:
            info.placed_bytes = info.blocks = 0

    def allocate(self, key: str, size: int, exclude: set[str]) -> Placement | None:
        with self.lock:
            live = [s for a, s in self.servers.items() if a not in exclude]
            if not live:
                return None
            self._rr += 1  # ties (e.g. all empty) rotate instead of piling on one server
            n = len(live)
            info = min((live[(self._rr + i) % n] for i in range(n)), key=lambda s: s.placed_bytes)
            self._next_id += 1
            p = Placement(info.address, self._next_id, size)
            self.pending[p.block] = (key, p)
            info.placed_bytes += size
            return p

    def commit(self, key: str, block: int) -> tuple[Status, str, Placement | None]:
        """Make a pending block visible: (status, message, the placement it replaced).

        Idempotent, so a client may retry a COMMIT whose reply it did not get."""
        with self.lock:
            entry = self.pending.pop(block, None)
            if entry is None and key in self.blocks and self.blocks[key].block == block:
                return Status.OK, "", None
            if entry is None:
                return Status.NOT_FOUND, f"block id {block} is not pending (deleted or lost)", None
            key, p = entry
            info = self.servers.get(p.server)
            if info is None:
                return Status.LOST, f"storage server {p.server} is gone", None
            info.blocks += 1
            old = self.blocks.get(key)
            if old is not None:
                self._unplace(old)
            self.blocks[key] = p
            self.lost.pop(key, None)
            return Status.OK, "", old

    def abort(self, block: int) -> None:
        with self.lock:
            entry = self.pending.pop(block, None)
            if entry is not None:
                info = self.servers.get(entry[1].server)
                if info is not None:
                    info.placed_bytes -= entry[1].size

    def _unplace(self, p: Placement) -> None:
        info = self.servers.get(p.server)
        if info is not None:
            info.placed_bytes -= p.size
            info.blocks -= 1

    def lookup(self, keys: list[str]) -> tuple[dict[str, Placement], dict[str, tuple[int, str]]]:
        """(found placements, {missing key: (status, message)})."""
        found: dict[str, Placement] = {}
        missing: dict[str, tuple[int, str]] = {}
        with self.lock:
            for k in keys:
                p = self.blocks.get(k)
                if p is not None:
                    found[k] = p
                elif k in self.lost:
                    missing[k] = (Status.LOST, self.lost[k])
                else:
                    missing[k] = (Status.NOT_FOUND, f"no such key {k!r}")
        return found, missing

    def list_prefix(self, prefix: str) -> list[str]:
        with self.lock:
            return sorted(k for k in self.blocks if k.startswith(prefix))

    def delete_prefix(self, prefix: str) -> list[Placement]:
        with self.lock:
            doomed = [k for k in self.blocks if k.startswith(prefix)]
            removed = [self.blocks.pop(k) for k in doomed]
            for p in removed:
                self._unplace(p)
            for k in [k for k in self.lost if k.startswith(prefix)]:
                del self.lost[k]
            return removed

    def describe(self) -> list[dict[str, Any]]:
        now = time.monotonic()
        with self.lock:
            return [
                {
                    "address": s.address,
                    "host": s.host,
                    "port": s.port,
                    "seconds_since_heartbeat": round(now - s.last_seen, 3),
                    "placed_bytes": s.placed_bytes,
                    "blocks": s.blocks,
                    "stats": s.stats,
                }
                for s in sorted(self.servers.values(), key=lambda s: s.address)
            ]


def _placement_json(p: Placement) -> list[Any]:
    host, _, port = p.server.rpartition(":")
    return [host, int(port), p.block, p.size]


class MetadataServer(FrameServer):
    """``crail://host:port`` points here. Serves the control path only (JSON bodies)."""

    name = "crail-metadata"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        heartbeat_interval: float = DEFAULT_HEARTBEAT_INTERVAL,
        heartbeat_timeout: float = DEFAULT_HEARTBEAT_TIMEOUT,
    ) -> None:
        super().__init__(host, port)
        self.heartbeat_interval = heartbeat_interval
        self.state = Placements(heartbeat_timeout)

    @property
    def uri(self) -> str:
        return f"crail://{self.address}"

    def start(self) -> None:
        super().start()
        t = threading.Thread(target=self._reaper, name="crail-metadata-reaper", daemon=True)
        t.start()
        self._threads.append(t)

    def _reaper(self) -> None:
        period = min(self.heartbeat_interval, self.state.heartbeat_timeout / 4)
        while not self._stopping.wait(period):
            self.state.reap()

    def handle(
        self, conn: Transport, op: Op, flags: int, block: int, offset: int, length: int
    ) -> None:
        body = decode_json(conn.recv_exact(length)) or {}
        try:
            self._dispatch(conn, op, block, body)
        except (KeyError, TypeError, ValueError) as e:  # a malformed body, not a dead server
            reply_error(conn, Status.ERROR, f"bad {op.name} request: {e!r}")

    def _dispatch(self, conn: Transport, op: Op, block: int, body: Any) -> None:
        s = self.state
        if op is Op.REGISTER:
            server = s.register(body["host"], int(body["port"]), body.get("stats", {}))
            reply(conn, encode_json({"id": server, "heartbeat_interval": self.heartbeat_interval}))
        elif op is Op.HEARTBEAT:
            if s.heartbeat(body["id"], body.get("stats", {})):
                reply(conn)
            else:
                reply_error(conn, Status.UNKNOWN_SERVER, f"{body['id']} is not registered")
        elif op is Op.ALLOCATE:
            p = s.allocate(body["key"], int(body["size"]), set(body.get("exclude", ())))
            if p is None:
                reply_error(conn, Status.NO_SERVERS, "no live storage servers to place a block on")
            else:
                reply(conn, encode_json(_placement_json(p)))
        elif op is Op.COMMIT:
            status, message, old = s.commit(body["key"], block)
            if status is Status.OK:
                reply(conn, encode_json(None if old is None else _placement_json(old)))
            else:
                reply_error(conn, status, message)
        elif op is Op.ABORT:
            s.abort(block)
            reply(conn)
        elif op is Op.LOOKUP:
            found, missing = s.lookup(list(body["keys"]))
            out = {
                "found": {k: _placement_json(p) for k, p in found.items()},
                "missing": missing,
            }
            reply(conn, encode_json(out))
        elif op is Op.LIST:
            reply(conn, encode_json(s.list_prefix(body["prefix"])))
        elif op is Op.DELETE_PREFIX:
            removed = s.delete_prefix(body["prefix"])
            reply(conn, encode_json([_placement_json(p) for p in removed]))
        elif op is Op.SERVERS:
            reply(conn, encode_json(s.describe()))
        elif op is Op.PING:
            reply(conn)
        else:
            reply_error(conn, Status.ERROR, f"the metadata server does not serve {op.name}")
