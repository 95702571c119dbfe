"""Session configuration: Spark's keys, Spark's defaults, our settings under spark.sparkless.*.

Server-wide values come from ``--conf``/environment (``SPARKLESS_CONF_<key with _>``
is not used: set ``--conf`` or ``spark.conf.set``); each session starts from them.
"""

from __future__ import annotations

import os
import threading
import time

from storage.units import parse_duration, parse_size  # noqa: F401 - parse_duration re-exported

# Spark's own defaults where sparkless honours the key, plus ours.
DEFAULTS: dict[str, str] = {
    "spark.sql.shuffle.partitions": "200",
    "spark.sql.ansi.enabled": "true",
    "spark.sql.caseSensitive": "false",
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.adaptive.coalescePartitions.enabled": "true",
    "spark.sql.adaptive.advisoryPartitionSizeInBytes": "64m",
    "spark.sql.autoBroadcastJoinThreshold": "10m",
    "spark.sql.files.maxPartitionBytes": "128m",
    "spark.sql.execution.arrow.maxRecordsPerBatch": "10000",
    "spark.connect.grpc.arrow.maxBatchSize": "4m",
    "spark.task.maxFailures": "4",
    # Keys the PySpark client reads at run time (Spark 4 defaults unless noted).
    "spark.sql.timestampType": "TIMESTAMP_LTZ",
    "spark.sql.session.localRelationCacheThreshold": str(2**31 - 1),  # ours: always inline
    "spark.sql.session.localRelationSizeLimit": str(3 * 2**30),
    "spark.sql.session.localRelationChunkSizeRows": "10000",
    "spark.sql.session.localRelationChunkSizeBytes": str(16 * 2**20),
    "spark.sql.session.localRelationBatchOfChunksSizeBytes": str(128 * 2**20),
    "spark.sql.execution.pandas.convertToArrowArraySafely": "false",
    "spark.sql.execution.pandas.inferPandasDictAsMap": "false",
    "spark.sql.execution.pandas.structHandlingMode": "legacy",
    "spark.sql.execution.arrow.pyspark.selfDestruct.enabled": "false",
    "spark.sql.execution.arrow.useLargeVarTypes": "false",
    "spark.sql.execution.pyspark.binaryAsBytes": "true",
    "spark.sql.pyspark.inferNestedDictAsStruct.enabled": "false",
    "spark.sql.pyspark.legacy.inferArrayTypeFromFirstElement.enabled": "false",
    "spark.sql.pyspark.legacy.inferMapTypeFromFirstPair.enabled": "false",
    "spark.sql.pyspark.jvmStacktrace.enabled": "false",
    "spark.sql.connect.serverStacktrace.enabled": "false",
    "spark.sql.repl.eagerEval.enabled": "false",
    "spark.sql.execution.pythonUDF.arrow.enabled": "true",  # Spark 4.3 default
    "spark.sql.pivotMaxValues": "10000",
    "spark.sql.execution.pythonUDTF.arrow.enabled": "false",
    "spark.sql.mapKeyDedupPolicy": "EXCEPTION",
    "spark.sql.repl.eagerEval.maxNumRows": "20",
    "spark.sql.repl.eagerEval.truncate": "20",
    "spark.connect.session.planCompression.threshold": "-1",  # ours: no plan compression
    "spark.connect.session.planCompression.defaultAlgorithm": "NONE",
    "spark.sparkless.platform": "local",
    "spark.sparkless.store": "",  # empty: a directory under the server's work dir
}

# Settings fixed at server start (Spark: static or core configs).
STATIC_PREFIXES = ("spark.sparkless.platform", "spark.sparkless.maxConcurrency",
                   "spark.sparkless.warmPool", "spark.sql.warehouse.dir", "spark.master",
                   "spark.driver", "spark.executor", "spark.app")


def default_time_zone() -> str:
    """Spark's default is the JVM's time zone: the machine's."""
    tz = os.environ.get("TZ")
    if tz:
        return tz.lstrip(":")
    try:
        link = os.readlink("/etc/localtime")
        return link.split("zoneinfo/", 1)[1]
    except (OSError, IndexError):
        return "UTC" if time.timezone == 0 else time.tzname[0]


def parse_bytes(text: str) -> int:
    """Spark's byte strings (``10m``, ``64MB``, ``1g``, ``1024``; ``-1`` = off); see storage.units."""
    text = text.strip()
    return -parse_size(text[1:]) if text.startswith("-") else parse_size(text)


class SessionConf:
    """One session's settings; thread-safe because gRPC calls of a session can overlap."""

    def __init__(self, base: dict[str, str] | None = None) -> None:
        self._lock = threading.Lock()
        # The server's --conf values start as this session's own settings, as in Spark:
        # unset returns a key to Spark's built-in default, not to the server's value.
        self._base: dict[str, str] = {}
        self._values: dict[str, str] = dict(base or {})

    def get(self, key: str, default: str | None = None) -> str | None:
        with self._lock:
            if key in self._values:
                return self._values[key]
        if key in self._base:
            return self._base[key]
        if key == "spark.sql.session.timeZone":
            return default_time_zone()
        return DEFAULTS.get(key, default)

    def set(self, key: str, value: str) -> None:
        with self._lock:
            self._values[key] = value

    def unset(self, key: str) -> None:
        with self._lock:
            self._values.pop(key, None)

    def is_set(self, key: str) -> bool:
        with self._lock:
            return key in self._values or key in self._base

    def items(self, prefix: str = "") -> list[tuple[str, str]]:
        merged = {**DEFAULTS, "spark.sql.session.timeZone": default_time_zone(), **self._base}
        with self._lock:
            merged.update(self._values)
        return sorted((k, v) for k, v in merged.items() if k.startswith(prefix))

    def is_modifiable(self, key: str) -> bool:
        """Spark: runtime SQL settings are; static and core ones (and unknown keys) are not."""
        known = key in DEFAULTS or key.startswith(("spark.sql.", "spark.sparkless."))
        return known and not key.startswith(STATIC_PREFIXES)

    # Typed accessors the planner uses.
    def get_bool(self, key: str) -> bool:
        return str(self.get(key, "false")).strip().lower() == "true"

    def get_int(self, key: str) -> int:
        return int(str(self.get(key)))

    def get_bytes(self, key: str) -> int:
        return parse_bytes(str(self.get(key)))

    @property
    def ansi(self) -> bool:
        return self.get_bool("spark.sql.ansi.enabled")

    @property
    def case_sensitive(self) -> bool:
        return self.get_bool("spark.sql.caseSensitive")

    @property
    def time_zone(self) -> str:
        return str(self.get("spark.sql.session.timeZone"))

    def snapshot(self) -> dict[str, str]:
        """An immutable view for one job, so a conf change mid-job does not tear it."""
        return dict(self.items())
