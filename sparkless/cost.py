"""What a job costs at AWS list prices: the price table, ``estimate()``, and ``CostListener``.

Every job reports function GB-seconds, invocations, cold starts, store requests and bytes,
and a dollar estimate. On the local platform the estimate is what the same work would cost
as Lambda functions of ``spark.sparkless.local.memory`` MB (default 2048), so local runs
and Lambda runs are compared in one currency.

Prices (``PRICES``): AWS public list prices, region us-east-1 (N. Virginia), on-demand,
first pricing tier, no free tier, as listed in 2025 (Lambda rates checked 2025 against
AWS's published rates; the ElastiCache node rate is from the AWS price list as remembered,
not re-checked). They are list prices to check against https://aws.amazon.com/pricing
before quoting a figure; change them in one place, here.

- Lambda duration: x86_64 $0.0000166667 per GB-s, arm64 $0.0000133334 per GB-s, billed
  per 1 ms. Requests: $0.20 per 1M, both architectures. Since 2025-08-01 the INIT phase
  of on-demand functions is billed as duration too, so cold starts cost their init time.
- S3 Standard requests: PUT/COPY/POST/LIST $0.005 per 1,000; GET/SELECT $0.0004 per 1,000.
  Data transfer from S3 to Lambda in the same region is free.
- ElastiCache (Redis OSS / Valkey) on-demand node cache.t4g.small: $0.032 per node-hour.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sparkless.scheduler import listener as ev

LOCAL_MEMORY = "spark.sparkless.local.memory"
LAMBDA_MEMORY = "spark.sparkless.lambda.memory"
ARCH = "spark.sparkless.lambda.architecture"
INIT_SECONDS = "spark.sparkless.cost.initSeconds"
DEFAULT_MEMORY_MB = 2048
DEFAULT_INIT_S = 0.6  # a cold start's billed init when the platform does not say (measured
# locally: fresh interpreter to a warm handler, `sparkless bench startup`)


@dataclass(frozen=True)
class PriceTable:
    region: str
    as_of: str
    lambda_gb_s: Mapping[str, float]  # architecture -> $ per GB-second
    lambda_per_million_requests: float
    s3_put_per_1000: float  # PUT, COPY, POST, LIST
    s3_get_per_1000: float  # GET, SELECT
    s3_list_per_1000: float
    cache_node: str
    cache_node_hour: float


PRICES = PriceTable(
    region="us-east-1",
    as_of="2025",
    lambda_gb_s={"x86_64": 0.0000166667, "arm64": 0.0000133334},
    lambda_per_million_requests=0.20,
    s3_put_per_1000=0.005,
    s3_get_per_1000=0.0004,
    s3_list_per_1000=0.005,
    cache_node="cache.t4g.small",
    cache_node_hour=0.032,
)


@dataclass(frozen=True)
class JobMetrics:
    """What a job used. Seconds are billed seconds (per attempt, rounded up to 1 ms)."""

    function_seconds: float = 0.0
    memory_mb: int = DEFAULT_MEMORY_MB
    invocations: int = 0
    cold_starts: int = 0
    init_seconds: float = 0.0  # billed INIT time of the cold starts
    gb_seconds: float | None = None  # the platform's own figure (Lambda: billed), if any
    store_puts: int = 0
    store_gets: int = 0
    store_lists: int = 0
    store_requests_estimated: bool = False
    bytes_read: int = 0
    bytes_written: int = 0
    cache_node_seconds: float = 0.0  # ElastiCache node time attributed to the job
    arch: str = "x86_64"

    @property
    def total_gb_seconds(self) -> float:
        if self.gb_seconds is not None:
            return self.gb_seconds + self.init_seconds * self.memory_mb / 1024
        return (self.function_seconds + self.init_seconds) * self.memory_mb / 1024


@dataclass(frozen=True)
class Cost:
    """Dollars per line item, and the metrics they came from."""

    metrics: JobMetrics
    lines: dict[str, float]
    prices: PriceTable = PRICES

    @property
    def total(self) -> float:
        return sum(self.lines.values())

    def report(self) -> str:
        """Three short lines for a terminal."""
        m = self.metrics
        store = f"{m.store_puts} PUT/LIST, {m.store_gets} GET" + (
            " (estimated)" if m.store_requests_estimated else ""
        )
        return "\n".join(
            [
                f"cost: ${self.total:.6f} at AWS list prices ({self.prices.region}, as of "
                f"{self.prices.as_of}, to check); {m.arch}, {m.memory_mb} MB functions",
                f"  functions: {m.total_gb_seconds:.3f} GB-s ${self.lines['duration']:.6f}, "
                f"{m.invocations} invocations ${self.lines['requests']:.6f}, "
                f"{m.cold_starts} cold starts",
                f"  store: {store} ${self.lines['store_requests']:.6f}, "
                f"{_mb(m.bytes_read)} read, {_mb(m.bytes_written)} written"
                + (
                    f"; {self.prices.cache_node} {m.cache_node_seconds:.1f} s "
                    f"${self.lines['cache']:.6f}"
                    if m.cache_node_seconds
                    else ""
                ),
            ]
        )


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def estimate(metrics: JobMetrics, prices: PriceTable = PRICES) -> Cost:
    """Dollars for ``metrics`` at ``prices``: duration, requests, store requests, cache."""
    if metrics.arch not in prices.lambda_gb_s:
        raise ValueError(
            f"unknown architecture {metrics.arch!r}; known: {sorted(prices.lambda_gb_s)}"
        )
    lines = {
        "duration": metrics.total_gb_seconds * prices.lambda_gb_s[metrics.arch],
        "requests": metrics.invocations * prices.lambda_per_million_requests / 1e6,
        "store_requests": (
            metrics.store_puts * prices.s3_put_per_1000
            + metrics.store_gets * prices.s3_get_per_1000
            + metrics.store_lists * prices.s3_list_per_1000
        )
        / 1000,
        "cache": metrics.cache_node_seconds / 3600 * prices.cache_node_hour,
    }
    return Cost(metrics, lines, prices)


@dataclass
class _JobTally:
    seconds: float = 0.0
    attempts: int = 0
    ok_tasks: int = 0
    bytes_read: int = 0
    bytes_written: int = 0
    platform_before: dict[str, Any] = field(default_factory=dict)


class CostListener:
    """Aggregates a job's usage from listener events; ``costs[job_id]`` after its JobEnd.

    TaskEnd gives each attempt's seconds and bytes (failed attempts are billed too); JobEnd's
    metrics may carry store request counts (``store_puts``/``store_gets``/``store_lists``, or
    one ``store_requests`` total, priced as PUTs: an upper bound); without them each
    successful task counts one PUT, marked estimated. With a ``platform``, its ``stats()``
    before and after the job give cold starts (sandboxes started) and, on Lambda, billed
    GB-seconds; jobs overlapping on one platform share those deltas.
    """

    def __init__(
        self,
        conf: Mapping[str, Any] | None = None,
        platform: Any = None,
        prices: PriceTable = PRICES,
        store_uri: str = "",
    ) -> None:
        conf = conf or {}
        self.platform = platform
        self.prices = prices
        lambda_platform = str(conf.get("spark.sparkless.platform", "local")).lower() == "lambda"
        key = LAMBDA_MEMORY if lambda_platform else LOCAL_MEMORY
        self.memory_mb = int(conf.get(key) or DEFAULT_MEMORY_MB)
        self.arch = str(conf.get(ARCH) or "x86_64")
        self.init_s = float(conf.get(INIT_SECONDS) or DEFAULT_INIT_S)
        store_uri = store_uri or str(conf.get("spark.sparkless.store") or "")
        self.uses_cache = store_uri.startswith(("redis://", "rediss://"))
        self._lock = threading.Lock()
        self._jobs: dict[str, _JobTally] = {}
        self.costs: dict[str, Cost] = {}
        self.last: Cost | None = None

    def __call__(self, event: ev.Event) -> None:
        if isinstance(event, ev.JobStart):
            before = self._platform_stats()
            with self._lock:
                self._jobs[event.job_id] = _JobTally(platform_before=before)
        elif isinstance(event, ev.TaskEnd):
            with self._lock:
                tally = self._jobs.setdefault(event.job_id, _JobTally())
                tally.seconds += math.ceil(max(0.0, event.seconds) * 1000) / 1000
                tally.attempts += 1
                tally.ok_tasks += event.ok
                tally.bytes_read += event.input_bytes
                tally.bytes_written += event.output_bytes
        elif isinstance(event, ev.JobEnd):
            after = self._platform_stats()
            with self._lock:
                tally = self._jobs.pop(event.job_id, _JobTally())
            cost = estimate(self._metrics(tally, event, after), self.prices)
            with self._lock:
                self.costs[event.job_id] = cost
                self.last = cost

    def total(self) -> Cost | None:
        """All jobs seen so far as one Cost (what ``sparkless submit`` prints at the end)."""
        with self._lock:
            costs = list(self.costs.values())
        if not costs:
            return None
        m = costs[0].metrics
        for c in costs[1:]:
            o = c.metrics
            gb = (
                None
                if m.gb_seconds is None or o.gb_seconds is None
                else m.gb_seconds + o.gb_seconds
            )
            m = replace(
                m,
                function_seconds=m.function_seconds + o.function_seconds,
                invocations=m.invocations + o.invocations,
                cold_starts=m.cold_starts + o.cold_starts,
                init_seconds=m.init_seconds + o.init_seconds,
                gb_seconds=gb,
                store_puts=m.store_puts + o.store_puts,
                store_gets=m.store_gets + o.store_gets,
                store_lists=m.store_lists + o.store_lists,
                store_requests_estimated=m.store_requests_estimated or o.store_requests_estimated,
                bytes_read=m.bytes_read + o.bytes_read,
                bytes_written=m.bytes_written + o.bytes_written,
                cache_node_seconds=m.cache_node_seconds + o.cache_node_seconds,
            )
        return estimate(m, self.prices)

    def _platform_stats(self) -> dict[str, Any]:
        stats = getattr(self.platform, "stats", None)
        try:
            return dict(stats()) if callable(stats) else {}
        except Exception:  # noqa: BLE001 - cost reporting must not break a job
            return {}

    def _metrics(self, tally: _JobTally, end: ev.JobEnd, after: Mapping[str, Any]) -> JobMetrics:
        before = tally.platform_before

        def delta(key: str) -> float | None:
            if key not in after or key not in before:
                return None
            return float(after[key] or 0) - float(before[key] or 0)

        cold = delta("workers_started")  # local: every sandbox started is a cold start
        gb = delta("gb_seconds")  # Lambda: billed by AWS
        metrics = end.metrics or {}
        puts = int(metrics.get("store_puts", 0))
        gets = int(metrics.get("store_gets", 0))
        lists = int(metrics.get("store_lists", 0))
        estimated = False
        if not (puts or gets or lists):
            if "store_requests" in metrics:
                puts = int(metrics["store_requests"])
            else:
                puts, estimated = tally.ok_tasks, True
        cold_starts = int(cold or 0)
        return JobMetrics(
            function_seconds=tally.seconds,
            memory_mb=int(after.get("memory_mb") or self.memory_mb),
            invocations=tally.attempts,
            cold_starts=cold_starts,
            init_seconds=cold_starts * self.init_s,
            gb_seconds=gb if gb else None,
            store_puts=puts,
            store_gets=gets,
            store_lists=lists,
            store_requests_estimated=estimated,
            bytes_read=tally.bytes_read,
            bytes_written=tally.bytes_written,
            cache_node_seconds=end.seconds if self.uses_cache else 0.0,
            arch=self.arch,
        )
