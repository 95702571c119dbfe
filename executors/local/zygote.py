"""The fork server: one warmed interpreter that forks every local function.

Starting an interpreter costs ~0.2–0.3 s (``import pyarrow`` alone is 216 ms here), but
``fork()`` of a parent that has imported *and exercised* pyarrow and DuckDB gives a
running child in milliseconds. So the zygote pays the imports and first-use costs once,
then forks a worker per request. It stays single-threaded so forking is safe.

Control channel (a ``SOCK_SEQPACKET`` socketpair, one record per message):

- platform → zygote: ``b"S"`` + the worker's socket passed as an fd (``SCM_RIGHTS``): fork a
  worker serving that socket; ``b"K" + pid``: SIGKILL that worker; ``b"Q"``: kill all, exit.
- zygote → platform: ``b"R" + pid`` once warmed; ``b"X" + pid + status`` when a worker exits.

The zygote reaps its children, so only it knows their exit status; it reports each one so
the platform can say *how* a function died. EOF on the channel (the driver is gone) ends
the zygote and, through ``PR_SET_PDEATHSIG``, every worker with it.
"""

from __future__ import annotations

import argparse
import gc
import os
import select
import signal
import socket
import struct
import subprocess
import sys

from executors import allocator
from executors.local.proc import die_with_parent

PID = struct.Struct("<q")
EXIT = struct.Struct("<qq")
RECORD_MAX = 64


def exercise() -> None:
    """Touch the code paths every task uses, so forked children find them paged in."""
    import duckdb
    import pyarrow as pa
    import pyarrow.ipc as ipc

    table = pa.table({"k": pa.array([1, 2, 2, 3], pa.int64()), "s": ["a", "b", "c", None]})
    for codec in (None, "lz4", "zstd"):
        sink = pa.BufferOutputStream()
        options = ipc.IpcWriteOptions(compression=codec)
        with ipc.new_stream(sink, table.schema, options=options) as writer:
            writer.write_table(table)
        table = ipc.open_stream(sink.getvalue()).read_all()
    con = duckdb.connect(config={"threads": 1})  # no background threads: fork stays safe
    try:
        con.register("t", table)
        con.sql("SELECT k, count(*) AS n, hash(k) % 4 AS p FROM t GROUP BY k").to_arrow_table()
        con.unregister("t")
    finally:
        con.close()
    _import_store_backends()


def _import_store_backends() -> None:
    """Store backends are imported lazily by ``open_store``; import them here, once, instead
    of in every worker's first task. A backend whose client library is missing is skipped."""
    import importlib

    from storage import STORES

    for target in STORES.values():
        try:
            importlib.import_module(target.partition(":")[0])
        except ImportError:
            pass


class _Zygote:
    """The zygote process's side: a select loop over the control channel and SIGCHLD."""

    def __init__(self, ctrl: socket.socket, handler_spec: str) -> None:
        self.ctrl = ctrl
        self.handler_spec = handler_spec
        self.children: set[int] = set()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(self.wake_w, warn_on_full_buffer=False)

    def run(self) -> None:
        self.ctrl.send(b"R" + PID.pack(os.getpid()))
        while True:
            try:
                readable, _, _ = select.select([self.ctrl, self.wake_r], [], [])
            except InterruptedError:
                continue
            if self.wake_r in readable:
                self._drain_wakeups()
                self._reap()
            if self.ctrl in readable and not self._command():
                break
        self._kill_all()

    def _drain_wakeups(self) -> None:
        try:
            while os.read(self.wake_r, 512):
                pass
        except BlockingIOError:
            pass

    def _reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.children.discard(pid)
            try:
                self.ctrl.send(b"X" + EXIT.pack(pid, status))
            except OSError:
                return

    def _command(self) -> bool:
        """Handle one control record; False means stop."""
        try:
            msg, fds, _, _ = socket.recv_fds(self.ctrl, RECORD_MAX, 4)
        except OSError:
            return False
        if not msg:
            return False
        op = msg[:1]
        if op == b"S":
            for fd in fds:
                self._fork(fd)
        elif op == b"K":
            (pid,) = PID.unpack(msg[1:])
            if pid in self.children:  # still unreaped: the pid cannot have been reused
                os.kill(pid, signal.SIGKILL)
        elif op == b"Q":
            return False
        return True

    def _fork(self, fd: int) -> None:
        zygote = os.getpid()
        try:
            pid = os.fork()
        except OSError:
            os.close(fd)  # the platform sees EOF on its end: the start failed
            return
        if pid:
            os.close(fd)
            self.children.add(pid)
            return
        code = 0
        try:
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            os.close(self.wake_r)
            os.close(self.wake_w)
            self.ctrl.close()
            die_with_parent(zygote)
            from executors.local.worker import serve

            serve(fd, self.handler_spec)
        except BaseException:
            import traceback

            traceback.print_exc()
            code = 1
        finally:
            os._exit(code)  # never run the zygote's cleanup in a child

    def _kill_all(self) -> None:
        for pid in list(self.children):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in list(self.children):
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        self.children.clear()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--parent", type=int, required=True)
    parser.add_argument("--handler", required=True)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the driver decides when we stop
    die_with_parent(args.parent)
    ctrl = socket.socket(fileno=args.fd)
    from executors.local.worker import resolve_handler

    resolve_handler(args.handler)  # import the handler's module (and all it imports) once
    exercise()
    gc.collect()
    gc.freeze()  # keep the warmed heap out of the children's collections: fewer COW faults
    _Zygote(ctrl, args.handler).run()
    os._exit(0)  # children are reaped; skip interpreter teardown (slow, noisy in extensions)


class ZygoteClient:
    """The platform's side: start the zygote, ask it for workers, hear about exits.

    Not thread-safe by itself; the platform serialises calls under its lock. Start it from a
    thread that lives as long as the zygote should (PDEATHSIG follows the starting thread).
    """

    def __init__(self, handler_spec: str) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = allocator.function_env(dict(os.environ))  # read when DuckDB and Arrow load
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)  # the driver's code
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "executors.local.zygote",
                "--fd",
                str(theirs.fileno()),
                "--parent",
                str(os.getpid()),
                "--handler",
                handler_spec,
            ],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            env=env,
        )
        theirs.close()
        self.ctrl = ours
        self.ready = False

    @property
    def pid(self) -> int:
        return self.process.pid

    def fileno(self) -> int:
        return self.ctrl.fileno()

    def spawn(self, worker_end: socket.socket) -> None:
        """Queue a fork; the worker says hello on ``worker_end``'s peer when it is ready."""
        socket.send_fds(self.ctrl, [b"S"], [worker_end.fileno()])

    def kill(self, pid: int) -> None:
        try:
            self.ctrl.send(b"K" + PID.pack(pid))
        except OSError:
            pass  # the zygote is gone, and its workers with it

    def receive(self) -> list[tuple[str, int, int]]:
        """Pending records as ``("ready", pid, 0)`` / ``("exit", pid, status)``; ``("eof", 0, 0)``
        when the zygote is gone."""
        out: list[tuple[str, int, int]] = []
        while True:
            try:
                msg = self.ctrl.recv(RECORD_MAX, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return out
            except OSError:
                msg = b""
            if not msg:
                out.append(("eof", 0, 0))
                return out
            if msg[:1] == b"R":
                self.ready = True
                out.append(("ready", PID.unpack(msg[1:])[0], 0))
            elif msg[:1] == b"X":
                pid, status = EXIT.unpack(msg[1:])
                out.append(("exit", pid, status))

    def stop(self, timeout: float = 5.0) -> None:
        """Kill every worker and the zygote, and reap the zygote."""
        try:
            self.ctrl.send(b"Q")
        except OSError:
            pass
        self.ctrl.close()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


if __name__ == "__main__":
    main()
