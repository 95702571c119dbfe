"""The run's report: Markdown table, PNG plot and JSON, written side by side.

Why these numbers: per query, each engine's wall time, status and row count; per
engine, the total time over all queries, the time over the queries every engine got
right (the only fair sum), and how many it got right. With more than one engine, each
engine's time is also divided by the first engine's (the one under test) -- the ratio
of totals over commonly-correct queries and the geometric mean of per-query ratios.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from pathlib import Path

from tpcds.runner import Result, Run


def _by(run: Run) -> dict[tuple[str, str], Result]:
    return {(r.engine, r.query): r for r in run.results}


def common_ok(run: Run) -> list[str]:
    """Queries that every engine answered correctly."""
    by = _by(run)
    return [q for q in run.queries
            if all(by.get((e, q)) and by[(e, q)].status == "ok" for e in run.engines)]


def geomean(values: list[float]) -> float | None:
    vals = [v for v in values if v > 0]
    return math.exp(sum(map(math.log, vals)) / len(vals)) if vals else None


def summary(run: Run) -> dict[str, dict[str, float | int | None]]:
    """Per engine: ok count, totals, and ratios against the other engines."""
    by, common = _by(run), common_ok(run)
    out: dict[str, dict[str, float | int | None]] = {}
    for e in run.engines:
        rs = [by[(e, q)] for q in run.queries if (e, q) in by]
        out[e] = {
            "ok": sum(r.status == "ok" for r in rs),
            "queries": len(rs),
            "total_s": sum(r.seconds for r in rs),
            "common_s": sum(by[(e, q)].seconds for q in common),
        }
    first = run.engines[0]
    for other in run.engines[1:]:
        ratios = [by[(first, q)].seconds / by[(other, q)].seconds
                  for q in common if by[(other, q)].seconds > 0]
        base = out[other]["common_s"] or 0.0
        out[first][f"vs_{other}_total"] = (out[first]["common_s"] or 0.0) / base if base else None
        out[first][f"vs_{other}_geomean"] = geomean(ratios)
    return out


def cause(detail: str) -> str:
    """An error message with its particulars (names, numbers, suggestions) blanked out,
    so that failures with one cause fall into one group."""
    text = detail.split(" Did you mean")[0].split(" SQLSTATE")[0]
    text = re.sub(r"`[^`]*`(\.`[^`]*`)*", "`?`", text)
    text = re.sub(r'"[^"]*"', '"?"', text)
    text = re.sub(r"\b(name|table|column) \w+", r"\1 ?", text)
    return re.sub(r"\d+", "N", text).strip()


def failure_groups(run: Run, engine: str) -> list[tuple[str, int, list[str]]]:
    """Failures of one engine grouped by cause (the work list), most common first."""
    groups: dict[str, list[str]] = {}
    for r in run.results:
        if r.engine == engine and r.status not in ("ok",):
            key = r.status if r.status in ("wrong", "timeout") else cause(r.detail)
            groups.setdefault(key, []).append(r.query)
    counted = Counter({k: len(v) for k, v in groups.items()})
    return [(k, n, groups[k]) for k, n in counted.most_common()]


def _fmt(x: float | int | None, spec: str = ".2f") -> str:
    return "–" if x is None else format(x, spec)


def markdown(run: Run) -> str:
    by, summ = _by(run), summary(run)
    lines = [f"# TPC-DS at SF {run.scale}", "",
             f"Run started {run.started}; data `{run.data}`; engines: "
             f"{', '.join(run.engines)}. Times are wall seconds from the client.", "",
             "| engine | correct | total s | s on the "
             f"{len(common_ok(run))} queries all got right |",
             "| --- | ---: | ---: | ---: |"]
    for e in run.engines:
        s = summ[e]
        lines.append(f"| {e} | {s['ok']}/{s['queries']} | {_fmt(s['total_s'])} | "
                     f"{_fmt(s['common_s'])} |")
    first = run.engines[0]
    for other in run.engines[1:]:
        lines.append("")
        lines.append(f"{first} / {other}: total {_fmt(summ[first][f'vs_{other}_total'], '.3f')}×, "
                     f"geometric mean of per-query ratios "
                     f"{_fmt(summ[first][f'vs_{other}_geomean'], '.3f')}× (queries all got right)")
    head = "| query | " + " | ".join(f"{e} s | {e} status | {e} rows" for e in run.engines)
    ratio_cols = [f"{first}/{o}" for o in run.engines[1:]]
    lines += ["", head + "".join(f" | {c}" for c in ratio_cols) + " |",
              "| --- |" + " ---: | --- | ---: |" * len(run.engines) + " ---: |" * len(ratio_cols)]
    for q in run.queries:
        cells = []
        for e in run.engines:
            r = by.get((e, q))
            cells += ([_fmt(r.seconds, ".3f"), r.status, _fmt(r.rows, "d")] if r else ["–"] * 3)
        for o in run.engines[1:]:
            a, b = by.get((first, q)), by.get((o, q))
            ok = a and b and a.status == b.status == "ok" and b.seconds > 0
            cells.append(_fmt(a.seconds / b.seconds, ".2f") if ok else "–")
        lines.append(f"| {q} | " + " | ".join(cells) + " |")
    for e in run.engines:
        groups = failure_groups(run, e)
        if groups:
            lines += ["", f"## {e}: failures by cause", "", "| count | cause | queries |",
                      "| ---: | --- | --- |"]
            for cause, n, qs in groups:
                lines.append(f"| {n} | {cause.replace('|', '/')[:200]} | {', '.join(qs)} |")
    return "\n".join(lines) + "\n"


def plot(run: Run, path: Path) -> None:
    """Per-query wall time per engine (log scale); failed answers drawn hatched."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by = _by(run)
    n, k = len(run.queries), len(run.engines)
    width = 0.8 / k
    fig, ax = plt.subplots(figsize=(min(max(8.0, n * 0.25 + 2), 26.0), 6))
    for i, e in enumerate(run.engines):
        xs, hs, hatches = [], [], []
        for j, q in enumerate(run.queries):
            r = by.get((e, q))
            if r is None:
                continue
            xs.append(j + (i - (k - 1) / 2) * width)
            hs.append(max(r.seconds, 1e-3))
            hatches.append("" if r.status == "ok" else "///")
        bars = ax.bar(xs, hs, width, label=e)
        for bar, h in zip(bars, hatches, strict=True):
            bar.set_hatch(h)
    ax.set_yscale("log")
    ax.set_xticks(range(n), run.queries, rotation=90, fontsize=7)
    ax.set_ylabel("wall time, s (log)")
    ax.set_title(f"TPC-DS SF {run.scale} — hatched: not a correct answer")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def load(path: Path) -> Run:
    """A run back from its ``results.json`` (to re-render a report)."""
    raw = json.loads(path.read_text())
    raw["results"] = [Result(**r) for r in raw["results"]]
    return Run(**raw)


def write(run: Run, out: Path) -> Path:
    """Write ``report.md``, ``report.png`` and ``results.json`` under ``out``; return the .md."""
    out.mkdir(parents=True, exist_ok=True)
    md = out / "report.md"
    md.write_text(markdown(run))
    (out / "results.json").write_text(json.dumps(run.as_dict(), indent=1, default=str))
    plot(run, out / "report.png")
    return md
