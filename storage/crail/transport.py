"""The byte pipe under the protocol, behind a small interface so it can be swapped.

``Transport`` is what clients and servers use: ``send`` whole buffers, ``recv_into`` a
caller-owned buffer until it is full, ``send_file`` a byte range of a file, ``close``.
``TcpTransport`` is the only implementation: large socket buffers, ``TCP_NODELAY`` (the
protocol is request/reply with small headers), ``sendall`` of memoryviews (no copies of
payloads), ``recv_into`` straight into the destination, ``os.sendfile`` for the disk tier.
An RDMA transport (e.g. rsocket or pyverbs) would implement the same four calls.
"""

from __future__ import annotations

import abc
import os
import socket

Buffer = bytes | bytearray | memoryview

SOCKET_BUFFER = 4 << 20  # bytes; the kernel caps it at net.core.[rw]mem_max
SMALL_SEND = 64 << 10  # below this, buffers are joined into one send (one segment)
FILE_CHUNK = 1 << 20


class TransportClosed(ConnectionError):
    """The peer closed the connection (EOF) before a whole message arrived."""


class Transport(abc.ABC):
    """A connected, ordered, reliable byte stream."""

    @abc.abstractmethod
    def send(self, *buffers: Buffer) -> None:
        """Send every buffer, in order, completely."""

    @abc.abstractmethod
    def recv_into(self, view: memoryview) -> None:
        """Fill ``view`` completely from the stream; raises ``TransportClosed`` on EOF."""

    @abc.abstractmethod
    def close(self) -> None: ...

    def send_file(self, fd: int, offset: int, count: int) -> None:
        """Send ``count`` bytes of the open file ``fd`` from ``offset`` (copying fallback)."""
        while count:
            chunk = os.pread(fd, min(count, FILE_CHUNK), offset)
            if not chunk:
                raise EOFError(f"file ended {count} bytes early")
            self.send(chunk)
            offset += len(chunk)
            count -= len(chunk)

    def recv_exact(self, n: int) -> bytearray:
        """A new buffer of exactly ``n`` bytes from the stream (received in place)."""
        buf = bytearray(n)
        if n:
            self.recv_into(memoryview(buf))
        return buf


def tune(sock: socket.socket) -> None:
    """Large buffers and no Nagle delay: bulk transfers stream, small replies go at once."""
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for opt in (socket.SO_SNDBUF, socket.SO_RCVBUF):
        try:
            sock.setsockopt(socket.SOL_SOCKET, opt, SOCKET_BUFFER)
        except OSError:
            pass


class TcpTransport(Transport):
    """``Transport`` over one TCP socket."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        tune(sock)

    @classmethod
    def connect(cls, host: str, port: int, *, timeout: float) -> TcpTransport:
        """Connect within ``timeout`` seconds; every later send/recv is bounded by it too."""
        sock = socket.create_connection((host, port), timeout=timeout)
        return cls(sock)

    def settimeout(self, timeout: float | None) -> None:
        self.sock.settimeout(timeout)

    def send(self, *buffers: Buffer) -> None:
        total = sum(memoryview(b).nbytes for b in buffers)
        if len(buffers) > 1 and total <= SMALL_SEND:
            self.sock.sendall(b"".join(buffers))
            return
        for b in buffers:
            self.sock.sendall(b)

    def recv_into(self, view: memoryview) -> None:
        view = view.cast("B") if view.format != "B" else view
        got, n = 0, view.nbytes
        recv_into = self.sock.recv_into
        while got < n:
            k = recv_into(view[got:], n - got)
            if not k:
                raise TransportClosed(f"connection closed with {n - got} of {n} bytes unread")
            got += k

    def send_file(self, fd: int, offset: int, count: int) -> None:
        """Zero-copy from the page cache to the socket."""
        out = self.sock.fileno()
        while count:
            try:
                sent = os.sendfile(out, fd, offset, count)
            except BlockingIOError:  # a timeout socket is non-blocking underneath
                self._wait_writable()
                continue
            if not sent:
                raise EOFError(f"file ended {count} bytes early")
            offset += sent
            count -= sent

    def _wait_writable(self) -> None:
        import select

        timeout = self.sock.gettimeout()
        _, w, _ = select.select([], [self.sock], [], timeout)
        if not w:
            raise TimeoutError("send timed out")

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
