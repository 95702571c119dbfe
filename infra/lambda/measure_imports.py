"""Cold-start import cost of the Lambda handler, measured in fresh interpreters.

    python infra/lambda/measure_imports.py [--runs 7] [--json]

For each scenario (what Lambda's init phase imports, and what the first task against each
store adds), it runs a new interpreter with ``-X importtime`` and attributes every
module's *self* time to its top-level package (stdlib grouped), then reports the median
over runs; a separate run without ``-X importtime`` gives the wall time, since
``importtime``'s own bookkeeping inflates the sum. Run it from the repository root (or
anywhere: it puts the root on ``sys.path``) with the interpreter that holds the deps.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCENARIOS: dict[str, str] = {
    # What Lambda's init phase runs: the image's CMD names this module.
    "handler (init)": "import executors.aws_lambda.entry",
    # Deferred until a task opens an s3:// store (storage.open_store imports lazily).
    "+ s3 store (first s3:// task)": "import executors.aws_lambda.entry; import storage.s3.store",
    # Deferred until a task opens a redis:// store.
    "+ redis store (first redis:// task)": (
        "import executors.aws_lambda.entry; import storage.redisstore.store"
    ),
}
OURS = {"executors", "shuffle", "storage"}

# The image installs no pandas; this venv has it (pyspark needs it). DuckDB's first scan of
# an Arrow table imports pandas when it is installed, so the first query is measured both
# ways: with pandas hidden by an import hook (as in the image) and as installed here.
NO_PANDAS = (
    "import sys\n"
    "class _NoPandas:\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name.split('.')[0] == 'pandas':\n"
    "            raise ModuleNotFoundError(name)\n"
    "sys.meta_path.insert(0, _NoPandas())\n"
)
WARM = "import executors.aws_lambda.entry as e; e.warm()"
SCENARIOS["handler + warm() (first DuckDB query), no pandas: as in the image"] = NO_PANDAS + WARM
SCENARIOS["handler + warm() (first DuckDB query), pandas installed"] = WARM


def _run(code: str, importtime: bool) -> subprocess.CompletedProcess[str]:
    setup, _, stmt = code.rpartition("\n")  # setup lines run before the clock starts
    timer = (
        f"{setup}\nimport time as _t; _s=_t.perf_counter(); "
        f"{stmt}; print(round((_t.perf_counter()-_s)*1000, 1))"
    )
    cmd = [sys.executable, *(["-X", "importtime"] if importtime else []), "-c", timer]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)


def by_package(stderr: str) -> dict[str, float]:
    """Self time (ms) per top-level package from ``-X importtime`` output."""
    std = set(sys.stdlib_module_names)
    out: dict[str, float] = defaultdict(float)
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _cumulative, name = line[len("import time:") :].split("|")
        root = name.strip().split(".")[0]
        key = "stdlib" if root in std or root.startswith("_") else root
        key = "sparkless code" if key in OURS else key
        out[key] += int(self_us) / 1000
    return dict(out)


def measure(code: str, runs: int) -> dict[str, object]:
    walls = [float(_run(code, importtime=False).stdout.strip()) for _ in range(runs)]
    tables = [by_package(_run(code, importtime=True).stderr) for _ in range(runs)]
    packages = {k for t in tables for k in t}
    medians = {k: statistics.median(t.get(k, 0.0) for t in tables) for k in packages}
    return {
        "wall_ms": statistics.median(walls),
        "wall_ms_min": min(walls),
        "packages_ms": dict(sorted(medians.items(), key=lambda kv: -kv[1])),
    }


def markdown(results: dict[str, dict[str, object]]) -> str:
    lines = [
        "| scenario | wall (median) | wall (min) | biggest packages (self time, median) |",
        "|---|---|---|---|",
    ]
    for name, r in results.items():
        top = ", ".join(f"{k} {v:.0f} ms" for k, v in list(r["packages_ms"].items())[:6])
        lines.append(f"| {name} | {r['wall_ms']:.0f} ms | {r['wall_ms_min']:.0f} ms | {top} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7, help="fresh interpreters per scenario")
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = ap.parse_args()
    results = {name: measure(code, args.runs) for name, code in SCENARIOS.items()}
    print(json.dumps(results, indent=2) if args.json else markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
