"""An AIMD limit on invocations in flight: back off as a whole when Lambda throttles.

Per-request backoff alone makes every waiting task keep knocking; when the function's (or
the account's) concurrency is the bottleneck, most of those knocks are throttled again.
Like TCP's congestion window, the limit halves on a throttle and grows by about one per
limit's worth of successes, between 1 and ``maximum``; callers wait for a free slot instead
of sending a request that would be refused.
"""

from __future__ import annotations

import threading


class ConcurrencyGate:
    def __init__(self, maximum: int) -> None:
        if maximum < 1:
            raise ValueError(f"maximum must be >= 1, got {maximum}")
        self.maximum = maximum
        self.limit = float(maximum)
        self.in_flight = 0
        self._changed = threading.Condition()

    def acquire(self, closed: threading.Event | None = None) -> bool:
        """Wait for a slot; False if ``closed`` is set meanwhile."""
        with self._changed:
            while self.in_flight >= int(self.limit):
                if closed is not None and closed.is_set():
                    return False
                self._changed.wait(0.5 if closed is not None else None)
            self.in_flight += 1
            return True

    def release(self) -> None:
        with self._changed:
            self.in_flight -= 1
            self._changed.notify()

    def throttled(self) -> None:
        """Multiplicative decrease: half of what was actually in flight, at least 1."""
        with self._changed:
            self.limit = max(1.0, min(self.limit, self.in_flight) / 2)

    def succeeded(self) -> None:
        """Additive increase: about +1 per ``limit`` successes."""
        with self._changed:
            if self.limit < self.maximum:
                self.limit = min(float(self.maximum), self.limit + 1 / self.limit)
                self._changed.notify_all()
