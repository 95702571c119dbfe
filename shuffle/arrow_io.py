"""Arrow IPC *stream* encoding: the bytes every store holds and DuckDB reads without copies.

The stream format (not the file format) is used because it is self-delimiting and can be
concatenated: one map output object is several streams back to back.
"""

from __future__ import annotations

import base64

import pyarrow as pa
import pyarrow.ipc as ipc

_NO_CODEC = {None, "", "none", "uncompressed"}


def write_options(compression: str | None) -> ipc.IpcWriteOptions:
    """IPC options for ``compression`` (``"lz4"``, ``"zstd"`` or ``None``)."""
    codec = None if compression is None or compression.lower() in _NO_CODEC else compression
    return ipc.IpcWriteOptions(compression=codec)


def write_stream(sink: pa.NativeFile, table: pa.Table, options: ipc.IpcWriteOptions) -> None:
    """Append one complete IPC stream (schema, batches, end marker) to ``sink``."""
    with ipc.new_stream(sink, table.schema, options=options) as writer:
        writer.write_table(table)


def table_to_ipc(table: pa.Table, compression: str | None = None) -> bytes:
    """``table`` as one Arrow IPC stream."""
    sink = pa.BufferOutputStream()
    write_stream(sink, table, write_options(compression))
    return sink.getvalue().to_pybytes()


def ipc_to_table(data: bytes | memoryview | pa.Buffer) -> pa.Table:
    """Decode one IPC stream; buffers of uncompressed data are used in place."""
    return ipc.open_stream(pa.py_buffer(data)).read_all()


def schema_to_b64(schema: pa.Schema) -> str:
    """``schema`` as base64 text, for JSON task events."""
    return base64.b64encode(schema.serialize().to_pybytes()).decode("ascii")


def schema_from_b64(s: str) -> pa.Schema:
    return ipc.read_schema(pa.py_buffer(base64.b64decode(s)))
