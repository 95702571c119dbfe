"""``sparkless store serve``: run the memory store's servers from the command line.

    --metadata HOST:PORT                         a metadata server (the crail:// address)
    --storage --metadata HOST:PORT --port P --dram 256MB [--disk DIR]
                                                 a storage server registering with it
    --all [--servers 3] [--port P] [--dram ...] [--disk DIR]
                                                 one metadata + N storage servers, one process

Prints one ready line (``sparkless: crail store ready at crail://HOST:PORT`` — for a
storage server ``sparkless: crail storage server HOST:PORT ready (metadata crail://…)``),
then serves until SIGINT or SIGTERM and exits 0 after stopping every server it started.
Servers bind to 127.0.0.1 unless ``--host`` says otherwise.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path

from storage.crail.config import parse_address, parse_size
from storage.crail.metadata import (
    DEFAULT_HEARTBEAT_INTERVAL,
    DEFAULT_HEARTBEAT_TIMEOUT,
    MetadataServer,
)
from storage.crail.server import FrameServer
from storage.crail.storage_server import StorageServer


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    """The options of ``serve_main``; pass a (sub)parser to add them to it."""
    p = parser or argparse.ArgumentParser(
        prog="sparkless store serve", description="Run the crail:// memory store's servers."
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--storage", action="store_true", help="run a storage server")
    mode.add_argument(
        "--all",
        action="store_true",
        help="run a metadata server and --servers storage servers in this process",
    )
    p.add_argument(
        "--metadata",
        metavar="HOST:PORT",
        help="the metadata server's address (to run, or to register with)",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument(
        "--port",
        type=int,
        default=0,
        help="port of the storage server (--storage) or metadata server (--all); "
        "0 picks a free one",
    )
    p.add_argument("--dram", default="256MB", help="DRAM tier size per storage server")
    p.add_argument(
        "--disk",
        metavar="DIR",
        help="disk tier directory (default: a temporary directory, removed at exit)",
    )
    p.add_argument("--servers", type=int, default=3, help="storage servers with --all")
    p.add_argument("--heartbeat-interval", type=float, default=DEFAULT_HEARTBEAT_INTERVAL)
    p.add_argument(
        "--heartbeat-timeout",
        type=float,
        default=DEFAULT_HEARTBEAT_TIMEOUT,
        help="seconds without heartbeats before a storage server's blocks are lost",
    )
    return p


def _stop_on_signals() -> threading.Event:
    """Installed before start-up, so SIGTERM during start-up still stops cleanly."""
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
    return stop


def serve_main(argv: list[str] | None = None) -> int:
    """Run servers until SIGINT/SIGTERM; returns the exit code."""
    return run(build_parser().parse_args(argv))


def run(args: argparse.Namespace) -> int:
    """Run what parsed ``args`` (from ``build_parser``, or a CLI subparser it filled) ask."""
    stop = _stop_on_signals()
    started: list[FrameServer] = []
    temp_dirs: list[Path] = []
    try:
        dram = parse_size(args.dram)
        if args.storage:
            if not args.metadata:
                raise ValueError("--storage needs --metadata HOST:PORT")
            meta = parse_address(args.metadata)
            disk = Path(args.disk) if args.disk else _temp(temp_dirs)
            server = StorageServer(
                meta, host=args.host, port=args.port, dram_capacity=dram, disk_dir=disk
            )
            server.start()
            started.append(server)
            ready = (
                f"sparkless: crail storage server {server.address} ready "
                f"(metadata crail://{meta[0]}:{meta[1]})"
            )
        elif args.all or args.metadata:
            if args.all:
                host, port = args.host, args.port
            else:
                host, port = parse_address(args.metadata, args.host)
            metadata = MetadataServer(
                host,
                port,
                heartbeat_interval=args.heartbeat_interval,
                heartbeat_timeout=args.heartbeat_timeout,
            )
            metadata.start()
            started.append(metadata)
            for i in range(args.servers if args.all else 0):
                disk = Path(args.disk) / f"server-{i}" if args.disk else _temp(temp_dirs)
                server = StorageServer(
                    (metadata.host, metadata.port), host=host, dram_capacity=dram, disk_dir=disk
                )
                server.start()
                started.append(server)
            ready = f"sparkless: crail store ready at {metadata.uri}"
        else:
            raise ValueError("say what to run: --metadata HOST:PORT, --storage or --all")
        print(ready, flush=True)
        while not stop.wait(3600):
            pass
        return 0
    except (ValueError, OSError) as e:
        print(f"sparkless store serve: {e}", file=sys.stderr, flush=True)
        return 1
    finally:
        for s in reversed(started):
            s.stop()
        for d in temp_dirs:
            shutil.rmtree(d, ignore_errors=True)


def _temp(temp_dirs: list[Path]) -> Path:
    d = Path(tempfile.mkdtemp(prefix="sparkless-crail-"))
    temp_dirs.append(d)
    return d


if __name__ == "__main__":
    sys.exit(serve_main(sys.argv[1:]))
