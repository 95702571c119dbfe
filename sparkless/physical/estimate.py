"""Size estimates for planning decisions (broadcast or shuffle), as Spark makes them
without statistics: file sizes for scans, and pessimistic products for joins."""

from __future__ import annotations

import os

from sparkless.plan import ir


def estimate_size(p: ir.Plan) -> int | None:
    """Bytes the plan's output is expected to take; None when there is no basis."""
    if isinstance(p, ir.FileScan):
        total = 0
        for f in p.files:
            try:
                total += os.path.getsize(f)
            except OSError:
                return None
        return total
    if isinstance(p, ir.LocalRelation):
        return p.table.nbytes
    if isinstance(p, ir.Range):
        return max(0, (p.end - p.start) // p.step) * 8
    if isinstance(p, ir.Join):
        left, right = estimate_size(p.left), estimate_size(p.right)
        if left is None or right is None:
            return None
        return left * right if p.how not in ("left_semi", "left_anti") else left
    if isinstance(p, ir.Aggregate) and not p.keys:
        return 64 * max(1, len(p.output))  # one row
    if isinstance(p, ir.Limit):
        child = estimate_size(p.child)
        return None if child is None else min(child, p.n * 64 * max(1, len(p.output)))
    if isinstance(p, ir.Union):
        sizes = [estimate_size(c) for c in p.inputs]
        return None if any(s is None for s in sizes) else sum(s for s in sizes if s is not None)
    if p.children:
        return estimate_size(p.children[0])
    return None
