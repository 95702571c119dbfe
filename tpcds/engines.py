"""The engines a run can measure, each behind the same small interface.

Why: the suite is a *client* -- every Spark Connect engine (an endpoint somebody runs,
an embedded sparkless server, Apache Spark's own Connect server started here) is driven
through the same ``pyspark`` Connect session, so the numbers are comparable. DuckDB
in-process is the yardstick and also produces the reference answers.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

from tpcds import storage
from tpcds.gen import TABLES

SERVER_CONF = {"spark.sql.session.timeZone": "UTC"}


class QueryTimeout(Exception):
    """The query did not finish within the run's ``--timeout``."""


class Engine(Protocol):
    name: str

    def start(self, data: str) -> None: ...
    def run(self, sql: str, timeout: float) -> list[tuple[Any, ...]]: ...
    def stop(self) -> None: ...


def arrow_rows(table: pa.Table) -> list[tuple[Any, ...]]:
    """Rows of an Arrow table as Python tuples (Decimal, date, str ... as Arrow gives)."""
    columns = [col.to_pylist() for col in table.columns]
    return list(zip(*columns, strict=True)) if columns else []


class ConnectEngine:
    """Any Spark Connect endpoint, reached with a pyspark Connect session."""

    def __init__(self, name: str, endpoint: str | None = None) -> None:
        self.name, self.endpoint = name, endpoint
        self.session: Any = None
        self.data = ""

    def connect(self) -> str:
        """Start whatever serves the endpoint; return ``sc://host:port``."""
        if not self.endpoint:
            raise ValueError(f"{self.name}: no endpoint")
        return self.endpoint

    def start(self, data: str) -> None:
        from pyspark.sql.connect.session import SparkSession

        self.data = data
        url = self.connect()
        self.session = SparkSession.builder.remote(url).create()
        for table in TABLES:
            self.session.read.parquet(storage.table_uri(data, table)) \
                .createOrReplaceTempView(table)

    def run(self, sql: str, timeout: float) -> list[tuple[Any, ...]]:
        result: dict[str, Any] = {}

        def work() -> None:
            try:
                result["table"] = self.session.sql(sql).toArrow()
            except BaseException as exc:  # noqa: BLE001 -- handed to the caller
                result["error"] = exc

        worker = threading.Thread(target=work, daemon=True, name=f"tpcds-{self.name}")
        worker.start()
        worker.join(timeout)
        if worker.is_alive():
            self.recover()
            raise QueryTimeout(f"no answer after {timeout:.0f}s")
        if "error" in result:
            raise result["error"]
        return arrow_rows(result["table"])

    def recover(self) -> None:
        """After a timeout: ask the server to cancel everything (a shared endpoint)."""
        session = self.session
        threading.Thread(target=lambda: _quietly(session.interruptAll), daemon=True).start()

    def stop(self) -> None:
        if self.session is not None:
            try:
                self.session.stop()
            except Exception:  # noqa: BLE001 -- the server may already be gone
                pass
            self.session = None


def _quietly(call: Any) -> None:
    try:
        call()
    except Exception:  # noqa: BLE001 -- best effort; the run goes on regardless
        pass


class ServerProcessEngine(ConnectEngine):
    """A Connect server in a child process we own: a timed-out query is cut off by
    killing the child and starting a fresh one, so it cannot slow the next query."""

    proc: subprocess.Popen[bytes] | None = None
    log: Path

    def recover(self) -> None:
        self.stop()
        self.start(self.data)

    def stop(self) -> None:
        _quietly(super().stop)
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


_SPARKLESS_CHILD = """
import json, os, sys
from sparkless.connect.server import SparkConnectServer
server = SparkConnectServer(port=0, conf=json.loads(sys.argv[1]))
print(f"tpcds-sparkless-port {server.start()}", flush=True)
os.dup2(2, 1)  # nobody reads our stdout any more: keep a full pipe from blocking us
server.wait()
"""


class SparklessEngine(ServerProcessEngine):
    """An embedded sparkless server: ``SparkConnectServer(port=0, conf=...)`` in a child."""

    def __init__(self, conf: dict[str, str] | None = None) -> None:
        super().__init__("sparkless")
        self.conf = {**SERVER_CONF, **(conf or {})}
        self.log = Path(tempfile.gettempdir()) / "tpcds-sparkless-server.log"

    def connect(self) -> str:
        import json
        import sys

        repo = Path(__file__).resolve().parents[1]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            filter(None, [str(repo), os.environ.get("PYTHONPATH")]))}
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", _SPARKLESS_CHILD, json.dumps(self.conf)],
                env=env, stdout=subprocess.PIPE, stderr=log)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode()
        if not line.startswith("tpcds-sparkless-port "):
            raise RuntimeError(f"sparkless server did not start; see {self.log}")
        return f"sc://127.0.0.1:{int(line.split()[1])}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SparkEngine(ServerProcessEngine):
    """Apache Spark's own Spark Connect server (shipped in pyspark), ``local[N]``.

    Started as ``spark-submit --class ...SparkConnectServer`` in the foreground of a child
    process so that stopping it is killing one process we own.
    """

    def __init__(self, master: str = "local[2]", driver_memory: str = "8g") -> None:
        super().__init__("spark")
        self.master, self.driver_memory = master, driver_memory
        self.log = Path(tempfile.gettempdir()) / "tpcds-spark-connect.log"

    def connect(self) -> str:
        import pyspark

        home = Path(pyspark.__file__).resolve().parent
        port = _free_port()
        conf = {
            **SERVER_CONF,
            "spark.connect.grpc.binding.address": "127.0.0.1",
            "spark.connect.grpc.binding.port": str(port),
            "spark.driver.host": "127.0.0.1",
            "spark.driver.bindAddress": "127.0.0.1",
            "spark.ui.enabled": "false",
        }
        args = [str(home / "bin" / "spark-submit"), "--master", self.master,
                "--driver-memory", self.driver_memory,
                "--class", "org.apache.spark.sql.connect.service.SparkConnectServer"]
        for k, v in conf.items():
            args += ["--conf", f"{k}={v}"]
        args.append("spark-internal")
        env = {**os.environ, "SPARK_HOME": str(home)}
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
        _wait_for_port(port, self.proc, self.log)
        return f"sc://127.0.0.1:{port}"


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], log: Path,
                   timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"Spark Connect server exited; see {log}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    raise RuntimeError(f"Spark Connect server did not listen on {port}; see {log}")


class DuckDBEngine:
    """DuckDB in-process on the same Parquet, running the DuckDB text of each query.

    Why it runs a different text: it is the independent reference, so it must not go
    through the sqlglot translation whose output the other engines are judged on.
    """

    name = "duckdb"

    def __init__(self) -> None:
        self.con: Any = None

    def start(self, data: str) -> None:
        import duckdb

        local = data
        if storage.is_s3(data):
            cache = Path(tempfile.gettempdir()) / "tpcds-data-cache" / data.replace("/", "_")
            local = str(storage.download_dir(data, cache))
        self.con = duckdb.connect()
        self.con.execute("SET TimeZone = 'UTC'")
        for table in TABLES:
            glob = os.path.join(storage.table_uri(local, table), "*.parquet")
            self.con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{glob}')")

    def run(self, sql: str, timeout: float) -> list[tuple[Any, ...]]:
        timer = threading.Timer(timeout, self.con.interrupt)
        timer.start()
        try:
            return arrow_rows(self.con.sql(sql).to_arrow_table())
        except Exception as exc:
            if not timer.is_alive():
                raise QueryTimeout(f"no answer after {timeout:.0f}s") from exc
            raise
        finally:
            timer.cancel()

    def stop(self) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None


def make(names: Sequence[str], endpoint: str | None) -> list[Engine]:
    """Engines by name: ``sparkless``, ``spark``, ``duckdb``, or ``endpoint`` (``--endpoint``)."""
    engines: list[Engine] = []
    for name in names:
        if name == "sparkless":
            engines.append(SparklessEngine())
        elif name == "spark":
            engines.append(SparkEngine())
        elif name == "duckdb":
            engines.append(DuckDBEngine())
        elif name == "endpoint":
            engines.append(ConnectEngine("endpoint", endpoint))
        else:
            raise ValueError(f"unknown engine {name!r} (sparkless, spark, duckdb, endpoint)")
    return engines
