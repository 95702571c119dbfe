"""The client side of the metadata server's control protocol (used by stores and servers)."""

from __future__ import annotations

import time
from typing import Any

from storage.crail.pool import ConnectionPool, Connector, call, tcp_connector
from storage.crail.protocol import Op, Status, decode_json, encode_json


class MetadataReply(Exception):
    """The metadata server answered with a non-OK status."""

    def __init__(self, status: Status, message: str) -> None:
        super().__init__(message)
        self.status = status


class MetadataClient:
    """Thread-safe JSON calls to one metadata server over pooled connections.

    A call that cannot reach the server is retried ``retries`` times with exponential
    backoff (a restarting server, a connection reset); then the ``OSError`` propagates.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        timeout: float,
        retries: int = 3,
        backoff: float = 0.05,
        connector: Connector = tcp_connector,
    ) -> None:
        self.pool = ConnectionPool(host, port, timeout=timeout, connector=connector)
        self.retries, self.backoff = retries, backoff
        self.requests = 0

    @property
    def address(self) -> str:
        return self.pool.address

    def call(self, op: Op, body: Any = None, *, block: int = 0) -> Any:
        payload = b"" if body is None else encode_json(body)
        for attempt in range(self.retries + 1):
            try:
                with self.pool.connection() as conn:
                    self.requests += 1
                    status, reply = call(conn, op, payload, block=block)
                break
            except OSError:
                if attempt == self.retries:
                    raise
                time.sleep(self.backoff * (2**attempt))
        if status is not Status.OK:
            raise MetadataReply(status, reply.decode(errors="replace"))
        return decode_json(reply)

    def close(self) -> None:
        self.pool.close()
