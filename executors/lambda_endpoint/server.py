"""The Lambda API over HTTP: just enough of it for boto3's ``lambda`` client.

Implemented (API version 2015-03-31, rest-json, as botocore's service model expects):

- ``POST /2015-03-31/functions/{name}/invocations`` (Invoke): ``X-Amz-Invocation-Type``
  ``RequestResponse`` (200 + payload), ``Event`` (202, run in the background), ``DryRun``
  (204); ``X-Amz-Log-Type: Tail`` returns the last 4 KB of the log, REPORT line included,
  in ``X-Amz-Log-Result``; every answer names ``X-Amz-Executed-Version``. A function error
  is 200 with ``X-Amz-Function-Error: Unhandled`` and Lambda's error JSON.
- ``GET /2015-03-31/functions/{name}`` (GetFunction) and ``…/configuration``
  (GetFunctionConfiguration).
- Errors as Lambda sends them (``x-amzn-ErrorType`` + JSON message): 404
  ``ResourceNotFoundException``, 413 ``RequestEntityTooLargeException`` (a request body over
  6 MB, drained before the answer), 429 ``TooManyRequestsException`` (reserved concurrency
  exhausted), 400 ``InvalidRequestContentException`` (a body that is not JSON).

Not implemented: creating, updating or deleting functions, aliases and versions other
than ``$LATEST``, ``ClientContext``, streaming invocations. Requests are not
authenticated (SigV4 headers are accepted and ignored); the server binds 127.0.0.1 only.

Why ``http.server`` and not a framework: the API surface is four routes of plain JSON,
the process must start in the test suite with nothing extra installed, and each request
blocks on a sandbox anyway, so a thread per connection (``ThreadingHTTPServer``) is the
right model; an ASGI stack would add dependencies and an event loop to hand work back to
threads.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from executors.aws_lambda.config import SYNC_PAYLOAD_LIMIT
from executors.lambda_endpoint.function import VERSION, FunctionHost, Invocation, Throttled

ASYNC_PAYLOAD_LIMIT = 1024 * 1024  # Event invocations: 1 MB (256 KB before late 2025)
_ROUTE = re.compile(
    r"^/2015-03-31/functions/(?P<name>[^/]+)(?P<rest>/invocations|/configuration)?/?$"
)
_DRAIN_CHUNK = 1 << 20


def split_function_name(raw: str) -> tuple[str, str | None]:
    """Name, ``name:qualifier``, a full or a partial ARN → (name, qualifier)."""
    text = unquote(raw)
    if "function:" in text:
        text = text.split("function:", 1)[1]
    name, _, qualifier = text.partition(":")
    return name, qualifier or None


class LambdaRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: botocore reuses its pooled connections
    server: LambdaServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        if self.server.verbose:
            super().log_message(format, *args)

    # -- routing ------------------------------------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        route = self._route()
        if route is None:
            return
        rest = route
        config = self.server.host.spec.configuration()
        if rest == "/configuration":
            self._json(200, config)
        elif rest == "":
            self._json(
                200,
                {
                    "Configuration": config,
                    "Code": {"RepositoryType": "Local", "Location": ""},
                    "Concurrency": {
                        "ReservedConcurrentExecutions": self.server.host.spec.concurrency
                    },
                },
            )
        else:
            self._error(405, "InvalidRequestContentException", "Invoke is a POST")

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        route = self._route()
        if route is None:
            return
        if route != "/invocations":
            self._drain()
            self._error(404, "UnknownOperationException", "Unknown operation")
            return
        self._invoke()

    def _route(self) -> str | None:
        """The path after the function name, or None once a 404 was sent."""
        url = urlsplit(self.path)
        match = _ROUTE.match(url.path)
        if match is None:
            self._drain()
            self._error(404, "UnknownOperationException", f"Unknown operation {url.path}")
            return None
        name, qualifier = split_function_name(match.group("name"))
        qualifier = qualifier or parse_qs(url.query).get("Qualifier", [None])[0]
        spec = self.server.host.spec
        if name != spec.name or qualifier not in (None, VERSION):
            self._drain()
            self._error(
                404,
                "ResourceNotFoundException",
                f"Function not found: arn:aws:lambda:{spec.region}:000000000000:function:"
                f"{name}" + (f":{qualifier}" if qualifier else ""),
            )
            return None
        return match.group("rest") or ""

    # -- Invoke ------------------------------------------------------------------------------

    def _invoke(self) -> None:
        kind = self.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        limit = ASYNC_PAYLOAD_LIMIT if kind == "Event" else SYNC_PAYLOAD_LIMIT
        length = int(self.headers.get("Content-Length") or 0)
        if length > limit:
            self._drain()
            self._error(
                413,
                "RequestEntityTooLargeException",
                f"Request must be smaller than {limit} bytes for the InvokeFunction operation",
            )
            return
        body = self.rfile.read(length) if length else b""
        try:
            event = json.loads(body) if body.strip() else {}
        except ValueError:
            self._error(
                400, "InvalidRequestContentException", "Could not parse request body into json"
            )
            return
        request_id = str(uuid.uuid4())
        host = self.server.host
        if kind == "DryRun":
            self._send(204, b"", {"X-Amz-Executed-Version": VERSION}, request_id)
        elif kind == "Event":
            host.invoke_async(event, request_id)
            self._send(202, b"", {"X-Amz-Executed-Version": VERSION}, request_id)
        elif kind == "RequestResponse":
            try:
                inv = host.invoke(event, request_id)
            except Throttled as exc:
                self._error(
                    429,
                    "TooManyRequestsException",
                    f"Rate Exceeded. {exc}",
                    reason="ReservedFunctionConcurrentInvocationLimitExceeded",
                )
                return
            self._invocation(inv)
        else:
            self._error(
                400,
                "InvalidParameterValueException",
                f"Unsupported X-Amz-Invocation-Type {kind!r}",
            )

    def _invocation(self, inv: Invocation) -> None:
        headers = {"X-Amz-Executed-Version": VERSION, "Content-Type": "application/json"}
        if self.headers.get("X-Amz-Log-Type") == "Tail":
            tail = self.server.host.log_tail(inv)
            headers["X-Amz-Log-Result"] = base64.b64encode(tail.encode()).decode()
        if inv.error is not None:
            headers["X-Amz-Function-Error"] = "Unhandled"
            body = json.dumps(inv.error).encode()
        else:
            body = inv.payload.encode()
        self._send(200, body, headers, inv.request_id)

    # -- responses ---------------------------------------------------------------------------

    def _drain(self) -> None:
        """Read and drop the request body, so the client sees our answer, not a reset."""
        left = int(self.headers.get("Content-Length") or 0)
        while left > 0:
            chunk = self.rfile.read(min(left, _DRAIN_CHUNK))
            if not chunk:
                break
            left -= len(chunk)

    def _json(self, status: int, obj: Any) -> None:
        self._send(status, json.dumps(obj).encode(), {"Content-Type": "application/json"})

    def _error(self, status: int, code: str, message: str, reason: str | None = None) -> None:
        body: dict[str, Any] = {"Type": "User", "message": message}
        if reason:
            body["Reason"] = reason
        self._send(
            status,
            json.dumps(body).encode(),
            {"Content-Type": "application/json", "x-amzn-ErrorType": code},
        )

    def _send(
        self, status: int, body: bytes, headers: dict[str, str], request_id: str | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("x-amzn-RequestId", request_id or str(uuid.uuid4()))
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)


class LambdaServer(ThreadingHTTPServer):
    """A thread per connection; loopback only, one function per server."""

    daemon_threads = True

    def __init__(
        self, host: FunctionHost, port: int = 0, bind: str = "127.0.0.1", verbose: bool = False
    ) -> None:
        if bind not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"the local Lambda endpoint binds loopback only, not {bind!r}")
        self.host = host
        self.verbose = verbose
        super().__init__((bind, port), LambdaRequestHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def server_close(self) -> None:
        super().server_close()
        self.host.shutdown()
