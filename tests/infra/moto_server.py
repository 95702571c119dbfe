"""moto's server mode in its own process on 127.0.0.1, for the deploy/doctor tests.

A subprocess, not moto's in-process ``ThreadedMotoServer``: moto keeps its backends and its
configuration (``lambda.use_docker``) in module globals, so two servers in one process
would share state. Each test gets a fresh server and the fixture stops it.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

HOST = "127.0.0.1"
READY_TIMEOUT_S = 30.0

AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
AWS_UNSET = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3")


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def aws_env() -> Iterator[None]:
    """moto's fake credentials for this process; a developer's ~/.aws cannot leak in."""
    saved = {k: os.environ.get(k) for k in (*AWS_ENV, *AWS_UNSET)}
    os.environ.update(AWS_ENV)
    for k in AWS_UNSET:
        os.environ.pop(k, None)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _post_json(url: str, body: dict) -> None:
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        resp.read()


@contextlib.contextmanager
def moto_server(*, lambda_docker: bool = True) -> Iterator[str]:
    """Yields the endpoint URL. ``lambda_docker=False`` selects moto's docker-less Lambda,
    whose invocations always succeed without running anything (set before any function
    exists: moto keeps the two kinds of function in different backends)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **AWS_ENV},
    )
    endpoint = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            try:
                with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"moto server did not start on {endpoint} (exit {proc.poll()}); "
                        "install it with: pip install 'moto[server]'"
                    ) from None
                time.sleep(0.1)
        if not lambda_docker:
            _post_json(f"{endpoint}/moto-api/config", {"lambda": {"use_docker": False}})
        yield endpoint
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
