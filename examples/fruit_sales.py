"""An ordinary PySpark job: nothing in it knows about sparkless.

Run it on sparkless with ``sparkless submit examples/fruit_sales.py``, against any
Spark Connect server with ``SPARK_REMOTE=sc://host:port python examples/fruit_sales.py``,
or on Apache Spark itself with plain ``python examples/fruit_sales.py``.

100,000 orders over six products: a join, an aggregation with a shuffle, a sort,
and a Parquet round trip. Prices are exact binary fractions so that every engine
prints the same revenue to the last digit.
"""

import tempfile

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

spark = SparkSession.builder.appName("fruit-sales").getOrCreate()

products = spark.createDataFrame(
    [
        (1, "apple", "fruit", 0.5),
        (2, "banana", "fruit", 0.25),
        (3, "cherry", "fruit", 4.25),
        (4, "carrot", "vegetable", 0.75),
        (5, "leek", "vegetable", 1.5),
        (6, "basil", "herb", 2.0),
    ],
    "product_id INT, name STRING, category STRING, price DOUBLE",
)
orders = spark.range(0, 100_000).select(
    F.col("id").alias("order_id"),
    (F.col("id") % 6 + 1).cast("int").alias("product_id"),
    (F.col("id") % 7 + 1).alias("quantity"),
)

by_category = (
    orders.join(products, "product_id")
    .withColumn("revenue", F.col("quantity") * F.col("price"))
    .groupBy("category")
    .agg(
        F.count("*").alias("orders"),
        F.sum("quantity").alias("units"),
        F.sum("revenue").alias("revenue"),
    )
    .orderBy(F.col("revenue").desc())
)
by_category.show()

with tempfile.TemporaryDirectory() as tmp:
    path = f"{tmp}/big_orders"
    orders.filter(F.col("quantity") >= 5).write.parquet(path)
    big = spark.read.parquet(path)
    top = big.groupBy("product_id").agg(F.count("*").alias("n")).orderBy("product_id").collect()
    print("big orders per product:", [(r.product_id, r.n) for r in top])

total = sum(r.revenue for r in by_category.collect())
print(f"total revenue: {total}")
spark.stop()
