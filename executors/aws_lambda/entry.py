"""The Lambda function's entry point: ``executors.aws_lambda.entry.handler``.

Lambda caps a synchronous request and response at 6 MB each, so this thin wrapper lets
both travel through the task's store instead: an event ``{"event_ref": key, "store": uri}``
is read from the store, and a result whose JSON exceeds the inline limit is written there
and answered with ``{"result_ref": key, "store": uri}``. Everything else is
``executors.handler.handler``, unchanged. The Lambda image and the local endpoint both run
this function.

Unlike the task handler, this wrapper raises when it cannot even read its event (a missing
reference, a store it cannot open): that is a broken invocation, not a task error, and
Lambda reports it as ``X-Amz-Function-Error: Unhandled``.
"""

from __future__ import annotations

import json
import os
from typing import Any

from executors import allocator

allocator.function_env(os.environ)  # before DuckDB and Arrow load: their allocators read it once
from executors import handler as task_handler  # noqa: E402
from executors.aws_lambda.config import INLINE_LIMIT  # noqa: E402
from executors.events import attempt_prefix  # noqa: E402
from storage import open_store  # noqa: E402

EVENT_REF = "event_ref"
RESULT_REF = "result_ref"
ASYNC = "async"  # an Event invocation: the result goes to the store, the caller polls it


def event_key(event: dict[str, Any]) -> str:
    return attempt_prefix(event) + "/lambda-event.json"  # type: ignore[arg-type]


def result_key(event: dict[str, Any]) -> str:
    return attempt_prefix(event) + "/lambda-result.json"  # type: ignore[arg-type]


def warm() -> None:
    """Lambda's init phase: open DuckDB before the first task (called by our sandboxes)."""
    task_handler.warm()


def resolve_event(event: dict[str, Any]) -> dict[str, Any]:
    """The task event itself, reading it from the store when it came by reference."""
    if EVENT_REF not in event:
        return event
    data = open_store(event["store"]).get(event[EVENT_REF])
    resolved = json.loads(data)
    if not isinstance(resolved, dict):
        raise TypeError(f"event {event[EVENT_REF]!r} in the store is not a JSON object")
    return resolved


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Run one task attempt; large events and results go through the store.

    An asynchronous (Event) invocation has nobody to answer: its result, whatever its size,
    is written to the store, where the invoking platform polls for it.
    """
    task = resolve_event(event)
    result: dict[str, Any] = dict(task_handler.handler(task, context))  # type: ignore[arg-type]
    encoded = json.dumps(result).encode()
    if len(encoded) <= INLINE_LIMIT and not event.get(ASYNC):
        return result
    key = result_key(task)
    open_store(task["store"]).put(key, encoded)
    return {RESULT_REF: key, "store": task["store"], "bytes": len(encoded)}


if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
    # In Lambda, pay DuckDB's first-query cost in the init phase, not in the first task.
    warm()
