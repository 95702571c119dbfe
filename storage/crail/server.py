"""A threaded frame server: accept TCP connections, read request headers, dispatch.

Both the metadata server and the storage servers are one ``FrameServer`` with a
``handle`` method. One thread per connection serves that connection's requests in order,
which is what makes client-side pipelining correct (replies come back in request order).
"""

from __future__ import annotations

import logging
import socket
import threading

from storage.crail.protocol import REQUEST, Op, ProtocolError, Status, pack_response, unpack_request
from storage.crail.transport import TcpTransport, Transport, TransportClosed

log = logging.getLogger(__name__)


class FrameServer:
    """Subclasses implement ``handle``; ``start``/``stop`` manage the threads and sockets."""

    name = "crail"

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._listener = socket.create_server((host, port), backlog=128)
        self.host, self.port = self._listener.getsockname()[:2]
        self._conns: set[Transport] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def handle(
        self, conn: Transport, op: Op, flags: int, block: int, offset: int, length: int
    ) -> None:
        """Serve one request whose header has been read; must consume its body."""
        raise NotImplementedError

    def start(self) -> None:
        t = threading.Thread(target=self._accept_loop, name=f"{self.name}-accept", daemon=True)
        t.start()
        self._threads.append(t)

    def stop(self) -> None:
        """Stop accepting, drop every connection, join the accept thread."""
        self._stopping.set()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            c.close()
        for t in self._threads:
            t.join(timeout=5)

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            conn = TcpTransport(sock)
            with self._lock:
                self._conns.add(conn)
            threading.Thread(
                target=self._serve, args=(conn,), name=f"{self.name}-conn", daemon=True
            ).start()

    def _serve(self, conn: Transport) -> None:
        header = memoryview(bytearray(REQUEST.size))
        try:
            while not self._stopping.is_set():
                conn.recv_into(header)
                self.handle(conn, *unpack_request(header))
        except (TransportClosed, ConnectionError, OSError):
            pass  # the peer went away (or we are stopping)
        except ProtocolError as e:
            log.warning("%s: dropping connection: %s", self.name, e)
            try:
                reply_error(conn, Status.ERROR, str(e))
            except OSError:
                pass
        finally:
            with self._lock:
                self._conns.discard(conn)
            conn.close()


def reply(conn: Transport, body: bytes = b"") -> None:
    conn.send(pack_response(Status.OK, len(body)), body)


def reply_error(conn: Transport, status: Status, message: str) -> None:
    body = message.encode()
    conn.send(pack_response(status, len(body)), body)
