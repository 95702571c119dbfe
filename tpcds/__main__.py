"""``python -m tpcds {gen,run,queries}`` -- see the README's TPC-DS section."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tpcds import engines, gen, queries, report, runner


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tpcds")
    sub = parser.add_subparsers(dest="cmd", required=True)

    g = sub.add_parser("gen", help="write the 24 tables as Parquet")
    g.add_argument("--scale", type=float, required=True, help="scale factor, e.g. 0.01, 1")
    g.add_argument("--out", required=True, help="local directory or s3://bucket/prefix")

    r = sub.add_parser("run", help="run the queries and write a report")
    r.add_argument("--endpoint", help="sc://HOST:PORT of a running Spark Connect server")
    r.add_argument("--engine", default=None,
                   help="comma list of sparkless,spark,duckdb (default: endpoint if given, "
                        "else sparkless); the first is the one the ratios are about")
    r.add_argument("--queries", default="all", help="all, or q1,q5,...")
    r.add_argument("--data", required=True, help="where `gen` wrote the tables")
    r.add_argument("--scale", default="?", help="label for the report")
    r.add_argument("--timeout", type=float, default=600.0, help="seconds per query")
    r.add_argument("--report", default="tpcds-report", help="directory for report.md/.png/.json")

    rep = sub.add_parser("report", help="re-render a report from its results.json")
    rep.add_argument("results", help="path to results.json")
    rep.add_argument("--report", default=None, help="output directory (default: beside it)")

    sub.add_parser("queries", help="regenerate tpcds/queries/*.sql from the generator")

    args = parser.parse_args(argv)
    if args.cmd == "gen":
        gen.generate(args.scale, args.out)
        return 0
    if args.cmd == "queries":
        queries.regenerate()
        return 0
    if args.cmd == "report":
        src = Path(args.results)
        md = report.write(report.load(src), Path(args.report) if args.report else src.parent)
        print(md.read_text())
        return 0
    names = [n.strip() for n in (args.engine or ("endpoint" if args.endpoint else
                                                   "sparkless")).split(",")]
    if args.endpoint and "endpoint" not in names:
        names.insert(0, "endpoint")
    run = runner.run(engines.make(names, args.endpoint), queries.select(args.queries),
                     args.data, str(args.scale), args.timeout)
    md = report.write(run, Path(args.report))
    print(md.read_text())
    print(f"tpcds: report in {md.parent}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
