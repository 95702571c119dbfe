"""Small in-memory inputs shared by the e2e tests (nulls, duplicates, doubles on purpose)."""

from __future__ import annotations

__all__ = ["PEOPLE", "PEOPLE_COLUMNS", "PEOPLE_DDL", "people", "depts", "orders", "ORDERS_DDL", "DEPTS_DDL"]

PEOPLE_COLUMNS = ["id", "name", "dept", "salary", "age", "active"]
PEOPLE = [
    (1, "alice", "eng", 120.5, 34, True),
    (2, "bob", "eng", 99.0, None, False),
    (3, "carol", "sales", 75.25, 41, True),
    (4, "dan", None, 60.0, 29, None),
    (5, "erin", "sales", None, 52, True),
    (6, "frank", "ops", 88.8, 38, False),
    (7, "grace", "eng", 130.0, 27, True),
    (8, None, "ops", 45.5, 61, True),
]
PEOPLE_DDL = "id INT, name STRING, dept STRING, salary DOUBLE, age INT, active BOOLEAN"


DEPTS = [("eng", "Engineering", 1), ("sales", "Sales", 2), ("hr", "Human Resources", 3),
         (None, "Unknown", 4)]
DEPTS_DDL = "dept STRING, title STRING, floor INT"

ORDERS = [(1, 1, 10.0), (2, 1, 5.5), (3, 3, 7.25), (4, 9, 1.0), (5, 2, None), (6, 7, 3.0),
          (7, 7, 3.0), (8, None, 2.0)]
ORDERS_DDL = "oid INT, pid INT, amount DOUBLE"


def people(s):
    return s.createDataFrame(PEOPLE, PEOPLE_DDL)


def depts(s):
    return s.createDataFrame(DEPTS, DEPTS_DDL)


def orders(s):
    return s.createDataFrame(ORDERS, ORDERS_DDL)
