"""One deployed function: its configuration, its sandboxes, and Lambda's execution rules.

Sandboxes are the local platform's warm workers (``LocalPlatform``), not a second pool:
each runs ``runtime.invoke`` around the function's handler. On top of them this module
enforces what Lambda enforces per invocation:

- **timeout**: the pool kills a sandbox that overruns ``timeout_s``; the invocation
  answers with Lambda's ``Sandbox.Timedout`` error.
- **concurrency**: at most ``concurrency`` invocations in flight (reserved concurrency);
  one more is refused at once (the HTTP layer answers 429), never queued.
- **response size**: a response over 6 MB becomes ``Function.ResponseSizeTooLarge``, as
  on Lambda (the request limit is checked by the HTTP layer before anything runs).
- **memory**: *reported, not enforced.* The size is in the configuration, the context
  and the REPORT line with the peak RSS the sandbox reached. ``RLIMIT_AS`` cannot enforce
  it cleanly: a warm worker with DuckDB and pyarrow reserves ~2.2 GB of address space
  while resident in ~110 MB, so an address-space cap would fail healthy tasks (measured).
"""

from __future__ import annotations

import math
import os
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from executors.aws_lambda.config import SYNC_PAYLOAD_LIMIT
from executors.lambda_endpoint.runtime import DEFAULT_HANDLER, HANDLER_ENV
from executors.local.platform import FunctionFailed, LocalPlatform

RUNTIME_HANDLER = "executors.lambda_endpoint.runtime:invoke"
VERSION = "$LATEST"
ACCOUNT = "000000000000"
RESULT_GRACE_S = 5.0  # beyond the timeout, how long to wait for the pool's own verdict


@dataclass(frozen=True)
class FunctionSpec:
    """What ``CreateFunction`` would have set; ``GetFunctionConfiguration`` reports it."""

    name: str = "sparkless-executor"
    handler: str = DEFAULT_HANDLER
    timeout_s: int = 60
    memory_mb: int = 2048
    concurrency: int = 4
    region: str = "us-east-1"

    def __post_init__(self) -> None:
        if self.timeout_s < 1 or self.concurrency < 1 or self.memory_mb < 128:
            raise ValueError(f"bad function settings: {self}")

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{ACCOUNT}:function:{self.name}"

    def configuration(self) -> dict[str, Any]:
        return {
            "FunctionName": self.name,
            "FunctionArn": self.arn,
            "Runtime": "python3.12",
            "Role": f"arn:aws:iam::{ACCOUNT}:role/sparkless-local",
            "Handler": self.handler,
            "CodeSize": 0,
            "Description": "sparkless executor on the local Lambda endpoint",
            "Timeout": self.timeout_s,
            "MemorySize": self.memory_mb,
            "Version": VERSION,
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "PackageType": "Zip",
            "Architectures": ["x86_64"],
            "EphemeralStorage": {"Size": 512},
        }


@dataclass
class Invocation:
    """The outcome of one invocation: a payload, or Lambda's error JSON (a function error)."""

    request_id: str
    payload: str = "null"
    error: dict[str, Any] | None = None
    duration_ms: float = 0.0
    max_memory_mb: int = 0
    log: str = ""
    timed_out: bool = False

    @property
    def billed_ms(self) -> int:
        return max(1, math.ceil(self.duration_ms))


class _Slots:
    """Reserved concurrency: synchronous callers are refused at the limit (Lambda throttles,
    it does not queue); asynchronous events wait for a slot, as Lambda's event queue does."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_flight = 0
        self._freed = threading.Condition()

    def try_acquire(self) -> bool:
        with self._freed:
            if self.in_flight >= self.limit:
                return False
            self.in_flight += 1
            return True

    def acquire(self) -> None:
        with self._freed:
            self._freed.wait_for(lambda: self.in_flight < self.limit)
            self.in_flight += 1

    def release(self) -> None:
        with self._freed:
            self.in_flight -= 1
            self._freed.notify()


class Throttled(Exception):
    """Every reserved-concurrency slot is busy: the caller answers 429."""


class FunctionHost:
    """Runs invocations of one function in warm sandboxes. Thread-safe."""

    def __init__(self, spec: FunctionSpec, warm: int = 0) -> None:
        self.spec = spec
        # Lambda's environment for the function, seen by the zygote and every sandbox.
        os.environ.update(
            {
                HANDLER_ENV: spec.handler,
                "AWS_LAMBDA_FUNCTION_NAME": spec.name,
                "AWS_LAMBDA_FUNCTION_VERSION": VERSION,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
                "AWS_REGION": spec.region,
            }
        )
        self.pool = LocalPlatform(
            max_workers=spec.concurrency,
            task_timeout_s=float(spec.timeout_s),
            handler=RUNTIME_HANDLER,
        )
        self._slots = _Slots(spec.concurrency)
        self._stats: Counter[str] = Counter()
        self._stats_lock = threading.Lock()
        if warm:
            self.pool.prewarm(min(warm, spec.concurrency), timeout=None)

    def _count(self, key: str, n: float = 1) -> None:
        with self._stats_lock:
            self._stats[key] += n

    def invoke(self, event: Any, request_id: str | None = None) -> Invocation:
        """Run one synchronous invocation; raises :class:`Throttled` when at the limit."""
        if not self._slots.try_acquire():
            self._count("throttles")
            raise Throttled(f"{self._slots.limit} concurrent invocations already running")
        try:
            return self._run(event, request_id or str(uuid.uuid4()))
        finally:
            self._slots.release()

    def invoke_async(self, event: Any, request_id: str) -> None:
        """Lambda's ``Event`` type: queued, run when a slot frees up, result discarded."""

        def run() -> None:
            self._slots.acquire()
            try:
                self._run(event, request_id)
            finally:
                self._slots.release()

        self._count("async_invocations")
        threading.Thread(target=run, name=f"lambda-event-{request_id}", daemon=True).start()

    def _run(self, event: Any, request_id: str) -> Invocation:
        self._count("invocations")
        started = time.monotonic()
        future = self.pool.invoke(
            {"request_id": request_id, "function_arn": self.spec.arn, "event": event}
        )
        try:
            answer = future.result(timeout=self.spec.timeout_s + RESULT_GRACE_S)
        except (FunctionFailed, FutureTimeout) as exc:
            elapsed = time.monotonic() - started
            if isinstance(exc, FutureTimeout) or elapsed >= self.spec.timeout_s:
                return self._timed_out(request_id)
            self._count("function_errors")
            return Invocation(
                request_id,
                error={
                    "errorMessage": f"RequestId: {request_id} Error: Runtime exited: {exc}",
                    "errorType": "Runtime.ExitError",
                },
                duration_ms=elapsed * 1000,
            )
        out = Invocation(
            request_id,
            payload=answer.get("payload", "null"),
            error=answer.get("error"),
            duration_ms=float(answer.get("duration_ms", 0.0)),
            max_memory_mb=int(answer.get("max_memory_mb", 0)),
            log=str(answer.get("log", "")),
        )
        if out.error is None and len(out.payload.encode()) > SYNC_PAYLOAD_LIMIT:
            out.error = {
                "errorMessage": "Response payload size exceeded maximum allowed payload size "
                f"({SYNC_PAYLOAD_LIMIT} bytes).",
                "errorType": "Function.ResponseSizeTooLarge",
            }
        if out.error is not None:
            self._count("function_errors")
        self._count("billed_ms", out.billed_ms)
        return out

    def _timed_out(self, request_id: str) -> Invocation:
        self._count("timeouts")
        self._count("billed_ms", self.spec.timeout_s * 1000)
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        return Invocation(
            request_id,
            error={
                "errorMessage": f"{stamp} {request_id} Task timed out after "
                f"{self.spec.timeout_s:.2f} seconds",
                "errorType": "Sandbox.Timedout",
            },
            duration_ms=self.spec.timeout_s * 1000.0,
            timed_out=True,
        )

    def log_tail(self, inv: Invocation, limit: int = 4096) -> str:
        """Lambda's log for one invocation (START/END/REPORT), its last ``limit`` bytes."""
        report = (
            f"REPORT RequestId: {inv.request_id}\tDuration: {inv.duration_ms:.2f} ms\t"
            f"Billed Duration: {inv.billed_ms} ms\tMemory Size: {self.spec.memory_mb} MB\t"
            f"Max Memory Used: {inv.max_memory_mb} MB\t"
            + ("Status: timeout\n" if inv.timed_out else "\n")
        )
        text = (
            f"START RequestId: {inv.request_id} Version: {VERSION}\n{inv.log}"
            f"END RequestId: {inv.request_id}\n{report}"
        )
        return text.encode()[-limit:].decode(errors="ignore")

    def stats(self) -> dict[str, Any]:
        with self._stats_lock:
            ours = dict(self._stats)
        return {**ours, "in_flight": self._slots.in_flight, "sandboxes": self.pool.stats()}

    def shutdown(self) -> None:
        self.pool.shutdown()
