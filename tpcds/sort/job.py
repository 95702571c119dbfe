"""The sort job: an unchanged PySpark script (read Parquet, global orderBy key, write).

Run it with SPARK_REMOTE=sc://... (sparkless, any Spark Connect endpoint) or under classic
Spark (``--master local[2]``); the code is the same. Its last stdout line is
``SORTJOB {"seconds": ...}``, the time of the one action, so the harness can tell engine
time from interpreter/JVM start-up.

usage: python job.py INPUT_DIR OUTPUT_DIR
"""

import json
import sys
import time

from pyspark.sql import SparkSession


def main(src: str, dst: str) -> None:
    spark = SparkSession.builder.appName("sparkless-sort-benchmark").getOrCreate()
    started = time.perf_counter()
    spark.read.parquet(src).orderBy("key").write.mode("overwrite").parquet(dst)
    seconds = time.perf_counter() - started
    print("SORTJOB " + json.dumps({"seconds": seconds}), flush=True)
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
