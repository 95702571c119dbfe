"""The scale model's load adjustment: rates measured while tasks shared their cores."""

from __future__ import annotations

from tpcds.sort import model


def rates(share: float) -> model.Rates:
    return model.Rates(
        size_bytes=10**9, map_compute_mbps=20.0, reduce_compute_mbps=10.0, expansion=1.1,
        store="file", store_read_mbps=500.0, store_write_mbps=500.0, get_latency_s=1e-4,
        put_latency_s=1e-4, request_bytes=2e6, stage_overhead_s=2.0, slots=2, memory_mb=2048,
        cpu_share=share,
    )


def test_cpu_share_is_task_cpu_over_task_wall_without_the_sample_stage() -> None:
    stages = [
        {"phase": "sample", "task_seconds": [5.0], "cpu_seconds": 0.1},
        {"phase": "map/shuffle write", "task_seconds": [4.0, 6.0], "cpu_seconds": 2.0},
        {"phase": "reduce/merge + write", "task_seconds": [5.0, 5.0], "cpu_seconds": 2.0},
    ]
    assert model.cpu_share(stages) == 0.2
    assert model.cpu_share([]) == 1.0  # nothing measured: no adjustment


def test_rates_at_a_full_core_are_faster_by_the_share() -> None:
    loaded = rates(0.25)
    free = model.at_cpu_share(loaded, 1.0)
    assert free.map_compute_mbps == 80.0 and free.reduce_compute_mbps == 40.0
    assert free.stage_overhead_s == 0.5 and free.cpu_share == 1.0
    assert model.at_cpu_share(free, 0.25) == loaded  # round trip
    slow = model.predict(loaded, 10**9, 2, "file", "local")
    fast = model.predict(free, 10**9, 2, "file", "local")
    assert fast.seconds < slow.seconds / 2  # compute dominates these rates
