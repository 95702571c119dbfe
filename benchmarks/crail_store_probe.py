"""How fast is the crail:// data path, against a plain loopback socket measured the same way?

    /work/main/.venv/bin/python benchmarks/crail_store_probe.py [--mb 50] [--repeat 5]

Starts ``python -m storage.crail.serve --all`` (1 metadata + 3 storage servers in one
process) and a plain socket server (this script with ``--raw-server``) as subprocesses on
127.0.0.1, then measures, single stream:

* put / get of ``--mb`` MB blocks through ``CrailStore`` vs the raw socket (send the block
  and wait for a one-byte ack; ask for the block and ``recv_into`` a fresh buffer);
* a 64 x 64 shuffle's slices (64 map objects of 64 slices each): every reducer's 64
  slices with one pipelined ``get_ranges`` vs 64 sequential ``get_range`` calls.

Prints median and best MB/s. Takes well under a minute. The raw server, like a storage
server, receives each put into a freshly allocated buffer; "reused buffer" shows what the
kernel copy alone costs once the destination pages are already mapped.
"""

from __future__ import annotations

import argparse
import random
import re
import signal
import socket
import statistics
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from storage.base import RangeRequest  # noqa: E402
from storage.crail.store import CrailStore  # noqa: E402
from storage.crail.transport import tune  # noqa: E402

RAW = struct.Struct("<cQ")


def raw_server() -> None:
    """P+len+bytes → ack; G+len → len bytes. One connection at a time, until SIGTERM."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    listener = socket.create_server(("127.0.0.1", 0))
    print(f"raw ready {listener.getsockname()[1]}", flush=True)
    stored = bytearray()
    while True:
        conn, _ = listener.accept()
        tune(conn)
        with conn:
            head = bytearray(RAW.size)
            while _recv_into(conn, memoryview(head)):
                op, n = RAW.unpack(head)
                if op == b"P":
                    stored = bytearray(n)
                    _recv_into(conn, memoryview(stored))
                    conn.sendall(b"k")
                else:
                    conn.sendall(memoryview(stored)[:n])


def _recv_into(conn: socket.socket, view: memoryview) -> bool:
    got = 0
    while got < len(view):
        k = conn.recv_into(view[got:])
        if not k:
            return False
        got += k
    return True


def _start(args: list[str], pattern: str) -> tuple[subprocess.Popen, re.Match[str]]:
    proc = subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    m = re.search(pattern, line)
    if not m:
        proc.kill()
        raise SystemExit(f"{args} did not start: {line!r}")
    return proc, m


def _timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def _report(name: str, mb: float, secs: list[float]) -> None:
    print(
        f"  {name:<36} median {mb / statistics.median(secs):8.0f} MB/s"
        f"   best {mb / min(secs):8.0f} MB/s"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--slice-kb", type=int, default=16)
    ap.add_argument("--raw-server", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.raw_server:
        raw_server()
        return

    crail, m = _start(
        [sys.executable, "-m", "storage.crail.serve", "--all", "--servers", "3", "--dram", "1GB"],
        r"crail://[\d.]+:\d+",
    )
    raw, rm = _start([sys.executable, __file__, "--raw-server"], r"raw ready (\d+)")
    store = CrailStore.from_uri(m.group(0))
    try:
        block = random.randbytes(args.mb << 20)
        view = memoryview(block)
        print(f"single stream, {args.mb} MB blocks, {args.repeat} runs each (loopback):")
        sock = socket.create_connection(("127.0.0.1", int(rm.group(1))))
        tune(sock)

        def raw_put() -> None:
            sock.sendall(RAW.pack(b"P", len(block)))
            sock.sendall(view)
            _recv_into(sock, memoryview(bytearray(1)))

        def raw_get() -> None:
            sock.sendall(RAW.pack(b"G", len(block)))
            _recv_into(sock, memoryview(bytearray(len(block))))

        reused = memoryview(bytearray(len(block)))

        def raw_get_reused() -> None:
            sock.sendall(RAW.pack(b"G", len(block)))
            _recv_into(sock, reused)

        _report("raw socket send + ack", args.mb, _timed(raw_put, args.repeat))
        _report("raw socket recv_into fresh buffer", args.mb, _timed(raw_get, args.repeat))
        _report("raw socket recv_into reused buffer", args.mb, _timed(raw_get_reused, args.repeat))
        sock.close()
        n = iter(range(10**6))
        _report(
            "crail put (alloc+PUT+commit)",
            args.mb,
            _timed(lambda: store.put(f"probe/big-{next(n)}", view), args.repeat),
        )
        assert store.get("probe/big-0") == block
        _report("crail get", args.mb, _timed(lambda: store.get("probe/big-0"), args.repeat))
        store.delete_prefix("probe/")

        maps = reduces = 64
        size = args.slice_kb << 10
        for mid in range(maps):
            store.put(f"probe/shuffle/map-{mid}", random.randbytes(reduces * size))
        slices = [
            [RangeRequest(f"probe/shuffle/map-{mid}", r * size, size) for mid in range(maps)]
            for r in range(reduces)
        ]
        store.get_ranges([s for per in slices for s in per[:1]])  # placements cached: fair
        total_mb = maps * reduces * size / (1 << 20)

        def pipelined() -> None:
            for per in slices:
                store.get_ranges(per)

        def sequential() -> None:
            for per in slices:
                for s in per:
                    store.get_range(s.key, s.offset, s.length)

        print(
            f"64 x 64 shuffle, {maps * reduces} slices of {args.slice_kb} KB "
            f"({total_mb:.0f} MB), every reducer's 64 slices:"
        )
        for name, fn in (("pipelined get_ranges", pipelined), ("sequential get_range", sequential)):
            secs = _timed(fn, 3)
            _report(name, total_mb, secs)
            print(
                f"  {'':<36} median {statistics.median(secs):.3f} s for all 64 reducers, "
                f"{maps * reduces / statistics.median(secs):,.0f} slices/s"
            )
        store.delete_prefix("probe/")
    finally:
        store.close()
        for proc in (crail, raw):
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=15)


if __name__ == "__main__":
    main()
