"""What every session of one server shares: the function platform, the store, the bus."""

from __future__ import annotations

import os
import shutil
import tempfile

from executors.platforms import open_platform
from sparkless.scheduler.listener import ListenerBus
from storage import open_store


class Engine:
    def __init__(self, conf: dict[str, str] | None = None, store: str | None = None) -> None:
        self.base_conf = dict(conf or {})
        self._workdir: str | None = None
        store_uri = store or self.base_conf.get("spark.sparkless.store") or ""
        if not store_uri:
            self._workdir = tempfile.mkdtemp(prefix="sparkless-store-")
            store_uri = f"file://{self._workdir}"
        self.store_uri = store_uri
        self.store = open_store(store_uri, self.base_conf)
        self.platform = open_platform(conf=self.base_conf)
        self.parallelism = int(
            self.base_conf.get("spark.sparkless.defaultParallelism")
            or getattr(self.platform, "max_workers", None)
            or os.cpu_count()
            or 2
        )
        self.bus = ListenerBus()

    def prewarm(self) -> None:
        """Start the sandboxes a first job needs while the client is still connecting."""
        prewarm = getattr(self.platform, "prewarm", None)
        if prewarm is not None:
            prewarm(self.parallelism, timeout=None)

    def close(self) -> None:
        self.platform.shutdown()
        if self._workdir:
            shutil.rmtree(self._workdir, ignore_errors=True)
