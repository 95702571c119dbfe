"""Which store each shuffle goes to.

By default every block of a job goes to the job's store (``spark.sparkless.store``).
With ``spark.sparkless.store=auto`` each shuffle is placed by its estimated size, as
Locus showed pays off: small shuffles in a fast store (Redis or the crail:// memory
store), large ones in a cheap, elastic one (S3)::

    spark.sparkless.store=auto
    spark.sparkless.store.auto.small=redis://127.0.0.1:6379/0
    spark.sparkless.store.auto.large=s3://bucket/prefix
    spark.sparkless.store.auto.threshold=256m   # estimated shuffle bytes
"""

from __future__ import annotations

from collections.abc import Mapping

from sparkless.conf import parse_bytes

AUTO = "auto"


def auto_stores(conf: Mapping[str, str]) -> tuple[str, str, int]:
    """(small store URI, large store URI, threshold in bytes) for ``store=auto``."""
    small = conf.get("spark.sparkless.store.auto.small")
    large = conf.get("spark.sparkless.store.auto.large")
    if not small or not large:
        raise ValueError(
            "spark.sparkless.store=auto needs spark.sparkless.store.auto.small (e.g. a redis:// "
            "or crail:// URI) and spark.sparkless.store.auto.large (e.g. an s3:// URI)"
        )
    return small, large, parse_bytes(conf.get("spark.sparkless.store.auto.threshold", "256m"))


class StorePolicy:
    def __init__(self, job_store: str, conf: Mapping[str, str]) -> None:
        self.job_store = job_store
        self.auto = conf.get("spark.sparkless.store") == AUTO
        if self.auto:
            self.small, self.large, self.threshold = auto_stores(conf)

    def for_shuffle(self, estimated_bytes: int | None) -> str:
        """Unknown sizes go to the large store: the safe choice for memory-bound stores."""
        if not self.auto:
            return self.job_store
        if estimated_bytes is not None and estimated_bytes <= self.threshold:
            return self.small
        return self.large
