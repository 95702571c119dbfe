"""Allocator settings a function process needs before DuckDB and Arrow load: keep freed memory.

On a Firecracker VM (this machine; Lambda too) the first touch of a page the guest gave
back costs a host fault (~1.2 ms per MB measured, against ~0.1 ms per MB for memory the
process reuses), so an allocator that returns freed memory to the OS between the batches
and tasks of a warm function pays for every pass over the data twice. DuckDB's bundled
jemalloc is configured by DuckDB to purge dirty pages within about a second and muzzy
pages at once; jemalloc reads ``DUCKDB_JE_MALLOC_CONF`` (its prefixed ``MALLOC_CONF``) when
it initialises, which is why this must be in the environment before DuckDB allocates.

Measured on the 1 GB sort replayed in one warm process (10 map + 17 reduce tasks, Arrow on
mimalloc, see ``executors.memory.retain_memory``): minor faults map 131-163k -> 89k,
reduce 209-293k -> 87k; task CPU map 5.8-7.6 s -> 4.4 s, reduce 9.7-10.2 s -> 6.6 s.
Arrow's bundled mimalloc (its pool since ``retain_memory``) likewise purges freed pages
10 ms after a free (``purge_delay``, decommitting them) and reads ``MIMALLOC_PURGE_DELAY``
when it initialises. A 10 GB sort's map task holds ~300 MB of grouped output until it
writes it, so each task re-faulted that much: with the delay at ``RETAIN_MS`` the 1 GB map
stage replayed in one process took 40-60k minor faults instead of 110-140k, and in three
interleaved pairs of 10 GB sorts the map stage's Σ task CPU went 50.8 -> 37.0, 40.8 -> 39.1
and 38.2 -> 33.6 s (job 61.5 -> 52.7, 54.1 / 54.0, 51.7 -> 49.2 s); no change at 1 GB.
Retained pages are freed memory DuckDB's ``memory_limit`` already bounded; an idle
function gives them back after ``RETAIN_MS``.
"""

from __future__ import annotations

from collections.abc import MutableMapping

RETAIN_MS = 10_000  # freed memory kept this long for the next batch and the next task
DUCKDB_MALLOC_CONF_VAR = "DUCKDB_JE_MALLOC_CONF"
DUCKDB_MALLOC_CONF = f"dirty_decay_ms:{RETAIN_MS},muzzy_decay_ms:{RETAIN_MS}"
MIMALLOC_PURGE_DELAY_VAR = "MIMALLOC_PURGE_DELAY"


def function_env(env: MutableMapping[str, str]) -> MutableMapping[str, str]:
    """``env`` with DuckDB's and Arrow's allocator settings added (an operator's own values
    are kept)."""
    env.setdefault(DUCKDB_MALLOC_CONF_VAR, DUCKDB_MALLOC_CONF)
    env.setdefault(MIMALLOC_PURGE_DELAY_VAR, str(RETAIN_MS))
    return env
