"""Shuffle: partition ids in SQL, one indexed Arrow IPC object per map task, ranged reads."""

from shuffle.arrow_io import ipc_to_table, schema_from_b64, schema_to_b64, table_to_ipc
from shuffle.errors import FetchFailed
from shuffle.partitioning import partition_id_sql
from shuffle.reader import read_blocks
from shuffle.writer import MapOutput, default_codec, read_index, write_map_output

__all__ = [
    "FetchFailed",
    "MapOutput",
    "default_codec",
    "ipc_to_table",
    "partition_id_sql",
    "read_blocks",
    "read_index",
    "schema_from_b64",
    "schema_to_b64",
    "table_to_ipc",
    "write_map_output",
]
