"""WarmPoolManager: start the next stage's sandboxes while the current stage runs.

The mechanism lives in the platform (``executors/local``: a zygote forks sandboxes with the
heavy imports done; idle ones are kept for ``spark.sparkless.warmPool.idleTimeout``, between
``warmPool.minIdle`` and ``warmPool.maxIdle``, then reaped: scale to zero). This module is
the policy: how many sandboxes should be live, given what runs and what comes next.

The DAG scheduler knows the next stages before they are submitted: a stage becomes
*expected* once the stages it reads from are running. It tells the manager with one call,
``expect(job_id, key, num_tasks)``; the manager also listens to the job's events (it is a
``Listener``: ``bus.add(manager)``) to know what runs. A job needs ``max(running, expected)``
sandboxes, not the sum: an expected stage starts when its parents end, on their sandboxes.
When a stage is submitted its expectation is consumed (matched by its function count; one
whose count AQE coalescing changed stays until job end, harmless since demand is a max); at
job end the job's demand is forgotten and the platform's TTL takes the pool back to
``minIdle``.

A platform without warm sandboxes (Lambda: ``prewarm`` returns 0; provisioned concurrency
is a deployment setting) makes the manager a bookkeeping no-op.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sparkless.scheduler import listener as ev
from sparkless.scheduler.backend import FaasSchedulerBackend

ENABLED = "spark.sparkless.warmPool.enabled"


class Prewarmable(Protocol):
    max_workers: int

    def prewarm(self, n: int, timeout: float | None = ...) -> int: ...


@dataclass
class JobDemand:
    """Sandboxes one job needs: per running stage, and per expected (not yet submitted) stage."""

    running: dict[int, int] = field(default_factory=dict)  # stage_id -> functions
    expected: dict[Any, int] = field(default_factory=dict)  # DAG's stage key -> functions

    def sandboxes(self) -> int:
        return max(sum(self.running.values()), sum(self.expected.values()))


def pool_target(jobs: Mapping[str, JobDemand], max_workers: int, min_idle: int = 0) -> int:
    """Sandboxes to keep live: each job's max(running, expected), summed over concurrent
    jobs, at least ``min_idle``, at most ``max_workers``. Pure, for tests and the bench."""
    want = sum(job.sandboxes() for job in jobs.values())
    return max(0, min(max_workers, max(want, min_idle)))


class WarmPoolManager:
    """Pre-warms sandboxes for expected stages. Thread-safe; call it from any job's thread."""

    def __init__(
        self,
        platform: Any,
        sizing: FaasSchedulerBackend | None = None,
        enabled: bool = True,
    ) -> None:
        self.platform = platform
        self.sizing = sizing
        self.enabled = enabled and callable(getattr(platform, "prewarm", None))
        self.max_workers = int(getattr(platform, "max_workers", 0) or 0) or 1
        self.min_idle = int(getattr(platform, "min_idle", 0) or 0)
        self._lock = threading.Lock()
        self._jobs: dict[str, JobDemand] = {}
        self.prewarm_requests = 0
        self.last_target = 0

    @classmethod
    def from_conf(
        cls, platform: Any, conf: Mapping[str, Any], sizing: FaasSchedulerBackend | None = None
    ) -> WarmPoolManager:
        enabled = str(conf.get(ENABLED, "true")).strip().lower() != "false"
        return cls(platform, sizing, enabled)

    # -- what the DAG scheduler calls --------------------------------------------------

    def expect(self, job_id: str, key: Any, num_tasks: int, input_bytes: int | None = None) -> int:
        """Stage ``key`` of ``job_id`` will be submitted soon with ``num_tasks`` tasks: start
        its sandboxes now (without waiting for them). Returns the pool size asked for."""
        functions = self._functions(num_tasks, input_bytes)
        with self._lock:
            self._jobs.setdefault(job_id, JobDemand()).expected[key] = functions
            target = self._target()
        return self._apply(target)

    # -- what the listener bus delivers ------------------------------------------------

    def __call__(self, event: ev.Event) -> None:
        with self._lock:
            if isinstance(event, ev.StageSubmitted):
                job = self._jobs.setdefault(event.job_id, JobDemand())
                functions = self._functions(event.num_tasks, None)
                job.running[event.stage_id] = functions
                for key, expected in job.expected.items():
                    if expected == functions:
                        del job.expected[key]
                        break
            elif isinstance(event, ev.StageCompleted):
                job = self._jobs.get(event.job_id)
                if job is not None:
                    job.running.pop(event.stage_id, None)
            elif isinstance(event, ev.JobEnd):
                self._jobs.pop(event.job_id, None)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "enabled": self.enabled,
                "target": self._target(),
                "prewarm_requests": self.prewarm_requests,
                "jobs": len(self._jobs),
            }

    # -- internals ---------------------------------------------------------------------

    def _functions(self, num_tasks: int, input_bytes: int | None) -> int:
        if self.sizing is not None:
            return self.sizing.plan(num_tasks, input_bytes).functions
        return max(0, min(num_tasks, self.max_workers))

    def _target(self) -> int:
        return pool_target(self._jobs, self.max_workers, self.min_idle)

    def _apply(self, target: int) -> int:
        """Ask the platform for ``target`` live sandboxes; it never shrinks on a prewarm
        (idle ones age out by its TTL), so a lower target needs no call."""
        with self._lock:
            self.last_target = target
            if not self.enabled or target <= 0:
                return target
            self.prewarm_requests += 1
        self.platform.prewarm(target, timeout=0)
        return target
