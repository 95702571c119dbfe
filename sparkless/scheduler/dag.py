"""Run a physical plan: stages in dependency order, tasks as function invocations.

The DAG scheduler keeps Spark's vocabulary: a ShuffleMapStage per shuffle, one
ResultStage; a stage is submitted once all the shuffles it reads are complete, so
independent stages (the two sides of a join) run at the same time. Task attempts
write under their own attempt prefix; the driver records only the attempt it
accepts (its MapStatus or result key), so a late duplicate is never read.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field, replace
from typing import Any

import pyarrow as pa

from shuffle.arrow_io import ipc_to_table, schema_to_b64, table_to_ipc
from sparkless.errors import SparkError, from_task_error
from sparkless.physical.planner import (
    BlockRead,
    BroadcastRead,
    Fixed,
    Frag,
    Group,
    PhysicalPlan,
    Shuffled,
    ShuffleRead,
    stage_deps,
)
from sparkless.scheduler import listener as ev
from sparkless.scheduler.store_policy import StorePolicy
from storage import open_store
from storage.base import BlockStore

RESULT = -1  # stage key of the result stage


@dataclass
class TaskSpec:
    stage: int  # shuffle id of a map stage, or RESULT
    partition: int
    frag: Frag
    reduce_range: tuple[int, int] | None = None
    attempt: int = 0
    failures: int = 0


@dataclass
class StageState:
    key: int
    stage_id: int
    groups: list[Group]
    tasks: list[TaskSpec] = field(default_factory=list)
    done: dict[int, dict[str, Any]] = field(default_factory=dict)  # partition -> accepted output
    started: float = 0.0


class JobFailed(SparkError):
    pass


class DAGScheduler:
    def __init__(
        self,
        phys: PhysicalPlan,
        *,
        platform: Any,
        store: BlockStore,
        store_uri: str,
        conf: dict[str, str],
        bus: ev.ListenerBus,
        result_output: dict[str, Any] | None = None,
        description: str = "",
        output_for: Callable[[int, int], dict[str, Any]] | None = None,
    ) -> None:
        self.phys = phys
        self.platform = platform
        self.store = store
        self.store_uri = store_uri
        self.conf = conf
        self.bus = bus
        self.job_id = f"job-{uuid.uuid4().hex[:12]}"
        self.description = description
        self.max_failures = max(1, int(conf.get("spark.task.maxFailures", "4")))
        self.output_for = output_for or (lambda _p, _a: {"kind": "result"})
        self.stages: dict[int, StageState] = {}
        self._next_stage_id = 0
        self.metrics: dict[str, float] = {"tasks": 0, "failed_attempts": 0, "stages": 0}
        self._attempts: dict[tuple[int, int], int] = {}
        self._running: dict[Future, tuple[StageState, TaskSpec]] = {}
        policy = StorePolicy(store_uri, conf)
        self.shuffle_store = {
            sid: policy.for_shuffle(dep.estimated_bytes) for sid, dep in phys.shuffles.items()
        }
        self.stage_metrics: dict[int, dict[str, float]] = {}

    # ---- public ------------------------------------------------------------------

    def run(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """Run the job; yield (partition, output) of the result stage in partition order."""
        started = time.perf_counter()
        ok = False
        self.bus.post(ev.JobStart(self.job_id, self.description, len(self.phys.shuffles) + 1))
        try:
            for block in self.phys.blocks:
                self.store.put(self._block_key(block), table_to_ipc(block.table, None))
            try:
                yield from self._run_stages()
            finally:
                self._drain()
            ok = True
        finally:
            self.bus.post(
                ev.JobEnd(self.job_id, ok, time.perf_counter() - started, dict(self.metrics))
            )

    def results(self) -> Iterator[pa.Table]:
        """The result rows, one partition at a time, in order (never the whole dataset)."""
        try:
            for _, out in self.run():
                yield ipc_to_table(self.store.get(out["key"]))
        finally:
            self.cleanup()

    def cleanup(self) -> None:
        """Delete every block of the job, in every store it used."""
        for uri in {self.store_uri, *self.shuffle_store.values()}:
            try:
                store = self.store if uri == self.store_uri else open_store(uri, self.conf)
                store.delete_prefix(self.job_id + "/")
            except Exception:  # noqa: BLE001 - cleanup must not mask the job's outcome
                pass

    # ---- stages ------------------------------------------------------------------

    def _block_key(self, block: BlockRead) -> str:
        return f"{self.job_id}/{block.key}"

    def _deps(self, groups: list[Group]) -> set[int]:
        return stage_deps(groups)

    def _run_stages(self) -> Iterator[tuple[int, dict[str, Any]]]:
        waiting: dict[int, list[Group]] = {
            sid: dep.parts for sid, dep in self.phys.shuffles.items()
        }
        waiting[RESULT] = self.phys.result
        complete: set[int] = set()
        running = self._running
        # Tasks held back until lost map outputs they read are recomputed.
        blocked: list[tuple[StageState, TaskSpec]] = []
        next_result = 0
        while True:
            for key in sorted(list(waiting), key=lambda k: (k == RESULT, k)):
                if self._deps(waiting[key]) <= complete:
                    stage = self._submit_stage(key, waiting.pop(key))
                    for task in stage.tasks:
                        running[self._launch(stage, task)] = (stage, task)
                    if not stage.tasks:
                        self._finish_stage(stage, complete)
            for item in [b for b in blocked if self._deps(b[0].groups) <= complete]:
                blocked.remove(item)
                running[self._launch(*item)] = item
            if RESULT in self.stages:
                rs = self.stages[RESULT]
                while next_result in rs.done:
                    yield next_result, rs.done[next_result]
                    next_result += 1
                if next_result == len(rs.tasks):
                    return
            if not running:
                if waiting or blocked:
                    raise JobFailed("Internal error: stages wait on shuffles nobody computes.")
                continue
            finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for fut in finished:
                stage, task = running.pop(fut)
                outcome = self._outcome(fut)
                if outcome.get("status") == "ok":
                    self._task_ok(stage, task, outcome)
                    if len(stage.done) == len(stage.tasks):
                        self._finish_stage(stage, complete)
                    continue
                lost = self._lost_map_output(outcome)
                if lost is not None:
                    map_stage, map_task = lost
                    self._on_fetch_failure(stage, task, map_stage, map_task, complete)
                    running[self._launch(map_stage, map_task)] = (map_stage, map_task)
                    blocked.append((stage, replace(task, attempt=task.attempt + 1)))
                    continue
                retry = self._task_failed(stage, task, outcome)
                running[self._launch(stage, retry)] = (stage, retry)

    def _drain(self, timeout: float = 120.0) -> None:
        """A job that ends early (failure, interrupt) first stops its tasks: queued ones are
        cancelled, running ones finish, so none writes to the store after cleanup."""
        pending = list(self._running)
        for fut in pending:
            fut.cancel()
        wait([f for f in pending if not f.cancelled()], timeout=timeout)
        self._running.clear()

    def _lost_map_output(self, outcome: dict[str, Any]) -> tuple[StageState, TaskSpec] | None:
        """For a fetch failure: the map stage and a new attempt of the task whose output is lost."""
        key = (outcome.get("error", {}).get("fetch_failed") or {}).get("key")
        if key is None:
            return None
        for stage in self.stages.values():
            for partition, out in stage.done.items():
                if out.get("key") == key:
                    original = stage.tasks[partition]
                    attempt = max(original.attempt, self._attempts.get((stage.key, partition), 0)) + 1
                    self._attempts[(stage.key, partition)] = attempt
                    return stage, replace(original, attempt=attempt)
        return None

    def _on_fetch_failure(
        self, stage: StageState, task: TaskSpec, map_stage: StageState, map_task: TaskSpec,
        complete: set[int],
    ) -> None:
        """Spark's FetchFailed: unregister the lost output, recompute it, then retry the reader."""
        self.metrics["fetch_failures"] = self.metrics.get("fetch_failures", 0) + 1
        self.metrics["recomputed_map_tasks"] = self.metrics.get("recomputed_map_tasks", 0) + 1
        if self.metrics["fetch_failures"] > 4 * max(1, len(self.stages)):
            raise JobFailed(
                f"Job aborted: stage {stage.stage_id} failed to fetch shuffle output too many times."
            )
        map_stage.done.pop(map_task.partition, None)
        complete.discard(map_stage.key)
        self.bus.post(
            ev.TaskEnd(self.job_id, stage.stage_id, task.partition, task.attempt, False, 0.0,
                       error="fetch failed: recomputing lost map output")
        )

    def _submit_stage(self, key: int, groups: list[Group]) -> StageState:
        stage = StageState(key, self._next_stage_id, groups, started=time.perf_counter())
        self._next_stage_id += 1
        stage.tasks = self._materialize(key, groups)
        self.stages[key] = stage
        self.metrics["stages"] += 1
        name = (
            f"ResultStage {stage.stage_id}"
            if key == RESULT
            else f"ShuffleMapStage {stage.stage_id} ({self.phys.shuffles[key].description})"
        )
        self.bus.post(ev.StageSubmitted(self.job_id, stage.stage_id, len(stage.tasks), name))
        return stage

    def _finish_stage(self, stage: StageState, complete: set[int]) -> None:
        if stage.key != RESULT:
            complete.add(stage.key)
        self.bus.post(
            ev.StageCompleted(
                self.job_id, stage.stage_id, len(stage.tasks), time.perf_counter() - stage.started
            )
        )

    def _materialize(self, key: int, groups: list[Group]) -> list[TaskSpec]:
        tasks: list[TaskSpec] = []
        for g in groups:
            if isinstance(g, Fixed):
                for f in g.frags:
                    tasks.append(TaskSpec(key, len(tasks), f))
            else:
                for lo, hi in self._coalesce(g):
                    tasks.append(TaskSpec(key, len(tasks), g.frag, (lo, hi)))
        return tasks

    def _coalesce(self, g: Shuffled) -> list[tuple[int, int]]:
        """Adjacent reduce partitions merged to the advisory size (Spark AQE's coalescing)."""
        n = g.num_partitions
        adaptive = (
            self.conf.get("spark.sql.adaptive.enabled", "true").lower() == "true"
            and self.conf.get("spark.sql.adaptive.coalescePartitions.enabled", "true").lower()
            == "true"
        )
        if n <= 1 or not adaptive or not g.adaptive:
            return [(r, r + 1) for r in range(n)]
        sizes = [0] * n
        for sid in g.shuffle_ids:
            for out in self.stages[sid].done.values():
                for r, length in enumerate(out["partition_lengths"]):
                    sizes[r] += length
        from sparkless.conf import parse_bytes

        advisory = parse_bytes(
            self.conf.get("spark.sql.adaptive.advisoryPartitionSizeInBytes", "64m")
        )
        parallelism = max(1, int(self.conf.get("spark.sparkless.defaultParallelism", "2")))
        target = min(advisory, max(sum(sizes) // parallelism, 1 << 20))
        ranges: list[tuple[int, int]] = []
        lo, acc = 0, 0
        for r in range(n):
            if r > lo and acc + sizes[r] > target:
                ranges.append((lo, r))
                lo, acc = r, 0
            acc += sizes[r]
        ranges.append((lo, n))
        return ranges

    # ---- tasks -------------------------------------------------------------------

    def _inputs(self, task: TaskSpec) -> list[dict[str, Any]]:
        specs: list[dict[str, Any]] = []
        for inp in task.frag.inputs:
            if isinstance(inp, BlockRead):
                specs.append(
                    {
                        "name": inp.name,
                        "kind": "block",
                        "key": self._block_key(inp),
                        "schema": schema_to_b64(inp.table.schema),
                    }
                )
            elif isinstance(inp, (ShuffleRead, BroadcastRead)):
                lo, hi = task.reduce_range if isinstance(inp, ShuffleRead) else (0, 1)
                assert lo is not None
                dep = self.phys.shuffles[inp.shuffle_id]
                blocks = []
                maps = self.stages[inp.shuffle_id].done
                for m in sorted(maps):
                    out = maps[m]
                    for r in range(lo, hi):
                        length = out["partition_lengths"][r]
                        if length:
                            blocks.append(
                                {
                                    "key": out["key"],
                                    "offset": out["partition_offsets"][r],
                                    "length": length,
                                }
                            )
                spec = {
                    "name": inp.name,
                    "kind": "shuffle",
                    "schema": schema_to_b64(dep.schema),
                    "blocks": blocks,
                    "store": self.shuffle_store[inp.shuffle_id],
                }
                if isinstance(inp, BroadcastRead):
                    spec["cache"] = True  # a warm function keeps a broadcast it has read
                specs.append(spec)
        return specs

    def _launch(self, stage: StageState, task: TaskSpec) -> Future:
        sql = task.frag.sql
        if stage.key == RESULT:
            output = self.output_for(task.partition, task.attempt)
            if output["kind"] == "files":  # files carry the user's column names
                renames = ", ".join(
                    f'{a.col} AS "{a.name.replace(chr(34), chr(34) * 2)}"' for a in self.phys.output
                )
                sql = f"SELECT {renames} FROM ({sql}) AS t"
        else:
            dep = self.phys.shuffles[stage.key]
            output = {
                "kind": "shuffle",
                "shuffle_id": dep.shuffle_id,
                "map_id": task.partition,
                "num_partitions": dep.num_partitions,
                "partitioning": dep.partitioning,
                "store": self.shuffle_store[dep.shuffle_id],
            }
        event = {
            "job_id": self.job_id,
            "stage_id": stage.stage_id,
            "partition": task.partition,
            "attempt": task.attempt,
            "store": self.store_uri,
            "sql": sql,
            "inputs": self._inputs(task),
            "output": output,
            "conf": self.conf,
        }
        self.metrics["tasks"] += 1
        return self.platform.invoke(event)

    @staticmethod
    def _outcome(fut: Future) -> dict[str, Any]:
        try:
            return fut.result()
        except Exception as e:  # noqa: BLE001 - a lost function is a failed attempt
            return {
                "status": "error",
                "error": {"exception": "org.apache.spark.SparkException", "message": str(e)},
                "lost": True,
            }

    def _task_ok(self, stage: StageState, task: TaskSpec, outcome: dict[str, Any]) -> None:
        if task.partition in stage.done:
            return  # a duplicate attempt: the first accepted one wins
        stage.done[task.partition] = outcome["output"]
        metrics = outcome.get("metrics", {})
        self._add_store_metrics(stage.stage_id, metrics.get("store", {}))
        self.bus.post(
            ev.TaskEnd(
                self.job_id,
                stage.stage_id,
                task.partition,
                task.attempt,
                True,
                float(metrics.get("seconds", 0.0)),
                int(metrics.get("store", {}).get("bytes_read", 0)),
                int(outcome["output"].get("bytes", 0)),
            )
        )

    def _add_store_metrics(self, stage_id: int, store: dict[str, float]) -> None:
        """Store requests/bytes/seconds, summed per stage and per job (issue: per-store metrics)."""
        per_stage = self.stage_metrics.setdefault(stage_id, {})
        for k, v in store.items():
            per_stage[k] = per_stage.get(k, 0) + v
            self.metrics[f"store_{k}"] = self.metrics.get(f"store_{k}", 0) + v

    def _task_failed(self, stage: StageState, task: TaskSpec, outcome: dict[str, Any]) -> TaskSpec:
        error = outcome.get("error", {})
        self.metrics["failed_attempts"] += 1
        self.bus.post(
            ev.TaskEnd(
                self.job_id,
                stage.stage_id,
                task.partition,
                task.attempt,
                False,
                0.0,
                error=error.get("message"),
            )
        )
        failures = task.failures + 1
        if failures >= self.max_failures:
            exc = from_task_error(error)
            if outcome.get("lost"):
                exc = JobFailed(
                    f"Job aborted due to stage failure: Task {task.partition} in stage "
                    f"{stage.stage_id} failed {failures} times, most recent failure: {error.get('message')}"
                )
            raise exc
        return TaskSpec(
            task.stage, task.partition, task.frag, task.reduce_range, task.attempt + 1, failures
        )
