"""What every session of one server shares: the function platform, the store, the bus."""

from __future__ import annotations

import os
import shutil
import tempfile

from executors.platforms import open_platform
from sparkless.scheduler.backend import FaasSchedulerBackend
from sparkless.scheduler.cleaner import BlockCleaner
from sparkless.scheduler.listener import ListenerBus
from sparkless.scheduler.store_policy import AUTO, auto_stores
from sparkless.scheduler.warm_pool import WarmPoolManager
from storage import open_store


class Engine:
    def __init__(self, conf: dict[str, str] | None = None, store: str | None = None) -> None:
        self.base_conf = dict(conf or {})
        self._workdir: str | None = None
        store_uri = store or self.base_conf.get("spark.sparkless.store") or ""
        if store_uri == AUTO:  # job-level blocks (results, local data) go to the large store
            self.base_conf["spark.sparkless.store"] = AUTO
            store_uri = auto_stores(self.base_conf)[1]
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
        platform_name = str(self.base_conf.get("spark.sparkless.platform", "local"))
        self.sizing = FaasSchedulerBackend.from_conf(self.base_conf, platform_name)
        self.warm_pool = WarmPoolManager.from_conf(self.platform, self.base_conf, self.sizing)
        self.bus.add(self.warm_pool)
        self.cleaner = BlockCleaner()  # finished jobs' blocks, deleted off the critical path

    def prewarm(self, timeout: float | None = None) -> None:
        """Start the sandboxes a first job needs while the client is still connecting;
        returns once they are warm (or after ``timeout`` seconds)."""
        prewarm = getattr(self.platform, "prewarm", None)
        if prewarm is not None:
            prewarm(self.parallelism, timeout=timeout)

    def close(self) -> None:
        self.cleaner.close()  # before the store goes: every job's blocks deleted
        self.platform.shutdown()
        if self._workdir:
            shutil.rmtree(self._workdir, ignore_errors=True)
