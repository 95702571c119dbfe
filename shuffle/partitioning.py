"""Which reduce partition a row goes to, as a DuckDB SQL expression.

The task computes the id inside its fragment (``SELECT *, <expr> AS __pid ...``), so
partitioning runs vectorised in DuckDB and the writer only groups rows by the result.

Hash partitioning uses DuckDB's ``hash()``, which is seedless: the same values give the
same partition in every process and connection (of the same DuckDB version — every
function of a job runs the same image). Both sides of a join must hash the *same types*
(``hash(1::INT)`` and ``hash(1.0::DOUBLE)`` differ, as do VARCHAR and DATE): the planner
casts join keys to a common type before the exchange. DuckDB already normalises
``-0.0``/``0.0`` and NaNs, and NULL keys all land in one partition.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

KINDS = ("hash", "single", "round_robin", "precomputed")


def quote_ident(name: str) -> str:
    """A DuckDB identifier, double-quoted so any column name is safe."""
    return '"' + name.replace('"', '""') + '"'


def partition_id_sql(partitioning: Mapping[str, Any], num_partitions: int) -> str:
    """SQL for an INTEGER in ``[0, num_partitions)``; see the module docstring.

    ``{"kind": "round_robin", "start": k}`` starts the rotation at ``k`` (Spark starts each
    map task at a different position so the first rows of all tasks do not pile onto
    partition 0); ``start`` defaults to 0.
    """
    if not isinstance(num_partitions, int) or num_partitions < 1:
        raise ValueError(f"num_partitions must be a positive int, got {num_partitions!r}")
    kind = partitioning.get("kind")
    if kind not in KINDS:
        raise ValueError(f"unknown partitioning kind {kind!r}; supported: {', '.join(KINDS)}")
    if kind == "single" or num_partitions == 1:
        return "0"
    n = num_partitions
    if kind == "hash":
        keys = partitioning.get("keys") or []
        if not keys or not all(isinstance(k, str) and k for k in keys):
            raise ValueError(f"hash partitioning needs column names in 'keys', got {keys!r}")
        args = ", ".join(quote_ident(k) for k in keys)
        return f"CAST(hash({args}) % {n} AS INTEGER)"
    if kind == "precomputed":
        # The fragment computed the id itself (range partitioning against sampled bounds);
        # a task hands that column to the writer as the ids, which does not store it.
        column = partitioning.get("column")
        if not isinstance(column, str) or not column:
            raise ValueError(f"precomputed partitioning needs a 'column', got {column!r}")
        return f"CAST({quote_ident(column)} AS INTEGER)"
    start = int(partitioning.get("start", 0)) % n
    return f"CAST((row_number() OVER () - 1 + {start}) % {n} AS INTEGER)"
