"""Shuffle failures the scheduler acts on."""

from __future__ import annotations

from storage.base import StoreError


class FetchFailed(StoreError):
    """A map output could not be read (missing, truncated or corrupt).

    Like Spark's FetchFailedException: the reduce task cannot succeed by retrying
    itself; the scheduler recomputes the map output named by ``key`` from lineage.
    """

    def __init__(self, key: str, message: str = "", *, store: str = "") -> None:
        super().__init__(message or f"failed to fetch shuffle block {key!r}", store=store, key=key)
