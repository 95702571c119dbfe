"""What the host did to a run's memory: free memory before it, memory handed back during it.

On a VM with virtio-balloon free page reporting (this one: ``min_free_ms`` 0), memory the
guest frees is soon returned to the host, and the next touch of it is a host page fault:
writing into such pages measured 370-620 MB/s against ~2,000 MB/s into pages just freed
and not yet reported. A run that writes GBs into fresh page cache pays that. The guest
cannot see which of the pages it touches are fresh, so the benchmark records what it can:
free memory when the run starts, and how much the guest reported to the host while the
run went on (reporting is work on the same CPUs, and every page reported is one the next
writer faults in again; e.g. a 1 GB sort right after a 10 GB one saw the 10 GB run's freed
2.8 GB reported during it). Read these beside a run's time, not as its cause.
"""

from __future__ import annotations

from pathlib import Path

MEMINFO = Path("/proc/meminfo")
REPORTED_KIB = Path("/sys/module/page_reporting/parameters/reported_kib")


def _kib(path: Path, field: str | None = None) -> int | None:
    try:
        text = path.read_text()
    except OSError:
        return None
    if field is None:
        return int(text.strip())
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        if name == field:
            return int(rest.split()[0])
    return None


def sample() -> dict[str, int | None]:
    """MemFree and the guest's free-page-reporting total, in KiB (None where the kernel
    does not expose it: not Linux, or no free page reporting)."""
    return {"mem_free_kib": _kib(MEMINFO, "MemFree"), "reported_kib": _kib(REPORTED_KIB)}


def during(before: dict[str, int | None], after: dict[str, int | None]) -> dict[str, float | None]:
    """Free memory (MB) when the run started and memory reported to the host (MB) while it
    ran."""
    free, rep0, rep1 = before["mem_free_kib"], before["reported_kib"], after["reported_kib"]
    return {
        "mem_free_mb_before": None if free is None else free / 1024,
        "reported_mb": None if rep0 is None or rep1 is None else (rep1 - rep0) / 1024,
    }
