"""The local function platform: warm reused workers, failures as FunctionFailed, no leaks.

Test handlers live in this module; the zygote imports it by name (the platform passes the
driver's ``sys.path`` on), just as it imports ``executors.handler`` in production.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from executors import allocator
from executors.local.platform import FunctionFailed, LocalPlatform
from executors.platforms import open_platform

HANDLER = f"{__name__}:test_handler"
WAIT_S = 30.0  # upper bound for polling; never a performance threshold


def test_handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Echo handler; ``exit`` ends the process, ``sleep`` blocks (to be killed or timed out)."""
    if "exit" in event:
        os._exit(event["exit"])
    if "sleep" in event:
        time.sleep(event["sleep"])
    env = os.environ.get(event["env"]) if "env" in event else None
    return {"status": "ok", "output": {"pid": os.getpid(), "echo": event.get("echo"), "env": env}}


test_handler.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def eventually(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for: {what}")
        time.sleep(0.01)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def task(**fields: Any) -> dict[str, Any]:
    return {"job_id": "j-local", "stage_id": 0, "partition": 0, "attempt": 0, **fields}


def test_real_handler_runs_in_another_process_and_worker_is_reused(tmp_path):
    event = {
        **task(),
        "store": f"file://{tmp_path}/store",
        "sql": "SELECT 41 + 1 AS answer",
        "inputs": [],
        "output": {"kind": "result"},
        "conf": {},
    }
    with LocalPlatform(max_workers=1) as platform:
        first = platform.invoke(event).result(WAIT_S)
        second = platform.invoke({**event, "attempt": 1}).result(WAIT_S)
        stats = platform.stats()
    assert first["status"] == "ok" and second["status"] == "ok"
    assert first["output"]["rows"] == 1
    pid = first["metrics"]["worker"]["pid"]
    assert pid != os.getpid()
    assert second["metrics"]["worker"] == {"pid": pid, "task_number": 2}
    assert stats["cold_starts"] == 1 and stats["reuses"] == 1 and stats["workers_started"] == 1
    assert stats["zygote_pid"] not in (None, os.getpid(), pid)


def test_workers_start_with_the_allocator_settings(monkeypatch):
    """DuckDB's jemalloc and Arrow's mimalloc read their settings once, when they load: they
    must be in the environment the zygote (and so every worker forked from it) starts with."""
    monkeypatch.delenv(allocator.DUCKDB_MALLOC_CONF_VAR, raising=False)
    monkeypatch.delenv(allocator.MIMALLOC_PURGE_DELAY_VAR, raising=False)
    with LocalPlatform(max_workers=1, handler=HANDLER) as platform:
        duckdb_conf = platform.invoke(task(env=allocator.DUCKDB_MALLOC_CONF_VAR)).result(WAIT_S)
        purge_delay = platform.invoke(task(env=allocator.MIMALLOC_PURGE_DELAY_VAR)).result(WAIT_S)
    assert duckdb_conf["output"]["env"] == allocator.DUCKDB_MALLOC_CONF
    assert purge_delay["output"]["env"] == str(allocator.RETAIN_MS)


def test_task_that_exits_fails_and_pool_keeps_serving():
    with LocalPlatform(max_workers=1, handler=HANDLER) as platform:
        before = platform.invoke(task(echo=1)).result(WAIT_S)["output"]["pid"]
        with pytest.raises(FunctionFailed, match="exited with code 7"):
            platform.invoke(task(exit=7)).result(WAIT_S)
        after = platform.invoke(task(echo=2)).result(WAIT_S)["output"]
        stats = platform.stats()
    assert after["echo"] == 2 and after["pid"] != before
    assert stats["deaths"] == 1


def test_worker_killed_mid_task_fails_with_signal():
    with LocalPlatform(max_workers=1, handler=HANDLER) as platform:
        future = platform.invoke(task(sleep=60))
        eventually(lambda: platform.stats()["busy"] == 1, "the task to start")
        (pid,) = platform.stats()["worker_pids"]
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(FunctionFailed, match="killed by signal SIGKILL"):
            future.result(WAIT_S)
        assert platform.invoke(task(echo="still here")).result(WAIT_S)["output"]["echo"] == (
            "still here"
        )


def test_timeout_kills_the_worker():
    with LocalPlatform(max_workers=1, task_timeout_s=0.3, handler=HANDLER) as platform:
        future = platform.invoke(task(sleep=60))
        eventually(lambda: platform.stats()["busy"] == 1, "the task to start")
        (pid,) = platform.stats()["worker_pids"]
        with pytest.raises(FunctionFailed, match="timed out"):
            future.result(WAIT_S)
        eventually(lambda: not alive(pid), "the timed-out worker to be killed")
        assert platform.invoke(task(echo=3)).result(WAIT_S)["output"]["echo"] == 3
        assert platform.stats()["timeouts"] == 1


def test_idle_workers_are_reaped():
    with LocalPlatform(max_workers=2, idle_ttl_s=0.2, handler=HANDLER) as platform:
        pid = platform.invoke(task()).result(WAIT_S)["output"]["pid"]
        eventually(lambda: platform.stats()["live"] == 0, "the idle worker to be reaped")
        eventually(lambda: not alive(pid), "the reaped worker to exit")
        assert platform.stats()["reaped"] == 1
        again = platform.invoke(task()).result(WAIT_S)["output"]["pid"]  # scales back up
        assert again != pid


def test_min_idle_workers_are_kept_and_prewarmed():
    with LocalPlatform(max_workers=2, idle_ttl_s=0.05, min_idle=1, handler=HANDLER) as platform:
        eventually(lambda: platform.stats()["idle"] == 1, "the min_idle worker")
        platform.invoke(task()).result(WAIT_S)
        time.sleep(0.2)  # several TTLs: the one idle worker must survive them
        stats = platform.stats()
        assert stats["live"] >= 1 and stats["prewarmed_starts"] == 1 and stats["cold_starts"] == 0


def test_prewarm_then_concurrent_invokes_from_many_threads():
    results: list[dict[str, Any]] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        futures = [platform.invoke(task(partition=n, echo=(n, i))) for i in range(25)]
        got = [f.result(WAIT_S) for f in futures]
        with lock:
            results.extend(got)

    with LocalPlatform(max_workers=2, handler=HANDLER) as platform:
        assert platform.prewarm(2) == 2
        threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stats = platform.stats()
    assert sorted(tuple(r["output"]["echo"]) for r in results) == [
        (n, i) for n in range(4) for i in range(25)
    ]
    assert {r["output"]["pid"] for r in results} <= set(stats["worker_pids"])
    assert stats["workers_started"] == 2 and stats["cold_starts"] == 0


def test_no_processes_left_after_shutdown_and_pending_tasks_fail():
    platform = LocalPlatform(max_workers=2, handler=HANDLER)
    running = [platform.invoke(task(sleep=60)) for _ in range(2)]
    queued = platform.invoke(task(echo="never"))
    eventually(lambda: platform.stats()["busy"] == 2, "both workers to be busy")
    stats = platform.stats()
    pids = [stats["zygote_pid"], *stats["worker_pids"]]
    assert len(pids) == 3
    platform.shutdown()
    for future in [*running, queued]:
        with pytest.raises(FunctionFailed, match="shut down"):
            future.result(WAIT_S)
    assert [pid for pid in pids if alive(pid)] == []
    with pytest.raises(RuntimeError):
        platform.invoke(task())


def test_open_platform_reads_spark_conf():
    conf = {
        "spark.sparkless.platform": "local",
        "spark.sparkless.maxConcurrency": "3",
        "spark.sparkless.warmPool.idleTimeout": "2min",
        "spark.sparkless.warmPool.minIdle": "0",
    }
    platform = open_platform(None, conf)
    try:
        assert isinstance(platform, LocalPlatform)
        assert (platform.max_workers, platform.idle_ttl_s, platform.min_idle) == (3, 120.0, 0)
    finally:
        platform.shutdown()
    with pytest.raises(ValueError, match="unknown spark.sparkless.platform"):
        open_platform("nowhere", {})
