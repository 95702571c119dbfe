"""A BlockStore's keys as files: ``sparkless://<hex of the store URI>/<key>``.

Cached DataFrames (``sparkless/connect/cache.py``) are Parquet files written *into the
configured store* — Redis, the Crail-like memory store, S3 or local disk — as one block
per file, and read back by the scan tasks through this file system registered with
DuckDB: the footer and the column chunks a task needs are ranged reads
(``BlockStore.get_range``), so splits, row groups and projection work as on disk. The
store URI is in the path, so any task that has the job's conf can open it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from storage import BlockNotFound, BlockStore, open_store

SCHEME = "sparkless"


def store_path(store_uri: str, key: str) -> str:
    """The file path of ``key`` in the store at ``store_uri``."""
    return f"{SCHEME}://{store_uri.encode().hex()}/{key.strip('/')}"


def split(path: str) -> tuple[str, str]:
    """(store URI, key) of a ``sparkless://`` path."""
    rest = path.split("://", 1)[1] if "://" in path else path
    host, _, key = rest.partition("/")
    return bytes.fromhex(host).decode(), key.strip("/")


def store_of(path: str, conf: Mapping[str, str] | None) -> tuple[BlockStore, str]:
    uri, key = split(path)
    return open_store(uri, conf), key


def fsspec_filesystem(conf: Mapping[str, str] | None):  # noqa: ANN201 - fsspec file system
    """An fsspec file system over the stores, for DuckDB (read side only)."""
    from fsspec.spec import AbstractBufferedFile, AbstractFileSystem

    class BlockFile(AbstractBufferedFile):
        def _fetch_range(self, start: int, end: int) -> bytes:
            store, key = store_of(self.path, conf)
            end = min(end, self.size)
            return store.get_range(key, start, end - start) if end > start else b""

    class StoreFiles(AbstractFileSystem):
        protocol = (SCHEME,)
        cachable = False
        root_marker = ""

        @classmethod
        def _strip_protocol(cls, path: str) -> str:
            return path[len(SCHEME) + 3:] if path.startswith(SCHEME + "://") else path

        def _full(self, path: str) -> str:
            return path if path.startswith(SCHEME + "://") else f"{SCHEME}://{path}"

        def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
            store, key = store_of(self._full(path), conf)
            name = self._strip_protocol(path).rstrip("/")
            try:
                return {"name": name, "size": store.size(key), "type": "file"}
            except BlockNotFound:
                pass
            if key and next(iter(store.list_prefix(key + "/")), None) is not None:
                return {"name": name, "size": 0, "type": "directory"}
            raise FileNotFoundError(path)

        def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list:
            store, key = store_of(self._full(path), conf)
            base = self._strip_protocol(path).rstrip("/")
            prefix = key + "/" if key else ""
            seen: dict[str, dict[str, Any]] = {}
            for k in store.list_prefix(prefix):
                head, sep, _ = k[len(prefix):].partition("/")
                name = f"{base}/{head}"
                if sep:
                    seen.setdefault(name, {"name": name, "size": 0, "type": "directory"})
                else:
                    seen[name] = {"name": name, "size": store.size(k), "type": "file"}
            if not seen:
                raise FileNotFoundError(path)
            entries = sorted(seen.values(), key=lambda e: e["name"])
            return entries if detail else [e["name"] for e in entries]

        def modified(self, path: str) -> Any:
            import datetime

            self.info(path)  # raises if missing; blocks are immutable, so any fixed time
            return datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)

        def _open(self, path: str, mode: str = "rb", block_size: Any = None, **kwargs: Any) -> Any:
            if mode != "rb":
                raise NotImplementedError("sparkless:// files are written through the store")
            full = self._full(path)
            size = self.info(path)["size"]
            return BlockFile(self, full, mode, block_size=block_size or 4 << 20, size=size,
                             cache_type="readahead")

    return StoreFiles()
