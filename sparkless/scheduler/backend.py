"""How many functions a stage gets: FaasSchedulerBackend, a pure sizing policy.

No processes, no clocks: the DAG scheduler asks and obeys. Two questions:

- ``plan(num_tasks, input_bytes)`` at stage submit: how many functions to start, and how
  many tasks each invocation carries. Bounded by the tasks, ``spark.sparkless.maxConcurrency``
  and the input: a function is worth starting only if its share of the input takes longer
  to read than the function takes to start (``min_bytes_per_function`` = start cost ×
  throughput). Throughput scales with memory, as Lambda's CPU does (1 vCPU at 1,769 MB).
- ``target(running, pending, finished_durations)`` while the stage runs: how many functions
  to hold now. It shrinks to the tasks still running (a straggler holds one function, not
  the stage's whole allocation) and grows only when the backlog would take longer to drain
  on the functions we have than a new function takes to start (Spark dynamic allocation's
  backlog rule with the start cost as its timeout). ``target(0, 0, ...)`` is 0: scale to zero.

Batching (several tasks per invocation) pays when a task is shorter than what an invocation
costs around it. The documented threshold: batch when the expected task time is under
``batch_threshold_s`` (Lambda: 100 ms, about 5-10× a warm invoke's round trip of 10-20 ms;
local: 2 ms, about 8× the 0.25 ms local dispatch). A batch then carries enough tasks to
reach the threshold, at most ``max_batch``, and never so many that fewer functions would run
than the plan allows.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MAX_CONCURRENCY = "spark.sparkless.maxConcurrency"
LAMBDA_MEMORY = "spark.sparkless.lambda.memory"
LOCAL_MEMORY = "spark.sparkless.local.memory"  # what a local sandbox stands in for, in MB
MIN_BYTES_PER_FUNCTION = "spark.sparkless.backend.minBytesPerFunction"
BATCH_THRESHOLD = "spark.sparkless.backend.batchThreshold"
MAX_BATCH = "spark.sparkless.backend.maxBatch"

FULL_VCPU_MB = 1769  # Lambda: memory at which a function gets one full vCPU


@dataclass(frozen=True)
class PlatformProfile:
    """What a platform costs to start and how fast one function reads, at one vCPU.

    Local figures are measured on this machine (``sparkless bench startup``: a new sandbox
    with its DuckDB connection, ~30-40 ms; Arrow IPC read from local disk). Lambda figures are
    typical published ones (cold start a few hundred ms, S3 GET ~90 MB/s per connection),
    to be replaced by measurements against AWS.
    """

    start_s: float
    bytes_per_s: float
    batch_threshold_s: float
    default_memory_mb: int
    default_concurrency: int


PROFILES: dict[str, PlatformProfile] = {
    "local": PlatformProfile(0.035, 200e6, 0.002, 2048, 2),
    "lambda": PlatformProfile(0.4, 90e6, 0.1, 2048, 64),
}


@dataclass(frozen=True)
class StagePlan:
    num_tasks: int
    functions: int  # functions to start for the stage (0 for an empty stage)
    tasks_per_invocation: int  # 1 unless tiny tasks are batched
    reason: str  # which bound decided ``functions``, for logs and tests

    @property
    def invocations(self) -> int:
        return math.ceil(self.num_tasks / self.tasks_per_invocation)


@dataclass(frozen=True)
class FaasSchedulerBackend:
    """The sizing policy. Immutable; every answer depends only on the arguments."""

    max_concurrency: int
    memory_mb: int
    profile: PlatformProfile
    min_bytes_per_function: int | None = None  # None: start cost × throughput
    batch_threshold_s: float | None = None  # None: the profile's
    max_batch: int = 16

    def __post_init__(self) -> None:
        if self.max_concurrency < 1:
            raise ValueError(f"{MAX_CONCURRENCY} must be >= 1, got {self.max_concurrency}")
        if self.memory_mb < 128:
            raise ValueError(f"function memory must be >= 128 MB, got {self.memory_mb}")
        if self.max_batch < 1:
            raise ValueError(f"{MAX_BATCH} must be >= 1, got {self.max_batch}")

    @classmethod
    def from_conf(cls, conf: Mapping[str, Any], platform: str = "local") -> FaasSchedulerBackend:
        profile = PROFILES.get(platform, PROFILES["local"])
        memory_key = LAMBDA_MEMORY if platform == "lambda" else LOCAL_MEMORY

        def get(key: str) -> Any:
            value = conf.get(key)
            return None if value in (None, "") else value

        min_bytes = get(MIN_BYTES_PER_FUNCTION)
        threshold = get(BATCH_THRESHOLD)
        if min_bytes is not None:
            from sparkless.conf import parse_bytes

            min_bytes = parse_bytes(str(min_bytes))
        if threshold is not None:
            from executors.local.config import seconds

            threshold = seconds(threshold, BATCH_THRESHOLD)
        return cls(
            max_concurrency=int(get(MAX_CONCURRENCY) or profile.default_concurrency),
            memory_mb=int(get(memory_key) or profile.default_memory_mb),
            profile=profile,
            min_bytes_per_function=min_bytes,
            batch_threshold_s=threshold,
            max_batch=int(get(MAX_BATCH) or 16),
        )

    # -- derived figures ---------------------------------------------------------------

    @property
    def bytes_per_s(self) -> float:
        """One function's read throughput: the profile's, scaled by its share of a vCPU."""
        return self.profile.bytes_per_s * min(1.0, self.memory_mb / FULL_VCPU_MB)

    @property
    def min_bytes(self) -> int:
        """The least input worth a function of its own: what it reads while another starts."""
        if self.min_bytes_per_function is not None:
            return self.min_bytes_per_function
        return int(self.profile.start_s * self.bytes_per_s)

    @property
    def threshold_s(self) -> float:
        t = self.batch_threshold_s
        return self.profile.batch_threshold_s if t is None else t

    # -- decisions ---------------------------------------------------------------------

    def plan(
        self, num_tasks: int, input_bytes: int | None = None, expected_task_s: float | None = None
    ) -> StagePlan:
        """Functions and batch size for a stage about to be submitted.

        ``input_bytes`` None means unknown (no bytes bound); ``expected_task_s`` None means
        estimate it from the bytes per task and the throughput (no batching if both unknown).
        """
        if num_tasks <= 0:
            return StagePlan(0, 0, 1, "no tasks")
        functions, reason = num_tasks, "tasks"
        if self.max_concurrency < functions:
            functions, reason = self.max_concurrency, "maxConcurrency"
        if input_bytes is not None:
            by_bytes = max(1, math.ceil(input_bytes / max(1, self.min_bytes)))
            if by_bytes < functions:
                functions, reason = by_bytes, "input bytes"
        if expected_task_s is None and input_bytes is not None:
            expected_task_s = input_bytes / num_tasks / self.bytes_per_s
        batch = self.batch_size(num_tasks, functions, expected_task_s)
        return StagePlan(num_tasks, functions, batch, reason)

    def batch_size(self, num_tasks: int, functions: int, expected_task_s: float | None) -> int:
        """Tasks per invocation: >1 only for tasks shorter than the batching threshold."""
        if expected_task_s is None or expected_task_s >= self.threshold_s or functions <= 0:
            return 1
        want = math.ceil(self.threshold_s / max(expected_task_s, 1e-6))
        keep_parallel = math.ceil(num_tasks / functions)  # never fewer functions than planned
        return max(1, min(want, self.max_batch, keep_parallel))

    def target(self, running: int, pending: int, finished_durations: Sequence[float] = ()) -> int:
        """Functions to hold now for a running stage.

        Never more than running + pending (an idle function is released), never more than
        ``max_concurrency``. Beyond the running ones, add functions for the backlog only if
        draining it on the running functions would take longer than starting new ones.
        """
        if running < 0 or pending < 0:
            raise ValueError("running and pending must be >= 0")
        cap = min(self.max_concurrency, running + pending)
        if pending == 0 or running == 0 or not finished_durations:
            return cap  # nothing to wait for, nothing running, or no evidence yet: go wide
        typical = statistics.median(finished_durations)
        drain_s = typical * pending / running  # the backlog on the functions we have
        if drain_s <= self.profile.start_s:
            return running  # a new function would start after the backlog is gone
        # Enough functions that the backlog drains in about one start time, at most the cap.
        needed = math.ceil(typical * pending / self.profile.start_s)
        return min(cap, max(running, needed))
