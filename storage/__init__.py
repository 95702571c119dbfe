"""Stores chosen by URI: ``open_store("file:///tmp/x")`` returns a cached ``BlockStore``.

A new backend is one line in ``STORES`` (scheme → ``"module:Class"``); the class provides
``from_uri(uri)``. Backends are imported lazily, so a job on local disk never pays for
boto3 or redis imports. One instance is kept per (process, uri): a warm function reuses
its store (and its connections) across tasks, while a forked child builds its own rather
than sharing the parent's sockets.
"""

from __future__ import annotations

import importlib
import inspect
import os
import threading
from collections.abc import Mapping

from storage.base import (
    BlockNotFound,
    BlockStore,
    RangeRequest,
    StoreError,
    StoreMetrics,
    TransientStoreError,
)

STORES: dict[str, str] = {
    "file": "storage.file.store:LocalDirStore",
    "crail": "storage.crail.store:CrailStore",
    "redis": "storage.redisstore.store:RedisStore", "rediss": "storage.redisstore.store:RedisStore",
    "s3": "storage.s3.store:S3Store",
}

_cache: dict[tuple[int, str], BlockStore] = {}
_cache_lock = threading.Lock()


def _normalise(uri: str) -> tuple[str, str]:
    """(scheme, uri) with a bare absolute path turned into a file:// URI."""
    if uri.startswith("/"):
        return "file", "file://" + uri
    scheme, sep, _ = uri.partition("://")
    if not sep:
        scheme, sep, _ = uri.partition(":")
    if not sep or not scheme:
        raise ValueError(
            f"store URI {uri!r} has no scheme; supported: {', '.join(sorted(STORES))} "
            "(or a bare absolute path)"
        )
    return scheme.lower(), uri


def open_store(uri: str, conf: Mapping[str, str] | None = None) -> BlockStore:
    """The store for ``uri``, created once per process and then reused.

    ``conf`` (a job's Spark settings, e.g. ``spark.sparkless.s3.*``) is passed to stores
    whose ``from_uri`` takes it; the URI's own options win over it.
    """
    scheme, uri = _normalise(uri)
    if scheme not in STORES:
        raise ValueError(
            f"unknown store scheme {scheme!r} in {uri!r}; supported: {', '.join(sorted(STORES))}"
        )
    cache_key = (os.getpid(), uri)
    with _cache_lock:
        store = _cache.get(cache_key)
        if store is None:
            module, _, cls_name = STORES[scheme].partition(":")
            cls = getattr(importlib.import_module(module), cls_name)
            takes_conf = "conf" in inspect.signature(cls.from_uri).parameters
            store = cls.from_uri(uri, conf=conf) if takes_conf and conf else cls.from_uri(uri)
            _cache[cache_key] = store
    return store


def close_stores() -> None:
    """Close and forget this process's cached stores (end of a job, tests)."""
    with _cache_lock:
        mine = [k for k in _cache if k[0] == os.getpid()]
        stores = [_cache.pop(k) for k in mine]
    for store in stores:
        store.close()


__all__ = [
    "STORES",
    "BlockNotFound",
    "BlockStore",
    "RangeRequest",
    "StoreError",
    "StoreMetrics",
    "TransientStoreError",
    "close_stores",
    "open_store",
]
