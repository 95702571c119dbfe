"""The run's table (Markdown) and chart (PNG; matplotlib is optional, the ``bench`` extra)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tpcds.sort.bench import round_ratios, summarize


def _f(x: float | None, fmt: str = ".1f") -> str:
    return "–" if x is None else format(x, fmt)


def is_repeated(doc: dict[str, Any]) -> bool:
    """Whether the doc holds several rounds (``--repeat`` > 1)."""
    return int(doc.get("repeat", 1)) > 1


def summary_of(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The doc's per-engine summary (results.json before ``--repeat`` had none)."""
    if doc.get("summary") is not None:
        return doc["summary"]
    return summarize(doc["results"])


def representatives(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """One run per engine: its median valid run, else its first (failed) run."""
    runs = doc["results"]
    picked = []
    for s in summary_of(doc):
        i = s["median_run"]
        picked.append(runs[i] if i is not None else next(r for r in runs if r["engine"] == s["engine"]))
    return picked


def markdown(doc: dict[str, Any], prediction: str = "") -> str:
    """One row per run (a FAILED run shows no time, only why), the stage profile of each
    engine's median run, and the MB/s ratios of the first engine to the others."""
    repeated = is_repeated(doc)
    rows = [
        ("| round " if repeated else "")
        + "| engine | status | job s | wall s | MB/s | phases (s) | store read / written MB, "
        "requests | GB-s | cost $ | balance max/min | load avg | host memory: free before / "
        "reported during, MB |",
        ("|---:" if repeated else "") + "|---|---|---:|---:|---:|---|---|---:|---:|---:|---|---|",
    ]
    for r in doc["results"]:
        lead = f"| {r.get('round', 1)} " if repeated else ""
        val = r.get("validation") or {}
        if r["status"] != "ok":
            why = "; ".join(val.get("errors") or [r.get("error", "")[:120]])
            rows.append(lead + f"| {r['engine']} | **FAILED** ({why}) | – | – | – | – | – | – | – | – "
                        "| – | – |")
            continue
        phases = ", ".join(f"{s['phase']} {s['seconds']:.1f}" for s in r.get("stages", []))
        m, c, hm = r.get("metrics", {}), r.get("cost", {}), r.get("host_memory") or {}
        store = (
            f"{m['store_bytes_read'] / 1e6:.0f} / {m['store_bytes_written'] / 1e6:.0f}, "
            f"{m.get('store_requests', 0):.0f}" if "store_bytes_read" in m else "–"
        )
        rows.append(
            lead + f"| {r['engine']} | ok | {_f(r['job_seconds'])} | {_f(r['wall_seconds'])} | "
            f"{_f(r.get('mbps'))} | {phases or 'total only'} | {store} | "
            f"{_f(c.get('gb_seconds'))} | {_f(c.get('dollars'), '.5f')} | "
            f"{_f(val.get('balance'), '.2f')} | "
            f"{' → '.join(format(x, '.1f') for x in r.get('load_average', ()))} | "
            f"{_f(hm.get('mem_free_mb_before'), '.0f')} / {_f(hm.get('reported_mb'), '.0f')} |"
        )
    lines = ["\n".join(rows)]
    summary = summary_of(doc)
    if repeated:
        table = ["| engine | valid runs | MB/s median | MB/s min – max |", "|---|---:|---:|---|"]
        table += [
            f"| {s['engine']} | {s['valid']} / {s['runs']} | {_f(s['mbps_median'])} | "
            f"{_f(s['mbps_min'])} – {_f(s['mbps_max'])} |"
            for s in summary
        ]
        lines.append("\n" + "\n".join(table))
    profile = stage_profile({"results": representatives(doc)})
    if profile:
        lines.append(("\nStages of each engine's median run:\n" if repeated else "\n") + profile)
    valid = [s for s in summary if s["mbps_median"]]
    for ref in valid[1:]:  # the first engine (sparkless) against each reference of the run
        head, ratio = valid[0], valid[0]["mbps_median"] / ref["mbps_median"]
        line = f"\n{head['engine']} / {ref['engine']} MB/s ratio: {ratio:.2f}"
        if repeated:
            per_round = round_ratios(doc["results"], head["engine"], ref["engine"])
            line += (f" (of the medians); within a round {min(per_round):.2f} – "
                     f"{max(per_round):.2f}" if per_round else " (of the medians)")
        lines.append(line)
    if prediction:
        lines.append("\n" + prediction)
    return "\n".join(lines) + "\n"


def stage_profile(doc: dict[str, Any]) -> str:
    """Per stage of each engine that reports stages: where the time went inside the tasks
    (summed over tasks: inputs fetched + decoded vs DuckDB fragment + partition/encode +
    store put), the CPU the tasks used (on a loaded machine far below their wall time), the
    largest partition a task read, and the most any task spilled."""
    rows = [
        "| engine | stage | tasks | wall s | task s min / median / max | Σ task s | Σ task CPU s | "
        "Σ read s | "
        "Σ compute+write s (DuckDB query / shuffle write) | largest task input MB | spill MB |",
        "|---|---|---:|---:|---|---:|---:|---:|---|---:|---:|",
    ]
    for r in doc["results"]:
        for s in r.get("stages") or []:
            ts = sorted(s.get("task_seconds") or [0.0])
            rows.append(
                f"| {r['engine']} | {s['phase']} | {len(s.get('task_seconds') or [])} | "
                f"{s['seconds']:.1f} | {ts[0]:.2f} / {ts[len(ts) // 2]:.2f} / {ts[-1]:.2f} | "
                f"{sum(ts):.1f} | {s.get('cpu_seconds', 0.0):.1f} | "
                f"{s.get('read_seconds', 0.0):.1f} | {s.get('compute_write_seconds', 0.0):.1f}"
                + (
                    f" ({s['query_seconds']:.1f} / {s['shuffle_write_seconds']:.1f})"
                    if s.get("query_seconds")
                    else ""
                )
                + " | "
                f"{s.get('max_task_input_bytes', 0) / 1e6:.0f} | "
                f"{s.get('spill_peak_bytes', 0) / 1e6:.0f} |"
            )
    return "\n".join(rows) if len(rows) > 2 else ""


def chart(doc: dict[str, Any], path: str | Path) -> Path | None:
    """Stacked phase bars of each engine's median run; None when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, ax = plt.subplots(figsize=(8, 3.5))
    names: list[str] = []
    repeated = is_repeated(doc)
    for i, r in enumerate(representatives(doc)):
        names.append(f"{r['engine']}\n{'FAILED' if r['status'] != 'ok' else _f(r.get('mbps')) + ' MB/s'}")
        if r["status"] != "ok":
            continue
        left = 0.0
        stages = r.get("stages") or [{"phase": "total", "seconds": r["job_seconds"] or 0.0}]
        for s in stages:  # engines that report only a total share one grey "total" entry
            color = "0.6" if s["phase"] == "total" else None
            ax.barh(i, s["seconds"], left=left, label=s["phase"], color=color)
            left += s["seconds"]
    handles, labels = ax.get_legend_handles_labels()
    uniq = dict(zip(labels, handles, strict=False))
    ax.legend(uniq.values(), uniq.keys(), fontsize=7, loc="lower right")
    ax.set_yticks(range(len(names)), names)
    size_gb = doc["results"][0]["size_bytes"] / 1e9 if doc["results"] else 0
    ax.set_xlabel("seconds")
    which = f", median of {doc['repeat']} runs each" if repeated else ""
    ax.set_title(f"Sort {size_gb:g} GB (gensort records){which}, {doc['date']}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)
