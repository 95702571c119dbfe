"""FaasSchedulerBackend: deterministic sizing decisions, no processes, no clocks."""

from __future__ import annotations

import pytest

from sparkless.scheduler.backend import PROFILES, FaasSchedulerBackend, PlatformProfile

PROFILE = PlatformProfile(
    start_s=0.1,
    bytes_per_s=100e6,
    batch_threshold_s=0.05,
    default_memory_mb=1769,
    default_concurrency=8,
)
MB = 1_000_000


def backend(**kw) -> FaasSchedulerBackend:
    args = {"max_concurrency": 8, "memory_mb": 1769, "profile": PROFILE, **kw}
    return FaasSchedulerBackend(**args)


def test_functions_bounded_by_tasks_and_max_concurrency():
    assert backend().plan(3).functions == 3
    plan = backend().plan(100)
    assert (plan.functions, plan.reason, plan.tasks_per_invocation) == (8, "maxConcurrency", 1)
    assert backend().plan(0).functions == 0


def test_small_input_gets_few_functions():
    b = backend()
    assert b.min_bytes == 10 * MB  # 0.1 s start × 100 MB/s: what one reads while one starts
    plan = b.plan(100, input_bytes=25 * MB, expected_task_s=1.0)
    assert (plan.functions, plan.reason) == (3, "input bytes")
    assert b.plan(100, input_bytes=10_000 * MB).functions == 8
    assert b.plan(4, input_bytes=0, expected_task_s=1.0).functions == 1  # never zero


def test_smaller_memory_reads_slower_so_each_function_is_worth_less_input():
    half = backend(memory_mb=884)
    assert half.bytes_per_s == pytest.approx(100e6 * 884 / 1769)
    assert half.min_bytes < backend().min_bytes
    assert backend(memory_mb=4096).bytes_per_s == backend().bytes_per_s  # capped at one vCPU


def test_explicit_min_bytes_per_function_wins():
    assert backend(min_bytes_per_function=1).plan(50, input_bytes=50).functions == 8


def test_tiny_tasks_are_batched_up_to_the_threshold_and_max_batch():
    b = backend()
    plan = b.plan(64, expected_task_s=0.01)  # threshold 50 ms / 10 ms = 5 per invocation
    assert (plan.functions, plan.tasks_per_invocation, plan.invocations) == (8, 5, 13)
    assert b.plan(64, expected_task_s=0.0001).tasks_per_invocation == 8  # keeps 8 functions busy
    assert backend(max_batch=3).plan(1000, expected_task_s=0.0001).tasks_per_invocation == 3


def test_tasks_at_or_over_the_threshold_are_not_batched():
    b = backend()
    assert b.plan(64, expected_task_s=0.05).tasks_per_invocation == 1
    assert b.plan(64).tasks_per_invocation == 1  # unknown duration: no batching
    assert backend(batch_threshold_s=0).plan(64, expected_task_s=1e-5).tasks_per_invocation == 1


def test_batch_estimated_from_bytes_per_task():
    plan = backend().plan(8, input_bytes=8 * 100_000)  # 1 ms a task at 100 MB/s
    assert plan.functions == 1 and plan.tasks_per_invocation == 8


def test_target_shrinks_to_running_tasks_when_nothing_is_pending():
    b = backend()
    assert b.target(running=1, pending=0, finished_durations=[1.0] * 7) == 1  # one straggler
    assert b.target(running=0, pending=0) == 0  # scale to zero


def test_target_goes_wide_without_evidence_and_is_capped():
    b = backend()
    assert b.target(running=0, pending=20) == 8
    assert b.target(running=2, pending=3) == 5
    assert b.target(running=2, pending=100, finished_durations=[]) == 8


def test_target_does_not_grow_when_the_backlog_drains_before_a_start():
    b = backend()
    # 4 pending × 10 ms on 2 functions = 20 ms < 100 ms start: keep 2
    assert b.target(running=2, pending=4, finished_durations=[0.01, 0.01]) == 2


def test_target_grows_for_a_backlog_of_long_tasks():
    b = backend()
    # 6 pending × 1 s on 2 functions = 3 s: worth all 8 we may have, limited by the tasks
    assert b.target(running=2, pending=6, finished_durations=[1.0]) == 8
    # 3 pending × 50 ms = 150 ms on 1 function > 100 ms start: 2 functions drain it in time
    assert b.target(running=1, pending=3, finished_durations=[0.05]) == 2


def test_from_conf_reads_spark_settings():
    conf = {
        "spark.sparkless.maxConcurrency": "32",
        "spark.sparkless.lambda.memory": "3008",
        "spark.sparkless.backend.minBytesPerFunction": "64m",
        "spark.sparkless.backend.batchThreshold": "20ms",
        "spark.sparkless.backend.maxBatch": "4",
    }
    b = FaasSchedulerBackend.from_conf(conf, platform="lambda")
    assert (b.max_concurrency, b.memory_mb, b.max_batch) == (32, 3008, 4)
    assert b.min_bytes == 64 * 1024 * 1024 and b.threshold_s == pytest.approx(0.02)
    assert b.profile is PROFILES["lambda"]
    local = FaasSchedulerBackend.from_conf({})
    assert (local.max_concurrency, local.profile) == (2, PROFILES["local"])


def test_invalid_settings_are_refused():
    with pytest.raises(ValueError, match="maxConcurrency"):
        backend(max_concurrency=0)
    with pytest.raises(ValueError, match="memory"):
        backend(memory_mb=64)
    with pytest.raises(ValueError):
        backend().target(-1, 0)
