"""The AWS Lambda platform: each task attempt is one synchronous ``Invoke`` through boto3.

The same code targets AWS, LocalStack or the local endpoint (``executors.lambda_endpoint``);
only ``spark.sparkless.lambda.endpoint`` changes. A thread pool of
``spark.sparkless.maxConcurrency`` threads bounds the invocations in flight (unset: the
function's reserved concurrency, learned from ``GetFunction`` at start, else 64), since
Lambda itself scales out per request.

- **Payload limit.** Lambda caps a synchronous request and response at 6 MB. A larger
  event is written to the task's store and sent as ``{"event_ref": key, "store": uri}``;
  the function's entry point (``entry.py``) resolves it and spills a large result the same
  way (``{"result_ref": ...}``), which this side reads back.
- **Throttling and service errors.** botocore's standard retry mode retries 429s, 5xx and
  connection errors a few times with exponential backoff and jitter; when it gives up, our
  loop keeps retrying those (full jitter, longer cap, ``Retry-After`` honoured) up to
  ``spark.sparkless.lambda.maxRetries``. Throttles also shrink an AIMD limit on
  invocations in flight (``gate.py``), so waiting tasks queue here instead of knocking. A hook on botocore's ``needs-retry`` event counts
  every throttled response, including those botocore retried by itself.
- **Function errors** (``X-Amz-Function-Error``: an unhandled exception, ``Sandbox.Timedout``,
  running out of memory) are not retried here: they raise :class:`FunctionFailed`, naming
  the Lambda error type, and the driver retries the task attempt like any lost function.
  A *task* error (bad SQL, division by zero) is a normal response: the handler returns it.
- **Cost.** Billed duration comes from the ``REPORT`` line of the log tail we ask for
  (``LogType=Tail``), else from the measured call; times the memory size it is GB-seconds.
"""

from __future__ import annotations

import base64
import json
import math
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from executors.aws_lambda.config import (
    DEFAULT_CONCURRENCY,
    INLINE_LIMIT,
    MAX_TIMEOUT_S,
    LambdaConfig,
    lambda_config,
)
from executors.aws_lambda.entry import ASYNC, EVENT_REF, RESULT_REF, event_key, result_key
from executors.aws_lambda.gate import ConcurrencyGate
from executors.local.platform import FunctionFailed
from storage import open_store

SDK_ATTEMPTS = 3  # botocore's own tries per call (standard mode), before ours take over
BACKOFF_BASE_S = 0.2
BACKOFF_CAP_S = 10.0
READ_TIMEOUT_MARGIN_S = 30.0  # the HTTP read must outlast the function's own timeout

THROTTLE_CODES = frozenset(
    {"TooManyRequestsException", "ThrottlingException", "Throttling", "EC2ThrottledException"}
)
RETRYABLE_CODES = THROTTLE_CODES | {
    "ServiceException",
    "ResourceNotReadyException",
    "EC2UnexpectedException",
    "ENILimitReachedException",
    "SnapStartNotReadyException",
}
_BILLED = re.compile(r"Billed Duration: (\d+) ms")

__all__ = ["FunctionFailed", "LambdaPlatform"]


def _label(event: Mapping[str, Any]) -> str:
    keys = ("job_id", "stage_id", "partition", "attempt")
    if all(k in event for k in keys):
        return "task {}/stage {}/partition {}/attempt {}".format(*(event[k] for k in keys))
    return "task"


def _retryable(error: ClientError) -> bool:
    code = error.response.get("Error", {}).get("Code", "")
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return code in RETRYABLE_CODES or status == 429 or status >= 500


def billed_ms(log_result: str | None) -> int | None:
    """Billed milliseconds from a base64 log tail's ``REPORT`` line, if it has one."""
    if not log_result:
        return None
    match = _BILLED.search(base64.b64decode(log_result).decode(errors="replace"))
    return int(match.group(1)) if match else None


class LambdaPlatform:
    """Run task events as Lambda invocations. Thread-safe; a context manager."""

    def __init__(self, config: LambdaConfig | None = None, client: Any = None) -> None:
        self.config = config or LambdaConfig()
        self.client = client or self._client(self.config)
        self.client.meta.events.register("needs-retry.lambda.Invoke", self._observe_retry)
        self._lock = threading.Lock()
        self._stats: Counter[str] = Counter()
        self._memory_mb = self.config.memory_mb
        self._timeout_s = self.config.timeout_s
        self._reserved: int | None = None
        self.describe_error: str | None = None
        self.describe()
        self.max_workers = self.config.max_concurrency or self._reserved or DEFAULT_CONCURRENCY
        self._gate = ConcurrencyGate(self.max_workers)
        self._pool = ThreadPoolExecutor(self.max_workers, thread_name_prefix="sparkless-lambda")
        self._closed = threading.Event()

    @staticmethod
    def _client(config: LambdaConfig) -> Any:
        botocore_config = Config(
            region_name=config.region,
            retries={"mode": "standard", "total_max_attempts": SDK_ATTEMPTS},
            max_pool_connections=config.max_concurrency or DEFAULT_CONCURRENCY,
            read_timeout=(config.timeout_s or MAX_TIMEOUT_S) + READ_TIMEOUT_MARGIN_S,
            connect_timeout=10,
        )
        return boto3.session.Session().client(
            "lambda", endpoint_url=config.endpoint, config=botocore_config
        )

    @classmethod
    def from_conf(cls, conf: Mapping[str, Any]) -> LambdaPlatform:
        return cls(lambda_config(conf))

    # -- public API -------------------------------------------------------------------------

    def invoke(self, event: dict[str, Any]) -> Future:
        """Invoke the function with ``event``; the future holds the handler's result dict."""
        if self._closed.is_set():
            raise RuntimeError("LambdaPlatform is shut down")
        self._count("invocations")
        return self._pool.submit(self._run, event)

    def prewarm(self, n: int, timeout: float | None = 30.0) -> int:
        """Start nothing: returns 0, no sandbox is known to be ready.

        Lambda creates sandboxes on demand; keeping some warm is the function's provisioned
        concurrency, a deployment setting (``infra/``), not something a job can ask for.
        If the function could not be described at start-up, this tries again.
        """
        if self.describe_error is not None:
            self.describe()
        return 0

    def describe(self) -> dict[str, Any] | None:
        """``GetFunction``: memory, timeout and reserved concurrency, for whatever conf left
        unset. A failure (no permission, no such function yet) is kept in ``describe_error``
        and the defaults stand: invocations will say what is wrong."""
        try:
            info = self.client.get_function(FunctionName=self.config.function)
        except (BotoCoreError, ClientError) as exc:
            self.describe_error = str(exc)
            return None
        config = info.get("Configuration", {})
        with self._lock:
            self.describe_error = None
            self._memory_mb = self._memory_mb or config.get("MemorySize")
            self._timeout_s = self._timeout_s or config.get("Timeout")
            self._reserved = info.get("Concurrency", {}).get("ReservedConcurrentExecutions")
        return info

    def stats(self) -> dict[str, Any]:
        with self._lock:
            stats = dict(self._stats)
            memory = self._memory_mb
        keys = (
            "invocations",
            "completed",
            "throttles",
            "retries",
            "sdk_retries",
            "function_errors",
            "timeouts",
            "events_by_reference",
            "results_by_reference",
            "async_invocations",
        )
        billed = stats.get("billed_ms", 0)
        return {
            **{k: stats.get(k, 0) for k in keys},
            "billed_ms": billed,
            "memory_mb": memory,
            "timeout_s": self._timeout_s,
            "max_concurrency": self.max_workers,
            "concurrency_limit": int(self._gate.limit),
            "gb_seconds": billed / 1000 * (memory or 0) / 1024,
            "function": self.config.function,
            "endpoint": self.config.endpoint,
        }

    def shutdown(self, wait: bool = True) -> None:
        """Stop taking tasks: queued ones are cancelled, backoff sleeps and waits for a slot
        end at once; invocations already sent run to completion (a call cannot be recalled)."""
        self._closed.set()
        self._pool.shutdown(wait=wait, cancel_futures=True)

    def __enter__(self) -> LambdaPlatform:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    # -- one invocation ---------------------------------------------------------------------

    def _count(self, key: str, n: float = 1) -> None:
        with self._lock:
            self._stats[key] += n

    def _observe_retry(self, response: Any = None, **_: Any) -> None:
        """botocore's ``needs-retry`` hook: count throttled responses; never decide."""
        if response is None:
            return
        http, parsed = response
        if http.status_code == 429 or parsed.get("Error", {}).get("Code") in THROTTLE_CODES:
            self._count("throttles")
            self._gate.throttled()

    def _run(self, event: dict[str, Any]) -> dict[str, Any]:
        label = _label(event)
        payload, by_reference = self._payload(event)
        if by_reference:
            return self._run_async(event, payload, label)
        started = time.monotonic()
        response = self._invoke(payload, label)
        measured_ms = math.ceil((time.monotonic() - started) * 1000)
        self._count("billed_ms", billed_ms(response.get("LogResult")) or measured_ms)
        body = response["Payload"].read()
        if response.get("FunctionError"):
            raise self._function_failed(label, response["FunctionError"], body)
        result = json.loads(body) if body else None
        if isinstance(result, dict) and RESULT_REF in result:
            self._count("results_by_reference")
            result = json.loads(open_store(result["store"]).get(result[RESULT_REF]))
        if not isinstance(result, dict):
            raise FunctionFailed(f"{label}: Lambda returned {type(result).__name__}, not a result")
        self._count("completed")
        return result

    def _run_async(self, event: dict[str, Any], payload: bytes, label: str) -> dict[str, Any]:
        """A task near the payload limit: an Event invocation (the event already went by
        reference), completion through the store — polled until the function's timeout."""
        request = json.loads(payload)
        request[ASYNC] = True
        store = open_store(event["store"])
        key = result_key(event)
        started = time.monotonic()
        self._invoke(json.dumps(request).encode(), label, invocation_type="Event")
        self._count("async_invocations")
        deadline = started + (self._timeout_s or MAX_TIMEOUT_S) + READ_TIMEOUT_MARGIN_S
        delay = 0.01
        while not store.exists(key):
            if time.monotonic() > deadline:
                raise FunctionFailed(f"{label}: no result in the store within the function timeout")
            if self._closed.wait(delay):
                raise FunctionFailed(f"{label}: the platform shut down before it finished")
            delay = min(delay * 2, 1.0)
        self._count("billed_ms", math.ceil((time.monotonic() - started) * 1000))
        pointer = json.loads(store.get(key))
        result = json.loads(store.get(pointer[RESULT_REF])) if RESULT_REF in pointer else pointer
        self._count("completed")
        return result

    def _payload(self, event: dict[str, Any]) -> tuple[bytes, bool]:
        """The request body — the event itself, or a reference to it in the task's store —
        and whether it went by reference (then the call is asynchronous)."""
        data = json.dumps(event).encode()
        if len(data) <= INLINE_LIMIT:
            return data, False
        key = event_key(event)
        open_store(event["store"]).put(key, data)
        self._count("events_by_reference")
        return json.dumps({EVENT_REF: key, "store": event["store"]}).encode(), True

    def _invoke(
        self, payload: bytes, label: str, invocation_type: str = "RequestResponse"
    ) -> dict[str, Any]:
        """One Invoke (synchronous unless told otherwise), retried on throttles and service errors."""
        attempt = 0
        while True:
            if not self._gate.acquire(self._closed):
                raise FunctionFailed(f"{label}: the platform shut down before it finished")
            try:
                response = self.client.invoke(
                    FunctionName=self.config.function,
                    InvocationType=invocation_type,
                    LogType="Tail" if invocation_type == "RequestResponse" else "None",
                    Payload=payload,
                )
                self._count_sdk_retries(response)
                self._gate.succeeded()
                return response
            except ClientError as exc:
                self._count_sdk_retries(exc.response)
                error = exc.response.get("Error", {})
                why = f"Lambda {error.get('Code', 'error')}: {error.get('Message', exc)}"
                if not _retryable(exc):
                    raise FunctionFailed(f"{label}: {why}") from exc
                retry_after = exc.response.get("retryAfterSeconds")
            except BotoConnectionError as exc:
                why, retry_after = f"Lambda unreachable: {exc}", None
            except BotoCoreError as exc:
                raise FunctionFailed(f"{label}: Lambda call failed: {exc}") from exc
            finally:
                self._gate.release()
            if attempt >= self.config.max_retries:
                raise FunctionFailed(f"{label}: {why} (gave up after {attempt} retries)")
            self._backoff(attempt, retry_after, label)
            attempt += 1
            self._count("retries")

    def _count_sdk_retries(self, response: Mapping[str, Any]) -> None:
        n = response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
        if n:
            self._count("sdk_retries", n)

    def _backoff(self, attempt: int, retry_after: Any, label: str) -> None:
        """Full-jitter exponential backoff; ``Retry-After`` is a floor. Ends on shutdown."""
        delay = random.uniform(0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2**attempt))
        try:
            delay = max(delay, float(retry_after)) if retry_after else delay
        except ValueError:
            pass
        if self._closed.wait(delay):
            raise FunctionFailed(f"{label}: the platform shut down before it finished")

    def _function_failed(self, label: str, kind: str, body: bytes) -> FunctionFailed:
        """Lambda's error JSON → a failed attempt naming the Lambda error type."""
        try:
            error = json.loads(body)
        except ValueError:
            error = {}
        error = error if isinstance(error, dict) else {}
        error_type = error.get("errorType", kind)
        self._count("function_errors")
        if error_type == "Sandbox.Timedout":
            self._count("timeouts")
        message = error.get("errorMessage") or body[:500].decode(errors="replace")
        return FunctionFailed(f"{label}: Lambda function error {error_type} ({kind}): {message}")
