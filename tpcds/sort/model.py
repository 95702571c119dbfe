"""``plan``: a scale model of the sort on functions, from rates measured by ``run``.

A sort is a map stage (read a split, range-partition, write shuffle blocks) then a reduce
stage (fetch one range from every map output, sort, write Parquet). From a measured
sparkless run (``rates.json``) it takes, per function: map and reduce compute rates
(task MB/s with the store's share taken out), the shuffle expansion (store bytes per
logical byte), the store's per-stream MB/s and request latency, and requests per byte.
For a target size, function count and store it predicts each stage as

    waves x (split / compute rate + split x expansion / store MB/s + requests x latency)

then raises a stage's time to any platform bound it would break, and names the largest
one as the binding limit. Platform limits (AWS, as published; check before quoting):
Lambda 10,240 MB memory, 900 s per invocation, 1,000 new execution environments per
10 s per function; S3 3,500 PUT/COPY/POST/DELETE and 5,500 GET/HEAD per second per
prefix; ElastiCache node bandwidth/memory as in ``REDIS_NODE`` (an assumption to check).
Per-function S3/Redis stream rates are assumptions (``STORE_DEFAULTS``) unless a run on
that store measured them. Dollars use ``sparkless.cost.PRICES``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from sparkless.cost import PRICES

LAMBDA_MEMORY_MB = 10240
LAMBDA_TIMEOUT_S = 900.0
LAMBDA_BURST = 1000  # new environments ...
LAMBDA_BURST_WINDOW_S = 10.0  # ... per this window
S3_PUT_PER_PREFIX = 3500.0
S3_GET_PER_PREFIX = 5500.0
# One ElastiCache node of a memory-optimised type (about cache.r7g.xlarge: ~26 GB,
# "up to 12.5 Gbit/s"); price per hour is an assumed list price, to check.
REDIS_NODE = {"memory_gb": 26.0, "mbps": 1250.0, "ops_per_s": 200_000.0, "dollars_per_hour": 0.437}
# Per-function stream rates when no run on that store measured them: assumptions from
# public Lambda<->S3 / ElastiCache measurements, not from this machine.
STORE_DEFAULTS = {
    "s3": {"read_mbps": 90.0, "write_mbps": 80.0, "get_latency_s": 0.02, "put_latency_s": 0.03},
    "redis": {"read_mbps": 250.0, "write_mbps": 250.0, "get_latency_s": 0.0005,
              "put_latency_s": 0.0005},
}
MEMORY_HEADROOM = 3.0  # a function holds ~3x its split (input, sort buffers, output)


@dataclass
class Rates:
    """Per-function rates from one measured run (what ``run`` saves as rates.json)."""

    size_bytes: int
    map_compute_mbps: float
    reduce_compute_mbps: float
    expansion: float  # shuffle bytes written per logical byte
    store: str  # scheme of the store measured ("file", "s3", "redis", ...)
    store_read_mbps: float
    store_write_mbps: float
    get_latency_s: float
    put_latency_s: float
    request_bytes: float  # mean bytes per store request
    stage_overhead_s: float  # per stage: dispatch, sampling, commit (measured, fixed)
    slots: int  # functions that ran at once in the measured run
    memory_mb: int
    measured_job_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
    # Σ task CPU / Σ task wall of the run's map and reduce stages: 1.0 when its tasks had a
    # core each; 0.2 when other work on the machine left them a fifth of one
    cpu_share: float = 1.0


def at_cpu_share(rates: Rates, share: float) -> Rates:
    """``rates`` as if the tasks had got ``share`` of a core: compute rates and the stage
    overhead scale with the CPU a task gets (both are CPU-bound: DuckDB, and the driver's
    planning and dispatch). ``share=1`` is a function with a core of its own (Lambda from
    1,769 MB); the measured runs on this shared machine often had 0.1-0.5."""
    f = max(share, 1e-3) / max(rates.cpu_share, 1e-3)
    return replace(
        rates,
        map_compute_mbps=rates.map_compute_mbps * f,
        reduce_compute_mbps=rates.reduce_compute_mbps * f,
        stage_overhead_s=rates.stage_overhead_s / f,
        cpu_share=share,
    )


def cpu_share(stages: list[dict[str, Any]]) -> float:
    """Σ task CPU / Σ task wall of the map and reduce stages of a run's results."""
    busy = [s for s in stages if not str(s.get("phase", "")).startswith("sample")]
    wall = sum(sum(s.get("task_seconds") or ()) for s in busy)
    cpu = sum(float(s.get("cpu_seconds") or 0.0) for s in busy)
    return min(1.0, cpu / wall) if wall > 0 and cpu > 0 else 1.0


@dataclass
class Prediction:
    size_bytes: int
    functions: int
    store: str
    map_tasks: int
    reduce_tasks: int
    memory_mb: int
    seconds: float
    terms: dict[str, float]  # named lower bounds / components, seconds
    binding: str
    dollars: float
    cost_lines: dict[str, float]
    notes: list[str]

    @property
    def mbps(self) -> float:
        return self.size_bytes / 1e6 / self.seconds


def _store_rates(rates: Rates, store: str) -> dict[str, float]:
    if store == rates.store:
        return {
            "read_mbps": rates.store_read_mbps, "write_mbps": rates.store_write_mbps,
            "get_latency_s": rates.get_latency_s, "put_latency_s": rates.put_latency_s,
        }
    return dict(STORE_DEFAULTS[store])


def predict(
    rates: Rates, size_bytes: int, functions: int, store: str, platform: str = "lambda",
    prefixes: int = 1, redis_nodes: int | None = None,
) -> Prediction:
    """Time, dollars and the binding limit of sorting size_bytes with `functions` at once."""
    notes: list[str] = []
    s = _store_rates(rates, store)
    mb = size_bytes / 1e6
    if platform == "lambda":
        max_split_mb = LAMBDA_MEMORY_MB / 1.048576 / (MEMORY_HEADROOM * rates.expansion)
    else:
        max_split_mb = rates.memory_mb / 1.048576 / (MEMORY_HEADROOM * rates.expansion)
    tasks = max(functions, math.ceil(mb / max_split_mb))
    if tasks > functions:
        notes.append(f"memory: splits capped at {max_split_mb:.0f} MB -> {tasks} tasks per stage")
    split_mb = mb / tasks
    memory_mb = int(min(LAMBDA_MEMORY_MB, max(1024, MEMORY_HEADROOM * split_mb * rates.expansion
                                              * 1.048576)))
    if platform != "lambda":
        memory_mb = rates.memory_mb
    waves = math.ceil(tasks / functions)
    shuffle_mb = mb * rates.expansion
    # requests: per map task a data object + index; reads at least one per (map, reduce)
    puts = 2 * tasks
    gets = max(tasks * tasks, shuffle_mb * 1e6 / max(rates.request_bytes, 1.0))
    map_task = (split_mb / rates.map_compute_mbps + split_mb * rates.expansion / s["write_mbps"]
                + 2 * s["put_latency_s"])
    red_task = (split_mb / rates.reduce_compute_mbps + split_mb * rates.expansion / s["read_mbps"]
                + (gets / tasks) * s["get_latency_s"])
    terms = {
        "map compute+store": waves * map_task,
        "reduce compute+store": waves * red_task,
        "stage overheads": 3 * rates.stage_overhead_s,
    }
    if platform == "lambda":
        terms["Lambda burst (1,000 new per 10 s)"] = (
            LAMBDA_BURST_WINDOW_S * ((functions - 1) // LAMBDA_BURST))
    bounds: dict[str, float] = {}
    if store == "s3":
        bounds["S3 PUT rate (3,500/s/prefix)"] = puts / (S3_PUT_PER_PREFIX * prefixes)
        bounds["S3 GET rate (5,500/s/prefix)"] = gets / (S3_GET_PER_PREFIX * prefixes)
    if store == "redis":
        nodes = redis_nodes or max(1, math.ceil(shuffle_mb / 1000 / (REDIS_NODE["memory_gb"] * 0.8)))
        bounds["ElastiCache bandwidth"] = 2 * shuffle_mb / (REDIS_NODE["mbps"] * nodes)
        bounds["ElastiCache ops"] = (puts + gets) / (REDIS_NODE["ops_per_s"] * nodes)
        notes.append(f"ElastiCache: {nodes} node(s) to hold {shuffle_mb / 1000:.1f} GB of shuffle")
    # a stage is as slow as its slowest constraint: compute or the shared store's limit
    map_s = max(terms["map compute+store"], bounds.get("S3 PUT rate (3,500/s/prefix)", 0.0),
                bounds.get("ElastiCache bandwidth", 0.0) / 2)
    red_s = max(terms["reduce compute+store"], bounds.get("S3 GET rate (5,500/s/prefix)", 0.0),
                bounds.get("ElastiCache bandwidth", 0.0) / 2, bounds.get("ElastiCache ops", 0.0))
    seconds = map_s + red_s + terms["stage overheads"] + terms.get(
        "Lambda burst (1,000 new per 10 s)", 0.0)
    all_terms = terms | bounds
    if platform == "lambda" and max(map_task, red_task) > LAMBDA_TIMEOUT_S:
        notes.append(f"a task runs {max(map_task, red_task):.0f} s > 900 s Lambda limit: "
                     "needs more functions")
        all_terms["Lambda 900 s limit"] = max(map_task, red_task)
    binding = _binding(all_terms, map_s, red_s, terms)
    gb_s = tasks * (map_task + red_task) * memory_mb / 1024
    lines = {
        "duration": gb_s * PRICES.lambda_gb_s["x86_64"],
        "requests": 2 * tasks * PRICES.lambda_per_million_requests / 1e6,
        "store_requests": (puts * PRICES.s3_put_per_1000 + gets * PRICES.s3_get_per_1000) / 1000
        if store == "s3" else 0.0,
        "cache": (redis_nodes or math.ceil(shuffle_mb / 1000 / (REDIS_NODE["memory_gb"] * 0.8)))
        * REDIS_NODE["dollars_per_hour"] * seconds / 3600 if store == "redis" else 0.0,
    }
    if platform != "lambda":
        lines = {"duration": gb_s * PRICES.lambda_gb_s["x86_64"], "requests": 0.0,
                 "store_requests": 0.0, "cache": 0.0}
    return Prediction(size_bytes, functions, store, tasks, tasks, memory_mb, seconds,
                      all_terms, binding, sum(lines.values()), lines, notes)


def _binding(all_terms: dict[str, float], map_s: float, red_s: float,
             terms: dict[str, float]) -> str:
    if "Lambda 900 s limit" in all_terms:
        return "Lambda 900 s limit"
    limits = {k: v for k, v in all_terms.items() if k not in terms}
    worst = max(limits.items(), key=lambda kv: kv[1], default=("", 0.0))
    compute = max(terms["map compute+store"], terms["reduce compute+store"])
    if worst[1] > compute:
        return worst[0]
    burst = terms.get("Lambda burst (1,000 new per 10 s)", 0.0)
    if burst > max(map_s, red_s):
        return "Lambda burst (1,000 new per 10 s)"
    return "per-function compute and store bandwidth (add functions)"


def pick_store(rates: Rates, size_bytes: int, functions: int) -> Prediction:
    """--store auto: the faster of S3 and Redis, the cheaper on a tie within 10%."""
    s3 = predict(rates, size_bytes, functions, "s3")
    redis = predict(rates, size_bytes, functions, "redis")
    if abs(s3.seconds - redis.seconds) <= 0.1 * min(s3.seconds, redis.seconds):
        return s3 if s3.dollars <= redis.dollars else redis
    return s3 if s3.seconds < redis.seconds else redis
