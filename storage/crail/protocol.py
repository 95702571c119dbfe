"""Wire format shared by clients, the metadata server and the storage servers.

Every message is a fixed binary header, optionally followed by a body::

    request  = "CR" op:u8 flags:u8 block:u64 offset:u64 length:u64   (28 bytes) + body
    response = "CR" status:u8 pad:u8 length:u64                      (12 bytes) + body

On the data path (storage servers) blocks are named by a 64-bit id the metadata server
hands out, so a read request is 28 bytes with no key string to encode or parse: ``PUT``
carries ``length`` payload bytes; ``GET`` asks for ``length`` bytes at ``offset`` and the
reply body is exactly those bytes, received by the client straight into its own buffer.
The control path (metadata server) carries small JSON bodies: it is a few requests per
block, and readable messages there are worth more than microseconds.
"""

from __future__ import annotations

import enum
import json
import struct
from typing import Any

MAGIC = b"CR"
REQUEST = struct.Struct("<2sBBQQQ")
RESPONSE = struct.Struct("<2sBBQ")
WHOLE = (1 << 64) - 1  # GET length meaning "to the end of the block"


class Op(enum.IntEnum):
    """Request kinds. 1-15: storage server (data path); 16+: metadata server."""

    PING = 1
    PUT = 2
    GET = 3
    DELETE = 4
    STATS = 5
    REGISTER = 16
    HEARTBEAT = 17
    ALLOCATE = 18
    COMMIT = 19
    ABORT = 20
    LOOKUP = 21
    LIST = 22
    DELETE_PREFIX = 23
    SERVERS = 24


class Status(enum.IntEnum):
    """Reply codes; the body of a non-OK reply is a UTF-8 message for humans."""

    OK = 0
    NOT_FOUND = 1
    ERROR = 2
    LOST = 3  # the block's storage server stopped heartbeating; its blocks are forgotten
    NO_SPACE = 4
    UNKNOWN_SERVER = 5  # heartbeat from a server the metadata server has forgotten
    NO_SERVERS = 6


class ProtocolError(Exception):
    """The peer sent something that is not a frame of this protocol."""


def pack_request(op: Op, block: int = 0, offset: int = 0, length: int = 0, flags: int = 0) -> bytes:
    return REQUEST.pack(MAGIC, op, flags, block, offset, length)


def unpack_request(header: bytes | bytearray | memoryview) -> tuple[Op, int, int, int, int]:
    """(op, flags, block, offset, length) of a request header."""
    magic, op, flags, block, offset, length = REQUEST.unpack(header)
    if magic != MAGIC:
        raise ProtocolError(f"bad request magic {bytes(magic)!r}")
    try:
        return Op(op), flags, block, offset, length
    except ValueError:
        raise ProtocolError(f"unknown op {op}") from None


def pack_response(status: Status, length: int = 0) -> bytes:
    return RESPONSE.pack(MAGIC, status, 0, length)


def unpack_response(header: bytes | bytearray | memoryview) -> tuple[Status, int]:
    """(status, body length) of a response header."""
    magic, status, _pad, length = RESPONSE.unpack(header)
    if magic != MAGIC:
        raise ProtocolError(f"bad response magic {bytes(magic)!r}")
    try:
        return Status(status), length
    except ValueError:
        raise ProtocolError(f"unknown status {status}") from None


def encode_json(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def decode_json(body: bytes | bytearray | memoryview) -> Any:
    return json.loads(bytes(body)) if len(body) else None
