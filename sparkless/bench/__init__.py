"""Benchmarks run from the command line (``sparkless bench …``); not tests, no thresholds."""

from __future__ import annotations

import argparse


def add_bench_arguments(bench: argparse.ArgumentParser) -> None:
    """``sparkless bench startup [--quick] [--json PATH]``; cheap to import (the CLI's parser)."""
    sub = bench.add_subparsers(dest="bench_command", required=True, metavar="BENCHMARK")
    startup = sub.add_parser("startup", help="sandbox start, warm reuse and stage start latency")
    startup.add_argument("--quick", action="store_true", help="fewer samples (~15-20 s)")
    startup.add_argument("--json", metavar="PATH", help="also write the rows as JSON")


def run(args: argparse.Namespace) -> int:
    from sparkless.bench.startup import main

    return main(args)
