"""Run ``job.py`` unchanged on each engine and collect what that engine can tell us.

sparkless: an embedded server (as ``sparkless submit`` starts one), the script pointed at
it with SPARK_REMOTE; listener events give per-stage times, task bytes and the job's
store metrics, and ``sparkless.cost.CostListener`` the GB-s and dollar estimate.
Apache Spark: the same script in classic ``local[2]`` (``PYSPARK_SUBMIT_ARGS``); only its
total time is visible from outside. DuckDB: the same sort as one statement in-process
(``duckdb_job.py``), the single-node reference. Any endpoint: the script with
SPARK_REMOTE=sc://...
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

JOB = str(Path(__file__).with_name("job.py"))
DUCKDB_JOB = str(Path(__file__).with_name("duckdb_job.py"))
_STAGE = re.compile(r"^(ShuffleMapStage|ResultStage) (\d+)(?: \((.*)\))?")


@dataclass
class StageStat:
    stage_id: int
    name: str
    tasks: int = 0
    seconds: float = 0.0  # wall time of the stage
    task_seconds: list[float] = field(default_factory=list)
    input_bytes: int = 0
    output_bytes: int = 0
    max_task_input_bytes: int = 0  # the largest partition a task of this stage read
    cpu_seconds: float = 0.0  # summed over tasks: CPU the functions used (wall - waiting)
    read_seconds: float = 0.0  # summed over tasks: inputs fetched and decoded
    compute_write_seconds: float = 0.0  # summed: DuckDB fragment + partition/encode + put
    query_seconds: float = 0.0  # summed, map stages: of which DuckDB ran the fragment
    shuffle_write_seconds: float = 0.0  # summed, map stages: group by partition, IPC, put
    memory_limit_bytes: int = 0  # DuckDB's limit in the functions (executors.memory)
    streamed_tasks: int = 0  # tasks that streamed a shuffle input larger than its share
    spill_peak_bytes: int = 0  # the most any task had spilled to disk at once

    @property
    def phase(self) -> str:
        """Which part of a sort this stage is, from its name (the planner's description)."""
        m = _STAGE.match(self.name)
        kind, desc = (m.group(1), (m.group(3) or "")) if m else ("", self.name)
        if kind == "ResultStage":
            return "reduce/merge + write"
        if desc.lower().startswith("rangesample"):
            return "sample"
        return f"map/shuffle write ({desc})" if desc else "map/shuffle write"


@dataclass
class EngineRun:
    engine: str
    status: str  # "ok" | "FAILED"
    wall_seconds: float  # process start to exit (interpreter, session, job)
    job_seconds: float | None  # the action alone, as the script measured it
    stages: list[StageStat] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    cost: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    load_average: tuple[float, float] = (0.0, 0.0)  # 1-min load before / after the run
    host_memory: dict[str, float | None] = field(default_factory=dict)  # see ``host.during``


class Recorder:
    """Listener: stage names, times and task bytes per stage; the JobEnd metrics."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.stages: dict[tuple[str, int], StageStat] = {}
        self.metrics: dict[str, Any] = {}

    def __call__(self, event: Any) -> None:
        kind = type(event).__name__
        with self._lock:
            if kind == "StageSubmitted":
                self.stages[(event.job_id, event.stage_id)] = StageStat(event.stage_id, event.name)
            elif kind == "TaskEnd" and event.ok:
                st = self.stages.setdefault(
                    (event.job_id, event.stage_id), StageStat(event.stage_id, "?")
                )
                st.task_seconds.append(event.seconds)
                st.input_bytes += event.input_bytes
                st.output_bytes += event.output_bytes
                m = getattr(event, "metrics", None) or {}
                st.max_task_input_bytes = max(st.max_task_input_bytes, event.input_bytes)
                st.cpu_seconds += float(m.get("cpu_seconds", 0.0))
                st.read_seconds += float(m.get("read_seconds", 0.0))
                st.compute_write_seconds += float(m.get("compute_write_seconds", 0.0))
                st.query_seconds += float(m.get("query_seconds", 0.0))
                st.shuffle_write_seconds += float(m.get("shuffle_write_seconds", 0.0))
                st.memory_limit_bytes = max(st.memory_limit_bytes, int(m.get("memory_limit_bytes", 0)))
                st.streamed_tasks += int(bool(m.get("streamed_inputs")))
                st.spill_peak_bytes = max(st.spill_peak_bytes, int(m.get("spill_peak_bytes", 0)))
            elif kind == "StageCompleted":
                st = self.stages.get((event.job_id, event.stage_id))
                if st is not None:
                    st.tasks, st.seconds = event.num_tasks, event.seconds
            elif kind == "JobEnd":
                for k, v in (event.metrics or {}).items():
                    if isinstance(v, int | float):
                        self.metrics[k] = self.metrics.get(k, 0) + v


def _job_seconds(stdout: str) -> float | None:
    for line in reversed(stdout.splitlines()):
        if line.startswith("SORTJOB "):
            return float(json.loads(line[len("SORTJOB ") :])["seconds"])
    return None


def _run_script(
    data: str, out: str, env: dict[str, str], timeout: float, script: str = JOB
) -> tuple:
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, script, data, out], env=env, capture_output=True, text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return time.perf_counter() - started, None, f"timed out after {timeout:.0f} s"
    wall = time.perf_counter() - started
    err = "" if proc.returncode == 0 else (proc.stderr or proc.stdout)[-2000:]
    return wall, _job_seconds(proc.stdout), err


def _clean_env() -> dict[str, str]:
    env = dict(os.environ)
    for k in ("SPARK_REMOTE", "SPARK_CONNECT_MODE_ENABLED", "PYSPARK_SUBMIT_ARGS"):
        env.pop(k, None)
    return env


def run_sparkless(
    data: str, out: str, store: str | None, conf: dict[str, str] | None = None,
    timeout: float = 3600,
) -> EngineRun:
    """The job against an embedded sparkless server; stages and cost from its listeners."""
    from sparkless.connect.server import SparkConnectServer
    from sparkless.cost import CostListener
    from tpcds.sort.probe import measure_store

    conf = dict(conf or {})
    scratch = None
    if not store:
        scratch = tempfile.mkdtemp(prefix="sortbench-store-")
        store = "file://" + scratch
    server = SparkConnectServer(port=0, conf=conf, store=store)
    recorder = Recorder()
    cost = CostListener(conf, getattr(server.engine, "platform", None), store_uri=store)
    server.listeners.add(recorder)
    server.listeners.add(cost)
    port = server.start()
    # A benchmark measures a service that is up: its warm pool has started (0.6 s after
    # the server here), as a Spark cluster's executors have registered before its job.
    # Without the wait the client (0.5 s to import pyspark and connect) met a pool still
    # warming and the first stage's tasks waited ~0.2 s for their sandboxes.
    server.engine.prewarm(timeout=60)
    try:
        env = _clean_env() | {"SPARK_REMOTE": f"sc://127.0.0.1:{port}"}
        wall, job_s, err = _run_script(data, out, env, timeout)
        store_probe = {} if err else measure_store(store)
    finally:
        server.stop(grace=2.0)
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    total = cost.total()
    cost_d: dict[str, Any] = {}
    if total is not None:
        m = total.metrics
        cost_d = {
            "dollars": total.total,
            "lines": total.lines,
            "gb_seconds": m.total_gb_seconds,
            "memory_mb": m.memory_mb,
            "invocations": m.invocations,
            "cold_starts": m.cold_starts,
            "store_puts": m.store_puts,
            "store_gets": m.store_gets,
            "store_requests_estimated": m.store_requests_estimated,
        }
    stages = sorted(recorder.stages.values(), key=lambda s: s.stage_id)
    return EngineRun(
        "sparkless", "FAILED" if err else "ok", wall, job_s, stages,
        dict(recorder.metrics) | {"store": store, "store_probe": store_probe}, cost_d, err,
    )


def spark_memory(data_bytes: int) -> str:
    """Driver heap for local[2]: the whole engine lives in the driver, so give it room to
    hold a good share of the data plus sort buffers, but leave half of RAM to the OS and
    page cache (what a benchmarker would pick by hand)."""
    total_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    want = max(2.0, min(total_gb / 2, 2 + 2 * data_bytes / 2**30))
    return f"{int(want)}g"


def run_spark(data: str, out: str, memory: str, timeout: float = 3600) -> EngineRun:
    """The job in Apache Spark classic local[2]: total time only."""
    env = _clean_env() | {
        "PYSPARK_SUBMIT_ARGS": f"--master local[2] --driver-memory {memory} pyspark-shell"
    }
    wall, job_s, err = _run_script(data, out, env, timeout)
    return EngineRun(
        "spark local[2]", "FAILED" if err else "ok", wall, job_s,
        metrics={"driver_memory": memory}, error=err,
    )


def run_duckdb(data: str, out: str, timeout: float = 3600) -> EngineRun:
    """The sort as one DuckDB statement in a fresh interpreter: total time only."""
    wall, job_s, err = _run_script(data, out, _clean_env(), timeout, DUCKDB_JOB)
    return EngineRun("duckdb", "FAILED" if err else "ok", wall, job_s, error=err)


def run_endpoint(data: str, out: str, endpoint: str, timeout: float = 3600) -> EngineRun:
    """The job against any Spark Connect endpoint (sc://host:port)."""
    env = _clean_env() | {"SPARK_REMOTE": endpoint}
    wall, job_s, err = _run_script(data, out, env, timeout)
    return EngineRun(endpoint, "FAILED" if err else "ok", wall, job_s, error=err)
