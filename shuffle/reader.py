"""Reduce-side shuffle input: one reduce partition = a slice of every map output object.

Slices are fetched in a few concurrent batches through ``store.get_ranges`` (so a store
that pipelines or coalesces requests gets whole batches) and decoded in the same worker
threads — Arrow decompression releases the GIL, so fetch and decode overlap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pyarrow as pa

from shuffle.arrow_io import ipc_to_table
from shuffle.errors import FetchFailed
from storage.base import (
    BlockNotFound,
    BlockStore,
    RangeRequest,
    StoreError,
    TransientStoreError,
)

MAX_FETCH_THREADS = 4


def _fetch(store: BlockStore, requests: list[RangeRequest]) -> list[pa.Table]:
    """Fetch and decode one batch; anything that means "the map output is gone or bad"
    becomes ``FetchFailed`` so the scheduler recomputes it instead of retrying this task."""
    try:
        payloads = store.get_ranges(requests)
    except BlockNotFound as e:
        raise FetchFailed(e.key, str(e), store=e.store) from e
    except TransientStoreError:
        raise  # worth a plain retry of this task
    except StoreError as e:
        raise FetchFailed(e.key or requests[0].key, str(e), store=e.store) from e
    tables = []
    for req, payload in zip(requests, payloads, strict=True):
        try:
            tables.append(ipc_to_table(payload))
        except (pa.ArrowInvalid, OSError) as e:
            raise FetchFailed(
                req.key, f"corrupt shuffle block {req.key!r} @{req.offset}+{req.length}: {e}"
            ) from e
    return tables


def _batches(requests: list[RangeRequest], n: int) -> list[list[RangeRequest]]:
    """Up to ``n`` contiguous batches of near-equal size, preserving order, never splitting
    one object's run of slices (a store can then coalesce adjacent slices into one GET)."""
    runs: list[list[RangeRequest]] = []
    for r in requests:
        if runs and runs[-1][-1].key == r.key:
            runs[-1].append(r)
        else:
            runs.append([r])
    target = max(1, -(-len(requests) // n))
    out: list[list[RangeRequest]] = [[]]
    for run in runs:
        if out[-1] and len(out[-1]) + len(run) > target and len(out) < n:
            out.append([])
        out[-1].extend(run)
    return out


def _same_shape(a: pa.DataType, b: pa.DataType) -> bool:
    """Equal types up to nested field names ("l" vs "element"), nullability and the zone
    of zoned timestamps (executors write them in the session's time zone)."""
    if pa.types.is_list(a) and pa.types.is_list(b) or pa.types.is_large_list(a) and pa.types.is_large_list(b):
        return _same_shape(a.value_type, b.value_type)
    if pa.types.is_map(a) and pa.types.is_map(b):
        return _same_shape(a.key_type, b.key_type) and _same_shape(a.item_type, b.item_type)
    if pa.types.is_struct(a) and pa.types.is_struct(b):
        return a.num_fields == b.num_fields and all(
            a.field(i).name == b.field(i).name and _same_shape(a.field(i).type, b.field(i).type)
            for i in range(a.num_fields)
        )
    if pa.types.is_timestamp(a) and pa.types.is_timestamp(b):  # the zone is display metadata:
        return a.unit == b.unit and (a.tz is None) == (b.tz is None)  # DuckDB's session zone
    return a.equals(b)


def read_blocks(
    store: BlockStore,
    blocks: Sequence[Mapping[str, Any]],
    schema: pa.Schema,
    *,
    max_threads: int = MAX_FETCH_THREADS,
) -> pa.Table:
    """Read and concatenate the non-empty ``{"key", "offset", "length"}`` slices, in order."""
    requests = [
        RangeRequest(b["key"], int(b["offset"]), int(b["length"])) for b in blocks if b["length"]
    ]
    if not requests:
        return schema.empty_table()
    n = max(1, min(max_threads, len(requests)))
    if n == 1:
        tables = _fetch(store, requests)
    else:
        with ThreadPoolExecutor(max_workers=n, thread_name_prefix="shuffle-fetch") as pool:
            parts = list(pool.map(lambda batch: _fetch(store, batch), _batches(requests, n)))
        tables = [t for part in parts for t in part]
    for i, t in enumerate(tables):
        if t.schema.names != schema.names:
            raise ValueError(f"shuffle block columns {t.schema.names} are not {schema.names}")
        if not t.schema.equals(schema):
            if not all(_same_shape(a.type, b.type) for a, b in zip(t.schema, schema)):
                raise ValueError(f"shuffle block schema {t.schema} does not match {schema}")
            tables[i] = t.cast(schema)  # only nested field names / nullability differ
    return pa.concat_tables(tables) if len(tables) > 1 else tables[0]
