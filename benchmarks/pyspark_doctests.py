"""PySpark's own doctests for the Spark Connect modules, run against a server (issue 6).

Each module's ``_test()`` builds a Connect session from ``SPARK_CONNECT_TESTING_REMOTE``
(default ``local[4]``), copies a module's ``__dict__`` as the globals, deletes a few
docstrings that need what the client lacks, and calls ``doctest.testmod``. This script
does the same per docstring instead, in a worker subprocess per module, so that one
failing docstring does not hide the rest and a hang cannot stall the run: the parent
kills a worker that is silent for ``--timeout`` seconds, records that docstring as a
timeout and starts a new worker that skips what is done.

The unit counted is one docstring (``DocTest``, e.g. ``pyspark.sql.dataframe.DataFrame.select``);
an example passes when all its ``>>>`` statements pass. Statement counts are kept too.

    python benchmarks/pyspark_doctests.py                     # sparkless and Apache Spark
    python benchmarks/pyspark_doctests.py --engine sparkless --modules window column
    python benchmarks/pyspark_doctests.py --remote sc://127.0.0.1:15002   # a running server

It prints passed / total per module, the sparkless pass rate relative to the examples
that pass on Apache Spark (``local[2]``, started from pyspark's bundled jars), failures
grouped by cause, and writes ``benchmarks/results/pyspark_doctests-<time>.json``.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import contextlib
import dataclasses
import datetime
import doctest
import importlib
import importlib.util
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
READY_RE = re.compile(r"listening on (sc://[\w.\-]+:\d+)")
EVENT = "@@doctest "  # prefix of the worker's protocol lines on stdout
STD_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE | doctest.IGNORE_EXCEPTION_DETAIL
TARGET_GOAL = 0.90
SERIAL = {"pyspark.sql.connect.catalog"}  # run alone and first: lists the shared catalog


# --------------------------------------------------------------------------- module specs


@dataclasses.dataclass(frozen=True)
class ModuleSpec:
    """How one Connect module's ``_test()`` runs its doctests (read from pyspark 4.3)."""

    name: str  # the module whose _test() we mirror
    target: str  # the module whose docstrings and globals testmod uses
    flags: int = STD_FLAGS
    drop_docs: Callable[[], list[str]] = lambda: []  # attributes whose __doc__ _test() deletes


def _have_pandas_arrow() -> tuple[bool, bool]:
    from pyspark.testing.utils import have_pandas, have_pyarrow

    return bool(have_pandas), bool(have_pyarrow)


def _builtin_drops() -> list[str]:
    pandas, arrow = _have_pandas_arrow()
    return [] if pandas and arrow else ["udf", "arrow_udtf"]


def _dataframe_drops() -> list[str]:
    from pyspark.util import is_remote_only

    pandas, arrow = _have_pandas_arrow()
    drops = [] if is_remote_only() else ["DataFrame.toJSON", "DataFrame.rdd"]
    if not pandas or not arrow:
        drops += ["DataFrame.toPandas", "DataFrame.mapInPandas", "DataFrame.pandas_api"]
    if not arrow:
        return drops + ["DataFrame.toArrow", "DataFrame.mapInArrow"]
    import pyarrow as pa
    from pyspark.loose_version import LooseVersion

    if LooseVersion(pa.__version__) < LooseVersion("21.0.0"):
        drops.append("DataFrame.mapInArrow")
    return drops


def _group_drops() -> list[str]:
    pandas, arrow = _have_pandas_arrow()
    return [] if pandas and arrow else ["GroupedData.agg"]


SPECS: dict[str, ModuleSpec] = {
    s.name: s
    for s in (
        ModuleSpec("pyspark.sql.connect.functions.builtin", "pyspark.sql.connect.functions.builtin",
                   drop_docs=_builtin_drops),
        ModuleSpec("pyspark.sql.connect.dataframe", "pyspark.sql.dataframe", drop_docs=_dataframe_drops),
        ModuleSpec("pyspark.sql.connect.column", "pyspark.sql.column"),
        ModuleSpec("pyspark.sql.connect.group", "pyspark.sql.connect.group",
                   flags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, drop_docs=_group_drops),
        ModuleSpec("pyspark.sql.connect.window", "pyspark.sql.window"),
        ModuleSpec("pyspark.sql.connect.readwriter", "pyspark.sql.connect.readwriter"),
        ModuleSpec("pyspark.sql.connect.catalog", "pyspark.sql.connect.catalog"),
    )
}


def spec_for(module: str) -> ModuleSpec:
    """A Connect module's spec, or any other importable module's own docstrings run with
    ``spark`` in their globals (how the runner's test feeds it examples it controls)."""
    return SPECS.get(module) or ModuleSpec(module, module)


def resolve_module(name: str) -> str:
    """Accept ``window`` or ``functions.builtin`` as well as a full module name."""
    hits = [m for m in SPECS if m == name or m.endswith("." + name)]
    if not hits and "." in name:
        with contextlib.suppress(ImportError):
            hits = [name] if importlib.util.find_spec(name) else []
    if len(hits) != 1:
        raise SystemExit(f"unknown module {name!r}; one of: {', '.join(SPECS)}")
    return hits[0]


# --------------------------------------------------------------------------- worker side


class RecordingRunner(doctest.DocTestRunner):
    """Keeps which statements failed and the first line of why, instead of printing."""

    def __init__(self, flags: int) -> None:
        super().__init__(verbose=False, optionflags=flags)
        self.recorded: list[tuple[int, str]] = []
        self._test: doctest.DocTest | None = None

    def run_one(self, test: doctest.DocTest) -> doctest.TestResults:
        self.recorded, self._test = [], test
        return self.run(test, out=lambda _s: None, clear_globs=True)

    def _index(self, example: doctest.Example) -> int:
        assert self._test is not None
        return next(i for i, e in enumerate(self._test.examples) if e is example)

    def report_failure(self, out: Any, test: doctest.DocTest, example: doctest.Example,
                       got: str) -> None:
        self.recorded.append((self._index(example), describe_mismatch(example, got)))

    def report_unexpected_exception(self, out: Any, test: doctest.DocTest,
                                    example: doctest.Example, exc_info: Any) -> None:
        self.recorded.append((self._index(example), describe_exception(exc_info[1])))


def first_line(text: str) -> str:
    return next((ln.strip() for ln in text.splitlines() if ln.strip()), "")


def describe_exception(exc: BaseException) -> str:
    """``Type: first line of the message`` -- the Connect error class is in that line."""
    return f"{type(exc).__name__}: {first_line(str(exc))}".rstrip(": ")


def _header(text: str) -> list[str] | None:
    """The column names of the first ``show()`` table in a doctest output, if any."""
    line = next((ln for ln in text.splitlines() if ln.strip().startswith("|")
                 and not ln.strip().startswith("|--")), None)
    return [c.strip() for c in line.strip().strip("|").split("|")] if line else None


def describe_mismatch(example: doctest.Example, got: str) -> str:
    """Why an example's output differed, in one line that clusters well: the kind of
    difference in parentheses, then the first differing column name or line."""
    if "Traceback (most recent call last)" in got:
        last = [ln for ln in got.splitlines() if ln and not ln.startswith(" ")][-1]
        return f"wrong exception: {last}"
    if example.exc_msg is not None:
        return "wrong output (no exception raised): expected " + first_line(example.exc_msg)[:80]
    want_head, got_head = _header(example.want), _header(got)
    if want_head and got_head and want_head != got_head:
        w, h = next(((a, b) for a, b in zip(want_head, got_head) if a != b),
                    (len(want_head), len(got_head)))
        return f"wrong output (column names): expected {w!r}, got {h!r}"
    kind = ("schema" if "|-- " in example.want else "rows" if "Row(" in example.want
            else "values")
    want, have = example.want.splitlines(), got.splitlines()
    for i in range(max(len(want), len(have))):
        w = want[i].strip() if i < len(want) else "<end>"
        h = have[i].strip() if i < len(have) else "<end>"
        if w != h:
            return f"wrong output ({kind}): expected {w[:80]!r}, got {h[:80]!r}"
    return f"wrong output ({kind}): whitespace or ellipsis mismatch"


def emit(stream: Any, **event: Any) -> None:
    stream.write(EVENT + json.dumps(event) + "\n")
    stream.flush()


def load_tests(spec: ModuleSpec, spark: Any) -> list[doctest.DocTest]:
    """The docstrings ``testmod`` would run, with the globals ``_test()`` builds."""
    target = importlib.import_module(spec.target)
    for attr in spec.drop_docs():
        obj: Any = target
        *owners, leaf = attr.split(".")
        for part in owners:
            obj = getattr(obj, part)
        with contextlib.suppress(AttributeError, TypeError):
            del getattr(obj, leaf).__doc__
    globs = target.__dict__.copy()
    globs["spark"] = spark
    tests = doctest.DocTestFinder().find(target, target.__name__, globs=globs)
    return sorted((t for t in tests if t.examples), key=lambda t: t.name)


def worker_main(module: str, remote: str, skip: set[str], only: list[str] | None) -> int:
    """Run one module's docstrings, one event line per docstring on the real stdout."""
    from pyspark.sql import SparkSession

    out = sys.stdout
    spec = spec_for(module)
    spark = SparkSession.builder.appName(f"{module} doctests").remote(remote).getOrCreate()
    tests = load_tests(spec, spark)
    if only:
        tests = [t for t in tests if any(pat in t.name for pat in only)]
    emit(out, event="list", names=[t.name for t in tests],
         statements={t.name: len(t.examples) for t in tests})
    runner = RecordingRunner(spec.flags)
    for test in tests:
        if test.name in skip:
            continue
        emit(out, event="start", name=test.name)
        t0 = time.monotonic()
        runner.run_one(test)
        emit(out, event="done", name=test.name, statements=len(test.examples),
             failed=[i for i, _ in runner.recorded],
             error=runner.recorded[0][1] if runner.recorded else None,
             source=first_line(test.examples[runner.recorded[0][0]].source) if runner.recorded else None,
             seconds=round(time.monotonic() - t0, 3))
    with contextlib.suppress(Exception):
        spark.stop()
    return 0


# --------------------------------------------------------------------------- parent side


@dataclasses.dataclass
class Outcome:
    module: str
    name: str
    passed: bool
    statements: int
    failed_statements: list[int]
    error: str | None = None
    source: str | None = None
    seconds: float = 0.0


def _reader(stream: Any, q: queue.Queue[dict[str, Any] | None]) -> None:
    for line in stream:
        if line.startswith(EVENT):
            with contextlib.suppress(ValueError):
                q.put(json.loads(line[len(EVENT):]))
    q.put(None)


def _spawn(module: str, remote: str, skip: set[str], only: list[str] | None, log: Path,
           env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    skip_file = log.with_suffix(".skip.json")
    skip_file.write_text(json.dumps(sorted(skip)))
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", module, "--remote", remote,
           "--skip-file", str(skip_file)] + (["--only", *only] if only else [])
    with open(log, "a") as err:
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True, env=env,
                                cwd=cwd, start_new_session=True)


def _kill(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _last_log_line(log: Path) -> str:
    lines = [ln for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    return lines[-1].strip()[:200] if lines else "no output"


@dataclasses.dataclass
class ModuleRun:
    """The parent's bookkeeping for one module across worker restarts."""

    module: str
    names: list[str] | None = None
    statements: dict[str, int] = dataclasses.field(default_factory=dict)
    outcomes: dict[str, Outcome] = dataclasses.field(default_factory=dict)

    def record(self, name: str, error: str, seconds: float = 0.0) -> None:
        n = self.statements.get(name, 0)
        self.outcomes[name] = Outcome(self.module, name, False, n, [], error, None, seconds)

    def remaining(self) -> list[str]:
        return [n for n in (self.names or []) if n not in self.outcomes]


def _drive_worker(run: ModuleRun, proc: subprocess.Popen[str], timeout: float,
                  startup: float, deadline: float, log: Path) -> bool:
    """Consume one worker's events; True when it must be restarted (hang or crash)."""
    q: queue.Queue[dict[str, Any] | None] = queue.Queue()
    threading.Thread(target=_reader, args=(proc.stdout, q), daemon=True).start()
    current, started = None, time.monotonic()
    while True:
        limit = timeout if current else startup
        wait = min(limit - (time.monotonic() - started), deadline - time.monotonic())
        try:
            ev = q.get(timeout=max(wait, 0.01))
        except queue.Empty:
            _kill(proc)
            if current and time.monotonic() < deadline:
                run.record(current, f"Timeout: no result after {timeout:.0f}s", timeout)
                return True
            return False
        if ev is None:  # worker exited
            proc.wait()
            if current:
                run.record(current, f"WorkerCrash: {_last_log_line(log)}")
            return current is not None
        if ev["event"] == "list" and run.names is None:
            run.names, run.statements = ev["names"], ev["statements"]
        elif ev["event"] == "start":
            current, started = ev["name"], time.monotonic()
        elif ev["event"] == "done":
            run.outcomes[ev["name"]] = Outcome(
                run.module, ev["name"], not ev["failed"], ev["statements"], ev["failed"],
                ev["error"], ev["source"], ev["seconds"])
            current, started = None, time.monotonic()


def run_module(module: str, remote: str, *, timeout: float, budget: float, log_dir: Path,
               env: dict[str, str], only: list[str] | None = None) -> list[Outcome]:
    """All docstrings of one module, restarting the worker after a hang or a crash."""
    run = ModuleRun(module)
    log = log_dir / f"{module}.log"
    deadline = time.monotonic() + budget
    for _attempt in range(50):
        proc = _spawn(module, remote, set(run.outcomes), only, log, env, log_dir)
        again = _drive_worker(run, proc, timeout, 180.0, deadline, log)
        if not again or not run.remaining():
            break
    if run.names is None:  # the session could not even be made
        return [Outcome(module, f"{module}:<setup>", False, 0, [], f"Setup: {_last_log_line(log)}")]
    why = "NotRun: module time budget exhausted" if time.monotonic() >= deadline else (
        f"NotRun: worker stopped early ({_last_log_line(log)})")
    for name in run.remaining():
        run.record(name, why)
    return [run.outcomes[n] for n in run.names]


def run_all(remote: str, modules: list[str], *, timeout: float, budget: float, jobs: int,
            env: dict[str, str], log_dir: Path, only: list[str] | None = None,
            ) -> dict[str, list[Outcome]]:
    """Every module against one endpoint, ``jobs`` modules at a time; the catalog module
    alone and first, since its listings would see the tables other modules leave behind
    (``DataFrame.writeStream`` keeps ``my_table``)."""
    log_dir.mkdir(parents=True, exist_ok=True)

    def one(m: str) -> list[Outcome]:
        t0 = time.monotonic()
        outs = run_module(m, remote, timeout=timeout, budget=budget, log_dir=log_dir, env=env,
                          only=only)
        c = module_counts(outs)
        print(f"  {m}: {c['passed']} / {c['total']} in {time.monotonic() - t0:.0f} s", flush=True)
        return outs

    done = {m: one(m) for m in modules if m in SERIAL}
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futs = {m: pool.submit(one, m) for m in modules if m not in SERIAL}
        done.update({m: f.result() for m, f in futs.items()})
    return {m: done[m] for m in modules}


# --------------------------------------------------------------------------- servers


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spark_home() -> str:
    import pyspark

    return os.path.dirname(pyspark.__file__)


def server_command(engine: str, confs: list[str]) -> tuple[list[str], str | None]:
    """sparkless's own server (its URL comes on stdout), or Apache Spark's Connect server
    from pyspark's bundled jars (``spark-submit``, offline) on a port picked here."""
    if engine == "sparkless":
        cmd = [sys.executable, "-m", "sparkless", "server", "--host", "127.0.0.1", "--port", "0"]
        return cmd + [a for kv in confs for a in ("--conf", kv)], None
    port = _free_port()
    cmd = [os.path.join(spark_home(), "bin", "spark-submit"), "--master", "local[2]",
           "--class", "org.apache.spark.sql.connect.service.SparkConnectServer",
           "--conf", f"spark.connect.grpc.binding.port={port}",
           "--conf", "spark.connect.grpc.binding.address=127.0.0.1",
           "--conf", "spark.ui.enabled=false",
           # on in Spark's own test runs (Utils.isTesting); the TIME doctests need it
           "--conf", "spark.sql.timeType.enabled=true"]
    cmd += [a for kv in confs for a in ("--conf", kv)] + ["spark-internal"]
    return cmd, f"sc://127.0.0.1:{port}"


def _wait_for_port(url: str, proc: subprocess.Popen[str], deadline: float) -> None:
    host, port = url.removeprefix("sc://").rsplit(":", 1)
    while time.monotonic() < deadline and proc.poll() is None:
        with contextlib.suppress(OSError), socket.create_connection((host, int(port)), 1):
            return
        time.sleep(0.3)
    raise RuntimeError(f"server at {url} did not come up")


@contextlib.contextmanager
def server(engine: str, confs: list[str], env: dict[str, str], workdir: Path,
           ready_timeout: float = 180.0) -> Iterator[str]:
    """Start a server in its own working directory (warehouse, metastore) and yield its URL."""
    workdir.mkdir(parents=True, exist_ok=True)
    cmd, url = server_command(engine, confs)
    # PYSPARK_PYTHON: Spark's Python workers (UDFs, mapInPandas) need this venv's packages
    env = dict(env, SPARK_HOME=spark_home(), SPARK_CONNECT_MODE="0", PYSPARK_PYTHON=sys.executable)
    env.pop("SPARK_REMOTE", None)
    with open(workdir / "server.log", "w") as log:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE if engine == "sparkless" else log,
                                stderr=log, text=True, env=env, cwd=workdir,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + ready_timeout
        if url is None:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            m = READY_RE.search(line)
            if not m:
                raise RuntimeError(f"sparkless server did not start: {line!r}")
            url = m.group(1)
            threading.Thread(target=proc.stdout.read, daemon=True).start()  # drain
        _wait_for_port(url, proc, deadline)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            _kill(proc)


# --------------------------------------------------------------------------- reporting


def module_counts(outcomes: list[Outcome]) -> dict[str, int]:
    return {
        "passed": sum(o.passed for o in outcomes),
        "total": len(outcomes),
        "statements_passed": sum(o.statements - len(o.failed_statements) for o in outcomes
                                 if o.error is None or o.failed_statements),
        "statements": sum(o.statements for o in outcomes),
    }


def print_engine(engine: str, results: dict[str, list[Outcome]]) -> None:
    print(f"\n{engine}: examples (docstrings) passed / total, and >>> statements")
    tp = tt = 0
    for module, outs in results.items():
        c = module_counts(outs)
        tp, tt = tp + c["passed"], tt + c["total"]
        print(f"  {module:42s} {c['passed']:4d} / {c['total']:<4d}"
              f"   statements {c['statements_passed']:5d} / {c['statements']}")
    print(f"  {'total':42s} {tp:4d} / {tt:<4d}")


def relative(base: list[Outcome], test: list[Outcome]) -> dict[str, Any]:
    """The issue's metric: of the examples that pass on Spark, how many pass on sparkless."""
    ok = {o.name for o in base if o.passed}
    ours = {o.name for o in test if o.passed}
    both = len(ok & ours)
    return {"spark_passed": len(ok), "sparkless_passed": len(ours), "both": both,
            "ratio": both / len(ok) if ok else 1.0, "total": len(base)}


def cause_of(error: str) -> tuple[str, str]:
    """(group, detail): the error class or exception kind, and a normalised message."""
    if error.startswith(("wrong output", "wrong exception")):
        group, _, detail = error.partition(": ")
        return group, detail
    kind, _, msg = error.partition(": ")
    m = re.match(r"\[([A-Z0-9_.]+)\]\s*(.*)", msg)
    if m:
        return f"{kind} [{m.group(1)}]", m.group(2)[:120]
    inner = re.match(r"(\w+(Exception|Error)): (.*)", msg)  # e.g. SparkException: BinderException: ...
    if inner:
        return f"{kind}: {inner.group(1)}", inner.group(3)[:120]
    return kind, msg[:120]


def group_causes(failures: list[Outcome]) -> list[tuple[str, list[Outcome], collections.Counter[str]]]:
    """Failures clustered by cause, biggest first, each with its distinct messages counted."""
    groups: dict[str, list[Outcome]] = collections.defaultdict(list)
    details: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for o in failures:
        g, d = cause_of(o.error or "unknown")
        groups[g].append(o)
        details[g][d] += 1
    order = sorted(groups, key=lambda g: -len(groups[g]))
    return [(g, groups[g], details[g]) for g in order]


def print_comparison(spark: dict[str, list[Outcome]], ours: dict[str, list[Outcome]]) -> list[Outcome]:
    """Per-module relative pass rate; returns sparkless failures among Spark's passes."""
    print(f"\nsparkless vs Apache Spark local[2] (goal >= {TARGET_GOAL:.0%} of Spark's passes)")
    print(f"  {'module':42s} {'spark':>6s} {'sparkless':>9s} {'of spark':>8s} {'ratio':>6s}")
    worklist: list[Outcome] = []
    for module in spark:
        r = relative(spark[module], ours.get(module, []))
        ok = {o.name for o in spark[module] if o.passed}
        worklist += [o for o in ours.get(module, []) if o.name in ok and not o.passed]
        flag = "" if r["ratio"] >= TARGET_GOAL else "  <"
        print(f"  {module:42s} {r['spark_passed']:6d} {r['sparkless_passed']:9d} {r['both']:8d}"
              f" {r['ratio']:6.1%}{flag}")
    return worklist


def print_causes(failures: list[Outcome], title: str, top: int = 25) -> None:
    print(f"\n{title}: {len(failures)} examples")
    for group, outs, details in group_causes(failures)[:top]:
        print(f"  {len(outs):4d}  {group}")
        for detail, n in details.most_common(3):
            print(f"          {n:3d}  {detail[:110]}")
        if len(details) > 3:
            print(f"               ({len(details)} distinct messages)")
        print(f"          e.g. {', '.join(o.name.rsplit('.', 1)[-1] for o in outs[:6])}")


def markdown_table(spark: dict[str, list[Outcome]], ours: dict[str, list[Outcome]]) -> str:
    """The README's table: per module, Spark's passes, ours, and the issue's ratio."""
    rows = ["| module | examples | Apache Spark passes | sparkless passes | of Spark's passes |",
            "| --- | ---: | ---: | ---: | ---: |"]
    tot = collections.Counter[str]()
    for module in spark:
        r = relative(spark[module], ours.get(module, []))
        tot.update({k: r[k] for k in ("total", "spark_passed", "sparkless_passed", "both")})
        rows.append(f"| `{module.removeprefix('pyspark.sql.connect.')}` | {r['total']} | "
                    f"{r['spark_passed']} | {r['sparkless_passed']} | "
                    f"{r['both']} ({r['ratio']:.0%}) |")
    ratio = tot["both"] / tot["spark_passed"] if tot["spark_passed"] else 1.0
    rows.append(f"| total | {tot['total']} | {tot['spark_passed']} | {tot['sparkless_passed']} | "
                f"{tot['both']} ({ratio:.0%}) |")
    return "\n".join(rows)


def write_json(path: Path, meta: dict[str, Any], results: dict[str, dict[str, list[Outcome]]]) -> None:
    doc: dict[str, Any] = {**meta, "engines": {}}
    for engine, mods in results.items():
        doc["engines"][engine] = {
            "modules": {m: module_counts(o) for m, o in mods.items()},
            "outcomes": [dataclasses.asdict(o) for outs in mods.values() for o in outs],
        }
    if "spark" in results and "sparkless" in results:
        doc["relative"] = {m: relative(results["spark"][m], results["sparkless"].get(m, []))
                           for m in results["spark"]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1))


# --------------------------------------------------------------------------- CLI


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--engine", choices=["sparkless", "spark", "both"], default="both")
    ap.add_argument("--remote", help="run against this running server instead (one engine)")
    ap.add_argument("--modules", nargs="*", default=list(SPECS))
    ap.add_argument("--only", nargs="*", help="only docstrings whose name contains one of these")
    ap.add_argument("--timeout", type=float, default=90.0, help="seconds per example")
    ap.add_argument("--module-budget", type=float, default=900.0, help="seconds per module")
    ap.add_argument("--jobs", type=int, default=2, help="modules run at once")
    ap.add_argument("--tz", default="America/Los_Angeles", help="TZ of servers and clients")
    ap.add_argument("--conf", action="append", default=[], help="server conf key=value")
    ap.add_argument("--out", type=Path, help="JSON path (default benchmarks/results/...)")
    ap.add_argument("--logs", type=Path, help="worker and server logs (default a temp dir)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--skip-file", type=Path, help=argparse.SUPPRESS)
    return ap.parse_args(argv)


def run_engine(engine: str, args: argparse.Namespace, modules: list[str], env: dict[str, str],
               work: Path) -> dict[str, list[Outcome]]:
    t0 = time.monotonic()
    kw = dict(timeout=args.timeout, budget=args.module_budget, jobs=args.jobs, env=env,
              log_dir=work / engine / "logs", only=args.only)
    if args.remote:
        results = run_all(args.remote, modules, **kw)  # type: ignore[arg-type]
    else:
        with server(engine, args.conf, env, work / engine) as url:
            print(f"{engine}: server at {url}", flush=True)
            results = run_all(url, modules, **kw)  # type: ignore[arg-type]
    print(f"{engine}: {time.monotonic() - t0:.0f} s", flush=True)
    print_engine(engine, results)
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        skip = set(json.loads(args.skip_file.read_text())) if args.skip_file else set()
        return worker_main(args.worker, args.remote, skip, args.only)
    modules = [resolve_module(m) for m in args.modules]
    engines = ["sparkless", "spark"] if args.engine == "both" else [args.engine]
    if args.remote and len(engines) > 1:
        raise SystemExit("--remote runs one engine: say --engine sparkless or --engine spark")
    env = dict(os.environ, TZ=args.tz, PYARROW_IGNORE_TIMEZONE="1")
    started = datetime.datetime.now(datetime.UTC)
    t0 = time.monotonic()
    work = args.logs or Path(tempfile.mkdtemp(prefix="pyspark-doctests-"))
    results = {e: run_engine(e, args, modules, env, work) for e in engines}
    if "spark" in results and "sparkless" in results:
        worklist = print_comparison(results["spark"], results["sparkless"])
        print_causes(worklist, "sparkless failures among Spark's passes, by cause")
        print("\n" + markdown_table(results["spark"], results["sparkless"]))
    else:
        (only_engine,) = results.values()
        print_causes([o for outs in only_engine.values() for o in outs if not o.passed],
                     "failures by cause")
    out = args.out or RESULTS / f"pyspark_doctests-{started:%Y%m%d-%H%M%S}.json"
    meta = {"date": started.isoformat(timespec="seconds"), "seconds": round(time.monotonic() - t0),
            "pyspark": _pyspark_version(), "tz": args.tz, "timeout": args.timeout,
            "logs": str(work)}
    write_json(out, meta, results)
    print(f"\nwrote {out} in {meta['seconds']} s (worker and server logs in {work})")
    return 0


def _pyspark_version() -> str:
    import pyspark

    return pyspark.__version__


if __name__ == "__main__":
    sys.exit(main())
