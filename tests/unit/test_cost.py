"""Cost: the price table's arithmetic and the listener's aggregation from job events."""

from __future__ import annotations

from typing import Any

import pytest

from sparkless.cost import PRICES, CostListener, JobMetrics, estimate
from sparkless.scheduler import listener as ev


def test_estimate_prices_each_line_item():
    m = JobMetrics(
        function_seconds=100.0,
        memory_mb=1024,
        invocations=1_000_000,
        store_puts=2000,
        store_gets=10_000,
        store_lists=1000,
        cache_node_seconds=3600,
    )
    cost = estimate(m)
    assert cost.lines["duration"] == pytest.approx(100 * 0.0000166667)
    assert cost.lines["requests"] == pytest.approx(0.20)
    assert cost.lines["store_requests"] == pytest.approx(2 * 0.005 + 10 * 0.0004 + 0.005)
    assert cost.lines["cache"] == pytest.approx(PRICES.cache_node_hour)
    assert cost.total == pytest.approx(sum(cost.lines.values()))


def test_arm_is_cheaper_and_memory_scales_duration():
    x86 = estimate(JobMetrics(function_seconds=10, memory_mb=2048))
    arm = estimate(JobMetrics(function_seconds=10, memory_mb=2048, arch="arm64"))
    assert x86.metrics.total_gb_seconds == pytest.approx(20.0)
    assert arm.lines["duration"] < x86.lines["duration"]
    with pytest.raises(ValueError, match="architecture"):
        estimate(JobMetrics(arch="sparc"))


def test_cold_starts_bill_their_init_and_platform_gb_seconds_win():
    m = JobMetrics(function_seconds=5, memory_mb=1024, cold_starts=2, init_seconds=1.0)
    assert m.total_gb_seconds == pytest.approx(6.0)
    billed = JobMetrics(function_seconds=5, memory_mb=1024, gb_seconds=7.5)
    assert billed.total_gb_seconds == pytest.approx(7.5)


class StatsPlatform:
    """Only ``stats()``, changing between JobStart and JobEnd, like a platform's counters."""

    def __init__(self) -> None:
        self.started = 3

    def stats(self) -> dict[str, Any]:
        return {"workers_started": self.started}


def run_job(listener: CostListener, job: str, metrics: dict[str, Any], platform=None) -> None:
    listener(ev.JobStart(job, "q", 2))
    listener(ev.TaskEnd(job, 0, 0, 0, True, 0.0101, input_bytes=1000, output_bytes=500))
    listener(ev.TaskEnd(job, 0, 1, 0, False, 0.002, error="lost"))
    listener(ev.TaskEnd(job, 0, 1, 1, True, 0.5, input_bytes=2000, output_bytes=700))
    if platform is not None:
        platform.started += 2
    listener(ev.JobEnd(job, True, 1.0, metrics))


def test_listener_aggregates_a_job_from_events():
    platform = StatsPlatform()
    listener = CostListener({"spark.sparkless.local.memory": "1024"}, platform=platform)
    run_job(listener, "j1", {"store_puts": 4, "store_gets": 9}, platform)
    cost = listener.costs["j1"]
    m = cost.metrics
    assert m.invocations == 3  # the failed attempt was billed too
    assert m.function_seconds == pytest.approx(0.011 + 0.002 + 0.5)  # rounded up per ms
    assert (m.bytes_read, m.bytes_written) == (3000, 1200)
    assert (m.store_puts, m.store_gets, m.store_requests_estimated) == (4, 9, False)
    assert m.cold_starts == 2 and m.init_seconds == pytest.approx(2 * 0.6)
    assert listener.last is cost
    text = cost.report()
    assert "us-east-1" in text and "3 invocations" in text and "2 cold starts" in text


def test_store_requests_are_estimated_when_the_job_does_not_report_them():
    listener = CostListener({}, store_uri="redis://localhost:6379/0")
    run_job(listener, "j", {})
    m = listener.costs["j"].metrics
    assert (m.store_puts, m.store_requests_estimated) == (2, True)
    assert m.cache_node_seconds == 1.0
    assert "(estimated)" in listener.costs["j"].report()
    run_job(listener, "k", {"store_requests": 7})
    assert listener.costs["k"].metrics.store_puts == 7


def test_total_adds_jobs_up():
    listener = CostListener({})
    assert listener.total() is None
    run_job(listener, "a", {"store_gets": 1})
    run_job(listener, "b", {"store_gets": 2})
    total = listener.total()
    assert total is not None
    assert total.metrics.invocations == 6 and total.metrics.store_gets == 3
    assert total.total == pytest.approx(listener.costs["a"].total + listener.costs["b"].total)


def test_lambda_conf_reads_lambda_memory_and_arch():
    conf = {
        "spark.sparkless.platform": "lambda",
        "spark.sparkless.lambda.memory": "3008",
        "spark.sparkless.lambda.architecture": "arm64",
    }
    listener = CostListener(conf)
    run_job(listener, "j", {})
    assert (listener.last.metrics.memory_mb, listener.last.metrics.arch) == (3008, "arm64")
