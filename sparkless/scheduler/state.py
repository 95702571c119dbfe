"""The DAG scheduler's decisions as a state machine: events in, actions out.

Written down as data in the manner of dask.distributed's worker state machine, so
every rule — stage readiness, retries up to ``spark.task.maxFailures``, fetch
failures that recompute exactly the lost map outputs, speculative copies of
stragglers, first attempt wins — is unit-tested without processes. The runner
(``dag.py``) turns actions into function invocations and results back into events.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

RESULT = -1  # key of the result stage; map stages are keyed by their shuffle id


# ---- actions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SubmitStage:
    """Materialise the stage's tasks (their count may depend on parents' outputs)."""

    stage: int


@dataclass(frozen=True)
class LaunchTask:
    stage: int
    partition: int
    attempt: int
    speculative: bool = False


@dataclass(frozen=True)
class StageCompleted:
    stage: int


@dataclass(frozen=True)
class JobSucceeded:
    pass


@dataclass(frozen=True)
class JobFailed:
    error: dict[str, Any]
    reason: str


Action = SubmitStage | LaunchTask | StageCompleted | JobSucceeded | JobFailed


# ---- settings --------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """Spark's settings for retries and speculation, read from a job's conf."""

    max_failures: int = 4
    max_fetch_failures: int = 4  # per stage (spark.stage.maxConsecutiveAttempts)
    speculation: bool = False
    speculation_multiplier: float = 1.5
    speculation_quantile: float = 0.75
    speculation_min_runtime: float = 0.1  # seconds

    @classmethod
    def from_conf(cls, conf: Mapping[str, str]) -> Policy:
        from sparkless.conf import parse_duration

        return cls(
            max_failures=max(1, int(conf.get("spark.task.maxFailures", "4"))),
            max_fetch_failures=max(1, int(conf.get("spark.stage.maxConsecutiveAttempts", "4"))),
            speculation=conf.get("spark.speculation", "false").lower() == "true",
            speculation_multiplier=float(conf.get("spark.speculation.multiplier", "1.5")),
            speculation_quantile=float(conf.get("spark.speculation.quantile", "0.75")),
            speculation_min_runtime=parse_duration(
                conf.get("spark.speculation.minTaskRuntime", "100ms")
            ),
        )


# ---- state -----------------------------------------------------------------------------


@dataclass
class Stage:
    key: int
    deps: frozenset[int]
    requested: bool = False  # SubmitStage sent, task count not known yet
    submitted: bool = False
    num_tasks: int = 0
    outputs: dict[int, dict[str, Any]] = field(default_factory=dict)  # the accepted attempts
    next_attempt: dict[int, int] = field(default_factory=dict)
    failures: dict[int, int] = field(default_factory=dict)
    running: dict[tuple[int, int], float] = field(default_factory=dict)  # (partition, attempt) → start
    speculated: set[int] = field(default_factory=set)
    durations: list[float] = field(default_factory=list)
    fetch_failures: int = 0
    waiting: list[int] = field(default_factory=list)  # partitions not launched yet (over the limit)
    limit: int | None = None  # functions this stage may hold at once (the backend's plan)

    @property
    def complete(self) -> bool:
        return self.submitted and len(self.outputs) == self.num_tasks


@dataclass
class Counters:
    tasks: int = 0
    failed_attempts: int = 0
    speculative_tasks: int = 0
    fetch_failures: int = 0
    recomputed_map_tasks: int = 0
    duplicate_results_ignored: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


class JobState:
    def __init__(self, deps: Mapping[int, set[int]], policy: Policy) -> None:
        """``deps``: stage key → the map stages (shuffle ids) it reads."""
        self.stages = {k: Stage(k, frozenset(d)) for k, d in deps.items()}
        self.policy = policy
        self.counters = Counters()
        self.blocked: list[tuple[int, int]] = []  # (stage, partition) waiting for recomputed inputs
        self.finished = False

    # ---- queries -----------------------------------------------------------------

    def output(self, stage: int, partition: int) -> dict[str, Any] | None:
        return self.stages[stage].outputs.get(partition)

    def is_ready(self, key: int) -> bool:
        return all(self.stages[d].complete for d in self.stages[key].deps)

    # ---- events ------------------------------------------------------------------

    def start(self) -> list[Action]:
        return self._submit_ready()

    def stage_submitted(
        self, key: int, num_tasks: int, now: float, limit: int | None = None
    ) -> list[Action]:
        """Launch the stage's tasks, at most ``limit`` at once (the backend's plan)."""
        stage = self.stages[key]
        stage.submitted, stage.num_tasks, stage.limit = True, num_tasks, limit
        stage.waiting = list(range(num_tasks))
        actions: list[Action] = self._refill(stage, now)
        if num_tasks == 0:
            actions += self._stage_done(stage, now)
        return actions

    def set_limit(self, key: int, limit: int, now: float) -> list[Action]:
        """The backend resized a running stage: launch more, or let running ones drain."""
        stage = self.stages[key]
        stage.limit = max(1, limit)
        return self._refill(stage, now)

    def pending(self, key: int) -> int:
        return len(self.stages[key].waiting)

    def _refill(self, stage: Stage, now: float) -> list[Action]:
        actions: list[Action] = []
        while stage.waiting and (stage.limit is None or len(stage.running) < stage.limit):
            actions.append(self._launch(stage, stage.waiting.pop(0), now))
        return actions

    def task_succeeded(
        self, key: int, partition: int, attempt: int, output: dict[str, Any], now: float
    ) -> list[Action]:
        stage = self.stages[key]
        started = stage.running.pop((partition, attempt), now)
        if partition in stage.outputs or self.finished:
            self.counters.duplicate_results_ignored += 1
            return []  # a slower copy: the first accepted attempt wins, this one is never read
        stage.outputs[partition] = output
        stage.durations.append(now - started)
        return self._stage_done(stage, now) if stage.complete else self._refill(stage, now)

    def task_failed(
        self, key: int, partition: int, attempt: int, error: dict[str, Any], now: float
    ) -> list[Action]:
        stage = self.stages[key]
        stage.running.pop((partition, attempt), None)
        if partition in stage.outputs or self.finished:
            return []  # another attempt already succeeded
        self.counters.failed_attempts += 1
        stage.failures[partition] = stage.failures.get(partition, 0) + 1
        if stage.failures[partition] >= self.policy.max_failures:
            self.finished = True
            return [
                JobFailed(
                    error,
                    f"Task {partition} in stage {key} failed {stage.failures[partition]} times",
                )
            ]
        if any(p == partition for p, _ in stage.running):
            return []  # a speculative copy is still running; let it finish
        return [self._launch(stage, partition, now)]

    def fetch_failed(
        self, key: int, partition: int, attempt: int, map_key: int, map_partition: int, now: float
    ) -> list[Action]:
        """A reader lost a map output: recompute exactly that map task, then retry the reader."""
        stage = self.stages[key]
        stage.running.pop((partition, attempt), None)
        if partition in stage.outputs or self.finished:
            return []
        self.counters.fetch_failures += 1
        stage.fetch_failures += 1
        if stage.fetch_failures > self.policy.max_fetch_failures * max(1, stage.num_tasks):
            self.finished = True
            return [JobFailed({"message": "too many fetch failures"}, f"stage {key} kept failing to fetch")]
        if (key, partition) not in self.blocked:
            self.blocked.append((key, partition))
        producer = self.stages[map_key]
        if map_partition not in producer.outputs:
            return []  # already being recomputed
        del producer.outputs[map_partition]
        self.counters.recomputed_map_tasks += 1
        return [self._launch(producer, map_partition, now)]

    def tick(self, now: float) -> list[Action]:
        """Speculation: copy attempts running far longer than their stage's median."""
        if not self.policy.speculation or self.finished:
            return []
        actions: list[Action] = []
        for stage in self.stages.values():
            if not stage.submitted or stage.complete or not stage.durations:
                continue
            if len(stage.outputs) < self.policy.speculation_quantile * stage.num_tasks:
                continue
            threshold = max(
                self.policy.speculation_multiplier * statistics.median(stage.durations),
                self.policy.speculation_min_runtime,
            )
            for (partition, _), started in list(stage.running.items()):
                if partition in stage.outputs or partition in stage.speculated:
                    continue
                if now - started > threshold:
                    stage.speculated.add(partition)
                    self.counters.speculative_tasks += 1
                    actions.append(self._launch(stage, partition, now, speculative=True))
        return actions

    # ---- internals ---------------------------------------------------------------

    def _launch(self, stage: Stage, partition: int, now: float, speculative: bool = False) -> LaunchTask:
        attempt = stage.next_attempt.get(partition, 0)
        stage.next_attempt[partition] = attempt + 1
        stage.running[(partition, attempt)] = now
        self.counters.tasks += 1
        return LaunchTask(stage.key, partition, attempt, speculative)

    def _stage_done(self, stage: Stage, now: float) -> list[Action]:
        actions: list[Action] = [StageCompleted(stage.key)]
        if stage.key == RESULT:
            self.finished = True
            return [*actions, JobSucceeded()]
        # Readers held back by a fetch failure may go again once their inputs are whole.
        for key, partition in list(self.blocked):
            if self.is_ready(key):
                self.blocked.remove((key, partition))
                actions.append(self._launch(self.stages[key], partition, now))
        return actions + self._submit_ready()

    def _submit_ready(self) -> list[Action]:
        out: list[Action] = []
        for key in sorted(self.stages, key=lambda k: (k == RESULT, k)):
            stage = self.stages[key]
            if not stage.requested and self.is_ready(key):
                stage.requested = True
                out.append(SubmitStage(key))
        return out
