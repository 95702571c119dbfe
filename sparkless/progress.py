"""Stage progress on the console, as Spark's ``ConsoleProgressBar`` draws it.

A listener on the server's ``ListenerBus``. On a terminal it redraws one line with
``\\r`` (``[Stage 3:=====>      (12 + 2) / 40]``) and clears it when the stage ends,
so the job's own output is not left interleaved with stale bars. When stderr is a
file or a pipe (CI logs) a redrawn line is noise, so it prints one line per finished
stage instead. A ``JobSummary`` counts what ran, for the line ``sparkless submit``
prints at the end. Both are plain objects fed events: tests need no server.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from sparkless.scheduler.listener import (
    Event,
    JobEnd,
    JobStart,
    StageCompleted,
    StageSubmitted,
    TaskEnd,
)

# Spark shows at most this many concurrent stages side by side.
MAX_BARS = 3


@dataclass
class _Stage:
    stage_id: int
    total: int
    submitted: float = 0.0
    done: int = 0
    running: int | None = None  # None: the scheduler reports no task starts


def terminal_width(stream: TextIO) -> int:
    """Spark reads COLUMNS and falls back to 80; so do we."""
    cols = os.environ.get("COLUMNS", "")
    if cols.isdigit() and int(cols) > 0:
        return int(cols)
    try:
        return os.get_terminal_size(stream.fileno()).columns or 80
    except (OSError, ValueError, AttributeError):
        return shutil.get_terminal_size((80, 24)).columns


def render_bar(stage_id: int, done: int, total: int, running: int | None, width: int) -> str:
    """One stage's bar, character for character as Spark's console progress bar.

    ``running`` is ``None`` when task starts are not reported; then the tail says
    ``(done / total)`` rather than claim a number of running tasks.
    """
    header = f"[Stage {stage_id}:"
    tail = f"({done} / {total})]" if running is None else f"({done} + {running}) / {total}]"
    w = width - len(header) - len(tail)
    bar = ""
    if w > 0 and total > 0:
        filled = w * min(done, total) // total
        bar = "".join("=" if i < filled else ">" if i == filled else " " for i in range(w))
    return header + bar + tail


def is_task_start(event: object) -> bool:
    """Task starts are optional in the listener contract; accept them if posted."""
    return type(event).__name__ == "TaskStart" and hasattr(event, "stage_id")


class ConsoleProgress:
    """Draws stage progress on ``stream``; thread-safe (events arrive on scheduler threads)."""

    def __init__(
        self,
        stream: TextIO,
        tty: bool | None = None,
        width: int | None = None,
        min_interval: float = 0.1,
        show_after: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream
        self._tty = stream.isatty() if tty is None else tty
        self._width = width
        self._min_interval = min_interval
        self._show_after = show_after
        self._clock = clock
        self._lock = threading.Lock()
        self._stages: dict[tuple[str, int], _Stage] = {}
        self._last_line = ""
        self._last_draw = float("-inf")
        # Stage ids are per job; Spark's are unique in the application. Number each
        # job's stages from where the previous job's ended, as Spark's ids read.
        self._offsets: dict[str, int] = {}
        self._next_id = 0
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def __call__(self, event: Event) -> None:
        with self._lock:
            self._on_event(event)

    def start(self, interval: float = 0.2) -> None:
        """On a terminal, redraw every ``interval`` s as Spark does, so that a stage whose
        tasks take long still shows its bar (events alone would leave it blank)."""
        if self._tty and self._ticker is None:
            self._ticker = threading.Thread(
                target=self._tick_loop, args=(interval,), name="sparkless-progress", daemon=True
            )
            self._ticker.start()

    def tick(self) -> None:
        """One timed redraw (what the ticker thread does)."""
        with self._lock:
            self._draw(force=False)

    def close(self) -> None:
        """Stop redrawing and erase a bar still on screen (the job was cut short)."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
            self._ticker = None
        with self._lock:
            self._clear()

    def _tick_loop(self, interval: float) -> None:
        while not self._stop.wait(interval):
            self.tick()

    def _display_id(self, job_id: str, stage_id: int) -> int:
        if job_id not in self._offsets:
            self._offsets[job_id] = self._next_id
        shown = self._offsets[job_id] + stage_id
        self._next_id = max(self._next_id, shown + 1)
        return shown

    def _on_event(self, event: Event) -> None:
        if isinstance(event, JobStart):
            self._display_id(event.job_id, max(event.num_stages - 1, 0))
        elif isinstance(event, StageSubmitted):
            shown = self._display_id(event.job_id, event.stage_id)
            self._stages[(event.job_id, event.stage_id)] = _Stage(
                shown, event.num_tasks, submitted=self._clock()
            )
            self._draw(force=False)
        elif is_task_start(event):
            st = self._stages.get((getattr(event, "job_id", ""), event.stage_id))  # type: ignore[attr-defined]
            if st is not None:
                st.running = (st.running or 0) + 1
                self._draw(force=False)
        elif isinstance(event, TaskEnd):
            st = self._stages.get((event.job_id, event.stage_id))
            if st is not None:
                if event.ok:
                    st.done += 1
                if st.running:
                    st.running -= 1
                self._draw(force=False)
        elif isinstance(event, StageCompleted):
            st = self._stages.pop((event.job_id, event.stage_id), None)
            if self._tty:
                self._draw(force=True)
            else:
                shown = self._display_id(event.job_id, event.stage_id)
                self._stream.write(self._stage_line(shown, event, st) + "\n")
                self._stream.flush()
        elif isinstance(event, JobEnd):
            for key in [k for k in self._stages if k[0] == event.job_id]:
                del self._stages[key]
            self._offsets.pop(event.job_id, None)
            self._draw(force=True)

    @staticmethod
    def _stage_line(shown: int, event: StageCompleted, st: _Stage | None) -> str:
        if event.failed:
            done = st.done if st is not None else 0
            return (
                f"[Stage {shown}] failed after {event.seconds:.2f} s "
                f"({done} / {_plural(event.num_tasks, 'task')} done)"
            )
        return f"[Stage {shown}] {_plural(event.num_tasks, 'task')} done in {event.seconds:.2f} s"

    def _draw(self, force: bool) -> None:
        if not self._tty:
            return
        now = self._clock()
        if not force and now - self._last_draw < self._min_interval:
            return
        self._last_draw = now
        # Like Spark, only stages running for a while: short ones would just flicker.
        visible = [s for s in self._stages.values() if now - s.submitted >= self._show_after]
        stages = sorted(visible, key=lambda s: s.stage_id)[:MAX_BARS]
        if not stages:
            self._clear()
            return
        width = (self._width or terminal_width(self._stream)) // len(stages)
        line = "".join(render_bar(s.stage_id, s.done, s.total, s.running, width) for s in stages)
        if line != self._last_line:
            self._stream.write("\r" + line)
            self._stream.flush()
            self._last_line = line

    def _clear(self) -> None:
        if self._tty and self._last_line:
            self._stream.write("\r" + " " * len(self._last_line) + "\r")
            self._stream.flush()
            self._last_line = ""


class JobSummary:
    """Counts jobs, stages and task attempts across a run, for one closing line."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.jobs = 0
        self.failed_jobs = 0
        self.stages = 0
        self.tasks = 0
        self.failed_tasks = 0

    def __call__(self, event: Event) -> None:
        with self._lock:
            if isinstance(event, JobStart):
                self.jobs += 1
            elif isinstance(event, JobEnd) and not event.ok:
                self.failed_jobs += 1
            elif isinstance(event, StageCompleted):
                self.stages += 1
            elif isinstance(event, TaskEnd):
                if event.ok:
                    self.tasks += 1
                else:
                    self.failed_tasks += 1

    def line(self, wall_seconds: float) -> str:
        """E.g. ``sparkless: 3 jobs, 7 stages, 52 tasks in 4.21 s``."""
        with self._lock:
            parts = [_plural(self.jobs, "job")]
            if self.failed_jobs:
                parts[0] += f" ({self.failed_jobs} failed)"
            parts.append(_plural(self.stages, "stage"))
            tasks = _plural(self.tasks, "task")
            if self.failed_tasks:
                tasks += f" ({_plural(self.failed_tasks, 'failed attempt')})"
            parts.append(tasks)
        return f"sparkless: {', '.join(parts)} in {wall_seconds:.2f} s"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
