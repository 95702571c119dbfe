"""``run``: the sort on each engine, validated, with rates saved for the scale model."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tpcds.sort import engines, gen, host, model, valsort


def balance(files: list[tuple[str, int]]) -> float | None:
    """Largest / smallest output partition by records (None if a partition is empty)."""
    counts = [n for _, n in files]
    if not counts or min(counts) == 0:
        return None
    return max(counts) / min(counts)


def rates_from(run: engines.EngineRun, size_bytes: int, store_probe: dict[str, float],
               slots: int) -> model.Rates | None:
    """Per-function rates from a sparkless run's stages and store metrics."""
    m = run.metrics
    written = float(m.get("store_bytes_written", 0))
    read = float(m.get("store_bytes_read", 0))
    store_s = float(m.get("store_seconds", 0)) or 1e-9
    requests = float(m.get("store_requests", 0)) or 1.0
    store_mbps = (written + read) / 1e6 / store_s
    maps = [s for s in run.stages if s.phase.startswith("map/shuffle")]
    reduces = [s for s in run.stages if s.phase.startswith("reduce")]
    if not maps or not reduces or not written:
        return None  # sorted in one task without a shuffle: nothing to scale from
    mb = size_bytes / 1e6
    expansion = written / size_bytes if written else 1.0

    def compute_rate(stages: list[engines.StageStat], store_mb: float) -> float:
        tasks = sum(len(s.task_seconds) for s in stages) or 1
        task_s = statistics.mean(t for s in stages for t in s.task_seconds) if stages else 1.0
        store_share = store_mb / tasks / store_mbps
        return (mb / tasks) / max(task_s - store_share, 1e-3)

    stage_wall = sum(s.seconds for s in run.stages)
    busy = sum(
        math_ceil(len(s.task_seconds), slots) * statistics.mean(s.task_seconds)
        for s in run.stages if s.task_seconds
    )
    return model.Rates(
        size_bytes=size_bytes,
        map_compute_mbps=compute_rate(maps, written / 1e6),
        reduce_compute_mbps=compute_rate(reduces, read / 1e6),
        expansion=expansion,
        store=str(m.get("store", "file://")).split("://")[0],
        store_read_mbps=store_mbps,
        store_write_mbps=store_mbps,
        get_latency_s=store_probe["get_latency_s"],
        put_latency_s=store_probe["put_latency_s"],
        request_bytes=(written + read) / requests,
        stage_overhead_s=max(0.0, ((run.job_seconds or stage_wall) - busy) / 3),
        slots=slots,
        memory_mb=int(run.cost.get("memory_mb", 2048)),
        measured_job_s=run.job_seconds or 0.0,
        extra={"store_probe": store_probe, "stage_wall_s": stage_wall},
        cpu_share=model.cpu_share([asdict(s) | {"phase": s.phase} for s in run.stages]),
    )


def math_ceil(n: int, d: int) -> int:
    return -(-n // max(d, 1))


ENGINES = ("sparkless", "spark", "duckdb")
ALIASES = {"both": ["sparkless", "spark"], "all": list(ENGINES)}


def engine_list(spec: str) -> list[str]:
    """``sparkless,spark,duckdb`` (any subset, in that order of mention) or an alias."""
    if spec in ALIASES:
        return ALIASES[spec]
    names = [n.strip() for n in spec.split(",") if n.strip()]
    unknown = [n for n in names if n not in ENGINES]
    if unknown or not names:
        raise ValueError(
            f"unknown engine {', '.join(unknown) or spec!r}; choose from {', '.join(ENGINES)} "
            f"(comma-separated) or {', '.join(ALIASES)}"
        )
    return list(dict.fromkeys(names))


def run_all(
    engine: str, data: str, out: str, store: str | None, endpoint: str | None = None,
    slots: int = 2, keep_output: bool = False, repeat: int = 1,
) -> dict[str, Any]:
    """Run, validate and summarise each requested engine ``repeat`` times; writes
    results.json + rates.json (from sparkless's median run).

    Rounds rotate the engine order, so no engine always runs first (after generation, or
    after the engine whose page cache it inherits): on this VM one run is one sample of a
    noisy host, and the median of interleaved rounds is the figure to quote.
    """
    if repeat < 1:
        raise ValueError(f"repeat must be >= 1, got {repeat}")
    manifest = gen.load_manifest(data)
    if manifest is None:
        raise SystemExit(f"{data}: no {gen.MANIFEST}; generate it with `gen` first")
    outdir = Path(out)
    outdir.mkdir(parents=True, exist_ok=True)
    todo = ["endpoint"] if endpoint else engine_list(engine)
    results: list[dict[str, Any]] = []
    for round_no in range(repeat):
        k = round_no % len(todo)
        for name in todo[k:] + todo[:k]:
            entry = run_one(name, data, outdir, manifest, store, endpoint, slots, keep_output)
            entry["round"] = round_no + 1
            results.append(entry)
    summary = summarize(results)
    median_run = next((s["median_run"] for s in summary if s["engine"] == "sparkless"), None)
    if median_run is not None and "rates" in results[median_run]:
        (outdir / "rates.json").write_text(json.dumps(results[median_run]["rates"], indent=1))
    doc = {"date": time.strftime("%Y-%m-%d"), "data": data, "manifest_seconds":
           manifest.get("seconds"), "repeat": repeat, "results": results, "summary": summary}
    (outdir / "results.json").write_text(json.dumps(doc, indent=1, default=str))
    return doc


def run_one(
    name: str, data: str, outdir: Path, manifest: dict[str, Any], store: str | None,
    endpoint: str | None, slots: int, keep_output: bool,
) -> dict[str, Any]:
    """One engine's sort, validated against the manifest; a failed validation is FAILED."""
    size = int(manifest["bytes"])
    exp_records, exp_sum = int(manifest["records"]), int(manifest["checksum"], 16)
    dst = str(outdir / f"sorted-{name}")
    shutil.rmtree(dst, ignore_errors=True)
    load_before, memory_before = os.getloadavg()[0], host.sample()
    if name == "sparkless":
        r = engines.run_sparkless(data, dst, store)
    elif name == "spark":
        r = engines.run_spark(data, dst, engines.spark_memory(size))
    elif name == "duckdb":
        r = engines.run_duckdb(data, dst)
    else:
        r = engines.run_endpoint(data, dst, endpoint or "")
    r.load_average = (load_before, os.getloadavg()[0])
    r.host_memory = host.during(memory_before, host.sample())
    started = time.perf_counter()
    v = valsort.validate(dst, exp_records, exp_sum) if r.status == "ok" else None
    entry = asdict(r) | {
        "size_bytes": size,
        "stages": [asdict(s) | {"phase": s.phase} for s in r.stages],
        "validation": None if v is None else {
            "ok": v.ok, "errors": v.errors, "records": v.summary.records,
            "checksum": format(v.summary.checksum, "x"),
            "duplicates": v.summary.duplicates, "files": len(v.summary.files),
            "balance": balance(v.summary.files),
        },
        "validate_seconds": time.perf_counter() - started,
    }
    if v is None or not v.ok:
        entry["status"] = "FAILED"
    elif r.job_seconds:
        entry["mbps"] = size / 1e6 / r.job_seconds
    if name == "sparkless" and entry["status"] == "ok":
        rates = rates_from(r, size, r.metrics.get("store_probe") or {}, slots)
        if rates is not None:
            entry["rates"] = asdict(rates)
    if not keep_output:
        shutil.rmtree(dst, ignore_errors=True)
    return entry


def is_valid(run: dict[str, Any]) -> bool:
    """A run that validated and has a rate: the only kind that counts as a sample."""
    return run["status"] == "ok" and bool(run.get("mbps"))


def summarize(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per engine (as its runs name it, in the order of its first run): runs, valid runs,
    median / min / max MB/s over the valid ones, and ``median_run`` (index into ``results``
    of the valid run nearest the median, the one whose phases and rates stand for the
    engine; None when no run was valid)."""
    out: list[dict[str, Any]] = []
    for name in dict.fromkeys(r["engine"] for r in results):
        runs = [i for i, r in enumerate(results) if r["engine"] == name]
        ok = [i for i in runs if is_valid(results[i])]
        mbps = [results[i]["mbps"] for i in ok]
        med = statistics.median(mbps) if mbps else None
        out.append({
            "engine": name, "runs": len(runs), "valid": len(ok),
            "mbps_median": med, "mbps_min": min(mbps, default=None),
            "mbps_max": max(mbps, default=None),
            "median_run": min(ok, key=lambda i: abs(results[i]["mbps"] - med)) if ok else None,
        })
    return out


def round_ratios(results: list[dict[str, Any]], engine: str, reference: str) -> list[float]:
    """``engine`` MB/s over ``reference`` MB/s within each round where both were valid:
    runs minutes apart see nearly the same host, so these spread less than the medians."""
    by_round: dict[int, dict[str, float]] = {}
    for r in filter(is_valid, results):
        by_round.setdefault(r.get("round", 1), {})[r["engine"]] = r["mbps"]
    return [m[engine] / m[reference] for _, m in sorted(by_round.items())
            if engine in m and reference in m]
