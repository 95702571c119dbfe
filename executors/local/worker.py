"""The loop a local function runs: receive a task on its socket, call the handler, answer.

A worker is forked from the zygote and lives across many tasks (a warm sandbox); it ends
when the platform closes its socket (idle reaping, shutdown, driver gone). Messages are
JSON, not pickle, so the local platform enforces the same contract as Lambda's Invoke API.
"""

from __future__ import annotations

import importlib
import json
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

DEFAULT_HANDLER = "executors.handler.handler"

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def _split(spec: str) -> tuple[str, str]:
    """``"package.module:function"`` or Lambda's ``"package.module.function"``."""
    module, sep, name = spec.partition(":")
    return (module, name) if sep else spec.rpartition(".")[::2]


def resolve_handler(spec: str) -> Handler:
    module, name = _split(spec)
    return getattr(importlib.import_module(module), name)


def init_handler_module(spec: str) -> None:
    """Run the handler module's optional ``warm()``: our analogue of Lambda's init phase."""
    warm = getattr(importlib.import_module(_split(spec)[0]), "warm", None)
    if callable(warm):
        warm()


@dataclass
class LocalContext:
    """The parts of Lambda's context object a task can use."""

    timeout_s: float | None
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_name: str = "sparkless-local"
    started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        if self.timeout_s is None:
            return 2**31 - 1
        return max(0, int((self.timeout_s - (time.monotonic() - self.started)) * 1000))


def _unhandled(exc: BaseException) -> dict[str, Any]:
    from executors.errors import task_error

    return {"status": "error", "error": task_error(exc)}


def serve(fd: int, handler_spec: str) -> None:
    """Say hello, initialise the handler, say warm, then run tasks until the platform hangs up."""
    conn = Connection(fd)
    handler = resolve_handler(handler_spec)  # imported by the zygote already: instant
    pid = os.getpid()
    # Ready first, warm second: the handler's init (a DuckDB connection, ~20-30 ms of
    # catalog setup that no config makes cheaper and that cannot be inherited across the
    # fork) overlaps with the platform's dispatch. A task sent meanwhile waits in the socket.
    conn.send_bytes(json.dumps({"hello": pid}).encode())
    init_handler_module(handler_spec)
    try:
        conn.send_bytes(json.dumps({"warm": pid}).encode())
    except OSError:
        return  # the platform hung up while we warmed (shut down, or no longer needed)
    tasks = 0
    while True:
        try:
            message = json.loads(conn.recv_bytes())
        except (EOFError, OSError):
            return
        context = LocalContext(timeout_s=message.get("timeout_s"))
        try:
            result = handler(message["event"], context)
        except Exception as exc:  # a handler should not raise; report it like Lambda does
            result = _unhandled(exc)
        tasks += 1
        if isinstance(result, dict):
            result.setdefault("metrics", {})["worker"] = {"pid": pid, "task_number": tasks}
        try:
            payload = json.dumps(result).encode()
        except (TypeError, ValueError) as exc:
            payload = json.dumps(
                _unhandled(TypeError(f"handler result is not JSON: {exc}"))
            ).encode()
        try:
            conn.send_bytes(payload)
        except OSError:
            return
