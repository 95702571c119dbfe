"""What the scheduler tells the world while a job runs (Spark's SparkListener, reduced).

Listeners get plain dataclass events on the scheduler's thread; they must be quick
(draw a progress bar, append to a queue) and must not raise.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class JobStart:
    job_id: str
    description: str
    num_stages: int


@dataclass(frozen=True)
class StageSubmitted:
    job_id: str
    stage_id: int
    num_tasks: int
    name: str  # e.g. "ShuffleMapStage 3 (hash 4)" / "ResultStage 5"


@dataclass(frozen=True)
class TaskEnd:
    job_id: str
    stage_id: int
    partition: int
    attempt: int
    ok: bool
    seconds: float
    input_bytes: int = 0
    output_bytes: int = 0
    error: str | None = None
    # the function's own figures (executors.handler: seconds, rows, store, memory, spill)
    metrics: dict | None = field(default=None, compare=False, hash=False)


@dataclass(frozen=True)
class StageCompleted:
    job_id: str
    stage_id: int
    num_tasks: int
    seconds: float
    failed: bool = False


@dataclass(frozen=True)
class JobEnd:
    job_id: str
    ok: bool
    seconds: float
    metrics: dict = field(default_factory=dict)


Event = JobStart | StageSubmitted | TaskEnd | StageCompleted | JobEnd
Listener = Callable[[Event], None]


class ListenerBus:
    """Fans events out to listeners; a failing listener is dropped, never the job."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []

    def add(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def remove(self, listener: Listener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def post(self, event: Event) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for fn in listeners:
            try:
                fn(event)
            except Exception:  # noqa: BLE001 - a listener must not break a job
                self.remove(fn)
