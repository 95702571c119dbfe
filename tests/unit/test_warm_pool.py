"""Warm pool: the policy as pure functions, the mechanism through LocalPlatform's stats.

No timing thresholds: the tests wait (bounded) for states, never assert on durations.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from executors.local.platform import LocalPlatform
from sparkless.scheduler import listener as ev
from sparkless.scheduler.backend import FaasSchedulerBackend, PlatformProfile
from sparkless.scheduler.warm_pool import JobDemand, WarmPoolManager, pool_target

HANDLER = f"{__name__}:echo"
WAIT_S = 30.0


def echo(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return {"status": "ok", "output": {"echo": event.get("echo")}}


def eventually(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for: {what}")
        time.sleep(0.01)


def task(**fields: Any) -> dict[str, Any]:
    return {"job_id": "j", "stage_id": 1, "partition": 0, "attempt": 0, **fields}


# -- policy --------------------------------------------------------------------------------


def test_a_job_needs_the_larger_of_running_and_expected_not_the_sum():
    job = JobDemand(running={0: 2}, expected={"s1": 3})
    assert job.sandboxes() == 3
    assert pool_target({"j": job}, max_workers=8) == 3
    assert pool_target({"j": job}, max_workers=2) == 2


def test_concurrent_jobs_add_up_and_min_idle_is_a_floor():
    jobs = {"a": JobDemand(running={0: 2}), "b": JobDemand(expected={"k": 3})}
    assert pool_target(jobs, max_workers=8) == 5
    assert pool_target({}, max_workers=8, min_idle=1) == 1
    assert pool_target({}, max_workers=8) == 0


class Recorder:
    """A platform stand-in that only records prewarm calls (policy tests, no processes)."""

    max_workers = 4
    min_idle = 0

    def __init__(self) -> None:
        self.calls: list[int] = []

    def prewarm(self, n: int, timeout: float | None = 30.0) -> int:
        self.calls.append(n)
        return 0


def test_events_track_running_stages_and_consume_expectations():
    rec = Recorder()
    manager = WarmPoolManager(rec)
    manager(ev.StageSubmitted("j", 0, 1, "ShuffleMapStage 0"))
    assert manager.expect("j", key=7, num_tasks=3) == 3
    manager(ev.StageCompleted("j", 0, 1, 0.1))
    manager(ev.StageSubmitted("j", 1, 3, "ResultStage 1"))
    assert manager.stats()["target"] == 3  # now running, no longer expected
    manager(ev.StageCompleted("j", 1, 3, 0.1))
    assert manager.stats()["target"] == 0
    manager.expect("j", key=8, num_tasks=9)  # capped by the platform's max_workers
    manager(ev.JobEnd("j", True, 0.2))
    assert manager.stats()["target"] == 0 and manager.stats()["jobs"] == 0
    assert rec.calls == [3, 4]


def test_sizing_policy_decides_the_functions_of_an_expected_stage():
    profile = PlatformProfile(0.1, 100e6, 0.0, 1769, 4)
    sizing = FaasSchedulerBackend(max_concurrency=4, memory_mb=1769, profile=profile)
    rec = Recorder()
    manager = WarmPoolManager(rec, sizing)
    manager.expect("j", key=1, num_tasks=100, input_bytes=15_000_000)  # 10 MB per function
    assert rec.calls == [2]


def test_disabled_manager_and_platform_without_prewarm_start_nothing():
    rec = Recorder()
    WarmPoolManager.from_conf(rec, {"spark.sparkless.warmPool.enabled": "false"}).expect("j", 1, 2)
    assert rec.calls == []
    WarmPoolManager(object()).expect("j", 1, 2)  # no prewarm at all: bookkeeping only


# -- mechanism, through LocalPlatform ------------------------------------------------------


def test_expected_stage_runs_on_prewarmed_sandboxes_then_scales_to_zero():
    with LocalPlatform(max_workers=2, idle_ttl_s=0.3, handler=HANDLER) as platform:
        manager = WarmPoolManager(platform)
        manager(ev.StageSubmitted("j", 0, 1, "ShuffleMapStage 0"))
        assert platform.invoke(task(stage_id=0, echo=0)).result(WAIT_S)["output"]["echo"] == 0
        manager.expect("j", key=-1, num_tasks=2)  # the result stage reads stage 0
        eventually(lambda: platform.stats()["warm"] == 2, "two warm sandboxes")
        manager(ev.StageCompleted("j", 0, 1, 0.1))
        manager(ev.StageSubmitted("j", 1, 2, "ResultStage 1"))
        futures = [platform.invoke(task(partition=p, echo=p)) for p in range(2)]
        assert [f.result(WAIT_S)["output"]["echo"] for f in futures] == [0, 1]
        stats = platform.stats()
        assert stats["workers_started"] == 2 and stats["cold_starts"] == 1
        assert stats["prewarmed_starts"] == 1  # the second sandbox was started ahead of need
        manager(ev.JobEnd("j", True, 0.5))
        eventually(lambda: platform.stats()["live"] == 0, "the pool to scale to zero")
        assert platform.stats()["reaped"] == 2


def test_max_idle_bounds_prewarmed_and_idle_sandboxes():
    with LocalPlatform(max_workers=3, max_idle=1, handler=HANDLER) as platform:
        manager = WarmPoolManager(platform)
        manager.expect("j", key=0, num_tasks=3)
        eventually(lambda: platform.stats()["warm"] == 1, "one warm sandbox")
        assert platform.stats()["live"] == 1  # prewarm stops at max_idle idle sandboxes
        futures = [platform.invoke(task(partition=p, echo=p)) for p in range(3)]
        assert sorted(f.result(WAIT_S)["output"]["echo"] for f in futures) == [0, 1, 2]
        eventually(lambda: platform.stats()["live"] == 1, "idle sandboxes trimmed to max_idle")
        assert platform.stats()["trimmed"] >= 1


def test_prewarm_waits_for_warm_sandboxes_and_dispatch_prefers_them():
    with LocalPlatform(max_workers=2, handler=HANDLER) as platform:
        assert platform.prewarm(2) == 2
        stats = platform.stats()
        assert stats["warm"] == 2 and stats["idle"] == 2 and stats["starting"] == 0
