"""Shared fixtures: a real ``sparkless server`` subprocess, a Spark Connect session
against it, and ONE classic Apache Spark session (the oracle) for the whole run.

Classic and Connect in one process (pyspark 4.3) -- what we found
------------------------------------------------------------------
They coexist, with two precautions, so the oracle runs in-process (no subprocess):

* ``SparkSession.builder.remote(url).getOrCreate()`` refuses to start once a classic
  SparkContext exists (``SESSION_ALREADY_EXIST``), and the classic builder refuses once a
  remote session was made (``CONNECT_URL_NOT_SET``). We therefore build Connect sessions
  with ``pyspark.sql.connect.session.SparkSession.builder`` directly, which has no such check.
* ``pyspark.sql.functions`` (``F.col``, ``F.sum`` ...) and ``Column`` pick their
  implementation from the environment variable ``SPARK_CONNECT_MODE_ENABLED``. A Column made
  in the wrong mode cannot be used by the other engine. The default during the run is
  Connect mode (set when the Connect session is created); :func:`classic_mode` removes the
  variable while oracle code runs. The helpers below (:func:`run_both`, :func:`assert_same`)
  switch the mode for you, so a test is written once as ``lambda s: ...`` and runs on both.

Server under test
-----------------
By default ``python -m sparkless server``. ``SPARKLESS_E2E_SERVER=reference`` runs Apache
Spark's own Spark Connect server behind the same command-line contract
(``tests/e2e/reference_server.py``) -- that is how the suite itself is validated: every
test must pass against it, except those marked ``sparkless_only`` (stricter than Spark,
e.g. atomic writes), which are expected to fail there.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
READY_RE = re.compile(r"^sparkless: Spark Connect server listening on (sc://[\w.\-]+:(\d+))\s*$")
READY_TIMEOUT_S = float(os.environ.get("SPARKLESS_E2E_READY_TIMEOUT", "120"))
SERVER_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "4",
}
REFERENCE = os.environ.get("SPARKLESS_E2E_SERVER", "sparkless") == "reference"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "sparkless_only: a guarantee stricter than Apache Spark's (expected to fail against "
        "the reference Spark Connect server)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not REFERENCE:
        return
    for item in items:
        if item.get_closest_marker("sparkless_only"):
            item.add_marker(
                pytest.mark.xfail(reason="stricter than Apache Spark; reference mode", strict=False)
            )


# --------------------------------------------------------------------------- engine modes

_MODE_VAR = "SPARK_CONNECT_MODE_ENABLED"


@contextlib.contextmanager
def _mode(connect: bool) -> Iterator[None]:
    old = os.environ.get(_MODE_VAR)
    if connect:
        os.environ[_MODE_VAR] = "1"
    else:
        os.environ.pop(_MODE_VAR, None)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(_MODE_VAR, None)
        else:
            os.environ[_MODE_VAR] = old


def classic_mode() -> contextlib.AbstractContextManager[None]:
    """Code using ``pyspark.sql.functions`` against the oracle must run inside this."""
    return _mode(False)


def connect_mode() -> contextlib.AbstractContextManager[None]:
    return _mode(True)


def is_connect(obj: Any) -> bool:
    return type(obj).__module__.startswith("pyspark.sql.connect")


def mode_for(obj: Any) -> contextlib.AbstractContextManager[None]:
    return connect_mode() if is_connect(obj) else classic_mode()


# --------------------------------------------------------------------------- server process


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_command(store_dir: Path | None, token: str | None = None, host: str = "127.0.0.1",
                   conf: dict[str, str] | None = None) -> list[str]:
    if REFERENCE:
        cmd = [sys.executable, str(REPO / "tests" / "e2e" / "reference_server.py")]
    else:
        cmd = [sys.executable, "-m", "sparkless", "server"]
    cmd += ["--host", host, "--port", "0"]
    if store_dir is not None:
        cmd += ["--store", store_dir.resolve().as_uri()]
    for k, v in {**SERVER_CONF, **(conf or {})}.items():
        cmd += ["--conf", f"{k}={v}"]
    if token is not None:
        cmd += ["--token", token]
    return cmd


@dataclasses.dataclass
class ServerProcess:
    url: str
    port: int
    store_dir: Path | None
    proc: subprocess.Popen
    stderr_path: Path
    stdout_lines: list[str]

    def stderr_text(self, start: int = 0) -> str:
        try:
            with open(self.stderr_path, "rb") as f:
                f.seek(start)
                return f.read().decode("utf-8", "replace")
        except OSError as e:  # pragma: no cover - diagnostics only
            return f"<cannot read server stderr: {e}>"

    def stderr_size(self) -> int:
        try:
            return self.stderr_path.stat().st_size
        except OSError:
            return 0

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM, wait; returns the exit code, or None if it had to be killed."""
        if self.proc.poll() is not None:
            return self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            return None


def start_server(workdir: Path, *, store: bool = True, token: str | None = None,
                 host: str = "127.0.0.1", env: dict[str, str] | None = None,
                 timeout: float = READY_TIMEOUT_S) -> ServerProcess:
    """Start a server subprocess and wait for its ready line (raises with its stderr if not)."""
    workdir.mkdir(parents=True, exist_ok=True)
    store_dir = workdir / "store" if store else None
    if store_dir is not None:
        store_dir.mkdir(exist_ok=True)
    stderr_path = workdir / "server.stderr"
    cmd = server_command(store_dir, token=token, host=host)
    full_env = dict(os.environ)
    for var in (_MODE_VAR, "SPARK_REMOTE", "SPARK_CONNECT_AUTHENTICATE_TOKEN",
                "SPARKLESS_AUTH_TOKEN", "SPARK_LOCAL_REMOTE"):
        full_env.pop(var, None)
    full_env.update(env or {})
    full_env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO)] + [p for p in full_env.get("PYTHONPATH", "").split(os.pathsep) if p])
    stderr_f = open(stderr_path, "wb")  # noqa: SIM115 - lives as long as the process
    proc = subprocess.Popen(cmd, cwd=workdir, env=full_env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=stderr_f, text=True, bufsize=1)
    stderr_f.close()
    lines: list[str] = []
    ready: dict[str, re.Match] = {}
    got = threading.Event()

    def pump() -> None:  # keep draining stdout so the server never blocks on it
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            m = READY_RE.match(line)
            if m and not got.is_set():
                ready["m"] = m
                got.set()
        got.set()

    threading.Thread(target=pump, name="sparkless-server-stdout", daemon=True).start()
    got.wait(timeout)
    if "m" not in ready:
        code = proc.poll()
        if code is None:
            proc.kill()
            proc.wait(10)
        err = stderr_path.read_text(errors="replace")
        raise RuntimeError(
            f"sparkless server did not print its ready line within {timeout:.0f}s "
            f"(exit code: {code}).\ncommand: {' '.join(cmd)}\n"
            f"--- stdout ---\n{''.join(lines)[-5000:]}\n--- stderr ---\n{err[-20000:]}"
        )
    m = ready["m"]
    return ServerProcess(url=m.group(1), port=int(m.group(2)), store_dir=store_dir, proc=proc,
                         stderr_path=stderr_path, stdout_lines=lines)


_SERVERS: list[ServerProcess] = []


@pytest.fixture(scope="session")
def sparkless_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(tmp_path_factory.mktemp("sparkless-server"))
    _SERVERS.append(server)
    try:
        yield server
    finally:
        _SERVERS.remove(server)
        alive_before = server.proc.poll() is None
        code = server.stop()
        assert alive_before, (
            f"server died during the run (exit {server.proc.returncode}):\n"
            f"{server.stderr_text()[-20000:]}")
        assert code is not None, (
            "server did not exit within 30 s of SIGTERM (killed):\n"
            f"{server.stderr_text()[-20000:]}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """On failure, attach what every running server wrote to stderr during this test."""
    if call.when == "setup":
        item._sparkless_stderr_start = {id(s): s.stderr_size() for s in _SERVERS}  # type: ignore[attr-defined]
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        starts = getattr(item, "_sparkless_stderr_start", {})
        for s in _SERVERS:
            text = s.stderr_text(starts.get(id(s), 0))
            if text.strip():
                report.sections.append((f"sparkless server stderr ({s.url})", text[-20000:]))


# --------------------------------------------------------------------------- sessions


def connect_builder(url: str):
    from pyspark.sql.connect.session import SparkSession as RemoteSparkSession

    return RemoteSparkSession.builder.remote(url)


@pytest.fixture(scope="session")
def spark(sparkless_server: ServerProcess, oracle):  # oracle first: see module docstring
    with connect_mode():
        session = connect_builder(sparkless_server.url).getOrCreate()
    yield session
    with connect_mode(), contextlib.suppress(Exception):
        session.stop()


@pytest.fixture
def new_session(sparkless_server: ServerProcess, spark):
    """Factory for extra Connect sessions (``.create()``), stopped after the test."""
    made = []

    def make(url: str | None = None):
        s = connect_builder(url or sparkless_server.url).create()
        made.append(s)
        return s

    yield make
    for s in made:
        with contextlib.suppress(Exception):
            s.stop()


def _check_java() -> None:
    java = shutil.which("java", path=os.path.join(os.environ["JAVA_HOME"], "bin")) \
        if os.environ.get("JAVA_HOME") else shutil.which("java")
    how = ("The oracle is Apache Spark in classic local mode and needs Java 17: on Debian "
           "`sudo apt-get install -y openjdk-17-jre-headless` (or set JAVA_HOME to a JDK 17).")
    if java is None:
        raise RuntimeError("No `java` found on PATH or in JAVA_HOME. " + how)
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    m = re.search(r'version "(\d+)', out)
    if not m or int(m.group(1)) < 17:
        raise RuntimeError(f"`{java} -version` says {out.strip()!r}; need 17+. " + how)


@pytest.fixture(scope="session")
def oracle():
    """ONE classic Apache Spark session (local[2]) for the whole run."""
    _check_java()
    from pyspark.sql import SparkSession

    with classic_mode():
        for var in ("SPARK_REMOTE", "SPARK_LOCAL_REMOTE"):
            os.environ.pop(var, None)
        os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"  # the JVM binds and talks on loopback only
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # UDF workers: this venv
        session = (
            SparkSession.builder.master("local[2]")
            .appName("sparkless-e2e-oracle")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.host", "127.0.0.1")  # loopback only, whatever the hostname says
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.driver.memory", "1g")
            .config("spark.sql.warehouse.dir", tempfile.mkdtemp(prefix="oracle-warehouse-"))
            .getOrCreate()
        )
        session.sparkContext.setLogLevel("ERROR")
    yield session
    with classic_mode():
        session.stop()


# --------------------------------------------------------------------------- comparison

REL_TOL = 1e-9


def _norm(v: Any, sort_arrays: bool) -> Any:
    from pyspark.sql import Row

    if isinstance(v, Row):
        return tuple(_norm(x, sort_arrays) for x in v)
    if isinstance(v, (list, tuple)):
        items = [_norm(x, sort_arrays) for x in v]
        if sort_arrays:
            items.sort(key=_sort_key)
        return items if isinstance(v, list) else tuple(items)
    if isinstance(v, dict):
        return {k: _norm(x, sort_arrays) for k, x in sorted(v.items(), key=lambda kv: repr(kv[0]))}
    return v


def _sort_key(v: Any) -> Any:
    if v is None:
        return (0, "", "")
    if isinstance(v, float):
        if math.isnan(v):
            return (2, "float", "nan")
        return (1, "num", float(f"{v:.9g}"))
    if isinstance(v, (bool,)):
        return (1, "bool", int(v))
    if isinstance(v, int):
        return (1, "num", float(v))
    if isinstance(v, (list, tuple)):
        return (1, "seq", tuple(_sort_key(x) for x in v))
    return (1, type(v).__name__, repr(v) if isinstance(v, dict) else v)


def _values_equal(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-12)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(
            _values_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_values_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@dataclasses.dataclass
class Materialized:
    columns: list[str]
    schema: Any  # StructType
    rows: list[tuple]


def materialize(df, sort_arrays: bool = False) -> Materialized:
    with mode_for(df):
        schema = df.schema
        rows = [_norm(r, sort_arrays) for r in df.collect()]
        return Materialized(list(df.columns), schema, rows)


def _fmt_rows(rows: list[tuple], limit: int = 30) -> str:
    shown = "\n".join(f"    {r!r}" for r in rows[:limit])
    more = f"\n    ... {len(rows) - limit} more" if len(rows) > limit else ""
    return shown + more


def _strip_nullability(dt, keep: bool = False):
    """The type without nullability (or, with ``keep``, just without field metadata)."""
    from pyspark.sql.types import ArrayType, MapType, StructField, StructType

    if isinstance(dt, StructType):
        return StructType([StructField(f.name, _strip_nullability(f.dataType, keep),
                                       f.nullable if keep else True) for f in dt.fields])
    if isinstance(dt, ArrayType):
        return ArrayType(_strip_nullability(dt.elementType, keep),
                         dt.containsNull if keep else True)
    if isinstance(dt, MapType):
        return MapType(_strip_nullability(dt.keyType, keep),
                       _strip_nullability(dt.valueType, keep),
                       dt.valueContainsNull if keep else True)
    return dt


def _schema_lines(schema) -> str:
    return schema.treeString() if hasattr(schema, "treeString") else repr(schema)


def assert_same(ours_df, oracle_df, ordered: bool = False, sort_arrays: bool = False,
                check_nullability: bool = True) -> None:
    """Column names, types, rows (order-insensitive unless ``ordered``), then nullability.

    Doubles are compared with a relative tolerance; ``sort_arrays`` sorts array values (for
    collect_list/collect_set) before comparing. A nullability-only difference fails with
    its own message.
    """
    ours = ours_df if isinstance(ours_df, Materialized) else materialize(ours_df, sort_arrays)
    exp = oracle_df if isinstance(oracle_df, Materialized) else materialize(oracle_df, sort_arrays)

    assert ours.columns == exp.columns, (
        f"column names differ:\n  sparkless: {ours.columns}\n  spark:     {exp.columns}")
    ours_t, exp_t = _strip_nullability(ours.schema), _strip_nullability(exp.schema)
    if ours_t != exp_t:
        diffs = [f"  {a.name}: sparkless {a.dataType.simpleString()} vs spark "
                 f"{b.dataType.simpleString()}"
                 for a, b in zip(ours_t.fields, exp_t.fields, strict=True) if a != b]
        pytest.fail("column types differ:\n" + "\n".join(diffs)
                    + f"\nsparkless schema:\n{_schema_lines(ours.schema)}"
                    + f"\nspark schema:\n{_schema_lines(exp.schema)}")

    a_rows, b_rows = ours.rows, exp.rows
    if not ordered:
        a_rows = sorted(a_rows, key=_sort_key)
        b_rows = sorted(b_rows, key=_sort_key)
    same = len(a_rows) == len(b_rows) and all(
        _values_equal(x, y) for x, y in zip(a_rows, b_rows, strict=True))
    if not same:
        def rounded(rows):
            return Counter(repr(tuple(_sort_key(v) for v in r)) for r in rows)

        ca, cb = rounded(a_rows), rounded(b_rows)
        only_a = [r for r in a_rows if (ca - cb)[repr(tuple(_sort_key(v) for v in r))]]
        only_b = [r for r in b_rows if (cb - ca)[repr(tuple(_sort_key(v) for v in r))]]
        first_bad = next((i for i, (x, y) in enumerate(zip(a_rows, b_rows, strict=False))
                          if not _values_equal(x, y)), min(len(a_rows), len(b_rows)))
        msg = [f"rows differ ({'ordered' if ordered else 'order-insensitive'}): "
               f"sparkless {len(a_rows)} rows, spark {len(b_rows)} rows; "
               f"first difference at row {first_bad}"]
        if only_a or only_b:
            msg += ["  only in sparkless:", _fmt_rows(only_a), "  only in spark:", _fmt_rows(only_b)]
        else:
            msg += ["  same multiset of rows, different order (or float differences)"]
        msg += ["  sparkless rows:", _fmt_rows(a_rows), "  spark rows:", _fmt_rows(b_rows)]
        pytest.fail("\n".join(msg))

    ours_n, exp_n = _strip_nullability(ours.schema, True), _strip_nullability(exp.schema, True)
    if check_nullability and ours_n != exp_n:
        diffs = [f"  {a.name}: sparkless nullable={a.nullable} vs spark nullable={b.nullable}"
                 + ("" if a.nullable != b.nullable else
                    f" (nested: sparkless {a.dataType.json()} vs spark {b.dataType.json()})")
                 for a, b in zip(ours_n.fields, exp_n.fields, strict=True) if a != b]
        pytest.fail("NULLABILITY ONLY differs (names, types and rows match):\n"
                    + "\n".join(diffs))


def run_both(fn: Callable, spark, oracle) -> tuple[Any, Any]:
    """Run ``fn(session)`` on sparkless and on the oracle, each in its own mode."""
    with connect_mode():
        ours = fn(spark)
    with classic_mode():
        theirs = fn(oracle)
    return ours, theirs


def capture_stdout(fn: Callable[[], Any], df_or_session) -> str:
    buf = io.StringIO()
    with mode_for(df_or_session), contextlib.redirect_stdout(buf):
        fn()
    return buf.getvalue()


class Compare:
    """``compare(lambda s: ...)`` builds a DataFrame on both engines and asserts they agree."""

    def __init__(self, spark, oracle):
        self.spark = spark
        self.oracle = oracle

    def __call__(self, fn: Callable, ordered: bool = False, sort_arrays: bool = False,
                 check_nullability: bool = True) -> Materialized:
        ours_df, oracle_df = run_both(fn, self.spark, self.oracle)
        exp = materialize(oracle_df, sort_arrays)  # oracle first: its failure is a test bug
        ours = materialize(ours_df, sort_arrays)
        assert_same(ours, exp, ordered=ordered, sort_arrays=sort_arrays,
                    check_nullability=check_nullability)
        return ours

    def both(self, fn: Callable) -> tuple[Any, Any]:
        return run_both(fn, self.spark, self.oracle)

    def values(self, fn: Callable) -> tuple[Any, Any]:
        """``fn(session)`` returns plain Python values (count(), first(), ...)."""
        with classic_mode():
            theirs = fn(self.oracle)
        with connect_mode():
            ours = fn(self.spark)
        return ours, theirs

    def stdout(self, fn: Callable) -> tuple[str, str]:
        """Captured stdout of ``fn(session)`` on each engine (for show/printSchema)."""
        theirs = capture_stdout(lambda: fn(self.oracle), self.oracle)
        ours = capture_stdout(lambda: fn(self.spark), self.spark)
        return ours, theirs

    @contextlib.contextmanager
    def conf(self, items: dict[str, str]) -> Iterator[None]:
        """Set session confs on both engines for the block, restoring them afterwards."""
        with classic_mode():
            old_o = {k: self.oracle.conf.get(k, None) for k in items}
            for k, v in items.items():
                self.oracle.conf.set(k, v)
        with connect_mode():
            old_s = {k: self.spark.conf.get(k, None) for k in items}
            for k, v in items.items():
                self.spark.conf.set(k, v)
        try:
            yield
        finally:
            for sess, old, m in ((self.oracle, old_o, classic_mode), (self.spark, old_s,
                                                                       connect_mode)):
                with m():
                    for k, v in old.items():
                        if v is None:
                            sess.conf.unset(k)
                        else:
                            sess.conf.set(k, v)


@pytest.fixture
def compare(spark, oracle) -> Compare:
    return Compare(spark, oracle)


def wait_port_closed(port: int, timeout: float = 10.0) -> bool:  # used by lifecycle tests
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                pass
        except OSError:
            return True
        time.sleep(0.1)
    return False


__all__ = [
    "Compare", "Materialized", "ServerProcess", "assert_same", "capture_stdout", "classic_mode",
    "connect_builder", "connect_mode", "materialize", "run_both", "start_server",
    "wait_port_closed", "_free_port",
]
