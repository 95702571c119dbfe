"""A few reusable connections per server, so requests skip the TCP handshake.

A connection that saw any error is closed rather than returned: after a failure
mid-message the stream position is unknown, and a fresh connection is cheap.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from storage.crail.protocol import RESPONSE, Op, Status, pack_request, unpack_response
from storage.crail.transport import TcpTransport, Transport

Connector = Callable[[str, int, float], Transport]


def tcp_connector(host: str, port: int, timeout: float) -> Transport:
    return TcpTransport.connect(host, port, timeout=timeout)


class ConnectionPool:
    """Connections to one server; any number may be in use, ``max_idle`` are kept."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        timeout: float,
        max_idle: int = 4,
        connector: Connector = tcp_connector,
    ) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.max_idle = max_idle
        self._connector = connector
        self._idle: list[Transport] = []
        self._lock = threading.Lock()
        self.opened = 0

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @contextmanager
    def connection(self) -> Iterator[Transport]:
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self._connector(self.host, self.port, self.timeout)
            self.opened += 1
        try:
            yield conn
        except BaseException:
            conn.close()
            raise
        with self._lock:
            if len(self._idle) < self.max_idle:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for c in idle:
            c.close()


def call(
    conn: Transport, op: Op, body: bytes = b"", *, block: int = 0, offset: int = 0
) -> tuple[Status, bytearray]:
    """One request/reply with a small body (control messages, PING, STATS, DELETE)."""
    conn.send(pack_request(op, block, offset, len(body)), body)
    header = conn.recv_exact(RESPONSE.size)
    status, length = unpack_response(header)
    return status, conn.recv_exact(length)
