"""A storage server: holds block bytes in its tiers and serves them on the data path.

It registers with the metadata server, then heartbeats every ``heartbeat_interval``
seconds with its tier statistics. If the metadata server answers that it no longer knows
this server (it timed out, or the metadata server restarted), the blocks held here are
unreachable, so they are dropped and the server registers again.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from storage.crail.control import MetadataClient, MetadataReply
from storage.crail.protocol import WHOLE, Op, Status, encode_json, pack_response
from storage.crail.server import FrameServer, reply, reply_error
from storage.crail.tiers import DramBlock, NoSpace, Tiers
from storage.crail.transport import Transport

log = logging.getLogger(__name__)

DRAIN_CHUNK = 1 << 20
REGISTER_TIMEOUT = 15.0


class StorageServer(FrameServer):
    """One data node: a DRAM tier of ``dram_capacity`` bytes spilling to ``disk_dir``."""

    name = "crail-storage"

    def __init__(
        self,
        metadata: tuple[str, int],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        dram_capacity: int,
        disk_dir: Path | None,
        timeout: float = 5.0,
    ) -> None:
        super().__init__(host, port)
        self.tiers = Tiers(dram_capacity, disk_dir)
        self.metadata = MetadataClient(*metadata, timeout=timeout, retries=0)
        self.requests: Counter[str] = Counter()
        self._count_lock = threading.Lock()
        self.bytes_in = 0
        self.bytes_out = 0
        self._heartbeat_interval = 0.5

    def start(self) -> None:
        super().start()
        try:
            self._register(deadline=time.monotonic() + REGISTER_TIMEOUT)
        except BaseException:
            self.stop()
            raise
        t = threading.Thread(target=self._heartbeats, name="crail-heartbeat", daemon=True)
        t.start()
        self._threads.append(t)

    def stop(self) -> None:
        super().stop()
        self.metadata.close()
        self.tiers.clear()

    def stats(self) -> dict[str, Any]:
        return {
            **self.tiers.stats(),
            "address": self.address,
            "requests": self._requests_snapshot(),
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
        }

    def _requests_snapshot(self) -> dict[str, int]:
        with self._count_lock:
            return dict(self.requests)

    # -- control path --------------------------------------------------------------

    def _register(self, deadline: float) -> None:
        """Register, retrying while the metadata server is not up yet (start-up order)."""
        delay = 0.05
        while True:
            try:
                out = self.metadata.call(
                    Op.REGISTER, {"host": self.host, "port": self.port, "stats": self.stats()}
                )
                self._heartbeat_interval = float(out["heartbeat_interval"])
                return
            except OSError as e:
                if time.monotonic() > deadline or self._stopping.is_set():
                    raise ConnectionError(
                        f"cannot register with the metadata server {self.metadata.address}: {e}"
                    ) from e
                time.sleep(delay)
                delay = min(delay * 2, 1.0)

    def _heartbeats(self) -> None:
        while not self._stopping.wait(self._heartbeat_interval):
            try:
                self.metadata.call(Op.HEARTBEAT, {"id": self.address, "stats": self.stats()})
            except MetadataReply as e:
                if e.status is Status.UNKNOWN_SERVER:
                    log.warning(
                        "metadata server forgot %s; dropping blocks, re-registering", self.address
                    )
                    self.tiers.clear()
                    self._try(lambda: self._register(deadline=time.monotonic()))
            except OSError as e:
                log.warning("heartbeat to %s failed: %s", self.metadata.address, e)

    def _try(self, fn: Any) -> None:
        try:
            fn()
        except (OSError, MetadataReply) as e:
            log.warning("%s", e)

    # -- data path -----------------------------------------------------------------

    def handle(
        self, conn: Transport, op: Op, flags: int, block: int, offset: int, length: int
    ) -> None:
        with self._count_lock:  # one thread per connection: counts need the lock
            self.requests[op.name] += 1
        if op is Op.GET:
            self._get(conn, block, offset, length)
        elif op is Op.PUT:
            self._put(conn, block, length)
        elif op is Op.DELETE:
            conn.recv_exact(length)
            reply(conn, b"\x01" if self.tiers.delete(block) else b"\x00")
        elif op is Op.STATS:
            conn.recv_exact(length)
            reply(conn, encode_json(self.stats()))
        elif op is Op.PING:
            conn.recv_exact(length)
            reply(conn)
        else:
            self._drain(conn, length)
            reply_error(conn, Status.ERROR, f"a storage server does not serve {op.name}")

    def _put(self, conn: Transport, block: int, length: int) -> None:
        try:
            writer = self.tiers.writer(block, length)
        except NoSpace as e:
            self._drain(conn, length)
            reply_error(conn, Status.NO_SPACE, f"storage server {self.address}: {e}")
            return
        try:
            for view in writer.views():
                conn.recv_into(view)
        except BaseException:
            writer.abort()  # the client went away mid-block: nothing becomes visible
            raise
        writer.commit()
        with self._count_lock:
            self.bytes_in += length
        reply(conn)

    def _get(self, conn: Transport, block: int, offset: int, length: int) -> None:
        src = self.tiers.find(block)
        if src is None:
            reply_error(conn, Status.NOT_FOUND, f"block {block} is not on {self.address}")
            return
        size = len(src.data) if isinstance(src, DramBlock) else src.size
        if length == WHOLE:
            length = max(size - offset, 0)
        if offset + length > size:
            reply_error(
                conn,
                Status.ERROR,
                f"range {offset}+{length} is beyond the end of block {block} ({size} bytes)",
            )
            return
        if isinstance(src, DramBlock):
            conn.send(
                pack_response(Status.OK, length), memoryview(src.data)[offset : offset + length]
            )
        else:
            try:
                fd = os.open(src.path, os.O_RDONLY)
            except FileNotFoundError:  # deleted since find()
                reply_error(conn, Status.NOT_FOUND, f"block {block} is not on {self.address}")
                return
            try:
                conn.send(pack_response(Status.OK, length))
                conn.send_file(fd, offset, length)
            finally:
                os.close(fd)
        with self._count_lock:
            self.bytes_out += length

    def _drain(self, conn: Transport, length: int) -> None:
        """Read and discard a request body, keeping the connection in step."""
        scratch = memoryview(bytearray(min(length, DRAIN_CHUNK) or 1))
        while length:
            n = min(length, len(scratch))
            conn.recv_into(scratch[:n])
            length -= n
