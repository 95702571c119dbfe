"""``python -m tpcds.sort gen|run|validate|plan`` (see README, "Sort benchmark")."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path

from tpcds.sort import bench, gen, model, report, valsort

PLAN_SIZES = {"100GB": 100e9, "1TB": 1e12, "100TB": 100e12}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tpcds.sort", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    g = sub.add_parser("gen", help="write gensort records (Parquet or raw) in parallel")
    g.add_argument("--size", required=True, help="1GB, 10GB, 100GB or <N>MB (decimal units)")
    g.add_argument("--out", required=True)
    g.add_argument("--seed", type=int, default=0, help="record stream; 0 = gensort's own")
    g.add_argument("--format", choices=gen.FORMATS, default="parquet")
    g.add_argument("--mode", choices=("ascii", "binary"), default="ascii",
                   help="gensort -a (default) or gensort's binary records")
    g.add_argument("--workers", type=int, default=2)
    g.add_argument("--records-per-partition", type=int, default=gen.PER_PARTITION)
    r = sub.add_parser("run", help="sort with each engine, validate, report")
    r.add_argument("--engine", type=_engines, default="all",
                   help="comma-separated sparkless,spark,duckdb; 'all' (default) or 'both' "
                        "(sparkless,spark)")
    r.add_argument("--data", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--store", help="sparkless shuffle store URI (default: a temp file:// dir)")
    r.add_argument("--endpoint", help="run the job against this sc://host:port instead")
    r.add_argument("--slots", type=int, default=2, help="functions running at once (local)")
    r.add_argument("--keep-output", action="store_true")
    r.add_argument("--repeat", type=int, default=1,
                   help="rounds of every engine, engine order rotated per round; the "
                        "report quotes the median")
    v = sub.add_parser("validate", help="valsort-equivalent check of sorted output")
    v.add_argument("dir")
    v.add_argument("--input", help="input data dir whose manifest gives count and checksum")
    pl = sub.add_parser("plan", help="predict time, cost and the binding limit at scale")
    pl.add_argument("--size", default="100GB", help="100GB, 1TB, 100TB (or any gen size)")
    pl.add_argument("--functions", type=int, default=100)
    pl.add_argument("--store", choices=("s3", "redis", "auto"), default="auto")
    pl.add_argument("--rates", default="sort-results/rates.json")
    pl.add_argument("--prefixes", type=int, default=1, help="S3 prefixes the shuffle spreads over")
    pl.add_argument("--check", nargs="*", metavar="RESULTS_JSON",
                    help="predict these measured runs from --rates and print the error")
    return p


def _engines(spec: str) -> str:
    try:
        bench.engine_list(spec)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return spec


def _size_bytes(size: str) -> int:
    return int(PLAN_SIZES.get(size.upper(), 0)) or gen.parse_size(size) * 100


def cmd_gen(a: argparse.Namespace) -> int:
    m = gen.generate(a.size, a.out, a.seed, a.format, a.mode, a.workers, a.records_per_partition)
    print(f"{m['records']} records ({m['bytes'] / 1e9:g} GB) in {len(m['partitions'])} files, "
          f"{m['generator']}, {m['seconds']:.1f} s ({m['bytes'] / 1e6 / m['seconds']:.0f} MB/s); "
          f"checksum {m['checksum']}")
    return 0


def cmd_validate(a: argparse.Namespace) -> int:
    m = gen.load_manifest(a.input) if a.input else None
    v = valsort.validate(a.dir, m and int(m["records"]), m and int(m["checksum"], 16))
    print(v.report())
    return 0 if v.ok else 1


def cmd_run(a: argparse.Namespace) -> int:
    doc = bench.run_all(a.engine, a.data, a.out, a.store, a.endpoint, a.slots, a.keep_output,
                         a.repeat)
    md = report.markdown(doc)
    Path(a.out, "report.md").write_text(md)
    png = report.chart(doc, Path(a.out, "report.png"))
    print(md)
    print(f"results: {Path(a.out, 'results.json')}; chart: {png or 'matplotlib not installed'}")
    return 0 if all(r["status"] == "ok" for r in doc["results"]) else 1


def load_rates(path: str) -> model.Rates:
    raw = json.loads(Path(path).read_text())
    if "results" in raw:  # a results.json: take its sparkless rates
        raw = next(r["rates"] for r in raw["results"] if r.get("rates"))
    names = {f.name for f in fields(model.Rates)}
    return model.Rates(**{k: v for k, v in raw.items() if k in names})


def describe(p: model.Prediction) -> str:
    terms = ", ".join(f"{k} {v:.1f} s" for k, v in p.terms.items())
    cost = ", ".join(f"{k} ${v:.4f}" for k, v in p.cost_lines.items() if v)
    out = (f"{p.size_bytes / 1e9:g} GB on {p.functions} functions via {p.store}: "
           f"{p.seconds:.1f} s ({p.mbps:.0f} MB/s), ${p.dollars:.4f} ({cost}); "
           f"{p.map_tasks} map + {p.reduce_tasks} reduce tasks of {p.memory_mb} MB\n"
           f"  terms: {terms}\n  binding limit: {p.binding}")
    return out + "".join(f"\n  note: {n}" for n in p.notes)


def cmd_plan(a: argparse.Namespace) -> int:
    rates = load_rates(a.rates)
    if a.check is not None:
        for path in a.check:
            doc = json.loads(Path(path).read_text())
            for r in doc["results"]:
                if r["engine"] != "sparkless" or r["status"] != "ok":
                    continue
                p = model.predict(rates, r["size_bytes"], rates.slots, rates.store, "local")
                err = (p.seconds - r["job_seconds"]) / r["job_seconds"]
                share = model.cpu_share(r.get("stages") or [])
                q = model.predict(model.at_cpu_share(rates, share), r["size_bytes"], rates.slots,
                                  rates.store, "local")
                err_q = (q.seconds - r["job_seconds"]) / r["job_seconds"]
                print(f"check {r['size_bytes'] / 1e9:g} GB ({path}): predicted {p.seconds:.1f} s, "
                      f"measured {r['job_seconds']:.1f} s, error {err:+.1%} "
                      f"(rates from a {rates.size_bytes / 1e9:g} GB run); at the run's CPU "
                      f"share {share:.2f} (rates' {rates.cpu_share:.2f}): predicted "
                      f"{q.seconds:.1f} s, error {err_q:+.1%}")
        return 0
    size = _size_bytes(a.size)
    if rates.cpu_share < 1.0:  # a function has its core; the measured tasks shared theirs
        print(f"rates scaled to a core per function (measured tasks got {rates.cpu_share:.2f})")
        rates = model.at_cpu_share(rates, 1.0)
    if a.store == "auto":
        p = model.pick_store(rates, size, a.functions)
        print("store auto ->", p.store)
    else:
        p = model.predict(rates, size, a.functions, a.store, prefixes=a.prefixes)
    print(describe(p))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    a = _parser().parse_args(argv)
    return {"gen": cmd_gen, "run": cmd_run, "validate": cmd_validate, "plan": cmd_plan}[
        a.command](a)


if __name__ == "__main__":
    sys.exit(main())
