"""``sparkless bench startup``: how fast a sandbox starts, and how fast a warm one answers.

Prints p50/p99 of:

- cold start: a fresh interpreter to a ready handler (imports + DuckDB connection);
- fork-server start: a fork request to the zygote → the worker's hello (accepting tasks),
  and → its "warm" (handler initialised: DuckDB connection open);
- sandboxes created per second: a burst of fork requests until every worker is warm;
- warm reuse: a tiny real task (``SELECT 1`` → result object in a file store) on a warm worker;
- empty-task round trip: ``invoke`` → result with a handler that does nothing;
- stage start latency: a two-stage job (1 task, then 2), from the second stage's submit to
  its first task running, with the warm pool on (``WarmPoolManager.expect`` while stage 1
  runs) and off (no sandbox alive at submit; the zygote is up).

Bounded in time: about a minute by default, ~15 s with ``--quick``. Goals (issue 5) are
checked against p50 and printed as met or not; this is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection
from typing import Any

REAL = "executors.handler.handler"
TIMED = "sparkless.bench.handlers:timed"
EMPTY = "sparkless.bench.handlers:empty"


@dataclass
class Row:
    name: str
    p50_ms: float | None
    p99_ms: float | None
    n: int
    value: str = ""
    goal: str = ""
    met: bool | None = None


def _pct(samples: list[float], q: float) -> float:
    ms = sorted(s * 1000 for s in samples)
    return ms[min(len(ms) - 1, int(len(ms) * q))]


def row(name: str, samples: list[float], goal_ms: float | None = None) -> Row:
    p50 = statistics.median(samples) * 1000
    met = None if goal_ms is None else p50 < goal_ms
    goal = "" if goal_ms is None else f"p50 < {goal_ms:g} ms"
    return Row(name, p50, _pct(samples, 0.99), len(samples), goal=goal, met=met)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    return env


# -- measurements --------------------------------------------------------------------------


def cold_starts(n: int) -> list[float]:
    """A new interpreter per sandbox: imports, the handler module, its warm-up."""
    code = "from executors.handler import warm; warm(); print('ready', flush=True)"
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-c", code], stdout=subprocess.PIPE, env=_env(), text=True
        )
        assert proc.stdout is not None
        line = proc.stdout.readline()
        samples.append(time.perf_counter() - t0)
        proc.wait()
        if line.strip() != "ready":
            raise RuntimeError(f"cold start failed (exit {proc.returncode})")
    return samples


def _spawn(zygote: Any) -> Connection:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    zygote.spawn(theirs)
    theirs.close()
    return Connection(ours.detach())


def fork_starts(n: int) -> tuple[list[float], list[float]]:
    """Fork request → hello, and → warm, one worker at a time from a warmed zygote."""
    from executors.local.zygote import ZygoteClient

    zygote = ZygoteClient(REAL)
    hello, warm = [], []
    try:
        for i in range(n + 3):  # the first requests also wait for the zygote's own start
            t0 = time.perf_counter()
            conn = _spawn(zygote)
            json.loads(conn.recv_bytes())
            t1 = time.perf_counter()
            json.loads(conn.recv_bytes())
            t2 = time.perf_counter()
            conn.close()  # the worker exits on EOF
            if i >= 3:
                hello.append(t1 - t0)
                warm.append(t2 - t0)
    finally:
        zygote.stop()
    return hello, warm


def creation_rate(burst: int, rounds: int) -> list[float]:
    """Warm sandboxes per second: ``burst`` fork requests at once, until all are warm."""
    from executors.local.zygote import ZygoteClient

    zygote = ZygoteClient(REAL)
    rates = []
    try:
        _spawn(zygote).recv_bytes()  # wait for the zygote itself
        for _ in range(rounds):
            t0 = time.perf_counter()
            conns = [_spawn(zygote) for _ in range(burst)]
            for conn in conns:
                conn.recv_bytes()  # hello
                conn.recv_bytes()  # warm
            rates.append(burst / (time.perf_counter() - t0))
            for conn in conns:
                conn.close()
            time.sleep(0.2)  # let the last burst exit before the next one
    finally:
        zygote.stop()
    return rates


def round_trips(handler: str, event: dict[str, Any], n: int) -> list[float]:
    from executors.local.platform import LocalPlatform

    with LocalPlatform(max_workers=1, handler=handler) as platform:
        platform.prewarm(1, timeout=60)
        for _ in range(min(50, n)):
            platform.invoke(event).result()
        samples = []
        for _ in range(n):
            t0 = time.perf_counter()
            result = platform.invoke(event).result()
            samples.append(time.perf_counter() - t0)
            if result.get("status") != "ok":
                raise RuntimeError(f"benchmark task failed: {result}")
    return samples


def _task(store: str, stage: int, partition: int) -> dict[str, Any]:
    return {
        "job_id": "bench-startup",
        "stage_id": stage,
        "partition": partition,
        "attempt": 0,
        "store": f"file://{store}",
        "sql": "SELECT sum(i) AS s FROM range(10000) t(i)",
        "inputs": [],
        "output": {"kind": "result"},
        "conf": {},
    }


def stage_starts(trials: int, pool: bool, store: str) -> list[float]:
    """Two-stage job, ``trials`` times: stage 2's submit → its first task entering the handler.

    Pool on: the DAG's call, ``expect(job, key, 2)``, is made when stage 1 is submitted, and
    idle sandboxes are kept (TTL 60 s). Pool off: no keep-alive, and stage 2 is submitted
    only once no sandbox is alive, so it pays a fork-server start.
    """
    from executors.local.platform import LocalPlatform
    from sparkless.scheduler import listener as ev
    from sparkless.scheduler.warm_pool import WarmPoolManager

    platform = LocalPlatform(max_workers=2, idle_ttl_s=60.0, handler=TIMED)
    manager = WarmPoolManager(platform, enabled=pool)
    samples = []
    try:
        platform.prewarm(1, timeout=60)  # the zygote is up in both modes
        if not pool:
            platform.idle_ttl_s = 0.0  # no keep-alive: a sandbox ends as soon as it is idle
        for trial in range(trials + 1):
            job = f"bench-{trial}"
            manager(ev.StageSubmitted(job, 0, 1, "ShuffleMapStage 0"))
            first = platform.invoke(_task(store, 0, 0))
            manager.expect(job, key=-1, num_tasks=2)  # stage 2 reads stage 1: expected now
            first.result(60)
            manager(ev.StageCompleted(job, 0, 1, 0.0))
            if not pool:
                _wait_for(lambda: platform.stats()["live"] == 0)
            else:
                _wait_for(lambda: platform.stats()["warm"] >= 2)  # stage 1 is far longer here
            t0 = time.monotonic()
            manager(ev.StageSubmitted(job, 1, 2, "ResultStage 1"))
            futures = [platform.invoke(_task(store, 1, p)) for p in range(2)]
            results = [f.result(60) for f in futures]
            manager(ev.JobEnd(job, True, 0.0))
            entered = min(r["metrics"]["entered"] for r in results)
            if trial:  # the first trial also pays first-use costs
                samples.append(entered - t0)
    finally:
        platform.shutdown()
    return samples


def _wait_for(check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError("benchmark setup timed out")
        time.sleep(0.002)


# -- the command ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Sizes:
    cold: int
    forks: int
    burst: int
    rounds: int
    reuse: int
    empty: int
    trials: int


DEFAULT = Sizes(cold=12, forks=150, burst=40, rounds=3, reuse=1000, empty=2000, trials=30)
QUICK = Sizes(cold=3, forks=40, burst=16, rounds=2, reuse=200, empty=500, trials=8)


def run(sizes: Sizes, log: Callable[[str], None] = lambda _s: None) -> list[Row]:
    rows: list[Row] = []
    log("cold starts")
    rows.append(row("cold start (fresh interpreter → warm handler)", cold_starts(sizes.cold)))
    log("fork-server starts")
    hello, warm = fork_starts(sizes.forks)
    rows.append(row("fork-server start (fork → ready)", hello, goal_ms=30))
    rows.append(row("fork-server start (fork → warm: DuckDB open)", warm))
    log("creation rate")
    rates = creation_rate(sizes.burst, sizes.rounds)
    rows.append(
        Row(
            f"sandboxes created per second (burst of {sizes.burst}, warm)",
            None,
            None,
            len(rates),
            value=f"{statistics.median(rates):.0f}/s (min {min(rates):.0f}/s)",
        )
    )
    with tempfile.TemporaryDirectory(prefix="sparkless-bench-") as store:
        log("warm reuse")
        real = _task(store, 0, 0) | {"sql": "SELECT 1 AS x"}
        rows.append(row("warm reuse (tiny real task)", round_trips(REAL, real, sizes.reuse), 2))
        log("empty tasks")
        empty = {"job_id": "bench", "stage_id": 0, "partition": 0, "attempt": 0}
        rows.append(row("empty-task round trip", round_trips(EMPTY, empty, sizes.empty)))
        log("stage start, pool on")
        rows.append(row("stage start, warm pool on", stage_starts(sizes.trials, True, store), 20))
        log("stage start, pool off")
        rows.append(row("stage start, warm pool off", stage_starts(sizes.trials, False, store)))
    return rows


def table(rows: list[Row]) -> str:
    header = f"{'measure':<56} {'p50 ms':>8} {'p99 ms':>8} {'n':>5}  goal"
    lines = [header, "-" * len(header)]
    for r in rows:
        if r.p50_ms is None:
            lines.append(f"{r.name:<56} {r.value:>23}")
            continue
        verdict = "" if r.met is None else ("met" if r.met else "NOT met")
        goal = f"{r.goal} {verdict}".strip()
        lines.append(f"{r.name:<56} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f} {r.n:>5}  {goal}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    from sparkless.bench import add_bench_arguments

    parser = argparse.ArgumentParser(prog="sparkless bench")
    add_bench_arguments(parser)
    return parser


def main(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    sizes = QUICK if args.quick else DEFAULT
    print(
        f"sparkless bench startup: {os.cpu_count()} cpus, python {sys.version.split()[0]}"
        + (" (quick)" if args.quick else ""),
        file=sys.stderr,
        flush=True,
    )
    rows = run(sizes, lambda s: print(f"  … {s}", file=sys.stderr, flush=True))
    print(table(rows))
    print(f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    if args.json:
        with open(args.json, "w") as f:
            json.dump([asdict(r) for r in rows], f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main(build_parser().parse_args(["startup", *sys.argv[1:]])))
