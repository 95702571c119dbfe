"""The local function platform: tasks run in warm, reused worker processes on this machine.

Designed by the measured facts (ARCHITECTURE.md): an interpreter start costs ~0.25 s, a fork
from a warmed parent ~2 ms, a round trip to a running worker tens of µs. So no task ever
starts an interpreter or runs in the caller's process: a zygote (``zygote.py``) pays the
imports once and forks long-lived workers (``worker.py``) that loop over tasks; idle
workers are reaped after ``idle_ttl_s`` (scale to zero) and new ones forked on demand.

One I/O thread owns every socket: it dispatches queued tasks, reads results, notices deaths
(EOF) and deadlines, and reaps idle workers; ``invoke`` hands a task straight to an idle
worker when there is one. A worker that dies mid-task or overruns ``task_timeout_s`` (it is
then killed) fails that task's future with :class:`FunctionFailed`; the driver retries it.

Measured on this 2-core machine (``benchmarks/dispatch.py``; 2000 tasks, 200 starts):

- empty task, ``invoke`` → result on a warm worker: p50 0.25 ms, p99 0.40 ms
- tiny real task (``SELECT 1`` → result object in a file store): p50 1.5 ms, p99 2.3 ms
- worker start, fork request → worker ready: p50 39 ms, p99 58 ms from our zygote, when the
  worker opened its DuckDB connection before saying hello. The fork itself is ~4.5 ms to a
  running child (161 MB RSS parent); the rest is the DuckDB connection. Investigated
  (``sparkless bench startup``; DuckDB 2.0): ``connect()`` costs 20-30 ms in any process,
  ~37 ms as a fresh fork's first, whatever the config (``threads=1``, no extension
  autoload, no allocator background threads, memory limits: all within noise); perf shows
  it is the catalog's built-in function registration (ICU, JSON, Parquet are linked in),
  and it starts 8 threads even with ``threads=1``, so the zygote cannot fork with one open
  (a forked child's DuckDB would wait on threads it does not have). So a worker now says
  hello first (accepting tasks), then initialises the handler and says "warm": a task sent
  meanwhile waits in its socket, ``prewarm`` waits for warm workers, dispatch prefers warm
  ones, and the reaper never ends one still warming. Measured so on a loaded 2-core
  machine (load 2-7 from other work): fork → ready p50 16-18 ms, fork → warm p50 63 ms;
  a burst of 16-40 forks yields 11-22 warm sandboxes/s (each runs its own catalog set-up).
  What makes a stage start fast is therefore a pool that is warm before the stage needs it
  (``WarmPoolManager.expect``, ``min_idle``, ``prewarm``): stage start p50 0.3 ms warm vs
  ~75-107 ms with no sandbox alive.
- Python's ``forkserver`` start method with the same preload, same readiness: p50 430 ms,
  p99 1.2 s (multiprocessing's child bootstrap; preload failures there are silent) — so the
  own zygote is the faster choice by an order of magnitude.
- zygote start (new interpreter, imports, exercise): ~0.5–1 s, once per platform
"""

from __future__ import annotations

import atexit
import json
import math
import os
import socket
import threading
import time
import weakref
from collections import Counter, deque
from collections.abc import Mapping
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from executors.local.proc import describe_exit
from executors.local.worker import DEFAULT_HANDLER
from executors.local.zygote import ZygoteClient

EXIT_STATUS_GRACE_S = 1.0  # how long a death waits for the zygote to report the exit status
MAX_START_FAILURES = 3  # consecutive failed worker/zygote starts before queued tasks fail


class FunctionFailed(Exception):
    """The function never answered: it died or timed out. The driver retries the attempt."""


@dataclass(eq=False)
class _Job:
    future: Future
    payload: bytes
    label: str
    started: bool = False


@dataclass(eq=False)
class _Worker:
    conn: Connection
    prewarmed: bool
    since: float  # spawn time, then idle-since or dispatch time
    pid: int = 0
    state: str = "starting"  # starting → idle ⇄ busy
    warm: bool = False  # its handler's init is done (reported after hello, before any task)
    tasks: int = 0
    job: _Job | None = None
    deadline: float = math.inf


def _label(event: dict[str, Any]) -> str:
    keys = ("job_id", "stage_id", "partition", "attempt")
    if all(k in event for k in keys):
        return "task {}/stage {}/partition {}/attempt {}".format(*(event[k] for k in keys))
    return "task"


@dataclass
class _Pending:
    """Outcomes decided under the lock, delivered after it is released (callbacks may re-enter)."""

    results: list[tuple[Future, Any]] = field(default_factory=list)
    errors: list[tuple[Future, BaseException]] = field(default_factory=list)


class LocalPlatform:
    """Run task events in local worker processes. Thread-safe; a context manager."""

    def __init__(
        self,
        max_workers: int = os.cpu_count() or 1,
        idle_ttl_s: float = 60.0,
        min_idle: int = 0,
        task_timeout_s: float | None = None,
        handler: str = DEFAULT_HANDLER,
        max_idle: int | None = None,
    ) -> None:
        if max_workers < 1:
            raise ValueError(f"max_workers must be >= 1, got {max_workers}")
        max_idle = max_workers if max_idle is None else max_idle
        if min_idle < 0 or min_idle > max_workers:
            raise ValueError(f"min_idle must be in [0, max_workers], got {min_idle}")
        if not min_idle <= max_idle:
            raise ValueError(f"max_idle must be >= min_idle ({min_idle}), got {max_idle}")
        if task_timeout_s is not None and task_timeout_s <= 0:
            raise ValueError(f"task_timeout_s must be positive, got {task_timeout_s}")
        self.max_workers = max_workers
        self.idle_ttl_s = idle_ttl_s
        self.min_idle = min_idle
        self.max_idle = min(max_idle, max_workers)
        self.task_timeout_s = task_timeout_s
        self.handler = handler

        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._workers: set[_Worker] = set()
        self._idle: list[_Worker] = []  # a stack: reuse the warmest, let the oldest age out
        self._queue: deque[_Job] = deque()
        self._by_pid: dict[int, _Worker] = {}
        self._exit_status: dict[int, int] = {}  # reported before we saw the worker's EOF
        self._dying: dict[int, tuple[_Job, float]] = {}  # EOF seen, exit status awaited
        self._expected_exits: set[int] = set()
        self._prewarm_pending = 0
        self._start_failures = 0
        self._stats: Counter[str] = Counter()
        self._closing: list[Connection] = []  # closed by the I/O thread, never under its wait()
        self._pending = _Pending()
        self._zygote: ZygoteClient | None = None
        self._closed = False

        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._thread = threading.Thread(target=self._loop, name="sparkless-local", daemon=True)
        self._thread.start()
        _live.add(self)

    @classmethod
    def from_conf(cls, conf: Mapping[str, Any]) -> LocalPlatform:
        from executors.local.config import platform_kwargs

        return cls(**platform_kwargs(conf))

    # -- public API -------------------------------------------------------------------------

    def invoke(self, event: dict[str, Any]) -> Future:
        """Run ``event`` in a worker; the future holds the handler's result dict."""
        payload = json.dumps({"timeout_s": self.task_timeout_s, "event": event}).encode()
        job = _Job(Future(), payload, _label(event))
        with self._lock:
            if self._closed:
                raise RuntimeError("LocalPlatform is shut down")
            self._stats["invocations"] += 1
            if self._idle and not self._queue:
                self._dispatch(self._take_idle(), job)
            else:
                self._queue.append(job)
            self._wake()
        return job.future

    def prewarm(self, n: int, timeout: float | None = 30.0) -> int:
        """Start workers until ``n`` exist (at most ``max_workers``, and at most ``max_idle``
        beyond the busy ones); wait up to ``timeout`` (0: not at all) for them to be warm.
        Returns how many live workers are warm."""
        with self._lock:
            busy = sum(1 for w in self._workers if w.state == "busy")
            want = min(n, self.max_workers, busy + self.max_idle)
            self._prewarm_pending = max(self._prewarm_pending, want - len(self._workers))
            self._wake()
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while True:
                ready = sum(1 for w in self._workers if w.warm)
                left = None if deadline is None else deadline - time.monotonic()
                if ready >= want or self._closed or (left is not None and left <= 0):
                    return ready
                self._changed.wait(left)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            states = Counter(w.state for w in self._workers)
            return {
                **{
                    k: self._stats[k]
                    for k in (
                        "invocations",
                        "workers_started",
                        "cold_starts",
                        "prewarmed_starts",
                        "reuses",
                        "deaths",
                        "timeouts",
                        "reaped",
                        "trimmed",
                        "start_failures",
                        "zygote_starts",
                    )
                },
                "live": len(self._workers),
                "warm": sum(1 for w in self._workers if w.warm),
                "idle": states["idle"],
                "busy": states["busy"],
                "starting": states["starting"],
                "queued": len(self._queue),
                "worker_pids": sorted(self._by_pid),
                "zygote_pid": self._zygote.pid if self._zygote else None,
            }

    def shutdown(self, wait: bool = True) -> None:
        """Kill every worker and the zygote; unfinished tasks fail with FunctionFailed."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._fail_everything("the platform shut down before it finished")
            self._changed.notify_all()
            self._wake()
        self._deliver()
        if wait and threading.current_thread() is not self._thread:
            self._thread.join()
        _live.discard(self)

    def __enter__(self) -> LocalPlatform:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    # -- the I/O thread -----------------------------------------------------------------------

    def _loop(self) -> None:
        try:
            while True:
                with self._lock:
                    if self._closed:
                        return
                    now = time.monotonic()
                    self._schedule(now)
                    for conn in self._closing:  # hung up workers see EOF and exit
                        conn.close()
                    self._closing.clear()
                    timeout = self._next_timer(now)
                    waitables: list[Any] = [self._wake_r, *(w.conn for w in self._workers)]
                    if self._zygote is not None:
                        waitables.append(self._zygote)
                self._deliver()
                try:
                    ready = wait(waitables, timeout)
                except OSError:  # a handle closed under us; the next round rebuilds the set
                    continue
                with self._lock:
                    if self._closed:
                        return
                    for obj in ready:
                        if obj is self._wake_r:
                            self._drain_wake()
                        elif obj is self._zygote:
                            self._on_zygote()
                        elif isinstance(obj, Connection):
                            worker = self._worker_for(obj)
                            if worker is not None:
                                self._on_worker(worker)
                self._deliver()
        finally:
            self._teardown()

    def _worker_for(self, conn: Connection) -> _Worker | None:
        for w in self._workers:
            if w.conn is conn:
                return w
        return None  # already gone (timed out or reaped while we waited)

    def _schedule(self, now: float) -> None:
        """Everything time or queue driven: deadlines, deaths, dispatch, spawning, reaping."""
        for w in [w for w in self._workers if w.state == "busy" and w.deadline <= now]:
            self._stats["timeouts"] += 1
            job = w.job
            self._discard(w, kill=True)
            assert job is not None
            self._fail(job, f"timed out after {self.task_timeout_s} s; worker pid {w.pid} killed")
        for pid, (job, until) in list(self._dying.items()):
            if until <= now:
                del self._dying[pid]
                self._fail(job, f"worker pid {pid} died (exit status not reported)")
        while self._queue and self._idle:
            self._dispatch(self._take_idle(), self._queue.popleft())
        self._spawn_as_needed(now)
        while (  # a sandbox still warming is not idle yet: reaping it would waste its start
            len(self._idle) > self.min_idle
            and not self._queue
            and self._idle[0].warm
            and self._idle[0].since + self.idle_ttl_s <= now
        ):
            self._stats["reaped"] += 1
            self._discard(self._idle[0], kill=False)

    def _spawn_as_needed(self, now: float) -> None:
        starting = sum(1 for w in self._workers if w.state == "starting")
        demand = len(self._queue) + self.min_idle - len(self._idle) - starting
        count = min(max(demand, self._prewarm_pending), self.max_workers - len(self._workers))
        if count <= 0:
            return
        if self._start_failures >= MAX_START_FAILURES:
            for job in self._queue:
                self._fail(job, f"workers failed to start {self._start_failures} times in a row")
            self._queue.clear()
            self._prewarm_pending = 0
            self._start_failures = 0
            return
        if self._zygote is None:
            self._zygote = ZygoteClient(self.handler)  # from this long-lived thread: PDEATHSIG
            self._stats["zygote_starts"] += 1
        prewarmed = not self._queue
        for _ in range(count):
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                self._zygote.spawn(theirs)
            except OSError:
                ours.close()
                break  # the zygote is gone; its EOF is handled by the loop
            finally:
                theirs.close()
            self._workers.add(_Worker(Connection(ours.detach()), prewarmed, now))
            self._prewarm_pending = max(0, self._prewarm_pending - 1)

    def _next_timer(self, now: float) -> float | None:
        times = [w.deadline for w in self._workers if w.state == "busy"]
        times += [until for _, until in self._dying.values()]
        if len(self._idle) > self.min_idle and self._idle[0].warm:  # else its "warm" wakes us
            times.append(self._idle[0].since + self.idle_ttl_s)
        finite = [t for t in times if t != math.inf]
        return max(0.0, min(finite) - now) if finite else None

    def _take_idle(self) -> _Worker:
        """The most recently used warm idle worker; one still warming only if none is warm."""
        for i in range(len(self._idle) - 1, -1, -1):
            if self._idle[i].warm:
                return self._idle.pop(i)
        return self._idle.pop()

    def _dispatch(self, w: _Worker, job: _Job) -> None:
        """Send ``job`` to idle worker ``w``; if ``w`` turns out dead, requeue the job."""
        if not job.started:
            if not job.future.set_running_or_notify_cancel():
                self._idle.append(w)
                return  # cancelled while queued: nothing to run
            job.started = True
        try:
            w.conn.send_bytes(job.payload)
        except OSError:
            self._on_death(w)  # the idle worker had died; the job waits for another
            self._queue.appendleft(job)
            return
        if w.tasks:
            self._stats["reuses"] += 1
        else:
            self._stats["prewarmed_starts" if w.prewarmed else "cold_starts"] += 1
        now = time.monotonic()
        w.state, w.job, w.since = "busy", job, now
        w.deadline = now + self.task_timeout_s if self.task_timeout_s else math.inf

    def _on_worker(self, w: _Worker) -> None:
        try:
            message = json.loads(w.conn.recv_bytes())
        except (EOFError, OSError):
            self._on_death(w)
            return
        except ValueError:
            message = None
        if not isinstance(message, dict):
            self._discard(w, kill=True)  # not following the protocol
            if w.job is not None:
                self._fail(w.job, f"worker pid {w.pid} sent a malformed reply")
        elif w.state == "starting" and isinstance(message.get("hello"), int):
            w.pid = message["hello"]
            self._by_pid[w.pid] = w
            self._stats["workers_started"] += 1
            self._make_idle(w)
            self._changed.notify_all()
        elif w.state != "starting" and not w.warm and message.keys() == {"warm"}:
            w.warm = True
            self._start_failures = 0
            self._changed.notify_all()
        elif w.state == "busy" and w.job is not None:
            job = w.job
            w.tasks += 1
            self._make_idle(w)
            self._pending.results.append((job.future, message))
        else:  # a message nobody asked for: the worker is not following the protocol
            self._discard(w, kill=True)
            if w.job is not None:
                self._fail(w.job, f"worker pid {w.pid} sent an unexpected message")

    def _make_idle(self, w: _Worker) -> None:
        w.state, w.job, w.deadline, w.since = "idle", None, math.inf, time.monotonic()
        if self._queue:
            self._dispatch(w, self._queue.popleft())
        elif len(self._idle) >= self.max_idle:
            self._stats["trimmed"] += 1  # more idle sandboxes than allowed: end it now
            self._discard(w, kill=False)
        else:
            self._idle.append(w)

    def _on_death(self, w: _Worker) -> None:
        """EOF from a worker we did not end: it died (or never started)."""
        state, job, pid = w.state, w.job, w.pid
        self._remove(w)
        if state == "starting" or (not w.warm and not w.tasks and job is None):
            self._stats["start_failures"] += 1
            self._start_failures += 1
            self._changed.notify_all()
            return
        self._stats["deaths"] += 1
        if job is None:
            self._exit_status.pop(pid, None)
            return
        status = self._exit_status.pop(pid, None)
        if status is not None:
            self._fail(job, f"worker pid {pid} {describe_exit(status)}")
        else:  # the zygote's report is on its way
            self._dying[pid] = (job, time.monotonic() + EXIT_STATUS_GRACE_S)

    def _on_zygote(self) -> None:
        assert self._zygote is not None
        for kind, pid, status in self._zygote.receive():
            if kind == "exit":
                self._on_exit_report(pid, status)
            elif kind == "eof":
                self._on_zygote_gone()
                return

    def _on_exit_report(self, pid: int, status: int) -> None:
        if pid in self._expected_exits:
            self._expected_exits.discard(pid)
        elif pid in self._dying:
            job, _ = self._dying.pop(pid)
            self._fail(job, f"worker pid {pid} {describe_exit(status)}")
        elif pid in self._by_pid:
            self._exit_status[pid] = status  # its EOF will follow

    def _on_zygote_gone(self) -> None:
        """The zygote died: its workers die with it (PDEATHSIG); start afresh on demand."""
        zygote, self._zygote = self._zygote, None
        assert zygote is not None
        if not zygote.ready:
            self._start_failures += 1
        code = zygote.process.poll()
        for pid, (job, _) in list(self._dying.items()):
            self._fail(job, f"worker pid {pid} died with its zygote (zygote exit code {code})")
        self._dying.clear()
        self._expected_exits.clear()
        zygote.stop()

    def _discard(self, w: _Worker, kill: bool) -> None:
        """End a worker on purpose: hang up (it exits on EOF) and, if asked, SIGKILL it."""
        self._remove(w)
        if w.pid:
            self._expected_exits.add(w.pid)
            if kill and self._zygote is not None:
                self._zygote.kill(w.pid)

    def _remove(self, w: _Worker) -> None:
        self._workers.discard(w)
        if w in self._idle:
            self._idle.remove(w)
        self._by_pid.pop(w.pid, None)
        self._closing.append(w.conn)

    def _fail_everything(self, why: str) -> None:
        jobs = list(self._queue) + [w.job for w in self._workers if w.job]
        jobs += [job for job, _ in self._dying.values()]
        self._queue.clear()
        self._dying.clear()
        for job in jobs:
            self._fail(job, why)

    def _fail(self, job: _Job, why: str) -> None:
        self._pending.errors.append((job.future, FunctionFailed(f"{job.label}: function {why}")))

    def _deliver(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, _Pending()
        for future, result in pending.results:
            if not future.done():
                future.set_result(result)
        for future, exc in pending.errors:
            try:
                future.set_exception(exc)
            except InvalidStateError:
                pass  # cancelled by its caller meanwhile

    def _wake(self) -> None:
        """Interrupt the I/O thread's wait; call with the lock held (the pipe closes under it)."""
        if self._wake_w < 0:
            return
        try:
            os.write(self._wake_w, b"x")
        except BlockingIOError:
            pass  # a wake-up is already pending

    def _drain_wake(self) -> None:
        try:
            while os.read(self._wake_r, 4096):
                pass
        except BlockingIOError:
            pass

    def _teardown(self) -> None:
        with self._lock:
            self._closed = True
            self._fail_everything("the platform stopped before it finished")
            for w in list(self._workers):
                self._remove(w)
            for conn in self._closing:
                conn.close()
            self._closing.clear()
            zygote, self._zygote = self._zygote, None
            self._changed.notify_all()
        self._deliver()
        if zygote is not None:
            zygote.stop()
        with self._lock:
            os.close(self._wake_r)
            os.close(self._wake_w)
            self._wake_r = self._wake_w = -1


_live: weakref.WeakSet[LocalPlatform] = weakref.WeakSet()


@atexit.register
def _shutdown_all() -> None:
    for platform in list(_live):
        platform.shutdown()
