"""Run a physical plan: stages in dependency order, tasks as function invocations.

The decisions (which stage runs when, retries, fetch-failure recomputation,
speculation) are the state machine in ``state.py``; this module is its runner: it
materialises a stage's tasks, turns LaunchTask actions into platform invocations and
their results back into events, streams the result stage in partition order, and
cleans up. Spark's vocabulary throughout: ShuffleMapStage per shuffle, one
ResultStage, task attempts that write under their own attempt prefix — the driver
reads only the attempt it accepts, so a late duplicate is never used.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
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
    PythonStep,
    Shuffled,
    ShuffleRead,
    stage_deps,
)
from sparkless.plan import python_udf
from sparkless.scheduler import listener as ev
from sparkless.scheduler import state as sm
from sparkless.scheduler.backend import FaasSchedulerBackend
from sparkless.scheduler.cleaner import BlockCleaner
from sparkless.scheduler.state import RESULT
from sparkless.scheduler.store_policy import StorePolicy
from sparkless.scheduler.warm_pool import WarmPoolManager
from storage import open_store
from storage.base import BlockStore, RangeRequest

SPECULATION_TICK_S = 0.05


def _read_once_shuffles(groups: dict[int, list[Group]]) -> set[int]:
    """Shuffles whose every slice has exactly one reader: read by one reduce-side input of
    one stage, never broadcast (every task reads a broadcast whole) nor reused (Spark's
    ReuseExchange gives one shuffle several readers)."""
    reads: dict[int, int] = {}
    excluded: set[int] = set()
    for parts in groups.values():
        for g in parts:
            for f in g.frags if isinstance(g, Fixed) else [g.frag]:
                for i in f.inputs:
                    if isinstance(i, BroadcastRead) or (isinstance(i, ShuffleRead) and isinstance(g, Fixed)):
                        excluded.add(i.shuffle_id)
                    elif isinstance(i, ShuffleRead):
                        reads[i.shuffle_id] = reads.get(i.shuffle_id, 0) + 1
    return {sid for sid, n in reads.items() if n == 1 and sid not in excluded}


@dataclass(frozen=True)
class TaskSpec:
    stage: int  # shuffle id of a map stage, or RESULT
    partition: int
    frag: Frag
    reduce_range: tuple[int, int] | None = None


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
        description: str = "",
        output_for: Callable[[int, int], dict[str, Any]] | None = None,
        sizing: FaasSchedulerBackend | None = None,
        warm_pool: WarmPoolManager | None = None,
        cleaner: BlockCleaner | None = None,
    ) -> None:
        self.phys = phys
        self.cleaner = cleaner
        self.platform = platform
        self.store = store
        self.store_uri = store_uri
        self.conf = conf
        self.bus = bus
        self.job_id = f"job-{uuid.uuid4().hex[:12]}"
        self.description = description
        self.output_for = output_for or (lambda _p, _a: {"kind": "result"})
        self.sizing = sizing
        self.warm_pool = warm_pool
        groups = {sid: dep.parts for sid, dep in phys.shuffles.items()}
        groups[RESULT] = phys.result
        self.groups = groups
        self.policy = sm.Policy.from_conf(conf)
        self.state = sm.JobState({k: stage_deps(g) for k, g in groups.items()}, self.policy)
        self.tasks: dict[int, list[TaskSpec]] = {}
        self.stage_ids: dict[int, int] = {}  # stage key -> Spark-style stage id (submission order)
        self.stage_started: dict[int, float] = {}
        self._running: dict[Future, tuple[int, int, int]] = {}
        self._lost: dict[str, tuple[int, int]] = {}  # block key -> (map stage, partition)
        policy = StorePolicy(store_uri, conf)
        self.shuffle_store = {
            sid: policy.for_shuffle(dep.estimated_bytes) for sid, dep in phys.shuffles.items()
        }
        self._stores: dict[str, BlockStore] = {store_uri: store}
        release = conf.get("spark.sparkless.shuffle.releaseConsumed", "true").lower() == "true"
        # only the result stage's inputs: a map stage's output may be lost and recomputed,
        # which reads its inputs again (Spark keeps every shuffle until the job ends)
        self._releasable = _read_once_shuffles(groups) & stage_deps(groups[RESULT]) if release else set()
        self.metrics: dict[str, float] = {}
        self.stage_metrics: dict[int, dict[str, float]] = {}

    # ---- public ------------------------------------------------------------------

    def run(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """Run the job; yield (partition, output) of the result stage in partition order."""
        started = time.perf_counter()
        ok = False
        self.bus.post(ev.JobStart(self.job_id, self.description, len(self.groups)))
        try:
            for block in self.phys.blocks:
                self.store.put(self._block_key(block), table_to_ipc(block.table, None))
            try:
                yield from self._run()
                ok = True
            finally:
                self._drain(wait_running=not ok)
        finally:
            self.metrics.update(self.state.counters.as_dict())
            self.metrics["stages"] = len(self.stage_ids)
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
        """Delete every block of the job, in every store it used: in the background when
        there is a cleaner (``sparkless.scheduler.cleaner``), else now."""
        if self.cleaner is not None:
            self.cleaner.submit(self._delete_blocks)
        else:
            self._delete_blocks()

    def _store_at(self, uri: str) -> BlockStore:
        """The job's store, or one opened once per other shuffle store it uses."""
        if uri not in self._stores:
            self._stores[uri] = open_store(uri, self.conf)
        return self._stores[uri]

    def _delete_blocks(self) -> None:
        for uri in {self.store_uri, *self.shuffle_store.values()}:
            try:
                self._store_at(uri).delete_prefix(self.job_id + "/")
            except Exception:  # noqa: BLE001 - cleanup must not mask the job's outcome
                pass

    # ---- the loop ----------------------------------------------------------------

    def _run(self) -> Iterator[tuple[int, dict[str, Any]]]:
        next_result = 0
        pending = self.state.start()
        while True:
            while pending:
                pending = self._apply(pending.pop(0)) + pending
            while (out := self.state.output(RESULT, next_result)) is not None:
                yield next_result, out
                next_result += 1
            result_stage = self.state.stages[RESULT]
            if result_stage.submitted and next_result >= result_stage.num_tasks:
                return
            if not self._running:
                raise JobFailed("Internal error: the job waits on tasks nobody runs.")
            timeout = SPECULATION_TICK_S if self.policy.speculation else None
            finished, _ = wait(list(self._running), timeout=timeout, return_when=FIRST_COMPLETED)
            now = time.perf_counter()
            for fut in finished:
                key, partition, attempt = self._running.pop(fut)
                pending += self._on_result(key, partition, attempt, self._outcome(fut), now)
            pending += self.state.tick(now)

    def _apply(self, action: sm.Action) -> list[sm.Action]:
        """Carry out one action; returns the actions it leads to."""
        now = time.perf_counter()
        if isinstance(action, sm.SubmitStage):
            tasks = self._materialize(action.stage)
            self.tasks[action.stage] = tasks
            self.stage_ids[action.stage] = len(self.stage_ids)
            self.stage_started[action.stage] = now
            self.bus.post(
                ev.StageSubmitted(self.job_id, self.stage_ids[action.stage], len(tasks), self._name(action.stage))
            )
            limit = None
            if self.sizing is not None:
                limit = self.sizing.plan(len(tasks), self._input_bytes(action.stage)).functions
            self._expect_children(action.stage)
            return self.state.stage_submitted(action.stage, len(tasks), now, limit)
        if isinstance(action, sm.LaunchTask):
            fut = self._launch(self.tasks[action.stage][action.partition], action.attempt)
            self._running[fut] = (action.stage, action.partition, action.attempt)
            return []
        if isinstance(action, sm.StageCompleted):
            self.bus.post(
                ev.StageCompleted(
                    self.job_id,
                    self.stage_ids[action.stage],
                    len(self.tasks[action.stage]),
                    now - self.stage_started[action.stage],
                )
            )
            return []
        if isinstance(action, sm.JobFailed):
            raise self._job_error(action)
        return []  # JobSucceeded: the loop sees the result stage complete

    def _on_result(
        self, key: int, partition: int, attempt: int, outcome: dict[str, Any], now: float
    ) -> list[sm.Action]:
        stage_id = self.stage_ids[key]
        metrics = outcome.get("metrics", {})
        if outcome.get("status") == "ok":
            first = self.state.output(key, partition) is None
            if first:
                self._add_store_metrics(stage_id, metrics.get("store", {}))
            self.bus.post(
                ev.TaskEnd(
                    self.job_id, stage_id, partition, attempt, True,
                    float(metrics.get("seconds", 0.0)),
                    int(metrics.get("store", {}).get("bytes_read", 0)),
                    int(outcome["output"].get("bytes", 0)),
                    metrics=metrics,
                )
            )
            if first and key == RESULT:
                self._release_inputs(self.tasks[key][partition])
            return self.state.task_succeeded(key, partition, attempt, outcome["output"], now) + self._resize(key, now)
        error = outcome.get("error", {})
        lost = self._lost_map_output(error)
        self.bus.post(
            ev.TaskEnd(
                self.job_id, stage_id, partition, attempt, False, 0.0,
                error=("fetch failed: recomputing lost map output" if lost else error.get("message")),
            )
        )
        if lost is not None:
            return self.state.fetch_failed(key, partition, attempt, *lost, now)
        if outcome.get("lost"):
            error = {**error, "lost": True}
        return self.state.task_failed(key, partition, attempt, error, now)

    def _lost_map_output(self, error: dict[str, Any]) -> tuple[int, int] | None:
        """(map stage, map partition) whose output a fetch failure says is gone."""
        key = (error.get("fetch_failed") or {}).get("key")
        if key is None:
            return None
        if key in self._lost:  # another reader already reported it
            return self._lost[key]
        for stage_key, stage in self.state.stages.items():
            for partition, out in stage.outputs.items():
                if out.get("key") == key:
                    self._lost[key] = (stage_key, partition)
                    return stage_key, partition
        return None

    def _job_error(self, action: sm.JobFailed) -> SparkError:
        error = action.error
        if error.get("lost"):
            return JobFailed(
                f"Job aborted due to stage failure: {action.reason}, most recent failure: "
                f"{error.get('message')}"
            )
        return from_task_error(error)

    def _drain(self, wait_running: bool, timeout: float = 120.0) -> None:
        """A job that ends early (failure, interrupt) first stops its tasks: queued ones are
        cancelled, running ones finish, so none writes to the store after cleanup.

        After success the only tasks left are speculative losers; waiting for them would
        give back what speculation won, so they are left to finish on their own (their
        attempt output may outlive cleanup: the S3 lifecycle rule in infra/ reaps it).
        """
        pending = list(self._running)
        for fut in pending:
            fut.cancel()
        if wait_running:
            wait([f for f in pending if not f.cancelled()], timeout=timeout)
        self._running.clear()

    # ---- elasticity --------------------------------------------------------------

    def _input_bytes(self, key: int) -> int | None:
        """Bytes a stage's tasks share out: what its reduce sides read from their shuffles.

        None (unknown here) when a task also reads what the driver has not measured: a file
        scan, blocks, a Python step. A broadcast never counts: every task reads it whole, so
        it says nothing about how many functions the stage is worth (counting it put a scan
        stage with a 1 MB broadcast on one function, its tasks one after the other).
        """
        groups = self.groups[key]
        if not groups or any(isinstance(g, Fixed) for g in groups):
            return None
        ids = {sid for g in groups for sid in g.shuffle_ids}
        return sum(
            sum(out.get("partition_lengths") or [out.get("bytes", 0)])
            for d in ids
            for out in self.state.stages[d].outputs.values()
        )

    def _resize(self, key: int, now: float) -> list[sm.Action]:
        """Grow or shrink a running stage by the backend's target (stragglers hold one each)."""
        stage = self.state.stages[key]
        if self.sizing is None or not stage.waiting:
            return []
        target = self.sizing.target(len(stage.running), len(stage.waiting), stage.durations)
        return self.state.set_limit(key, target, now)

    def _expect_children(self, key: int) -> None:
        """Pre-warm sandboxes for stages that will run once this one's outputs exist."""
        if self.warm_pool is None:
            return
        for child, stage in self.state.stages.items():
            if key in stage.deps and not stage.requested and all(
                self.state.stages[d].requested for d in stage.deps
            ):
                expected = 0
                for g in self.groups[child]:
                    expected += len(g.frags) if isinstance(g, Fixed) else g.num_partitions
                self.warm_pool.expect(self.job_id, child, expected)

    # ---- stages ------------------------------------------------------------------

    def _name(self, key: int) -> str:
        if key == RESULT:
            return f"ResultStage {self.stage_ids[key]}"
        return f"ShuffleMapStage {self.stage_ids[key]} ({self.phys.shuffles[key].description})"

    def _block_key(self, block: BlockRead) -> str:
        return f"{self.job_id}/{block.key}"

    def _materialize(self, key: int) -> list[TaskSpec]:
        tasks: list[TaskSpec] = []
        for g in self.groups[key]:
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
            for out in self.state.stages[sid].outputs.values():
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

    def _slices(self, shuffle_id: int, lo: int, hi: int) -> list[dict[str, Any]]:
        """The non-empty slices of reduce partitions [lo, hi) in the accepted map outputs."""
        blocks = []
        maps = self.state.stages[shuffle_id].outputs
        for m in sorted(maps):
            out = maps[m]
            for r in range(lo, hi):
                length = out["partition_lengths"][r]
                if length:
                    blocks.append(
                        {"key": out["key"], "offset": out["partition_offsets"][r], "length": length}
                    )
        return blocks

    def _release_inputs(self, task: TaskSpec) -> None:
        """Free the shuffle slices an accepted result task read, where it is their only
        reader.

        Safe because each slice of such a shuffle belongs to one reduce partition, an
        accepted result partition is never run again (a late copy's outcome is ignored,
        and no later stage can lose it and ask for it again), and a lost map output is
        rewritten under a new key. Runs on the cleaner's thread when there is one, off
        the scheduling loop."""
        for inp in task.frag.inputs:
            if not isinstance(inp, ShuffleRead) or inp.shuffle_id not in self._releasable:
                continue
            assert task.reduce_range is not None  # only reduce-side reads are releasable
            store = self._store_at(self.shuffle_store[inp.shuffle_id])
            if type(store).discard_ranges is BlockStore.discard_ranges:
                continue  # this store frees whole objects only, at the job's cleanup
            slices = self._slices(inp.shuffle_id, *task.reduce_range)
            requests = [RangeRequest(b["key"], b["offset"], b["length"]) for b in slices]
            if self.cleaner is not None:
                self.cleaner.submit(lambda s=store, r=requests: s.discard_ranges(r))
            else:
                store.discard_ranges(requests)
            self.metrics["shuffle_bytes_released"] = self.metrics.get(
                "shuffle_bytes_released", 0
            ) + sum(r.length for r in requests)

    def _inputs(self, task: TaskSpec) -> list[dict[str, Any]]:
        """Task input specs: block slices of the accepted map outputs it reads."""
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
                blocks = self._slices(inp.shuffle_id, lo, hi)
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
            elif isinstance(inp, PythonStep):
                specs.append({"name": inp.name, "kind": "python", "sqls": inp.sqls, **inp.spec})
        return specs

    def _launch(self, task: TaskSpec, attempt: int) -> Future:
        from sparkless.plan.functions import PARTITION_ID_SQL

        sql = task.frag.sql.replace(PARTITION_ID_SQL, str(task.partition))  # spark_partition_id()
        if task.stage == RESULT:
            output = self.output_for(task.partition, attempt)
            if output["kind"] == "files":  # files carry the user's column names
                renames = ", ".join(
                    f'{a.col} AS "{a.name.replace(chr(34), chr(34) * 2)}"' for a in self.phys.output
                )
                sql = f"SELECT {renames} FROM ({sql}) AS t"
        else:
            dep = self.phys.shuffles[task.stage]
            partitioning = dep.partitioning
            if partitioning.get("kind") == "round_robin":  # each map task starts where Spark's does
                from sparkless.physical.round_robin import round_robin_start

                partitioning = {**partitioning, "start": round_robin_start(task.partition, dep.num_partitions)}
            output = {
                "kind": "shuffle",
                "shuffle_id": dep.shuffle_id,
                "map_id": task.partition,
                "num_partitions": dep.num_partitions,
                "partitioning": partitioning,
                "store": self.shuffle_store[dep.shuffle_id],
            }
        event = {
            "job_id": self.job_id,
            "stage_id": self.stage_ids[task.stage],
            "partition": task.partition,
            "attempt": attempt,
            "store": self.store_uri,
            "sql": sql,
            "inputs": self._inputs(task),
            "output": output,
            "conf": self.conf,
        }
        udfs = python_udf.specs_in(sql, *(q for i in event["inputs"] for q in i.get("sqls", ())))
        if udfs:
            event["udfs"] = udfs
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

    def _add_store_metrics(self, stage_id: int, store: dict[str, float]) -> None:
        """Store requests/bytes/seconds, summed per stage and per job."""
        per_stage = self.stage_metrics.setdefault(stage_id, {})
        for k, v in store.items():
            per_stage[k] = per_stage.get(k, 0) + v
            self.metrics[f"store_{k}"] = self.metrics.get(f"store_{k}", 0) + v
