"""Inside a sandbox: what Lambda's runtime interface client does around the handler.

The endpoint's sandbox pool (a ``LocalPlatform``) runs :func:`invoke` with an envelope
``{"request_id": ..., "event": ...}``. It calls the function's handler (``_HANDLER``, as
Lambda names it), captures what the handler prints (the log tail), serialises the result
itself (an unserialisable result is Lambda's ``Runtime.MarshalError``) and turns an
exception into Lambda's error JSON ``{"errorMessage", "errorType", "stackTrace"}``. It
also measures duration and peak RSS for the ``REPORT`` line; memory is reported, not
enforced (see ``function.py``).

The function's settings arrive as Lambda's environment variables, set by the endpoint
before its sandboxes are forked, so the handler module is imported once, in the zygote.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import sys
import time
import traceback
from dataclasses import dataclass
from typing import Any

from executors.local.worker import Handler, init_handler_module, resolve_handler

HANDLER_ENV = "_HANDLER"
DEFAULT_HANDLER = "executors.aws_lambda.entry.handler"
LOG_LIMIT = 64 * 1024  # captured per invocation; the tail returned to clients is 4 KB

_spec = os.environ.get(HANDLER_ENV, DEFAULT_HANDLER)
_handler: Handler = resolve_handler(_spec)  # in the zygote: imported once, forked warm


@dataclass
class LambdaContext:
    """The parts of Lambda's context object a handler uses."""

    aws_request_id: str
    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    deadline: float | None

    def get_remaining_time_in_millis(self) -> int:
        if self.deadline is None:
            return 2**31 - 1
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def warm() -> None:
    """Lambda's init phase, once per sandbox: the handler module's own ``warm()``."""
    init_handler_module(_spec)


def _error(exc: BaseException, error_type: str | None = None) -> dict[str, Any]:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename != __file__]
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "stackTrace": [line.rstrip("\n") for line in traceback.format_list(frames)],
    }


class _Tee(io.TextIOBase):
    """Keeps what the handler prints for the log tail and still writes it to our stderr."""

    def __init__(self, buffer: io.StringIO) -> None:
        self.buffer_ = buffer

    def write(self, text: str) -> int:
        if self.buffer_.tell() < LOG_LIMIT:
            self.buffer_.write(text)
        sys.__stderr__.write(text)
        return len(text)


def _context(envelope: dict[str, Any], local: Any) -> LambdaContext:
    remaining = getattr(local, "get_remaining_time_in_millis", None)
    deadline = None
    if remaining is not None and remaining() < 2**31 - 1:
        deadline = time.monotonic() + remaining() / 1000
    name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "sparkless-executor")
    return LambdaContext(
        aws_request_id=str(envelope.get("request_id", "")),
        function_name=name,
        function_version=os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        invoked_function_arn=str(envelope.get("function_arn", name)),
        memory_limit_in_mb=int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "0")),
        deadline=deadline,
    )


def invoke(envelope: dict[str, Any], local_context: Any = None) -> dict[str, Any]:
    """Run the handler once; the answer carries either ``payload`` (JSON text) or ``error``."""
    log = io.StringIO()
    started = time.perf_counter()
    answer: dict[str, Any] = {}
    with contextlib.redirect_stdout(_Tee(log)), contextlib.redirect_stderr(_Tee(log)):
        try:
            result = _handler(envelope["event"], _context(envelope, local_context))
        except Exception as exc:  # the handler's failure is the function's error, as on Lambda
            traceback.print_exc()
            answer["error"] = _error(exc)
        else:
            try:
                answer["payload"] = json.dumps(result)
            except (TypeError, ValueError) as exc:
                answer["error"] = _error(exc, "Runtime.MarshalError")
    answer["duration_ms"] = (time.perf_counter() - started) * 1000
    answer["max_memory_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    answer["log"] = log.getvalue()
    return answer
