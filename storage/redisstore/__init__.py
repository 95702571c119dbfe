"""Redis / Valkey store: ``redis://[[user]:password@]host:port/db`` and ``rediss://`` (TLS).

Named ``redisstore`` so that ``import redis`` inside it is the redis-py client library.
"""

from storage.redisstore.client import StoreAuthError, StoreFull
from storage.redisstore.config import RedisConfig, parse_uri
from storage.redisstore.store import RedisStore

__all__ = ["RedisConfig", "RedisStore", "StoreAuthError", "StoreFull", "parse_uri"]
